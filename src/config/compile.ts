// Turns validated config into what the request path uses: lookup maps, compiled auth plans and
// policies, origin rules. Done once per load, never per request.
import type { ConfigData } from './schema.ts';
import { normalizeApiPath } from './load.ts';
import { compileAuth, type AuthPlan } from '../auth/plan.ts';
import type { Policy } from '../policy/policy.ts';
import { compileOriginPolicy, type OriginPolicy } from '../http/guards.ts';

export interface ApiRuntime {
  readonly name: string;
  readonly path: string;
  readonly server: string;
  readonly auth: AuthPlan;
  /** Request-side order is the list order. */
  readonly policies: readonly Policy[];
  readonly origin: OriginPolicy;
}

export interface Runtime {
  readonly config: ConfigData;
  readonly apisByPath: ReadonlyMap<string, ApiRuntime>;
}

export function compileRuntime(config: ConfigData): Runtime {
  const apisByPath = new Map<string, ApiRuntime>();
  for (const api of config.apis) {
    apisByPath.set(normalizeApiPath(api.path), {
      name: api.name,
      path: api.path,
      server: api.server,
      auth: compileAuth(api.auth),
      policies: [],
      origin: compileOriginPolicy(config.listen.host, config.security, api.allowedOrigins),
    });
  }
  return Object.freeze({ config, apisByPath });
}
