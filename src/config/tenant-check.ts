// Cross-checks of tenants: every tenant named is declared (that an API uses only servers of its
// own tenant is checked in federation-check.ts, with their existence), an agent's key bound to an API (`api:`) names an API of the agent's tenant, a stored
// credential of a tenant's server is one of that tenant's (named `<tenant>.<name>`), and a
// tenant's APIs live under its path prefix. Without `tenants` nothing here applies except that a
// server or API naming a tenant must declare it: an agent's `tenant` is then only a label, as it
// was before tenants existed, so an existing config keeps its meaning.
import type { ConfigData } from './schema.ts';
import { DEFAULT_TENANT, tenantOf } from './tenant-schema.ts';
import { credentialTenant } from './tenant-credentials.ts';
import { egressRuleOf } from '../upstream/egress.ts';

interface PathProblem {
  path: PropertyKey[];
  message: string;
}

export function checkTenants(config: ConfigData): PathProblem[] {
  const problems: PathProblem[] = [];
  const declared = new Map<string, number>();
  config.tenants.forEach((tenant, index) => {
    const before = declared.get(tenant.id);
    if (before !== undefined) problems.push({ path: ['tenants', index, 'id'], message: `duplicate tenant id "${tenant.id}" (also tenants[${before}])` });
    declared.set(tenant.id, index);
  });
  const ids = [DEFAULT_TENANT, ...declared.keys()];
  const exists = (tenant: string | undefined, path: PropertyKey[]) => {
    if (tenant === undefined || tenant === DEFAULT_TENANT || declared.has(tenant)) return true;
    problems.push({ path, message: `no tenant "${tenant}"; expected one of the ids under \`tenants\` (${ids.join(', ')})` });
    return false;
  };
  for (const [name, server] of Object.entries(config.servers)) {
    if (!exists(server.tenant, ['servers', name, 'tenant'])) continue;
    // An address the tenant may not reach is refused here when the URL alone tells (an IP, localhost); names at each connection.
    const egress = egressRuleOf(config.tenants, server.tenant);
    const target = 'url' in server ? (['url', server.url] as const) : 'sse' in server ? (['sse', server.sse] as const) : undefined;
    const refusal = egress && target && egress.refusalOf(target[1]);
    const index = config.tenants.findIndex((t) => t.id === server.tenant);
    const allowHint = `; list it under tenants[${index}].egress.allow to let this tenant reach it`;
    if (refusal) problems.push({ path: ['servers', name, target![0]], message: refusal + allowHint });
    // The token endpoints its credential asks are held to the same egress.
    const credential = 'credential' in server ? server.credential : undefined;
    const tokenUrls: Array<[PropertyKey[], string]> = [];
    if (credential?.type === 'client-credentials') tokenUrls.push([['servers', name, 'credential', 'tokenUrl'], credential.tokenUrl]);
    if ('url' in server && server.auth?.type === 'token-exchange') tokenUrls.push([['servers', name, 'auth', 'tokenUrl'], server.auth.tokenUrl]);
    for (const [path, url] of tokenUrls) {
      const tokenRefusal = egress?.refusalOf(url);
      if (tokenRefusal) problems.push({ path, message: tokenRefusal + allowHint });
    }
    if (credential?.type === 'stored') {
      const stored = credential.name ?? name;
      const owner = credentialTenant(stored, declared.keys());
      if (owner !== tenantOf(server)) {
        problems.push({
          path: ['servers', name, 'credential', credential.name === undefined ? 'type' : 'name'],
          message: `stored credential "${stored}" belongs to tenant "${owner}", not to this server's tenant "${tenantOf(server)}"; a tenant's credentials are named "<tenant>.<name>"${tenantOf(server) === DEFAULT_TENANT ? '' : ` (e.g. "${tenantOf(server)}.${name}")`}`,
        });
      }
    }
  }
  const apiTenant = new Map<string, string>();
  config.apis.forEach((api, index) => {
    const at = (...rest: PropertyKey[]): PropertyKey[] => ['apis', index, ...rest];
    if (!exists(api.tenant, at('tenant'))) return;
    const tenant = tenantOf(api);
    apiTenant.set(api.name, tenant);
    // That its servers are of its tenant is checked with their existence (federation-check.ts).
    const prefix = config.tenants.find((t) => t.id === tenant)?.pathPrefix;
    if (prefix !== undefined && api.path !== prefix && !api.path.startsWith(`${prefix}/`)) {
      problems.push({ path: at('path'), message: `expected a path under "${prefix}" (the path prefix of tenant "${tenant}"), e.g. ${prefix}${api.path === '/' ? '' : api.path}` });
    }
  });
  // Quotas of APIs and agents: the first one beyond is named.
  const counted = new Map<string, number>();
  const beyond = (tenant: string, what: 'apis' | 'agents', path: PropertyKey[]) => {
    const index = config.tenants.findIndex((t) => t.id === tenant);
    const quota = index === -1 ? undefined : config.tenants[index]!.quotas?.[what];
    const n = (counted.get(`${what}|${tenant}`) ?? 0) + 1;
    counted.set(`${what}|${tenant}`, n);
    if (quota !== undefined && n === quota + 1) problems.push({ path, message: `tenant "${tenant}" may have at most ${quota} ${what === 'apis' ? 'APIs' : 'agents'} (tenants[${index}].quotas.${what}); this is one more` });
  };
  config.apis.forEach((api, index) => beyond(tenantOf(api), 'apis', ['apis', index]));
  // Agents are isolated only once tenants are declared (see the top of this file).
  if (config.tenants.length === 0) return problems;
  config.agents.forEach((agent, index) => beyond(tenantOf(agent), 'agents', ['agents', index]));
  config.agents.forEach((agent, index) => {
    if (!exists(agent.tenant, ['agents', index, 'tenant'])) return;
    const tenant = tenantOf(agent);
    agent.apiKeys.forEach((key, k) => {
      const owner = key.api === undefined ? undefined : apiTenant.get(key.api);
      if (owner !== undefined && owner !== tenant) {
        problems.push({ path: ['agents', index, 'apiKeys', k, 'api'], message: `API "${key.api}" belongs to tenant "${owner}"; a key of an agent of tenant "${tenant}" may only name APIs of its own tenant` });
      }
    });
  });
  return problems;
}

/** Whether agents are confined to their tenant's APIs: once any tenant is declared. */
export function tenancyEnforced(config: Pick<ConfigData, 'tenants'>): boolean {
  return config.tenants.length > 0;
}
