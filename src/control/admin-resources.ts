// /api/v1/admins: who may use the admin listener, besides the admin token and API tokens. An
// entry names a user of the embedded authorization server, a role (owner, admin, viewer) and an
// optional tenant; it lives in the control store and applies at the user's next request on every
// node (AdminAuth looks it up on each one). The node file's `admin.users` are listed too, read-only
// (`source: "node"`): they change in the file. Owners only (api.ts checks the role). A tenant's
// owner sees and manages its tenant's entries only (another tenant's is 404, as a missing one) and
// grants its own tenant only (naming another is 400); the user it names must be of its tenant.
// No rule keeps the last owner: the admin token is always an owner (docs/management-api.md).
import type { Store } from '../store/store.ts';
import { ADMIN_ROLES, type AdminRole, type AdminUserRecord, type ControlStore } from '../store/control.ts';
import type { AdminUserEntry } from '../admin/admin-users.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';
import { ManagementError, badRequest, notFound } from './errors.ts';
import { checkIfMatch, etagOf, optionalIfMatch, preconditionFailed, requireIfMatch } from './etag.ts';
import { Serial } from './serial.ts';
import { jsonBody, methodNotAllowed, pointer, reply, type Call } from './http.ts';
import type { Deployments } from './deployments.ts';
import { declaredTenants } from './tenant-scope.ts';

/** One write at a time per entry through this node; across nodes the store compares role and tenant. */
const writes = new Serial();

interface Entry {
  readonly username: string;
  readonly role: AdminRole;
  readonly tenant: string | undefined;
  readonly source: 'node' | 'store';
  readonly record?: AdminUserRecord | undefined;
}

/** What the ETag covers: the entry's content (changed and changed back, it has its old ETag again). */
const etagOfEntry = (e: Entry) => etagOf({ username: e.username, role: e.role, tenant: e.tenant ?? null });

type Standing = 'active' | 'disabled' | 'missing';

/**
 * Whether the entry's user signs in with it: a stored entry names the user it was made for (one
 * deleted and made again under the name is missing), a node-file entry names a username.
 */
async function standingOf(users: Store, e: Entry): Promise<Standing> {
  const user = await users.getUserByName(e.username);
  if (!user || (e.record !== undefined && e.record.userId !== user.id)) return 'missing';
  return user.disabled ? 'disabled' : 'active';
}

const view = (e: Entry, user: Standing) => ({
  username: e.username,
  role: e.role,
  tenant: e.tenant ?? null,
  source: e.source,
  user,
  createdAt: e.record?.createdAt ?? null,
  createdBy: e.record?.createdBy ?? null,
  updatedAt: e.record?.updatedAt ?? null,
  updatedBy: e.record?.updatedBy ?? null,
});

const fromFile = (entry: AdminUserEntry): Entry => (typeof entry === 'string' ? { username: entry, role: 'owner', tenant: undefined, source: 'node' } : { username: entry.user, role: entry.role, tenant: entry.tenant, source: 'node' });
const fromStore = (record: AdminUserRecord): Entry => ({ username: record.username, role: record.role, tenant: record.tenant, source: 'store', record });

/** A tenant's identity sees entries of its own tenant only (a platform entry is not its). */
const seesEntry = (call: Call, entry: Entry) => call.tenant === undefined || entry.tenant === call.tenant;

/** Every entry: the node file's first (they win over a stored one of the same name, as at sign-in). */
async function entries(control: ControlStore, file: readonly AdminUserEntry[]): Promise<Entry[]> {
  const listed = file.map(fromFile);
  const names = new Set(listed.map((e) => e.username));
  return [...listed, ...(await control.listAdminUsers()).filter((r) => !names.has(r.username)).map(fromStore)];
}

async function entryOf(control: ControlStore, file: readonly AdminUserEntry[], username: string): Promise<Entry | undefined> {
  const listed = file.map(fromFile).find((e) => e.username === username);
  if (listed) return listed;
  const record = await control.getAdminUser(username);
  return record && fromStore(record);
}

