// Sealed credentials: they open with the key and name they were sealed for, and with nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sealCredential, sealedKeyId, unsealCredential, UnsealError } from './seal.ts';
import { keyId } from './key.ts';

const key = randomBytes(32);
const secret = { type: 'bearer', token: 'sealed-secret-0a1b2c3d' } as const;

test('a sealed credential opens with its key and name, and shows neither the secret nor the key', () => {
  const sealed = sealCredential(key, 'github', secret);
  assert.ok(!sealed.includes(secret.token));
  assert.ok(!sealed.includes(key.toString('hex')) && !sealed.includes(key.toString('base64url')));
  assert.equal(sealedKeyId(sealed), keyId(key));
  assert.deepEqual(unsealCredential(key, 'github', sealed), secret);
  assert.notEqual(sealCredential(key, 'github', secret), sealed, 'a fresh IV each time');
});

test('another name, another key, a flipped bit or a foreign format do not open, and say why without the secret', () => {
  const sealed = sealCredential(key, 'github', secret);
  const refusals: Array<[string, () => unknown, RegExp]> = [
    ['other name', () => unsealCredential(key, 'gitlab', sealed), /altered or sealed for another name/],
    ['other key', () => unsealCredential(randomBytes(32), 'github', sealed), /sealed with key [0-9a-f]{12}, but the current key is [0-9a-f]{12}/],
    ['flipped bit', () => unsealCredential(key, 'github', flip(sealed)), /altered/],
    ['foreign format', () => unsealCredential(key, 'github', 'plain text'), /not in a known sealed format/],
  ];
  for (const [what, attempt, message] of refusals) {
    assert.throws(attempt, (error: unknown) => error instanceof UnsealError && message.test(error.message) && !error.message.includes(secret.token), what);
  }
});

test('what is sealed must be a valid credential', () => {
  // Sealed by hand without validation: a credential the config file would refuse.
  const bad = sealCredential(key, 'x', { type: 'header', name: 'Host', value: 'v' });
  assert.throws(() => unsealCredential(key, 'x', bad), /not a valid credential/);
});

function flip(sealed: string): string {
  const [version, id, body] = sealed.split('.') as [string, string, string];
  const raw = Buffer.from(body, 'base64url');
  raw[20]! ^= 1;
  return `${version}.${id}.${raw.toString('base64url')}`;
}
