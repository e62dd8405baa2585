// The management API on users' passwords and two-factor sign-in, on a managed-mode Gatehouse: a
// user's `totp` shows whether it is on (never a secret); an admin turns it off (a lost phone) but
// cannot turn it on; an admin sets a user's password (the old one stops working, the change is
// recorded without the password); a tenant's token does neither to another tenant's user (404),
// a viewer's token not at all; bad input is a 400 that names the field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { LOCAL_EGRESS } from './helpers/gatehouse.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { SecondFactor } from '../src/authserver/second-factor.ts';
import { checkLogin } from '../src/authserver/users.ts';
import { CredentialVault } from '../src/credentials/vault.ts';
import { credentialsKeySource } from '../src/credentials/key.ts';

const PASSWORD = 'correct horse battery staple';
let gh: ManagedGatehouse;
const tokens = { acmeAdmin: '', acmeViewer: '' };

/** A management API call with another token than the admin's. */
function as(token: string, method: string, path: string, options: { body?: unknown; ifMatch?: string } = {}): ReturnType<ManagedGatehouse['call']> {
  return gh.call(method, path, { ...options, token });
}

before(async () => {
  gh = await startManaged();
  for (const id of ['acme', 'globex']) assert.equal((await gh.call('POST', '/api/v1/tenants', { body: { id, name: id, egress: LOCAL_EGRESS } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/deployments', { body: { comment: 'tenants' } })).status, 201);
  for (const [username, tenant] of [['anna', 'acme'], ['gus', 'globex']]) assert.equal((await gh.call('POST', '/api/v1/users', { body: { username, password: PASSWORD, tenant } })).status, 201);
  tokens.acmeAdmin = String((await gh.call('POST', '/api/v1/tokens', { body: { name: 'acme admin', role: 'admin', tenant: 'acme' } })).body.token);
  tokens.acmeViewer = String((await gh.call('POST', '/api/v1/tokens', { body: { name: 'acme viewer', role: 'viewer', tenant: 'acme' } })).body.token);
  // Both have two-factor sign-in, set up as `gatehouse users totp enable` does.
  const factor = new SecondFactor(gh.gateway.store, new CredentialVault(gh.gateway.store, credentialsKeySource(gh.dataDir)));
  for (const name of ['anna', 'gus']) await factor.enable((await gh.gateway.store.getUserByName(name))!);
});

after(async () => {
  await gh?.close();
});

test('a user shows `totp: true` and nothing of the secret; an admin turns it off but not on', async () => {
  const anna = await gh.call('GET', '/api/v1/users/anna');
  assert.equal(anna.status, 200);
  assert.deepEqual(Object.keys(anna.body).sort(), ['createdAt', 'disabled', 'id', 'tenant', 'totp', 'username']);
  assert.equal(anna.body.totp, true);
  const listed = (await gh.call('GET', '/api/v1/users')).body.items as Array<Record<string, unknown>>;
  assert.deepEqual(listed.map((u) => [u.username, u.totp]), [['anna', true], ['gus', true]]);
  assert.ok(!JSON.stringify(listed).includes('gj1.'), 'no sealed secret in the list');

  // Another tenant's user is a missing one; a viewer changes nothing.
  const gus = (await gh.call('GET', '/api/v1/users/gus')).etag!;
  assert.equal((await as(tokens.acmeAdmin, 'PUT', '/api/v1/users/gus', { body: { totp: false }, ifMatch: gus })).status, 404);
  assert.equal((await as(tokens.acmeViewer, 'PUT', '/api/v1/users/anna', { body: { totp: false }, ifMatch: anna.etag! })).status, 403);
  assert.equal((await as(tokens.acmeAdmin, 'PUT', '/api/v1/users/anna', { body: { totp: 'off' }, ifMatch: anna.etag! })).status, 400);
  assert.notEqual((await gh.gateway.store.getUserByName('gus'))?.totpSecret, undefined);

  // Acme's admin resets anna's (If-Match is required, as for every change of a user).
  assert.equal((await as(tokens.acmeAdmin, 'PUT', '/api/v1/users/anna', { body: { totp: false } })).status, 428);
  const reset = await as(tokens.acmeAdmin, 'PUT', '/api/v1/users/anna', { body: { totp: false }, ifMatch: anna.etag! });
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.equal(reset.body.totp, false);
  assert.notEqual(reset.etag, anna.etag);
  assert.equal((await gh.gateway.store.getUserByName('anna'))?.totpSecret, undefined);
  // Turning it on is the user's to do.
  const on = await as(tokens.acmeAdmin, 'PUT', '/api/v1/users/anna', { body: { totp: true }, ifMatch: reset.etag! });
  assert.equal(on.status, 400);
  assert.match(String(on.body.message ?? JSON.stringify(on.body)), /only turn two-factor sign-in off/);
});

test('an admin sets a user\'s password: the rules apply, the old one stops working, and the change is recorded without it', async () => {
  const next = 'a password set by the admin';
  const path = '/api/v1/users/anna/password';
  assert.equal((await as(tokens.acmeAdmin, 'POST', path, { body: { password: 'short' } })).status, 400);
  assert.equal((await as(tokens.acmeAdmin, 'POST', path, { body: {} })).status, 400);
  assert.equal((await as(tokens.acmeAdmin, 'POST', path, { body: { password: next, extra: 1 } })).status, 400);
  assert.equal((await as(tokens.acmeAdmin, 'GET', path)).status, 405);
  assert.equal((await as(tokens.acmeViewer, 'POST', path, { body: { password: next } })).status, 403);
  // Another tenant's user: 404, and its password is unchanged.
  assert.equal((await as(tokens.acmeAdmin, 'POST', '/api/v1/users/gus/password', { body: { password: next } })).status, 404);
  assert.ok(await checkLogin(gh.gateway.store, 'gus', PASSWORD));
  assert.equal((await as(tokens.acmeAdmin, 'POST', '/api/v1/users/nobody/password', { body: { password: next } })).status, 404);

  const before = Date.now();
  const set = await as(tokens.acmeAdmin, 'POST', path, { body: { password: next } });
  assert.equal(set.status, 204, JSON.stringify(set.body));
  assert.equal(await checkLogin(gh.gateway.store, 'anna', PASSWORD), undefined);
  assert.ok(await checkLogin(gh.gateway.store, 'anna', next));
  // Grants from before this moment are refused (provider.ts compares with it).
  assert.ok(((await gh.gateway.store.getUserByName('anna'))?.passwordChangedAt ?? 0) >= before);
  // The platform admin may too.
  assert.equal((await gh.call('POST', '/api/v1/users/gus/password', { body: { password: next } })).status, 204);

  // Recorded in the audit log as a change of the control plane: who set whose password, never the password.
  const records = await recordsWhen(gh.gateway, {}, (events) => events.filter((e) => e.method === 'set user password').length >= 2);
  const recorded = records.filter((e) => e.method === 'set user password');
  assert.deepEqual(recorded.map((e) => e.target).sort(), ['users/anna', 'users/gus']);
  assert.ok(!JSON.stringify(records).includes(next), 'the password is in the audit log');
  assert.ok(!gh.logs.text().includes(next), 'the password was logged');
  assert.ok(!gh.logs.text().includes(ADMIN_TOKEN));
});
