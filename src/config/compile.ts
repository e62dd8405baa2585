// Turns validated config into what the request path uses: lookup maps, compiled auth plans and
// policies, origin rules. Done once per load, never per request.
import type { ConfigData } from './schema.ts';
import { Routes } from '../http/routes.ts';
import { compilePolicies, type PolicyDeps } from '../policy/compile.ts';
import { normalizeApiPath } from './load.ts';
import type { AuthPlan } from '../auth/plan.ts';
import { compileAuthPlans, type AuthDeps } from '../auth/compile.ts';
import type { Policy } from '../policy/policy.ts';
import { compileOriginPolicy, type OriginPolicy } from '../http/guards.ts';
import { compilePublicBase, type PublicBase } from '../auth/public-url.ts';
import { registerResourceMetadata } from '../auth/resource-metadata.ts';

export interface ApiRuntime {
  readonly name: string;
  readonly path: string;
  readonly server: string;
  /** Tried in order; see auth/plan.ts. */
  readonly auth: readonly AuthPlan[];
  /** Request-side order is the list order. */
  readonly policies: readonly Policy[];
  readonly origin: OriginPolicy;
  /** The base URL clients use (OAuth resource identifiers); see auth/public-url.ts. */
  readonly publicBase: PublicBase;
}

export interface Runtime {
  readonly config: ConfigData;
  readonly apisByPath: ReadonlyMap<string, ApiRuntime>;
  /** Non-MCP routes (OAuth metadata and pages); filled by the gateway after compiling. */
  readonly routes: Routes;
}

export function compileRuntime(config: ConfigData, deps: AuthDeps & PolicyDeps): Runtime {
  const apisByPath = new Map<string, ApiRuntime>();
  const publicBase = compilePublicBase(config);
  for (const api of config.apis) {
    apisByPath.set(normalizeApiPath(api.path), {
      name: api.name,
      path: api.path,
      server: api.server,
      auth: compileAuthPlans(api.auth, deps, api, config),
      policies: compilePolicies(api.policies, deps),
      origin: compileOriginPolicy(config.listen.host, config.security, api.allowedOrigins),
      publicBase,
    });
  }
  const routes = new Routes();
  registerResourceMetadata(routes, [...apisByPath.values()]);
  return Object.freeze({ config, apisByPath, routes });
}
