// 2026-07-28 cache hints through Gatehouse: `ttlMs`/`cacheScope` a server gives are passed through
// as it gave them; when the ACL judges a list per identity, the scope becomes `private` (no
// shared cache may serve one agent's view to another), the time to live is kept.
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
    servers: { modern: { url: upstream.url } },
    apis: [
      { name: 'open', path: '/open', server: 'modern' },
      {
        name: 'guarded',
        path: '/guarded',
        server: 'modern',
        policies: [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }] }] } }],
      },
    ],
  });
});

after(async () => {
  await gh?.close();
  await upstream?.close();
});

async function toolsList(api: string): Promise<Record<string, unknown>> {
  const response = await raw(gh.url(api), {
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
    body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} } } },
  });
  assert.equal(response.status, 200, response.text);
  return (response.messages[0] as { result: Record<string, unknown> }).result;
}

test('ttlMs and cacheScope are passed through as the server gave them', async () => {
  const result = await toolsList('open');
  assert.equal(result.cacheScope, 'public');
  assert.equal(result.ttlMs, 60_000);
});

test('a list the ACL judged is private, even when it hid nothing from this agent; the ttl is kept', async () => {
  const result = await toolsList('guarded');
  assert.ok((result.tools as unknown[]).length >= 3, 'nothing hidden from this agent');
  assert.equal(result.cacheScope, 'private');
  assert.equal(result.ttlMs, 60_000);
});
