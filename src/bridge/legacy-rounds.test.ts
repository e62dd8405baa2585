// The 2025-client side of a 2026-07-28 request (legacy-rounds.ts): the envelope added, the 2026-07-28
// vocabulary removed from results, the capabilities a 2025 client is offered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { legacyCapabilities, legacyResult, modernParams } from './legacy-rounds.ts';

const META = 'io.modelcontextprotocol/';

test('the envelope joins the client\'s own _meta (a progress token is kept) and carries the log level when one was set', () => {
  const params = modernParams({ name: 'echo', _meta: { progressToken: 7 } }, { cap: { elicitation: {} }, info: { name: 'c', version: '1' } }, 'warning');
  assert.deepEqual(params, {
    name: 'echo',
    _meta: { progressToken: 7, [`${META}protocolVersion`]: '2026-07-28', [`${META}clientCapabilities`]: { elicitation: {} }, [`${META}clientInfo`]: { name: 'c', version: '1' }, [`${META}logLevel`]: 'warning' },
  });
  assert.equal(`${META}logLevel` in (modernParams(undefined, { cap: {}, info: {} }, undefined)._meta as object), false);
});

test('a 2026-07-28 result loses resultType and the cache hints for a 2025 client, and nothing else', () => {
  assert.deepEqual(legacyResult({ resultType: 'complete', ttlMs: 0, cacheScope: 'public', tools: [], nextCursor: 'n' }), { tools: [], nextCursor: 'n' });
});

test('listChanged and resources.subscribe are offered only when the caller relays them (a federated member does, the single-server bridge does not)', () => {
  const capabilities = { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, logging: {}, experimental: { x: 1 } };
  assert.deepEqual(legacyCapabilities(capabilities, { listChanged: false, subscribe: false }), { tools: {}, resources: {}, logging: {}, experimental: { x: 1 } });
  assert.deepEqual(legacyCapabilities(capabilities, { listChanged: true, subscribe: true }), capabilities);
  assert.deepEqual(legacyCapabilities(capabilities, { listChanged: true, subscribe: false }), { tools: { listChanged: true }, resources: { listChanged: true }, logging: {}, experimental: { x: 1 } });
});
