// A 2026-07-28 client (the v2 SDK client, pinned to 2026-07-28) on a federated API and a virtual
// server: server-everything over Streamable HTTP, server-memory over stdio and a 2026-07-28 SDK
// server (which answers 2025 clients too) behind one endpoint. Gatehouse bridges each hop: the
// client speaks 2026-07-28 to Gatehouse, each server its own revision. Policies see the bridged
// traffic exactly as a 2025 client's: the ACL with mcp.server / mcp.originalName, rate limits by
// server, audit records with server and originalTarget; hidden stays absent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { raw, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { filesystemServer, memoryServer, publicFolder } from './helpers/federation-peers.ts';
import { startStatelessServer, type RunningStatelessServer } from './helpers/stateless-server.ts';
import { startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { validateConfig } from '../src/config/load.ts';

const MODERN = '2026-07-28';
const ALICE = 'alice-key-bridge-federated-0123';
const BOB = 'bob-key-bridge-federated-012345';
const CAROL = 'carol-key-bridge-federated-0123';
const DAVE = 'dave-key-bridge-federated-01234';
let everything: RunningEverything;
let modern: RunningStatelessServer;
/** Records what reaches server-everything. */
let recorder: RecordingProxy;
let gh: TestGateway;
let faq: string;
let config: Record<string, unknown>;

before(async () => {
  [everything, modern] = await Promise.all([startEverything(), startStatelessServer()]);
  recorder = await startRecordingProxy(everything.origin);
  const folder = publicFolder();
  faq = folder.faq;
  config = {
    servers: {
      everything: { url: `${recorder.origin}/mcp` },
      memory: memoryServer(),
      modern: { url: modern.url },
      files: filesystemServer(folder.folder),
    },
    agents: [
      { id: 'alice', apiKeys: [{ value: ALICE }] },
      { id: 'bob', apiKeys: [{ value: BOB }] },
      { id: 'carol', apiKeys: [{ value: CAROL }] },
      { id: 'dave', apiKeys: [{ value: DAVE }] },
    ],
    apis: [
      {
        name: 'workspace',
        path: '/mcp',
        servers: ['everything', 'memory', 'modern'],
        auth: { type: 'api-key' },
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'glob', value: 'everything__*' } }], condition: 'agent.id == "alice"' },
                { effect: 'deny', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'everything__get-env' } }] },
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }], condition: 'agent.id in ["alice", "carol"] && mcp.server == "modern" && mcp.originalName == "add"' },
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }], condition: 'mcp.server == "memory"' },
                // Resources of server-everything only: a URI's server is the one whose list or template has it.
                { features: [{ type: 'resources', methods: ['resources/list', 'resources/templates/list', 'resources/read'], pattern: { type: 'any' } }], condition: 'mcp.server == "everything"' },
              ],
            },
          },
          { rateLimit: { limits: [{ name: 'modern-calls', key: ['agent', 'server'], match: { methods: ['tools/call'], servers: ['modern'] }, rate: 2, per: '1h' }] } },
        ],
      },
      {
        name: 'support',
        path: '/support',
        auth: { type: 'api-key' },
        tools: [
          { server: 'everything', name: 'echo', as: 'say', description: "Repeat the user's message back to them." },
          { server: 'files', name: 'read_text_file', arguments: { fixed: { path: faq } } },
        ],
      },
    ],
  };
  gh = await startTestGateway(config as never);
});

after(async () => {
  await gh?.close();
  await recorder?.close();
  await Promise.all([everything?.close(), modern?.close()]);
});

interface Answers {
  readonly elicited: unknown[];
  readonly bodies: Array<Record<string, unknown>>;
}

