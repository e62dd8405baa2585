// Turns validated config into what the request path uses: lookup maps, compiled auth plans and
// policies, origin rules. Done once per load, never per request.
import type { ConfigData } from './schema.ts';
import { Routes } from '../http/routes.ts';
import { compilePolicies, type PolicyDeps } from '../policy/compile.ts';
import { normalizeApiPath } from './load.ts';
import type { AuthPlan } from '../auth/plan.ts';
import { compileAuthPlans, type AuthDeps } from '../auth/compile.ts';
import type { Policy } from '../policy/policy.ts';
import { TenantQuotaPolicy } from '../policy/tenant-quota.ts';
import { tenantOf } from './tenant-schema.ts';
import { compileOriginPolicy, type OriginPolicy } from '../http/guards.ts';
import { compilePublicBase, type PublicBase } from '../auth/public-url.ts';
import { registerResourceMetadata } from '../auth/resource-metadata.ts';
import { compileFederationPlan, connectorName, isFederated, type FederationPlan } from '../upstream/federation/plan.ts';
import { TrustedAnnotations } from '../policy/annotations/trusted.ts';

export interface ApiRuntime {
  readonly name: string;
  readonly path: string;
  /** The connector's name: the server's, or `@<api>` for a federated API or virtual server. */
  readonly server: string;
  /** A federated API or virtual server: its members and naming (undefined for one server). */
  readonly federation: FederationPlan | undefined;
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
  /** Host/Origin policy of routes that serve every API (the authorization server's). */
  readonly routeOrigin: OriginPolicy;
}

export function compileRuntime(config: ConfigData, deps: AuthDeps & PolicyDeps): Runtime {
  const apisByPath = new Map<string, ApiRuntime>();
  const publicBase = compilePublicBase(config);
  const originOptions = { trustProxy: config.trustProxy, publicUrl: config.publicUrl };
  const policyDeps = { ...deps, annotations: new TrustedAnnotations(config.toolAnnotations) };
  for (const api of config.apis) {
    apisByPath.set(normalizeApiPath(api.path), {
      name: api.name,
      path: api.path,
      server: connectorName(api),
      federation: isFederated(api) ? compileFederationPlan(api) : undefined,
      auth: compileAuthPlans(api.auth, deps, api, config),
      policies: [...tenantQuota(config, api, deps), ...compilePolicies(api.policies, policyDeps)],
      origin: compileOriginPolicy(config.listen.host, config.security, api.allowedOrigins, originOptions),
      publicBase,
    });
  }
  const routes = new Routes();
  registerResourceMetadata(routes, [...apisByPath.values()]);
  return Object.freeze({ config, apisByPath, routes, routeOrigin: routeOriginPolicy(config, originOptions) });
}

/** The tenant's requests-per-day quota, first in the chain of each of its APIs (policy/tenant-quota.ts). */
function tenantQuota(config: ConfigData, api: ConfigData['apis'][number], deps: PolicyDeps): Policy[] {
  const tenant = tenantOf(api);
  const quotas = config.tenants.find((t) => t.id === tenant)?.quotas;
  if (quotas?.requestsPerDay === undefined) return [];
  const backend = quotas.backend;
  return [new TenantQuotaPolicy(tenant, quotas.requestsPerDay, deps.counters.get(backend), backend.type === 'redis' && backend.onError === 'deny', deps.log)];
}

/**
 * The authorization server serves every API that trusts it: its routes accept the origins any
 * API accepts (a browser-based client of one of them gets its tokens there), and the loopback
 * origins unless security.allowedOrigins narrows them.
 */
function routeOriginPolicy(config: ConfigData, options: { trustProxy: boolean; publicUrl: string | undefined }): OriginPolicy {
  const listed = [...(config.security.allowedOrigins ?? []), ...config.apis.flatMap((api) => api.allowedOrigins ?? [])];
  const loopbackOrigins = config.security.allowedOrigins === undefined;
  return compileOriginPolicy(config.listen.host, config.security, listed.length > 0 ? listed : undefined, { ...options, loopbackOrigins });
}
