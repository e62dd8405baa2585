import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultMaxConnections, isClientDisconnect, openFileLimit, timeoutOptions } from './client-limits.ts';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

test('the open-file limit is the soft limit of /proc/self/limits', () => {
  assert.equal(openFileLimit(() => LIMITS), 1024);
  assert.equal(openFileLimit(() => LIMITS.replace('1024 ', 'unlimited ')), Number.MAX_SAFE_INTEGER);
  assert.equal(openFileLimit(() => 'nothing here'), undefined);
  assert.equal(openFileLimit(() => {
    throw new Error('ENOENT');
  }), undefined);
});

test('the default connection cap is half the open-file limit, at least 64, and 512 where the limit is unknown', () => {
  assert.equal(defaultMaxConnections(1024), 512);
  assert.equal(defaultMaxConnections(100), 64);
  assert.equal(defaultMaxConnections(undefined), 512);
  assert.ok(defaultMaxConnections(Number.MAX_SAFE_INTEGER) < 2 ** 31);
});

test('timeout options: Node checks deadlines often enough for the shortest timeout', () => {
  const options = timeoutOptions({ headersTimeout: 20_000, requestTimeout: 60_000, idleTimeout: 65_000, maxConnections: 10 });
  assert.deepEqual(options, { headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 65_000, connectionsCheckingInterval: 5_000 });
  assert.equal(timeoutOptions({ headersTimeout: 300, requestTimeout: 600, idleTimeout: 300, maxConnections: 10 }).connectionsCheckingInterval, 75);
});

test('resets, broken pipes and aborted requests are client disconnects; other errors are not', () => {
  for (const code of ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']) assert.ok(isClientDisconnect(Object.assign(new Error('x'), { code })));
  assert.ok(!isClientDisconnect(new TypeError('boom')));
  assert.ok(!isClientDisconnect(Object.assign(new Error('x'), { code: 'ENOENT' })));
  assert.ok(!isClientDisconnect(undefined));
});
