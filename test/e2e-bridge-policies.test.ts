// Policies apply to bridged traffic (a 2026-07-28 client on a 2025 stdio server) exactly as to
// forwarded traffic: api-key authentication, the ACL (hidden tools absent from lists and answered
// as unknown, lists marked private), rate limits; and two agents never share an upstream session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { everythingStdioCommand, raw, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';

const MODERN = '2026-07-28';
const ALICE_KEY = 'alice-key-0123456789abcdef';
const BOB_KEY = 'bob-key-0123456789abcdef-bob';
let gh: TestGateway;

before(async () => {
  const stdio = everythingStdioCommand();
  gh = await startTestGateway({
    servers: { everything: { command: stdio.command, args: stdio.args } },
    agents: [
      { id: 'alice', apiKeys: [{ value: ALICE_KEY }] },
      { id: 'bob', apiKeys: [{ value: BOB_KEY }] },
    ],
    apis: [
      {
        name: 'guarded',
        path: '/mcp',
        server: 'everything',
        auth: { type: 'api-key' },
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }], condition: 'agent.id == "alice"' },
                { features: [{ type: 'tools', methods: ['tools/list'], pattern: { type: 'any' } }], condition: 'agent.id == "bob"' },
              ],
            },
          },
          { rateLimit: { limits: [{ name: 'echo-per-agent', key: ['agent', 'tool'], match: { methods: ['tools/call'], tools: ['echo'] }, rate: 3, per: '1m' }] } },
        ],
      },
    ],
  } as never);
});

after(async () => {
  await gh?.close();
});

async function modernClient(key: string): Promise<Client> {
  const client = new Client({ name: 'bridge-policies', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url('guarded')), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

function bridgedSessionsOpened(): number {
  return gh.logs.lines.filter((l) => l.msg === 'opened a bridged upstream session for a 2026-07-28 client').length;
}

test('the ACL filters bridged lists (marked private) and answers hidden tools as unknown; rate limits count bridged calls', async () => {
  const alice = await modernClient(ALICE_KEY);
  const bob = await modernClient(BOB_KEY);
  try {
    const aliceTools = await alice.listTools();
    assert.deepEqual(aliceTools.tools.map((t) => t.name), ['echo']);
    assert.equal((aliceTools as { cacheScope?: string }).cacheScope, 'private');
    const bobTools = await bob.listTools();
    assert.ok(bobTools.tools.length > 1);

    // Bob sees echo but may not call it: answered exactly like an unknown tool, nothing forwarded.
    // (The answer Gatehouse writes itself carries resultType, which a 2026-07-28 client requires.)
    const refused = await bob.callTool({ name: 'echo', arguments: { message: 'x' } });
    assert.equal(refused.isError, true);
    assert.deepEqual(refused.content, [{ type: 'text', text: 'MCP error -32602: Tool echo not found' }]);

    for (let i = 0; i < 3; i++) {
      const echo = await alice.callTool({ name: 'echo', arguments: { message: `call ${i}` } });
      assert.deepEqual(echo.content, [{ type: 'text', text: `Echo: call ${i}` }]);
    }
    await assert.rejects(alice.callTool({ name: 'echo', arguments: { message: 'one too many' } }), (error: Error) => /rate/i.test(error.message));
  } finally {
    await alice.close();
    await bob.close();
  }
});

test('two agents never share a bridged upstream session; one agent with the same declaration reuses its own', async () => {
  const before = bridgedSessionsOpened();
  const first = await modernClient(ALICE_KEY);
  await first.listTools();
  const second = await modernClient(ALICE_KEY);
  await second.listTools();
  // Alice's session from the test above is reused by both of her clients (same capabilities, same client info).
  assert.equal(bridgedSessionsOpened(), before, 'no new session for the same agent and declaration');
  await first.close();
  await second.close();
  // A request without a key is refused before anything is bridged.
  const anonymous = await raw(gh.url('guarded'), {
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
    body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} } } },
  });
  assert.equal(anonymous.status, 401);
  assert.equal(bridgedSessionsOpened(), before);
  // Alice and Bob each got a session of their own in the test above.
  const opened = gh.logs.lines.filter((l) => l.msg === 'opened a bridged upstream session for a 2026-07-28 client');
  assert.equal(opened.length, 2, JSON.stringify(opened));
  assert.notEqual(opened[0]!.bridged, opened[1]!.bridged);
});