function refuse(problems: Array<{ field: string; message: string }>): never {
  throw badRequest(`invalid admin user: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
}

/** The role a body names (required on create, optional on change). */
function roleOf(body: Record<string, unknown>, problems: Array<{ field: string; message: string }>, required: boolean): AdminRole | undefined {
  if (body.role === undefined && !required) return undefined;
  if (typeof body.role !== 'string' || !ADMIN_ROLES.includes(body.role as AdminRole)) {
    problems.push({ field: 'role', message: `expected one of ${ADMIN_ROLES.join(', ')}${typeof body.role === 'string' ? ` (not "${body.role}")` : ''}` });
    return undefined;
  }
  return body.role as AdminRole;
}

/**
 * The tenant a body names: undefined when it names none (on create: the caller's own, or the
 * platform); null for "no tenant" (a platform identity only). A tenant identity may name its own.
 */
async function tenantOf(call: Call, body: Record<string, unknown>, deployments: Deployments, problems: Array<{ field: string; message: string }>): Promise<string | null | undefined> {
  const given = body.tenant;
  if (given === undefined) return undefined;
  if (call.tenant !== undefined) {
    if (given !== call.tenant) throw badRequest(`invalid admin user: tenant: expected "${call.tenant}" (the tenant of this identity) or nothing`, [{ field: 'tenant', message: `expected "${call.tenant}" or nothing` }]);
    return call.tenant;
  }
  if (given === null) return null;
  if (typeof given !== 'string' || (given !== DEFAULT_TENANT && !declaredTenants((await deployments.draft()).document).includes(given))) {
    problems.push({ field: 'tenant', message: `expected the id of a tenant under \`tenants\`, or null for the whole platform${typeof given === 'string' ? ` (no tenant "${given}")` : ''}` });
    return undefined;
  }
  return given;
}

