// Which tenant a token's resource belongs to, and whether a user may have one for it. A user
// reaches the APIs of its own tenant only: an `acme` user gets no token for a `globex` API, and
// a default-tenant (platform) user none for a tenant's API (nor a tenant's user for the
// platform's), so that no account crosses the line between tenants in either direction.
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';
import type { UserRecord } from '../store/store.ts';

export interface TenantApi {
  path: string;
  tenant?: string | undefined;
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * The tenant of the API a resource URL names (by the end of its path, as the resource URL is
 * the public base plus the API path), or undefined when it names none of these APIs.
 */
export function resourceTenants(apis: readonly TenantApi[]): (resource: string) => string | undefined {
  // Longest path first: /acme/weather must not be taken for /weather.
  const byPath = [...apis].map((a) => ({ path: withoutTrailingSlash(a.path), tenant: a.tenant ?? DEFAULT_TENANT })).sort((a, b) => b.path.length - a.path.length);
  return (resource) => {
    let path: string;
    try {
      path = withoutTrailingSlash(new URL(resource).pathname);
    } catch {
      return undefined;
    }
    return byPath.find((a) => path === a.path || path.endsWith(a.path))?.tenant;
  };
}

export function userTenant(user: Pick<UserRecord, 'tenant'>): string {
  return user.tenant ?? DEFAULT_TENANT;
}

/** Whether the user may be issued a token for an API of `apiTenant` (undefined: not an API, e.g. the admin listener). */
export function userMayReach(user: Pick<UserRecord, 'tenant'>, apiTenant: string | undefined): boolean {
  return apiTenant === undefined || userTenant(user) === apiTenant;
}

/** The page a refused user sees: it names their own tenant only, nothing of the API's. */
export const WRONG_TENANT_TITLE = 'Not your organisation';
export function wrongTenantMessage(username: string): string {
  return `The account ${username} cannot be used with this application: the API it asked for belongs to another organisation. Sign in with an account of the organisation that runs that API, or ask your administrator.`;
}