/** A v2 client pinned to 2026-07-28 with an agent's key, declaring elicitation (answered with a fixed form). */
async function modernClient(api: string, key: string): Promise<{ client: Client; answers: Answers; close(): Promise<void> }> {
  const answers: Answers = { elicited: [], bodies: [] };
  const recording = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (typeof init?.body === 'string') answers.bodies.push(JSON.parse(init.body) as Record<string, unknown>);
    return fetch(input, init);
  };
  const client = new Client({ name: 'gatehouse-e2e-bridge-federated', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: MODERN } } });
  client.setRequestHandler('elicitation/create', async (request) => {
    answers.elicited.push(request.params);
    return { action: 'accept', content: { name: 'Ada Lovelace', check: true, email: 'ada@example.com' } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url(api)), { fetch: recording, requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return { client, answers, close: () => client.close() };
}

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};

function modernHeaders(key: string, method: string, name?: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method, authorization: `Bearer ${key}` };
  if (name !== undefined) headers['mcp-name'] = name;
  return headers;
}

test('server/discover of a federated API: 2026-07-28, Gatehouse named, the capabilities a 2025 client gets at initialize, instructions combined, private', { timeout: 60_000 }, async () => {
  const response = await raw(gh.url('workspace'), { headers: modernHeaders(ALICE, 'server/discover'), body: { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: ENVELOPE } } });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.headers.get('mcp-session-id'), null, 'no session is issued to a 2026-07-28 client');
  const result = (response.messages[0] as { result: Record<string, unknown> }).result;
  assert.deepEqual(result.supportedVersions, ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', MODERN], 'every revision the API serves (each server\'s own is negotiated on its hop)');
  const capabilities = result.capabilities as Record<string, Record<string, unknown>>;
  assert.deepEqual(capabilities.tools, { listChanged: true });
  assert.equal(capabilities.resources?.subscribe, true, 'server-everything offers subscriptions');
  assert.ok(capabilities.logging && capabilities.completions, 'offered by some of the servers: routed to them');
  assert.equal(capabilities.prompts, undefined, 'trimmed: the ACL allows no prompt');
  assert.equal(capabilities.tasks, undefined, 'tasks are an extension in 2026-07-28');
  // server-everything runs tools as tasks: the merged initialize offers tasks, bridged as the extension.
  assert.deepEqual(capabilities.extensions, { 'io.modelcontextprotocol/tasks': {} }, 'no extension every server offers; tasks bridged');
  // What a 2025 client of the same API and agent gets at initialize.
  const legacy = new LegacyClient({ name: 'gatehouse-e2e-2025', version: '1.0.0' });
  await legacy.connect(new LegacyTransport(new URL(gh.url('workspace')), { requestInit: { headers: { authorization: `Bearer ${ALICE}` } } }));
  try {
    const { tasks, ...legacyRest } = legacy.getServerCapabilities()!;
    const { extensions: _extensions, ...modernRest } = capabilities;
    assert.deepEqual(modernRest, legacyRest);
    assert.deepEqual(tasks?.requests, { tools: { call: {} } }, 'the 2025 side of the same offer');
    assert.equal(result.instructions, legacy.getInstructions());
  } finally {
    await legacy.close();
  }
  assert.match(String(result.instructions), /^## everything\n/);
  assert.equal((result._meta as Record<string, { name?: string }>)['io.modelcontextprotocol/serverInfo']?.name, 'gatehouse');
  assert.equal(result.resultType, 'complete');
  assert.equal(result.cacheScope, 'private');

  const { client, close } = await modernClient('workspace', ALICE);
  try {
    assert.equal(client.getProtocolEra(), 'modern');
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
    assert.equal(client.getServerVersion()?.name, 'gatehouse');
  } finally {
    await close();
  }
});

