import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapClaims } from './claims.ts';

const bySub = { name: 'corp', username: 'sub', groupsClaim: undefined } as const;
const byEmail = { name: 'corp', username: 'email', groupsClaim: 'groups' } as const;

test('sub is qualified by the provider name', () => {
  assert.deepEqual(mapClaims(bySub, { sub: 'u-123' }), { username: 'u-123@corp', groups: undefined });
});

test('email is used only when verified', () => {
  assert.deepEqual(mapClaims(byEmail, { sub: 'x', email: 'Ada@Example.com', email_verified: true, groups: ['eng', 7, 'ops'] }), { username: 'ada@example.com', groups: ['eng', 'ops'] });
  assert.ok('problem' in mapClaims(byEmail, { sub: 'x', email: 'ada@example.com', email_verified: false }));
  assert.ok('problem' in mapClaims(byEmail, { sub: 'x', email: 'ada@example.com' }));
  assert.ok('problem' in mapClaims(byEmail, { sub: 'x' }));
});

test('a subject that cannot be a user name is refused, not mangled', () => {
  assert.ok('problem' in mapClaims(bySub, { sub: 'has space' }));
  assert.ok('problem' in mapClaims(bySub, { sub: 'x'.repeat(70) }));
  assert.ok('problem' in mapClaims(bySub, {}));
});

test('one group given as a string is a list of one', () => {
  assert.deepEqual(mapClaims({ ...bySub, groupsClaim: 'roles' }, { sub: 'u', roles: 'admin' }), { username: 'u@corp', groups: ['admin'] });
  assert.deepEqual(mapClaims({ ...bySub, groupsClaim: 'roles' }, { sub: 'u' }), { username: 'u@corp', groups: [] });
});

test('tenantClaim: its value is the tenant; a missing or empty one is refused', () => {
  const byTenant = { ...bySub, tenantClaim: 'org' };
  assert.deepEqual(mapClaims(byTenant, { sub: 'u', org: 'acme' }), { username: 'u@corp', groups: undefined, tenant: 'acme' });
  assert.ok('problem' in mapClaims(byTenant, { sub: 'u' }));
  assert.ok('problem' in mapClaims(byTenant, { sub: 'u', org: '' }));
  assert.ok('problem' in mapClaims(byTenant, { sub: 'u', org: ['acme'] }));
});
