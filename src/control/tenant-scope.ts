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

/**
 * The document a tenant's deploy makes live: the version in force, with the tenant's servers,
 * APIs and agents replaced by the draft's. Other tenants' pending changes stay in the draft (a
 * tenant's admin must not publish another tenant's unfinished work), and so do the platform's.
 */
export function withTenantObjects(base: ControlDocument, draft: ControlDocument, tenant: string): ControlDocument {
  const own = (item: unknown) => tenantOf({ tenant: tenantField(item) }) === tenant;
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  const servers = (document: ControlDocument) => Object.entries((document.servers ?? {}) as Record<string, unknown>);
  const out: ControlDocument = structuredClone(base);
  out.servers = Object.fromEntries([...servers(base).filter(([, def]) => !own(def)), ...servers(draft).filter(([, def]) => own(def))].map(([name, def]) => [name, structuredClone(def)]));
  out.apis = [...list(base.apis).filter((api) => !own(api)), ...structuredClone(list(draft.apis).filter(own))];
  if (base.agents !== undefined || draft.agents !== undefined) out.agents = [...list(base.agents).filter((agent) => !own(agent)), ...structuredClone(list(draft.agents).filter(own))];
  return out;
}

/**
 * What a tenant's admin may not write, because it reaches beyond the tenant: `${env:…}` (the
 * gateway's environment holds the platform's secrets; a header of the tenant's own server would
 * carry them out) and stdio servers (`command` runs a program on the gateway's host). 400 naming
 * the field; a platform identity may do both.
 */
export function checkTenantWrite(call: Pick<Call, 'tenant'>, value: unknown, what: string): void {
  if (call.tenant === undefined) return;
  if (what === 'server' && value !== null && typeof value === 'object' && 'command' in value) {
    throw badRequest(`invalid ${what}: command: a tenant's admin may not define stdio servers (they run a program on the gateway's host); a platform admin may`, [{ field: 'command', message: 'not allowed for a tenant' }]);
  }
  const path = envReference(value, []);
  if (path !== undefined) {
    const field = path.join('.') || '(top level)';
    throw badRequest(`invalid ${what}: ${field}: \${env:…} is not allowed for a tenant's admin (the gateway's environment is the platform's); store a secret as a credential named "${call.tenant}.<name>" instead`, [{ field, message: '${env:…} is not allowed for a tenant' }]);
  }
}

function envReference(value: unknown, path: string[]): string[] | undefined {
  if (typeof value === 'string') return value.includes('${env:') ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found = envReference(inner, [...path, key]);
    if (found) return found;
  }
  return undefined;
}