test('a 2026-07-28 client lists the merged tools namespaced (filtered by the ACL) and calls each server; each server kept its own revision', { timeout: 60_000 }, async () => {
  const { client, close } = await modernClient('workspace', ALICE);
  try {
    const listed = await client.listTools();
    const names = listed.tools.map((t) => t.name);
    for (const name of ['everything__echo', 'everything__trigger-elicitation-request', 'memory__create_entities', 'memory__read_graph', 'modern__add']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.ok(!names.includes('everything__get-env'), 'denied by the ACL: absent');
    assert.ok(!names.includes('modern__echo'), 'only add of the 2026-07-28 server is allowed');
    assert.deepEqual([...new Set(names.map((n) => n.split('__')[0]))], ['everything', 'memory', 'modern'], 'servers in config order');
    assert.equal((listed as { cacheScope?: string }).cacheScope, 'private');

    assert.deepEqual((await client.callTool({ name: 'everything__echo', arguments: { message: 'across the hops' } })).content, [{ type: 'text', text: 'Echo: across the hops' }]);
    await client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'Gatehouse', entityType: 'gateway', observations: ['bridges each hop'] }] } });
    assert.match(JSON.stringify((await client.callTool({ name: 'memory__read_graph', arguments: {} })).content), /bridges each hop/);
    assert.deepEqual((await client.callTool({ name: 'modern__add', arguments: { a: 2, b: 3 } })).content, [{ type: 'text', text: '5' }]);

    // Resources: server-everything's are read; the 2026-07-28 server's note is hidden (answered as unknown).
    const uris = (await client.listResources()).resources.map((r) => r.uri);
    assert.ok(uris.length > 0 && uris.every((u) => u.startsWith('demo://')), uris.join(', '));
    assert.equal((await client.readResource({ uri: uris[0]! })).contents[0]?.uri, uris[0]);
    await assert.rejects(client.readResource({ uri: 'note://hello' }), /not found/i);
  } finally {
    await close();
  }
  // Each hop negotiated its own revision: server-everything's session was initialized with 2025-11-25.
  const init = recorder.exchanges.find((e) => e.body.includes('"method":"initialize"'));
  assert.match(String(init?.body), /"protocolVersion":"2025-11-25"/);
});

test('elicitation raised by server-everything during a 2026-07-28 tools/call on a federated API is answered through input_required', { timeout: 60_000 }, async () => {
  const { client, answers, close } = await modernClient('workspace', ALICE);
  try {
    const result = await client.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} });
    assert.equal(answers.elicited.length, 1, 'the client was asked once');
    assert.match(JSON.stringify(answers.elicited[0]), /Please provide inputs/);
    assert.match(JSON.stringify(result.content), /Ada Lovelace/, JSON.stringify(result.content));
    const legs = answers.bodies.filter((b) => b.method === 'tools/call' && (b.params as { name?: string }).name === 'everything__trigger-elicitation-request');
    assert.equal(legs.length, 2, 'the first leg, then the retry with the answer');
    const retry = legs[1]!.params as { inputResponses?: Record<string, unknown>; requestState?: string };
    assert.equal(Object.keys(retry.inputResponses ?? {}).length, 1);
    assert.match(String(retry.requestState), /^ghs1\./);
  } finally {
    await close();
  }
});

test('hidden stays absent for a bridged client: a denied tool of one server, and another agent\'s, is answered as unknown and reaches no server', { timeout: 60_000 }, async () => {
  const alice = await modernClient('workspace', ALICE);
  const bob = await modernClient('workspace', BOB);
  try {
    const before = recorder.exchanges.length;
    const hidden = await alice.client.callTool({ name: 'everything__get-env', arguments: {} });
    assert.equal(hidden.isError, true);
    assert.deepEqual(hidden.content, [{ type: 'text', text: 'MCP error -32602: Tool everything__get-env not found' }]);
    const bobs = (await bob.client.listTools()).tools.map((t) => t.name);
    assert.ok(bobs.length > 0 && bobs.every((n) => n.startsWith('memory__')), bobs.join(', '));
    const refused = await bob.client.callTool({ name: 'everything__echo', arguments: { message: 'x' } });
    assert.deepEqual(refused.content, [{ type: 'text', text: 'MCP error -32602: Tool everything__echo not found' }]);
    const reached = recorder.exchanges.slice(before).filter((e) => e.body.includes('"tools/call"'));
    assert.deepEqual(reached, [], 'no call reached server-everything');
  } finally {
    await alice.close();
    await bob.close();
  }
});

