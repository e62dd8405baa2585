// The ACL across a federated API: rules name the names agents use, conditions read the server
// and original name; a hidden tool of one server is absent from the merged list and answered
// like an unknown one, and its call reaches no server. Then an HTTP server killed and started
// again mid-session: its tools go and come back, the session stays whole.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { memoryServer } from './helpers/federation-peers.ts';
import { startSdkServer, type RunningSdkServer } from './helpers/sdk-server.ts';
import { startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';
import { freePort, waitUntil } from './helpers/lifecycle-procs.ts';

const ALICE = 'alice-key-federation-0123456789';
const BOB = 'bob-key-federation-0123456789ab';
let everything: RunningEverything;
let sdk: RunningSdkServer;
let sdkPort: number;
let recorder: RecordingProxy;
let gh: TestGateway;

before(async () => {
  everything = await startEverything();
  sdkPort = await freePort();
  sdk = await startSdkServer('json', { port: sdkPort });
  recorder = await startRecordingProxy(sdk.origin);
  gh = await startTestGateway({
    servers: { everything: { url: `${everything.origin}/mcp` }, sdk: { url: `${recorder.origin}/mcp` }, memory: memoryServer() },
    agents: [
      { id: 'alice', apiKeys: [{ value: ALICE }] },
      { id: 'bob', apiKeys: [{ value: BOB }] },
    ],
    apis: [
      {
        name: 'workspace',
        path: '/mcp',
        servers: ['everything', 'sdk', 'memory'],
        auth: { type: 'api-key' },
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'glob', value: 'everything__*' } }], condition: 'agent.id == "alice"' },
                { effect: 'deny', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'everything__get-env' } }] },
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }], condition: 'agent.id == "alice" && mcp.server == "sdk" && mcp.originalName == "add"' },
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }], condition: 'agent.id == "bob" && mcp.server == "memory"' },
              ],
            },
          },
        ],
      },
    ],
  } as never);
});

after(async () => {
  await gh?.close();
  await recorder?.close();
  await sdk?.close();
  await everything?.close();
});

async function connect(key: string): Promise<Client> {
  const client = new Client({ name: 'acl-fed', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url('workspace')), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

const unknown = (name: string) => [{ type: 'text', text: `MCP error -32602: Tool ${name} not found` }];

test('each agent sees exactly what the rules give it across servers; conditions read mcp.server and mcp.originalName', { timeout: 30_000 }, async () => {
  const alice = await connect(ALICE);
  const bob = await connect(BOB);
  try {
    const aliceTools = (await alice.listTools()).tools.map((t) => t.name);
    assert.ok(aliceTools.includes('everything__echo') && aliceTools.includes('sdk__add'), aliceTools.join(', '));
    assert.ok(!aliceTools.includes('everything__get-env'), 'the denied tool of server-everything is absent');
    assert.ok(!aliceTools.some((n) => n.startsWith('memory__') || n === 'sdk__echo'), 'nothing else of the other servers');
    const bobTools = (await bob.listTools()).tools.map((t) => t.name);
    assert.ok(bobTools.length > 0 && bobTools.every((n) => n.startsWith('memory__')), bobTools.join(', '));

    assert.deepEqual((await alice.callTool({ name: 'sdk__add', arguments: { a: 20, b: 22 } })).content, [{ type: 'text', text: '42' }]);
    assert.match(JSON.stringify((await bob.callTool({ name: 'memory__read_graph', arguments: {} })).content), /entities/);
  } finally {
    await alice.close();
    await bob.close();
  }
});

test('a hidden tool of another server is answered like an unknown one, under every spelling, and reaches no server', { timeout: 30_000 }, async () => {
  const alice = await connect(ALICE);
  try {
    const calls = () => recorder.exchanges.filter((e) => e.body.includes('"tools/call"')).length;
    const before = calls();
    for (const name of ['sdk__echo', 'echo', 'SDK__echo', 'sdk_echo', 'sdk.echo', 'everything__get-env', 'memory__read_graph', 'nothing__here']) {
      assert.deepEqual((await alice.callTool({ name, arguments: { message: 'x' } })).content, unknown(name), name);
    }
    assert.equal(calls(), before, 'no call reached the SDK server');
  } finally {
    await alice.close();
  }
});

test('an HTTP server killed and started again mid-session: its tools go and come back (list_changed), the others keep working', { timeout: 60_000 }, async () => {
  const alice = await connect(ALICE);
  try {
    let changed = 0;
    alice.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changed++;
    });
    assert.ok((await alice.listTools()).tools.some((t) => t.name === 'sdk__add'));
    await sdk.close();
    await waitUntil(async () => !(await alice.listTools()).tools.some((t) => t.name === 'sdk__add'), 'the stopped server\'s tools are gone', 20_000);
    assert.deepEqual((await alice.callTool({ name: 'everything__echo', arguments: { message: 'alone' } })).content, [{ type: 'text', text: 'Echo: alone' }]);
    const failed = await alice.callTool({ name: 'sdk__add', arguments: { a: 1, b: 1 } }).catch((e: Error) => e);
    assert.ok(failed instanceof Error || failed.isError === true, 'a call to the stopped server fails');

    sdk = await startSdkServer('json', { port: sdkPort });
    const seen = changed;
    await waitUntil(() => changed > seen, 'list_changed once the server is back', 30_000);
    assert.ok((await alice.listTools()).tools.some((t) => t.name === 'sdk__add'), 'its tools are back in the merged list');
    assert.deepEqual((await alice.callTool({ name: 'sdk__add', arguments: { a: 2, b: 2 } })).content, [{ type: 'text', text: '4' }]);
  } finally {
    await alice.close();
  }
});
