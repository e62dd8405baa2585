// Generated keys: the documented format, enough randomness, a prefix too short to use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digestKey, generateApiKey, keyPrefix } from './api-key.ts';

test('keys are gh_ and 40 base62 characters, all different; the prefix is 8 characters', () => {
  const keys = new Set(Array.from({ length: 2000 }, () => generateApiKey()));
  assert.equal(keys.size, 2000);
  const counts = new Map<string, number>();
  for (const key of keys) {
    assert.match(key, /^gh_[0-9A-Za-z]{40}$/);
    for (const c of key.slice(3)) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(keyPrefix(key), key.slice(0, 8));
  }
  // 80,000 characters over 62 symbols: every symbol shows up, none wildly more than the others.
  assert.equal(counts.size, 62);
  const mean = 80_000 / 62;
  for (const [c, n] of counts) assert.ok(n > mean * 0.75 && n < mean * 1.25, `symbol ${c} drawn ${n} times`);
});

test('digests are lower-case hex SHA-256 ("test" gives the issue\'s digest)', () => {
  assert.equal(digestKey('test'), '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08');
});
