import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from './passwords.ts';
import { LoginThrottle } from './throttle.ts';

test('passwords are scrypt hashes (N=2^15, r=8, p=1, 16-byte salt) in the store\'s format', async () => {
  const hash = await hashPassword('correct horse battery staple');
  const [scheme, N, r, p, salt, key] = hash.split('$');
  assert.deepEqual([scheme, N, r, p], ['scrypt', '32768', '8', '1']);
  assert.equal(Buffer.from(salt!, 'base64url').length, 16);
  assert.equal(Buffer.from(key!, 'base64url').length, 32);
  assert.notEqual(await hashPassword('correct horse battery staple'), hash, 'salted');
  assert.equal(await verifyPassword('correct horse battery staple', hash), true);
  assert.equal(await verifyPassword('correct horse battery stapler', hash), false);
  for (const broken of ['', 'scrypt$1$2$3', hash.replace('scrypt', 'bcrypt'), hash.replace('$32768$', '$99999999$'), hash.replace('$32768$', '$3$'), hash.slice(0, -4)]) {
    assert.equal(await verifyPassword('correct horse battery staple', broken), false, broken);
  }
});

test('the sign-in throttle stops one name from one address after 10 failures, for the window', () => {
  const throttle = new LoginThrottle();
  const t0 = 1_000_000;
  for (let i = 0; i < 9; i++) throttle.fail('Ada', '10.0.0.1', t0 + i);
  assert.equal(throttle.blockedFor('ada', '10.0.0.1', t0 + 10), 0);
  throttle.fail('ada', '10.0.0.1', t0 + 10);
  assert.ok(throttle.blockedFor('ada', '10.0.0.1', t0 + 11) > 0);
  assert.equal(throttle.blockedFor('ada', '10.0.0.2', t0 + 11), 0, 'another address');
  assert.equal(throttle.blockedFor('grace', '10.0.0.1', t0 + 11), 0, 'another name');
  assert.equal(throttle.blockedFor('ada', '10.0.0.1', t0 + 15 * 60_000 + 1), 0, 'the window passed');
});
