import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SessionSealer, type SessionClaims } from './seal.ts';

const KEY = Buffer.alloc(32, 7);
const HTTP_CLAIMS: SessionClaims = { api: 'everything', sub: 'anon', kind: 'http', up: 'upstream-session-1', iat: 1_700_000_000 };
const CHANNEL_CLAIMS: SessionClaims = { api: 'stdio', sub: 'agent:42', kind: 'channel', node: 'node-a', ch: 'channel-1', iat: 1_700_000_001 };

test('seal → unseal round trip, on the same sealer and on a fresh one with the same key (restart, second node)', () => {
  for (const claims of [HTTP_CLAIMS, CHANNEL_CLAIMS, { api: 'a', sub: 's', kind: 'http', iat: 0 } satisfies SessionClaims]) {
    const token = new SessionSealer(KEY).seal(claims);
    assert.match(token, /^gh1\.[A-Za-z0-9_-]+$/, 'a header-safe token');
    assert.deepEqual(new SessionSealer(KEY).unseal(token), claims);
  }
});

test('tokens are opaque and unique: the claims are not readable, and sealing twice differs', () => {
  const sealer = new SessionSealer(KEY);
  const a = sealer.seal(HTTP_CLAIMS);
  const b = sealer.seal(HTTP_CLAIMS);
  assert.notEqual(a, b);
  const raw = Buffer.from(a.slice(4), 'base64url').toString('latin1');
  assert.ok(!raw.includes('upstream-session-1') && !raw.includes('everything'));
});

test('changing any byte of a token makes it unknown', () => {
  const token = new SessionSealer(KEY).seal(HTTP_CLAIMS);
  const raw = Buffer.from(token.slice(4), 'base64url');
  for (let i = 0; i < raw.length; i++) {
    for (const flip of [0x01, 0x80]) {
      const tampered = Buffer.from(raw);
      tampered[i]! ^= flip;
      // A fresh sealer each time: nothing may come from a cache.
      assert.equal(new SessionSealer(KEY).unseal('gh1.' + tampered.toString('base64url')), undefined, `byte ${i} ^ ${flip}`);
    }
  }
  // Truncated or extended tokens too.
  assert.equal(new SessionSealer(KEY).unseal(token.slice(0, -1)), undefined);
  assert.equal(new SessionSealer(KEY).unseal(token + 'AAAA'), undefined);
  assert.equal(new SessionSealer(KEY).unseal('gh1.' + raw.subarray(0, raw.length - 1).toString('base64url')), undefined);
});

test('a token sealed with another key is unknown', () => {
  const token = new SessionSealer(randomBytes(32)).seal(HTTP_CLAIMS);
  assert.equal(new SessionSealer(KEY).unseal(token), undefined);
});

test('garbage is unknown, never an exception', () => {
  const sealer = new SessionSealer(KEY);
  for (const garbage of [
    '',
    'gh1.',
    'gh1',
    'gh2.' + 'A'.repeat(60),
    'gh1.' + 'A'.repeat(60),
    'gh1.!!!!',
    'gh1.' + 'x'.repeat(5000),
    randomBytes(64).toString('base64url'),
    '00000000-0000-0000-0000-000000000000',
    'gh1.' + randomBytes(80).toString('base64url'),
  ]) {
    assert.equal(sealer.unseal(garbage), undefined, JSON.stringify(garbage.slice(0, 40)));
  }
});

test('claims without api and sub strings are refused even when correctly sealed', () => {
  const sealer = new SessionSealer(KEY);
  // Sealing does not validate; unsealing does (a fresh sealer, so the cache does not answer).
  const token = sealer.seal({ api: 1, sub: 'x', kind: 'http', iat: 0 } as unknown as SessionClaims);
  assert.equal(new SessionSealer(KEY).unseal(token), undefined);
});

test('the key must be 32 bytes', () => {
  assert.throws(() => new SessionSealer(Buffer.alloc(16)), /32 bytes/);
  assert.throws(() => new SessionSealer(Buffer.alloc(33)), /32 bytes/);
});

test('cache: unseal answers from the cache after seal or a first unseal, and forget removes the entry', () => {
  const sealer = new SessionSealer(KEY);
  const token = sealer.seal(HTTP_CLAIMS);
  // The cached claims are the very object sealed: no decrypt happened.
  assert.equal(sealer.unseal(token), sealer.unseal(token));
  const other = new SessionSealer(KEY);
  const first = other.unseal(token);
  assert.deepEqual(first, HTTP_CLAIMS);
  assert.equal(other.unseal(token), first, 'second unseal comes from the cache');
  other.forget(token);
  const again = other.unseal(token);
  assert.deepEqual(again, HTTP_CLAIMS, 'a forgotten token still unseals (the seal is what counts)');
  assert.notEqual(again, first, 'but by decrypting again');
});

test('cache is bounded: the oldest entries are dropped, and they still unseal', () => {
  const sealer = new SessionSealer(KEY);
  const first = sealer.seal({ ...HTTP_CLAIMS, up: 'first' });
  const firstClaims = sealer.unseal(first);
  for (let i = 0; i < 10_000; i++) sealer.seal({ ...HTTP_CLAIMS, up: `s${i}` });
  const after = sealer.unseal(first);
  assert.deepEqual(after, firstClaims);
  assert.notEqual(after, firstClaims, 'the first entry was evicted and decrypted again');
});
