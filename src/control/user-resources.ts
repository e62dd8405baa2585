// Users of the embedded authorization server in the management API (never a password hash).
// They live in the store and apply at once. A user belongs to a tenant (absent: the default
// tenant) and reaches that tenant's APIs only (src/authserver/tenancy.ts). A tenant's identity
// lists, creates, changes and deletes its own tenant's users; another tenant's user is answered
// as a missing one (404), and naming another tenant is 400. A platform identity sees all and
// sets or changes a user's tenant. An admin sets a user's password (a reset: the user's grants
// from before it are refused) and turns a user's two-factor sign-in off (`totp: false`, for a lost
// phone), but never reads a password or a TOTP secret, nor turns TOTP on (the user enrols).
// A user's grants to applications (src/authserver/grants.ts) are listed (any role) and ended
// (admins and owners) under /users/{name}/grants.
import type { UserConnections } from '../credentials/oauth-user/connections.ts';
import type { Store, UserExpected, UserRecord } from '../store/store.ts';
import { createUser, setPassword, UserInputError } from '../authserver/users.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';
import { ManagementError, badRequest, notFound } from './errors.ts';
import { checkIfMatch, etagOf, optionalIfMatch, requireIfMatch } from './etag.ts';
import { Serial } from './serial.ts';
import { conditionalWrite, RACED } from './conditional.ts';
import { jsonBody, methodNotAllowed, pointer, reply, type Call } from './http.ts';
import type { Deployments } from './deployments.ts';
import { claimTenant, declaredTenants, sees } from './tenant-scope.ts';
import type { UserGrant, UserGrants } from '../authserver/grants.ts';

/**
 * One write at a time per user through this node (the ETag check and its write see one user);
 * across nodes the store's compare-and-set decides (conditional.ts).
 */
const writes = new Serial();

/** What a user's ETag covers, as the store compares it (a compare-and-set across nodes). */
const expectedOf = (u: UserRecord): UserExpected => ({ id: u.id, createdAt: u.createdAt, disabled: u.disabled, tenant: u.tenant, totp: u.totpSecret !== undefined });

const view = (u: UserRecord) => ({ id: u.id, username: u.username, tenant: u.tenant ?? null, createdAt: u.createdAt, disabled: u.disabled, totp: u.totpSecret !== undefined });

/**
 * The tenant a body names, checked: undefined when it names none; null for the default tenant;
 * otherwise a tenant declared in the draft. A tenant identity's is its own (claimTenant).
 */
async function tenantOfBody(call: Call, body: Record<string, unknown>, deployments: Deployments): Promise<string | null | undefined> {
  const claimed = claimTenant(call, body.tenant === null && call.tenant !== undefined ? { ...body, tenant: DEFAULT_TENANT } : body, 'user');
  const given = claimed.tenant;
  if (given === undefined) return undefined;
  if (given === null || given === DEFAULT_TENANT) return null;
  if (typeof given !== 'string') throw badRequest('invalid user: tenant: expected a tenant id or null', [{ field: 'tenant', message: 'expected a tenant id or null' }]);
  if (call.tenant === undefined && !declaredTenants((await deployments.draft()).document).includes(given)) {
    throw badRequest(`invalid user: tenant: no tenant "${given}"; expected one of the ids under \`tenants\` (or null for the default tenant)`, [{ field: 'tenant', message: `no tenant "${given}"` }]);
  }
  return given;
}

