// The issued-token cache of token exchange on a clock the test moves: concurrent misses of one key
// share one load, other keys load apart, a value serves until its use-by time, a failed load is not
// kept, a dropped key loads again, and the cache stays within its bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SingleFlightCache } from './token-cache.ts';
import { deferred } from '../../../test/helpers/deferred.ts';

interface Value {
  readonly n: number;
  readonly useUntil: number;
}

function setup(maxEntries = 100) {
  const clock = { now: 1_000 };
  const cache = new SingleFlightCache<Value>(maxEntries, () => clock.now);
  let loads = 0;
  const load = (useFor = 1_000) => async (): Promise<Value> => ({ n: ++loads, useUntil: clock.now + useFor });
  return { clock, cache, load, loads: () => loads };
}

test('concurrent misses of one key share one load; another key loads on its own', async () => {
  const { cache, loads } = setup();
  const gate = deferred<void>('the slow load');
  let started = 0;
  const slow = async (): Promise<Value> => {
    started++;
    await gate.promise;
    return { n: started, useUntil: Number.MAX_SAFE_INTEGER };
  };
  const waiting = Array.from({ length: 20 }, () => cache.get('alice', slow));
  const other = cache.get('bob', slow);
  assert.equal(started, 2, 'one load for alice, one for bob');
  gate.resolve();
  const values = await Promise.all(waiting);
  assert.equal(new Set(values).size, 1, 'every alice caller got the same value');
  assert.notEqual(await other, values[0]);
  assert.equal(loads(), 0);
});

test('a hit is the value itself (no promise) until its use-by time; then a new load', async () => {
  const { clock, cache, load } = setup();
  const first = await cache.get('alice', load(1_000));
  const hit = cache.get('alice', load());
  assert.ok(!(hit instanceof Promise), 'a hit needs no promise');
  assert.equal(hit, first);
  clock.now += 999;
  assert.equal(cache.get('alice', load()), first);
  clock.now += 1;
  const second = await cache.get('alice', load());
  assert.notEqual(second, first);
  assert.equal(second.n, 2);
});

test('a failed load is not kept: every waiter gets the failure, the next call loads again', async () => {
  const { cache, load } = setup();
  let failures = 0;
  const failing = async (): Promise<Value> => {
    failures++;
    throw new Error('refused');
  };
  const results = await Promise.allSettled([cache.get('alice', failing), cache.get('alice', failing)]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  assert.equal(failures, 1, 'one load shared by both');
  const next = await cache.get('alice', load());
  assert.equal(next.n, 1);
  assert.equal(cache.size, 1);
});

test('a dropped key (the upstream refused its token) loads again', async () => {
  const { cache, load } = setup();
  const first = await cache.get('alice', load());
  cache.drop('alice');
  const second = await cache.get('alice', load());
  assert.notEqual(second, first);
});

test('past maxEntries, expired values go first, then the oldest', async () => {
  const { clock, cache, load } = setup(3);
  await cache.get('a', load(10));
  await cache.get('b', load(1_000));
  await cache.get('c', load(1_000));
  clock.now += 20; // a has expired
  await cache.get('d', load(1_000));
  assert.equal(cache.size, 3);
  const b = cache.get('b', load());
  assert.ok(!(b instanceof Promise), 'b was kept: the expired a went instead');
  await cache.get('e', load(1_000)); // full of live values: the oldest (b) goes
  assert.equal(cache.size, 3);
  assert.ok(cache.get('b', load()) instanceof Promise, 'b was evicted');
});