test('bridged federated calls are rate-limited by server and audited with their server and original name', { timeout: 60_000 }, async () => {
  const { client, close } = await modernClient('workspace', BOB);
  try {
    // Bob may not call add of the 2026-07-28 server; memory is his, and the limit is on the modern server only.
    for (let i = 0; i < 3; i++) await client.callTool({ name: 'memory__read_graph', arguments: {} });
    assert.equal((await client.callTool({ name: 'everything__get-env', arguments: {} })).isError, true);
  } finally {
    await close();
  }
  const carol = await modernClient('workspace', CAROL);
  try {
    // modern-calls: two calls of the modern server per agent.
    for (let i = 0; i < 2; i++) await carol.client.callTool({ name: 'modern__add', arguments: { a: 1, b: i } });
    await assert.rejects(carol.client.callTool({ name: 'modern__add', arguments: { a: 1, b: 2 } }), /Rate limit ..modern-calls.. exceeded/);
    // The limit is the modern server's: carol's other calls are not counted.
    await carol.client.callTool({ name: 'memory__read_graph', arguments: {} });
  } finally {
    await carol.close();
  }
  const events = await recordsWhen(gh.gateway, { api: 'workspace' }, (e) => e.some((r) => r.rule === 'rate-limit') && e.some((r) => r.agent === 'bob' && r.target === 'everything__get-env'));
  const calls = events.filter((e) => e.method === 'tools/call');
  const seen = (target: string) => calls.find((e) => e.target === target);
  assert.deepEqual([seen('memory__read_graph')?.server, seen('memory__read_graph')?.originalTarget], ['memory', 'read_graph']);
  assert.deepEqual([seen('modern__add')?.server, seen('modern__add')?.originalTarget], ['modern', 'add']);
  const limited = calls.find((e) => e.rule === 'rate-limit');
  assert.deepEqual([limited?.target, limited?.server, limited?.originalTarget, limited?.decision], ['modern__add', 'modern', 'add', 'denied']);
  const hidden = calls.find((e) => e.agent === 'bob' && e.target === 'everything__get-env');
  assert.deepEqual([hidden?.server, hidden?.originalTarget, hidden?.decision], ['everything', 'get-env', 'denied']);
});

test('Mcp-Name of a bridged federated request names the federated name and must match the body (400, -32020)', { timeout: 60_000 }, async () => {
  const body = { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'named' }, _meta: ENVELOPE } };
  const unprefixed = await raw(gh.url('workspace'), { headers: modernHeaders(ALICE, 'tools/call', 'echo'), body });
  assert.equal(unprefixed.status, 400, unprefixed.text);
  assert.equal((unprefixed.messages[0] as { error: { code: number } }).error.code, -32020);
  const agreeing = await raw(gh.url('workspace'), { headers: modernHeaders(ALICE, 'tools/call', 'everything__echo'), body });
  assert.equal(agreeing.status, 200, agreeing.text);
  const result = (agreeing.messages[0] as { result: Record<string, unknown> }).result;
  assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: named' }]);
  assert.equal(result.resultType, 'complete');
});

test('a virtual server for a 2026-07-28 client: its selection renamed and re-described, the fixed argument out of the schema, injected, and refused when passed', { timeout: 60_000 }, async () => {
  const { client, close } = await modernClient('support', ALICE);
  try {
    const tools = (await client.listTools()).tools;
    assert.deepEqual(tools.map((t) => t.name), ['say', 'read_text_file']);
    assert.equal(tools[0]!.description, "Repeat the user's message back to them.");
    assert.equal((tools[1]!.inputSchema.properties as Record<string, unknown> | undefined)?.path, undefined, 'the fixed argument left the schema');
    assert.deepEqual((await client.callTool({ name: 'say', arguments: { message: 'hello' } })).content, [{ type: 'text', text: 'Echo: hello' }]);
    assert.match(JSON.stringify((await client.callTool({ name: 'read_text_file', arguments: {} })).content), /Is Gatehouse a gateway/);
    const passed = await client.callTool({ name: 'read_text_file', arguments: { path: '/etc/passwd' } }).then(
      (r) => JSON.stringify(r),
      (e: Error) => e.message,
    );
    assert.match(passed, /set by the gateway and cannot be passed/);
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'x' } });
    assert.equal(echo.isError, true, 'the original name is not part of the selection');
  } finally {
    await close();
  }
});