export async function usersResource(call: Call, store: Store, deployments: Deployments, connections?: UserConnections, grants?: () => UserGrants): Promise<void> {
  const [, rawName, ...rest] = call.segments;
  const sub = rest.length === 1 && rest[0] === 'password' ? 'password' : rest[0] === 'grants' && rest.length <= 2 ? 'grants' : rest.length === 0 ? undefined : null;
  if (sub === null) throw notFound(`/api/v1/${call.segments.join('/')}`);
  if (rawName === undefined) {
    if (call.method === 'GET') return reply(call, 200, { items: (await store.listUsers()).filter((u) => sees(call, u.tenant)).map((u) => ({ ...view(u), etag: etagOf(view(u)) })) });
    if (call.method !== 'POST') methodNotAllowed(call, 'GET, POST');
    const body = await jsonBody(call);
    if (typeof body.username !== 'string' || typeof body.password !== 'string') throw badRequest('expected { "username": string, "password": string, "tenant"?: string }', [{ field: typeof body.username !== 'string' ? 'username' : 'password', message: 'required field is missing (expected string)' }]);
    const tenant = (await tenantOfBody(call, body, deployments)) ?? undefined;
    try {
      const user = await createUser(store, body.username, body.password, tenant);
      call.changed('create user', `users/${user.username}`, [{ op: 'add', path: pointer('users', user.username), value: view(user) }]);
      return reply(call, 201, view(user), etagOf(view(user)));
    } catch (error) {
      // A taken name is 409 whoever holds it: names are unique across tenants (as agents' ids).
      if (error instanceof UserInputError) throw new ManagementError(error.message.includes('already exists') ? 409 : 400, error.message);
      throw error;
    }
  }
  const found = await store.getUserByName(rawName);
  // Another tenant's user is a missing one.
  if (!found || !sees(call, found.tenant)) throw notFound(`user "${rawName}"`);
  const user = found;
  const path = `/api/v1/users/${user.username}`;
  if (sub === 'password') return setUserPassword(call, user, store);
  if (sub === 'grants') {
    if (!grants) throw notFound(`/api/v1/${call.segments.join('/')}`);
    return userGrants(call, user, grants(), rest[1]);
  }
  if (call.method === 'GET') return reply(call, 200, view(user), etagOf(view(user)));
  if (call.method === 'PUT') {
    const ifMatch = requireIfMatch(call.req);
    const body = await jsonBody(call);
    const unknown = Object.keys(body).filter((k) => !['disabled', 'tenant', 'totp', 'id', 'username', 'createdAt', 'etag'].includes(k));
    if (unknown.length > 0) throw badRequest(`${unknown[0]}: cannot be changed here (only \`disabled\`, \`totp: false\`, and a platform admin's \`tenant\`; a password is set with POST ${path}/password)`, unknown.map((field) => ({ field, message: 'not a field that can change' })));
    if (body.disabled !== undefined && typeof body.disabled !== 'boolean') throw badRequest('disabled: expected a boolean', [{ field: 'disabled', message: 'expected a boolean' }]);
    if (body.totp !== undefined && typeof body.totp !== 'boolean') throw badRequest('totp: expected false (to turn two-factor sign-in off)', [{ field: 'totp', message: 'expected a boolean' }]);
    const tenant = await tenantOfBody(call, body, deployments);
    if (body.disabled === undefined && body.tenant === undefined && body.totp === undefined) throw badRequest(`expected \`disabled\` (a boolean), \`totp: false\` or \`tenant\` (a password is set with POST ${path}/password)`, [{ field: 'disabled', message: 'expected a boolean' }]);
    const next = await writes.run(`users/${user.username}`, () =>
      conditionalWrite(`user "${rawName}"`, async () => {
        const current = await store.getUserByName(user.username);
        if (!current || !sees(call, current.tenant)) throw notFound(`user "${rawName}"`);
        checkIfMatch(ifMatch, etagOf(view(current)), `user "${rawName}"`, path);
        // Turning TOTP on is the user's to do (their app must get the secret): an admin only resets it.
        if (body.totp === true && current.totpSecret === undefined) {
          throw badRequest('totp: an admin can only turn two-factor sign-in off; the user turns it on at /-/connections (or an operator runs `gatehouse users totp enable`)', [{ field: 'totp', message: 'only false can be set' }]);
        }
        const resetTotp = body.totp === false && current.totpSecret !== undefined;
        const disabled = typeof body.disabled === 'boolean' ? body.disabled : current.disabled;
        const moved = tenant !== undefined && (tenant ?? undefined) !== current.tenant;
        const updated: UserRecord = { ...current, disabled };
        if (moved && tenant === null) delete updated.tenant;
        else if (moved) updated.tenant = tenant as string;
        if (resetTotp) {
          delete updated.totpSecret;
          delete updated.totpLastStep;
        }
        // One statement, and only if the user is still the one checked (another node may have changed it since).
        if (!(await store.updateUser(current.username, expectedOf(current), { disabled, tenant: updated.tenant, resetTotp }))) return RACED;
        return { updated, moved, resetTotp, disabled: disabled !== current.disabled && disabled, changedDisabled: disabled !== current.disabled };
      }),
    );
    // A disabled user's upstream connections end, and so do a moved user's (they were made for
    // its former tenant's servers); its grants are refused at the next refresh (provider.ts).
    if (next.disabled || next.moved) await connections?.revokeUser(user.id);
    const patch = [
      ...(body.disabled !== undefined ? [{ op: 'replace' as const, path: pointer('users', user.username, 'disabled'), value: next.updated.disabled }] : []),
      ...(next.moved ? [{ op: 'replace' as const, path: pointer('users', user.username, 'tenant'), value: next.updated.tenant ?? null }] : []),
      ...(next.resetTotp ? [{ op: 'replace' as const, path: pointer('users', user.username, 'totp'), value: false }] : []),
    ];
    const action = next.moved ? 'move user' : next.changedDisabled || !next.resetTotp ? (next.updated.disabled ? 'disable user' : 'enable user') : 'reset user two-factor sign-in';
    call.changed(action, `users/${user.username}`, patch);
    return reply(call, 200, view(next.updated), etagOf(view(next.updated)));
  }
  if (call.method === 'DELETE') {
    const ifMatch = optionalIfMatch(call.req);
    const deleted = await writes.run(`users/${user.username}`, () =>
      conditionalWrite(`user "${rawName}"`, async () => {
        const current = await store.getUserByName(user.username);
        if (!current || !sees(call, current.tenant)) throw notFound(`user "${rawName}"`);
        if (ifMatch === undefined) {
          if (!(await store.deleteUser(current.username))) throw notFound(`user "${rawName}"`);
          return current;
        }
        checkIfMatch(ifMatch, etagOf(view(current)), `user "${rawName}"`, path);
        // With If-Match, only the user as read is deleted (another node may have changed it since).
        return (await store.deleteUser(current.username, expectedOf(current))) ? current : RACED;
      }),
    );
    // Its connections end once it is gone (not before: a delete refused leaves them alone).
    await connections?.revokeUser(deleted.id);
    call.changed('delete user', `users/${user.username}`, [{ op: 'remove', path: pointer('users', user.username) }]);
    return reply(call, 204, undefined);
  }
  methodNotAllowed(call, 'GET, PUT, DELETE');
}

