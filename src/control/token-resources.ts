// /api/v1/tokens: API tokens of the admin listener, for automation (owners only; api.ts checks
// the role). A token is shown once, in the answer that makes it; the list shows ids, names,
// roles and dates, never a secret or its digest. DELETE revokes at once, on every node.
import type { AdminTokenRecord, ControlStore } from '../store/control.ts';
import { ADMIN_ROLES, type AdminRole } from '../store/control.ts';
import { newAdminToken } from '../admin/api-tokens.ts';
import { badRequest, notFound } from './errors.ts';
import { jsonBody, methodNotAllowed, pointer, reply, type Call } from './http.ts';
import type { Deployments } from './deployments.ts';
import { declaredTenants } from './tenant-scope.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';

const view = ({ digest: _digest, ...t }: AdminTokenRecord) => ({ ...t, expiresAt: t.expiresAt ?? null, revokedAt: t.revokedAt ?? null, tenant: t.tenant ?? null });

export async function tokensResource(call: Call, store: ControlStore, deployments: Deployments): Promise<void> {
  const [, id, ...rest] = call.segments;
  if (rest.length > 0) throw notFound(`/api/v1/${call.segments.join('/')}`);
  if (id === undefined) {
    // A tenant's owner manages its tenant's tokens only; a platform owner every token.
    if (call.method === 'GET') return reply(call, 200, { items: (await store.listAdminTokens()).filter((t) => call.tenant === undefined || t.tenant === call.tenant).map(view) });
    if (call.method !== 'POST') methodNotAllowed(call, 'GET, POST');
    const body = await jsonBody(call);
    if (call.tenant !== undefined) {
      if (body.tenant !== undefined && body.tenant !== call.tenant) throw badRequest(`invalid token: tenant: expected "${call.tenant}" (the tenant of this identity) or nothing`, [{ field: 'tenant', message: `expected "${call.tenant}" or nothing` }]);
      body.tenant = call.tenant;
    }
    const problems: Array<{ field: string; message: string }> = [];
    if (typeof body.name !== 'string' || body.name.trim() === '' || body.name.length > 100) problems.push({ field: 'name', message: 'expected a name of 1 to 100 characters (what the token is for)' });
    if (typeof body.role !== 'string' || !ADMIN_ROLES.includes(body.role as AdminRole)) problems.push({ field: 'role', message: `expected one of ${ADMIN_ROLES.join(', ')}` });
    if (body.expiresAt !== undefined && (typeof body.expiresAt !== 'number' || body.expiresAt <= Date.now())) problems.push({ field: 'expiresAt', message: 'expected a time in the future (milliseconds since the epoch)' });
    if (body.tenant !== undefined && (typeof body.tenant !== 'string' || (call.tenant === undefined && !declaredTenants((await deployments.draft()).document).includes(body.tenant) && body.tenant !== DEFAULT_TENANT))) {
      problems.push({ field: 'tenant', message: `expected the id of a tenant under \`tenants\`${typeof body.tenant === 'string' ? ` (no tenant "${body.tenant}")` : ''}` });
    }
    const unknown = Object.keys(body).filter((k) => !['name', 'role', 'expiresAt', 'tenant'].includes(k));
    for (const field of unknown) problems.push({ field, message: 'unknown field' });
    if (problems.length > 0) throw badRequest(`invalid token: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
    const { token, record } = newAdminToken({ name: (body.name as string).trim(), role: body.role as AdminRole, createdBy: call.actor, expiresAt: body.expiresAt as number | undefined, tenant: body.tenant as string | undefined });
    await store.createAdminToken(record);
    call.changed('create token', `tokens/${record.id}`, [{ op: 'add', path: pointer('tokens', record.id), value: view(record) }]);
    // The only time the token is shown: the store keeps the digest of its secret.
    return reply(call, 201, { ...view(record), token });
  }
  if (call.method !== 'DELETE') methodNotAllowed(call, 'DELETE');
  const revokedAt = Date.now();
  if (call.tenant !== undefined && (await store.getAdminToken(id))?.tenant !== call.tenant) throw notFound(`live token "${id}"`);
  if (!(await store.revokeAdminToken(id, revokedAt))) throw notFound(`live token "${id}"`);
  call.changed('revoke token', `tokens/${id}`, [{ op: 'replace', path: pointer('tokens', id, 'revokedAt'), value: revokedAt }]);
  return reply(call, 204, undefined);
}