test('a reload that renames a virtual server\'s tool is served to a 2026-07-28 client at once: its pooled sessions are retired (they routed with the old selection)', { timeout: 60_000 }, async () => {
  const { client, close } = await modernClient('support', ALICE);
  try {
    assert.deepEqual((await client.callTool({ name: 'say', arguments: { message: 'before' } })).content, [{ type: 'text', text: 'Echo: before' }]);
    const apis = (config.apis as Array<Record<string, unknown>>).map((api) =>
      api.name === 'support' ? { ...api, tools: [{ server: 'everything', name: 'echo', as: 'repeat' }] } : api,
    );
    gh.gateway.reload(validateConfig({ ...config, apis, listen: { host: '127.0.0.1', port: gh.gateway.port } } as never, '(test config)'));
    assert.deepEqual((await client.callTool({ name: 'repeat', arguments: { message: 'after' } })).content, [{ type: 'text', text: 'Echo: after' }]);
    assert.equal((await client.callTool({ name: 'say', arguments: { message: 'gone' } })).isError, true, 'the old name is unknown');
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['repeat']);
  } finally {
    await close();
  }
});

test('a bridged request whose MCP-Protocol-Version header and _meta name different revisions is refused with 400 / -32020, as a 2026-07-28 server does (the bridge served it)', { timeout: 60_000 }, async () => {
  const body = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' } } };
  const response = await raw(gh.url('workspace'), { headers: modernHeaders(ALICE, 'tools/list'), body });
  assert.equal(response.status, 400, response.text);
  assert.equal((response.messages[0] as { error: { code: number } }).error.code, -32020);
});

test('tasks/result from a bridged 2026-07-28 client is answered 404 / -32601: the tasks extension removed it (it was -32602 "unknown task")', { timeout: 60_000 }, async () => {
  const body = { jsonrpc: '2.0', id: 8, method: 'tasks/result', params: { taskId: 'nothing', _meta: ENVELOPE } };
  const response = await raw(gh.url('workspace'), { headers: modernHeaders(ALICE, 'tasks/result'), body });
  assert.equal(response.status, 404, response.text);
  assert.equal((response.messages[0] as { error: { code: number } }).error.code, -32601);
});

test('a bridged federated request the ACL denies opens no upstream session when the config places its name (prefix: always): it opened the agent\'s pooled session, and its member sessions, before the policies decided', { timeout: 60_000 }, async () => {
  const before = recorder.exchanges.length;
  const envelope = { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': { name: 'dave-denied', version: '1' } };
  const body = { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'no' }, _meta: envelope } };
  const response = await raw(gh.url('workspace'), { headers: modernHeaders(DAVE, 'tools/call', 'everything__echo'), body });
  const answer = response.messages[0] as { error?: unknown; result?: { isError?: boolean } };
  assert.ok(answer.error ?? answer.result?.isError, `denied (as an unknown tool): ${response.text}`);
  const reached = recorder.exchanges.slice(before);
  assert.deepEqual(reached.filter((e) => e.body.includes('dave-denied')).map((e) => e.body.slice(0, 80)), [], 'no session was opened upstream for the denied agent');
  // An allowed request of the same agent still opens its session and is served (a memory tool).
  const list = await raw(gh.url('workspace'), { headers: modernHeaders(DAVE, 'tools/list'), body: { jsonrpc: '2.0', id: 10, method: 'tools/list', params: { _meta: envelope } } });
  const names = ((list.messages[0] as { result: { tools: Array<{ name: string }> } }).result.tools).map((t) => t.name);
  assert.ok(names.length > 0 && names.every((n) => n.startsWith('memory__')), names.join(', '));
  assert.ok(recorder.exchanges.slice(before).some((e) => e.body.includes('dave-denied')), 'the allowed list opened the session');
});