const READ_ONLY = ['username', 'source', 'user', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy', 'etag'];

export async function adminsResource(call: Call, control: ControlStore, users: Store, deployments: Deployments, file: readonly AdminUserEntry[]): Promise<void> {
  const [, name, ...rest] = call.segments;
  if (rest.length > 0) throw notFound(`/api/v1/${call.segments.join('/')}`);
  if (name === undefined) {
    if (call.method === 'GET') {
      const seen = (await entries(control, file)).filter((e) => seesEntry(call, e));
      return reply(call, 200, { items: await Promise.all(seen.map(async (e) => ({ ...view(e, await standingOf(users, e)), etag: etagOfEntry(e) }))) });
    }
    if (call.method !== 'POST') methodNotAllowed(call, 'GET, POST');
    return create(call, control, users, deployments, file);
  }
  const path = `/api/v1/admins/${name}`;
  const found = await entryOf(control, file, name);
  // Another tenant's entry is a missing one.
  if (!found || !seesEntry(call, found)) throw notFound(`admin user "${name}"`);
  if (call.method === 'GET') return reply(call, 200, view(found, await standingOf(users, found)), etagOfEntry(found));
  if (call.method !== 'PUT' && call.method !== 'DELETE') methodNotAllowed(call, 'GET, PUT, DELETE');
  if (found.source === 'node') {
    throw new ManagementError(409, `admin user "${name}" is listed in the node file (admin.users) and is read-only here: change or remove it in the node file, and restart the node`);
  }
  if (call.method === 'PUT') {
    const ifMatch = requireIfMatch(call.req);
    const body = await jsonBody(call);
    const problems: Array<{ field: string; message: string }> = [];
    for (const field of Object.keys(body).filter((k) => !['role', 'tenant', ...READ_ONLY].includes(k))) problems.push({ field, message: 'unknown field (an admin user has `role` and `tenant`)' });
    if (body.username !== undefined && body.username !== name) problems.push({ field: 'username', message: `cannot be changed (this entry is "${name}")` });
    const role = roleOf(body, problems, false);
    const tenant = await tenantOf(call, body, deployments, problems);
    if (problems.length > 0) refuse(problems);
    if (role === undefined && tenant === undefined) refuse([{ field: 'role', message: `expected one of ${ADMIN_ROLES.join(', ')} (or \`tenant\`)` }]);
    const at = Date.now();
    const next = await writes.run(`admins/${name}`, async () => {
      const current = await control.getAdminUser(name);
      if (!current || !seesEntry(call, fromStore(current))) throw notFound(`admin user "${name}"`);
      checkIfMatch(ifMatch, etagOfEntry(fromStore(current)), `admin user "${name}"`, path);
      const after = { role: role ?? current.role, tenant: tenant === undefined ? current.tenant : (tenant ?? undefined) };
      const patch = [
        ...(after.role !== current.role ? [{ op: 'replace' as const, path: pointer('admins', name, 'role'), value: after.role }] : []),
        ...(after.tenant !== current.tenant ? [{ op: 'replace' as const, path: pointer('admins', name, 'tenant'), value: after.tenant ?? null }] : []),
      ];
      if (!(await control.updateAdminUser(name, { role: current.role, tenant: current.tenant }, { ...after, at, actor: call.actor }, { action: 'update admin', target: `admins/${name}`, patch }))) {
        // Another node changed or removed it between the read and the write.
        const now = await control.getAdminUser(name);
        throw preconditionFailed(`admin user "${name}" changed since you read it (ETag now ${now ? etagOfEntry(fromStore(now)) : 'none: it no longer exists'}); GET it again and retry`, now && etagOfEntry(fromStore(now)), path);
      }
      const record: AdminUserRecord = { ...current, role: after.role, updatedAt: at, updatedBy: call.actor };
      if (after.tenant === undefined) delete record.tenant;
      else record.tenant = after.tenant;
      return { record, patch };
    });
    call.changed('update admin', `admins/${name}`, next.patch);
    const entry = fromStore(next.record);
    return reply(call, 200, view(entry, await standingOf(users, entry)), etagOfEntry(entry));
  }
  const ifMatch = optionalIfMatch(call.req);
  await writes.run(`admins/${name}`, async () => {
    const current = await control.getAdminUser(name);
    if (!current || !seesEntry(call, fromStore(current))) throw notFound(`admin user "${name}"`);
    if (ifMatch !== undefined) checkIfMatch(ifMatch, etagOfEntry(fromStore(current)), `admin user "${name}"`, path);
    const change = { action: 'delete admin', target: `admins/${name}`, patch: [{ op: 'remove' as const, path: pointer('admins', name) }] };
    // With If-Match, only the entry as read is removed (another node may have changed it since).
    const expected = ifMatch === undefined ? undefined : { role: current.role, tenant: current.tenant };
    if (!(await control.deleteAdminUser(name, expected, call.actor, Date.now(), change))) {
      const now = await control.getAdminUser(name);
      if (!now) throw notFound(`admin user "${name}"`);
      throw preconditionFailed(`admin user "${name}" changed since you read it (ETag now ${etagOfEntry(fromStore(now))}); GET it again and retry`, etagOfEntry(fromStore(now)), path);
    }
  });
  call.changed('delete admin', `admins/${name}`, [{ op: 'remove', path: pointer('admins', name) }]);
  return reply(call, 204, undefined);
}

async function create(call: Call, control: ControlStore, users: Store, deployments: Deployments, file: readonly AdminUserEntry[]): Promise<void> {
  const body = await jsonBody(call);
  const problems: Array<{ field: string; message: string }> = [];
  for (const field of Object.keys(body).filter((k) => !['username', 'role', 'tenant'].includes(k))) problems.push({ field, message: 'unknown field (expected `username`, `role` and `tenant`)' });
  const role = roleOf(body, problems, true);
  const tenant = (await tenantOf(call, body, deployments, problems)) ?? call.tenant ?? null;
  let user: { id: string; username: string } | undefined;
  if (typeof body.username !== 'string' || body.username === '') {
    problems.push({ field: 'username', message: 'expected the username of a user of the authorization server' });
  } else {
    const found = await users.getUserByName(body.username);
    // A tenant's owner makes admins of its tenant's users only; another tenant's user is an unknown one.
    if (found && (call.tenant === undefined || (found.tenant ?? DEFAULT_TENANT) === call.tenant)) user = found;
    else problems.push({ field: 'username', message: `no user "${body.username}" of the authorization server${call.tenant !== undefined ? ` in tenant "${call.tenant}"` : ''}; create the user first (POST /api/v1/users)` });
  }
  if (problems.length > 0 || !user || !role) refuse(problems);
  const listed = file.map(fromFile).find((e) => e.username === user.username);
  if (listed) throw new ManagementError(409, `admin user "${user.username}" is listed in the node file (admin.users), which decides its role; remove it there first`);
  const at = Date.now();
  const record: AdminUserRecord = { username: user.username, userId: user.id, role, ...(tenant !== null && { tenant }), createdAt: at, createdBy: call.actor, updatedAt: at, updatedBy: call.actor };
  const entry = fromStore(record);
  const patch = [{ op: 'add' as const, path: pointer('admins', record.username), value: { role, tenant: tenant ?? null } }];
  const made = await writes.run(`admins/${record.username}`, () => control.createAdminUser(record, { action: 'create admin', target: `admins/${record.username}`, patch }));
  if (!made) {
    throw new ManagementError(409, `admin user "${record.username}" exists already; change it with PUT /api/v1/admins/${record.username}`);
  }
  call.changed('create admin', `admins/${record.username}`, patch);
  return reply(call, 201, view(entry, await standingOf(users, entry)), etagOfEntry(entry));
}
