// The pinning policy against a real (in-memory SQLite) store: what lists show and calls get under
// each first-use rule and per-server override, and that a call of a known tool is decided from
// memory (a boolean, not a store read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { openSqliteStore } from '../../store/sqlite.ts';
import { ANONYMOUS } from '../../auth/principal.ts';
import type { PolicyContext } from '../policy.ts';
import type { JsonRpcMessage, JsonRpcResponse } from '../../mcp/jsonrpc.ts';
import { PinningRegistry } from './registry.ts';
import { PinningPolicy } from './pinning-policy.ts';
import { PinningPolicySchema } from './schema.ts';
import { pinnedDefinition } from './definition.ts';

const log = pino({ level: 'silent' });

function ctx(server: string): PolicyContext {
  return { api: 'test', server, principal: ANONYMOUS, protocolVersion: '2025-06-18', sessionId: undefined, request: { headers: {}, remoteAddress: undefined }, log, trace: [] };
}

function list(...tools: Array<{ name: string; description: string }>): JsonRpcResponse {
  return { jsonrpc: '2.0', id: 1, result: { tools: tools.map((t) => ({ ...t, inputSchema: { type: 'object' } })) } };
}

const shown = (message: JsonRpcMessage | undefined) => ((message as JsonRpcResponse).result as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
const call = (name: string): JsonRpcMessage => ({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });

async function setup(pinning: unknown) {
  const store = await openSqliteStore(':memory:');
  const changes: string[] = [];
  const registry = new PinningRegistry(store, log, { changed: (change) => void changes.push(`${change.server}/${change.tool}`) });
  const policy = new PinningPolicy(PinningPolicySchema.parse({ pinning }).pinning, registry, log);
  // The background writes of the lists judged so far.
  const settled = () => registry.idle();
  return { store, registry, policy, changes, settled };
}

test('firstUse approve: nothing is shown or callable before an approval; after it, the approved definition only', async () => {
  const { store, registry, policy, settled } = await setup({ mode: 'enforce', firstUse: 'approve' });
  assert.deepEqual(shown(policy.onResponse(ctx('s'), list({ name: 'a', description: 'A' }), undefined)), []);
  assert.equal((await policy.onRequest(ctx('s'), call('a'))).action, 'respond');
  await settled();
  const pin = await store.getToolPin('s', 'a');
  assert.equal(pin?.approvedHash, undefined);
  assert.equal(pin?.hash, pinnedDefinition({ name: 'a', description: 'A', inputSchema: { type: 'object' } }, 'a').hash);
  assert.equal(await store.approveToolPin('s', 'a', pin!.hash, Date.now(), 'test'), 'approved');
  await registry.refresh();
  assert.deepEqual(shown(policy.onResponse(ctx('s'), list({ name: 'a', description: 'A' }), undefined)), ['a']);
  const decision = policy.onRequest(ctx('s'), call('a'));
  assert.deepEqual(decision, { action: 'allow' }, 'a known tool is decided from memory, not a promise');
  await store.close();
});

test('per-server overrides: one server observed, another enforced; a change is reported once', async () => {
  const { store, policy, changes, settled } = await setup({ mode: 'enforce', servers: { watched: { mode: 'observe' } } });
  for (const server of ['watched', 'strict']) {
    assert.deepEqual(shown(policy.onResponse(ctx(server), list({ name: 'a', description: 'A' }), undefined)), ['a']);
  }
  await settled();
  for (const server of ['watched', 'strict']) {
    const after = policy.onResponse(ctx(server), list({ name: 'a', description: 'A, changed' }), undefined);
    assert.deepEqual(shown(after), server === 'watched' ? ['a'] : [], server);
    assert.equal((await policy.onRequest(ctx(server), call('a'))).action, server === 'watched' ? 'allow' : 'respond');
  }
  await settled();
  // The same changed list again: no second report.
  policy.onResponse(ctx('strict'), list({ name: 'a', description: 'A, changed' }), undefined);
  await settled();
  assert.deepEqual(changes.sort(), ['strict/a', 'watched/a']);
  await store.close();
});

test('a tool never seen anywhere is refused under enforce (fail closed), allowed under observe', async () => {
  const { store, policy } = await setup({ mode: 'enforce', servers: { open: { mode: 'observe' } } });
  const refused = await policy.onRequest(ctx('s'), call('ghost'));
  assert.equal(refused.action, 'respond');
  assert.deepEqual((refused as { response: JsonRpcResponse }).response.result, { content: [{ type: 'text', text: 'MCP error -32602: Tool ghost not found' }], isError: true });
  assert.deepEqual(await policy.onRequest(ctx('open'), call('ghost')), { action: 'allow' });
  await store.close();
});

test('the pinned definition ignores key order and members outside the definition (_meta, icons)', () => {
  const a = pinnedDefinition({ name: 'x', description: 'd', inputSchema: { type: 'object', properties: { b: { type: 'string' }, a: { type: 'number' } } } }, 'x');
  const b = pinnedDefinition({ _meta: { seen: 1 }, icons: [], inputSchema: { properties: { a: { type: 'number' }, b: { type: 'string' } }, type: 'object' }, description: 'd', name: 'x' }, 'x');
  assert.equal(a.hash, b.hash);
  assert.notEqual(a.hash, pinnedDefinition({ name: 'x', description: 'd', inputSchema: { type: 'object' }, annotations: { destructiveHint: true } }, 'x').hash);
});
