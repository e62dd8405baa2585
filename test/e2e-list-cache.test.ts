// The public list cache end to end: a real 2026-07-28 server (SDK 2.x) that marks its lists
// `cacheScope: public` for a minute, behind two APIs — one open, one whose ACL shows a single
// tool — and several agents. One upstream request serves them all; each still gets its own view.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { raw, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { startStatelessServer, type RunningStatelessServer } from './helpers/stateless-server.ts';

const MODERN = '2026-07-28';
let upstream: RunningStatelessServer;
let gh: TestGateway;

before(async () => {
  upstream = await startStatelessServer({ publicLists: true });
  gh = await startTestGateway({
    servers: {
      cached: { url: upstream.url, listCache: { enabled: true, maxTtl: '10m' } },
      plain: { url: upstream.url },
    },
    apis: [
      { name: 'open', path: '/open', server: 'cached' },
      { name: 'echo-only', path: '/echo-only', server: 'cached', policies: [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] }] } }] },
      { name: 'uncached', path: '/uncached', server: 'plain' },
    ],
  });
});

after(async () => {
  await gh?.close();
  await upstream?.close();
});

function listRequest(api: string, id: number, method = 'tools/list'): ReturnType<typeof raw> {
  return raw(gh.url(api), {
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method },
    body: { jsonrpc: '2.0', id, method, params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: `agent-${id}`, version: '1' } } } },
  });
}

const upstreamLists = (method: string) => upstream.received.filter((r) => r.body.includes(`"method":"${method}"`)).length;
type ToolsResult = { tools: Array<{ name: string }>; cacheScope?: string; ttlMs?: number };

test('one upstream tools/list serves every agent of every API on the server for the ttl the server gave; each agent gets its own view', async () => {
  const before = upstreamLists('tools/list');
  // Concurrent first requests share one upstream request.
  const first = await Promise.all([1, 2, 3].map((id) => listRequest('open', id)));
  for (const [i, answer] of first.entries()) {
    assert.equal(answer.status, 200, answer.text);
    const message = answer.messages[0] as { id: number; result: ToolsResult };
    assert.equal(message.id, i + 1, 'each agent gets its own id back');
    assert.equal(message.result.cacheScope, 'public');
    assert.ok(message.result.tools.length >= 3);
  }
  for (let id = 10; id < 20; id++) assert.equal((await listRequest('open', id)).status, 200);
  const guarded = (await listRequest('echo-only', 30)).messages[0] as { result: ToolsResult };
  assert.deepEqual(guarded.result.tools.map((tool) => tool.name), ['echo'], 'the ACL still filters a cached list');
  assert.equal(guarded.result.cacheScope, 'private', 'and marks its copy private');
  const open = (await listRequest('open', 31)).messages[0] as { result: ToolsResult };
  assert.ok(open.result.tools.length >= 3, 'the filtered view did not change the cached list');
  assert.equal(upstreamLists('tools/list') - before, 1, '15 lists through two APIs cost one upstream request');

  // Without listCache every list goes upstream.
  const plain = upstreamLists('tools/list');
  for (let id = 40; id < 43; id++) await listRequest('uncached', id);
  assert.equal(upstreamLists('tools/list') - plain, 3);
});

test('a list the server does not mark public is not kept', async () => {
  // resources/templates/list has no cache hint on this server.
  const before = upstreamLists('resources/templates/list');
  for (let id = 50; id < 53; id++) assert.equal((await listRequest('open', id, 'resources/templates/list')).status, 200);
  assert.equal(upstreamLists('resources/templates/list') - before, 3);
});

test('listCache settings are checked: a bad maxTtl names the field', async () => {
  await assert.rejects(
    startTestGateway({ servers: { s: { url: upstream.url, listCache: { enabled: true, maxTtl: 'soon' } } }, apis: [{ name: 'a', path: '/a', server: 's' }] } as never),
    /servers\.s\.listCache\.maxTtl/,
  );
});