const grantView = (g: UserGrant) => ({
  id: g.id,
  clientId: g.clientId,
  clientName: g.clientName ?? null,
  api: g.api ?? null,
  resource: g.resource,
  scopes: g.scopes,
  createdAt: g.createdAt,
  lastUsedAt: g.lastUsedAt,
  expiresAt: g.expiresAt,
  idp: g.idp ?? null,
});

/**
 * /users/{name}/grants: GET lists the user's live grants (never a token); DELETE ends them all
 * ({"revoked": n}); DELETE /users/{name}/grants/{id} ends one (404 when the user has no such live
 * grant). Ending a grant is the same everywhere (grants.ts): its tokens stop working, at once on
 * this node and within a second on the others, and a `grant-revoked` security event names who.
 */
async function userGrants(call: Call, user: UserRecord, grants: UserGrants, id: string | undefined): Promise<void> {
  const by = { who: `admin ${call.actor} (management API)`, endpoint: `/api/v1/users/${user.username}/grants`, address: call.req.socket.remoteAddress };
  if (id === undefined) {
    if (call.method === 'GET') return reply(call, 200, { items: (await grants.list(user)).map(grantView) });
    if (call.method !== 'DELETE') methodNotAllowed(call, 'GET, DELETE');
    const revoked = await grants.revokeAll(user, by);
    call.changed('revoke user grants', `users/${user.username}/grants`, []);
    return reply(call, 200, { revoked });
  }
  if (call.method !== 'DELETE') methodNotAllowed(call, 'DELETE');
  if (!(await grants.revoke(user, id, by))) throw notFound(`grant "${id}" of user "${user.username}"`);
  call.changed('revoke user grant', `users/${user.username}/grants/${id}`, []);
  return reply(call, 204, undefined);
}

/**
 * POST /users/{name}/password {"password"}: an admin sets (resets) a user's password. The same
 * rules as everywhere (passwords.ts); the user's grants and refresh tokens from before it are
 * refused (provider.ts), as after `gatehouse users passwd`. The password is never recorded.
 */
async function setUserPassword(call: Call, user: UserRecord, store: Store): Promise<void> {
  if (call.method !== 'POST') methodNotAllowed(call, 'POST');
  const body = await jsonBody(call);
  const unknown = Object.keys(body).filter((k) => k !== 'password');
  if (unknown.length > 0) throw badRequest(`${unknown[0]}: not a field here (expected { "password": string })`, unknown.map((field) => ({ field, message: 'unknown field' })));
  if (typeof body.password !== 'string') throw badRequest('password: expected a string (the new password)', [{ field: 'password', message: 'required field is missing (expected string)' }]);
  const password = body.password;
  await writes.run(`users/${user.username}`, async () => {
    try {
      await setPassword(store, user.username, password);
    } catch (error) {
      if (error instanceof UserInputError) throw badRequest(`password: ${error.message}`, [{ field: 'password', message: error.message }]);
      throw error;
    }
  });
  call.changed('set user password', `users/${user.username}`, []);
  return reply(call, 204, undefined);
}
