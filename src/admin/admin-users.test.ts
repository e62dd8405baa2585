import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminRoleOf, resolveAdminGrant } from './admin-users.ts';
import { AdminSchema } from './schema.ts';

test('admin.users: a plain name is an owner, { user, role } has its role, anyone else is no admin', () => {
  const { users } = AdminSchema.parse({ users: ['ada', { user: 'vic', role: 'viewer' }, { user: 'amy', role: 'admin' }, { user: 'olly' }] });
  assert.equal(adminRoleOf(users, 'ada'), 'owner');
  assert.equal(adminRoleOf(users, 'vic'), 'viewer');
  assert.equal(adminRoleOf(users, 'amy'), 'admin');
  assert.equal(adminRoleOf(users, 'olly'), 'owner', 'the role defaults to owner');
  assert.equal(adminRoleOf(users, 'eve'), undefined);
  assert.equal(adminRoleOf(users, 'ADA'), undefined, 'names are compared exactly');
});

test('admin.users: an unknown role or field is a config error', () => {
  assert.equal(AdminSchema.safeParse({ users: [{ user: 'vic', role: 'root' }] }).success, false);
  assert.equal(AdminSchema.safeParse({ users: [{ user: 'vic', roles: ['viewer'] }] }).success, false);
  assert.equal(AdminSchema.safeParse({ publicUrl: 'not a url' }).success, false);
});

test('an admin user\'s grant: the node file\'s entry first, then the store\'s, which holds for the same user id only', async () => {
  const { users } = AdminSchema.parse({ users: [{ user: 'vic', role: 'viewer' }] });
  const stored = async (username: string) => (username === 'vic' || username === 'sam' ? { username, userId: `id-${username}`, role: 'owner' as const, tenant: 'acme', createdAt: 0, createdBy: 'admin-token', updatedAt: 0, updatedBy: 'admin-token' } : undefined);
  assert.deepEqual(await resolveAdminGrant(users, stored, { id: 'id-vic', username: 'vic' }), { role: 'viewer', tenant: undefined, source: 'node' }, 'the file wins');
  assert.deepEqual(await resolveAdminGrant(users, stored, { id: 'id-sam', username: 'sam' }), { role: 'owner', tenant: 'acme', source: 'store' });
  assert.equal(await resolveAdminGrant(users, stored, { id: 'another-sam', username: 'sam' }), undefined, 'a user made again under the name');
  assert.equal(await resolveAdminGrant(users, undefined, { id: 'id-sam', username: 'sam' }), undefined, 'file mode: no store');
  assert.equal(await resolveAdminGrant(users, stored, { id: 'id-eve', username: 'eve' }), undefined);
});
