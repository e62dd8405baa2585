import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminRoleOf } from './admin-users.ts';
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
