// What a tenant-scoped identity (an API token or admin user with a tenant) sees and changes in
// the management API: only objects of its tenant. A foreign object is answered exactly as a
// missing one (404, same words), never 403, so that a tenant learns nothing of another; a write
// naming another tenant is refused (400) before anything is read. A platform identity (no
// tenant) sees everything, as before tenants existed.
import type { ControlDocument } from '../store/control.ts';
import { DEFAULT_TENANT, tenantOf } from '../config/tenant-schema.ts';
import { credentialTenant } from '../config/tenant-credentials.ts';
import { badRequest, notFound } from './errors.ts';
import type { Call } from './http.ts';

/** Whether the call may see an object of `tenant` (undefined: the default tenant). */
export function sees(call: Pick<Call, 'tenant'>, tenant: string | undefined): boolean {
  return call.tenant === undefined || (tenant ?? DEFAULT_TENANT) === call.tenant;
}

/** Whether the call may see an object that carries a `tenant` field. */
export function seesObject(call: Pick<Call, 'tenant'>, value: unknown): boolean {
  return sees(call, tenantField(value));
}

export function tenantField(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const tenant = (value as { tenant?: unknown }).tenant;
  return typeof tenant === 'string' ? tenant : undefined;
}

/** For a tenant identity: 404 unless the call is a platform one (draft edits, rollbacks, users). */
export function platformOnly(call: Call): void {
  if (call.tenant !== undefined) throw notFound(`/api/v1/${call.segments.join('/')}`);
}

/**
 * The `tenant` a new or replaced object gets: a tenant identity's own (given or implied, the
 * default tenant's objects carry none); a platform identity's choice, as given.
 */
export function claimTenant<T extends Record<string, unknown>>(call: Pick<Call, 'tenant'>, object: T, what: string): T {
  if (call.tenant === undefined) return object;
  const given = object.tenant;
  if (given !== undefined && given !== call.tenant) {
    throw badRequest(`invalid ${what}: tenant: expected "${call.tenant}" (the tenant of this identity) or nothing`, [{ field: 'tenant', message: `expected "${call.tenant}" or nothing` }]);
  }
  if (call.tenant === DEFAULT_TENANT) {
    const { tenant: _tenant, ...rest } = object;
    return rest as T;
  }
  return { ...object, tenant: call.tenant };
}

/** Tenant ids declared in a document (for credential names). */
export function declaredTenants(document: ControlDocument): string[] {
  const list = Array.isArray(document.tenants) ? document.tenants : [];
  return list.map((t) => (t !== null && typeof t === 'object' ? (t as { id?: unknown }).id : undefined)).filter((id): id is string => typeof id === 'string');
}

export function seesCredential(call: Pick<Call, 'tenant'>, name: string, tenants: readonly string[]): boolean {
  return call.tenant === undefined || credentialTenant(name, tenants) === call.tenant;
}

/**
 * A document as a tenant identity may read it: its servers, APIs, agents and its own tenant
 * entry; nothing of other tenants, and none of the platform's settings (limits, security, …).
 */
export function tenantView(document: ControlDocument, tenant: string | undefined): ControlDocument {
  if (tenant === undefined) return document;
  const servers = Object.fromEntries(Object.entries((document.servers ?? {}) as Record<string, unknown>).filter(([, def]) => tenantOf({ tenant: tenantField(def) }) === tenant));
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  const own = (item: unknown) => tenantOf({ tenant: tenantField(item) }) === tenant;
  return {
    tenants: list(document.tenants).filter((t) => t !== null && typeof t === 'object' && (t as { id?: unknown }).id === tenant),
    servers,
    apis: list(document.apis).filter(own),
    agents: list(document.agents).filter(own),
  };
}
