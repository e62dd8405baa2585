// End to end on the 2026-07-28 revision (no initialize, no sessions, `server/discover`,
// Mcp-Method/Mcp-Name headers): a real v2-SDK server upstream, the v2-SDK client as the agent,
// Gatehouse in between. server-everything does not speak 2026-07-28, so the SDK-built server in
// test/helpers/stateless-server.ts is the real peer here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { everythingStdioCommand, raw, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { HEADER_MIRRORED_TOOL, NON_ASCII_PROMPT, startStatelessServer, type ReceivedRequest, type RunningStatelessServer } from './helpers/stateless-server.ts';

const MODERN = '2026-07-28';
const META_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
/** The per-request `_meta` envelope a 2026-07-28 request carries in place of initialize. */
const ENVELOPE = {
  [META_VERSION_KEY]: MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'gatehouse-e2e-raw', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

let upstream: RunningStatelessServer;
let gh: TestGateway;

before(async () => {
  upstream = await startStatelessServer();
  const stdio = everythingStdioCommand();
  gh = await startTestGateway({
    servers: {
      modern: { url: upstream.url },
      'everything-stdio': { command: stdio.command, args: stdio.args },
    },
    apis: [
      { name: 'modern', path: '/mcp', server: 'modern', auth: { type: 'keyless' } },
      { name: 'modern-stdio', path: '/mcp-stdio', server: 'everything-stdio', auth: { type: 'keyless' } },
    ],
  });
});

after(async () => {
  await gh?.close();
  await upstream?.close();
});

/** Headers a well-behaved 2026-07-28 client sends for `method` (and the item it names). */
function modernHeaders(method: string, name?: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
  };
  if (name !== undefined) headers['mcp-name'] = name;
  return headers;
}

function modernRequest(id: number, method: string, params: Record<string, unknown> = {}): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: ENVELOPE } };
}

/** The requests the upstream received from `mark` on. */
function receivedSince(mark: number): ReceivedRequest[] {
  return upstream.received.slice(mark);
}

/** An Mcp-Name / Mcp-Param-* value as the receiver reads it: Base64 sentinels decoded. */
function decodeHeaderValue(value: string): string {
  const match = /^=\?base64\?(.*)\?=$/.exec(value);
  return match ? Buffer.from(match[1]!, 'base64').toString('utf8') : value;
}

/** The body field Mcp-Name mirrors, for the methods that carry one. */
function nameInBody(body: { method: string; params?: Record<string, unknown> }): string | undefined {
  if (body.method === 'tools/call' || body.method === 'prompts/get') return body.params?.name as string;
  if (body.method === 'resources/read') return body.params?.uri as string;
  return undefined;
}

function errorOf(message: unknown): { code: number; message: string } {
  const error = (message as { error?: { code: number; message: string } }).error;
  assert.ok(error, `expected a JSON-RPC error, got ${JSON.stringify(message)}`);
  return error;
}

test('a 2026-07-28 client discovers, lists and calls through Gatehouse; no session is issued', async () => {
  const mark = upstream.received.length;
  const gatehouseResponses: Array<{ status: number; sessionId: string | null }> = [];
  const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    gatehouseResponses.push({ status: response.status, sessionId: response.headers.get('mcp-session-id') });
    return response;
  };
  const client = new Client({ name: 'gatehouse-e2e-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  const transport = new StreamableHTTPClientTransport(new URL(gh.url('modern')), { fetch: recordingFetch });
  await client.connect(transport);
  try {
    // The client negotiated (and then spoke) 2026-07-28, not a 2025 fallback.
    assert.equal(client.getProtocolEra(), 'modern');
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
    assert.equal(client.getServerVersion()?.name, 'stateless-test-server');

    const tools = await client.listTools();
    assert.deepEqual(tools.tools.map((t) => t.name).sort(), ['add', HEADER_MIRRORED_TOOL, 'echo'].sort());

    const echo = await client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: hello' }]);
    const add = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
    assert.deepEqual(add.content, [{ type: 'text', text: '42' }]);
    // This tool's schema mirrors `region` into an Mcp-Param-Region header; the upstream checks it.
    const deploy = await client.callTool({ name: HEADER_MIRRORED_TOOL, arguments: { region: 'eu-west', version: '1.2' } });
    assert.deepEqual(deploy.content, [{ type: 'text', text: 'deployed 1.2 to eu-west' }]);

    const prompts = await client.listPrompts();
    assert.deepEqual(prompts.prompts.map((p) => p.name).sort(), ['greeting', NON_ASCII_PROMPT].sort());
    const greeting = await client.getPrompt({ name: 'greeting', arguments: { name: 'Ada' } });
    assert.deepEqual(greeting.messages[0]?.content, { type: 'text', text: 'Say hello to Ada.' });
    // A non-ASCII name travels in Mcp-Name as a Base64 sentinel (=?base64?…?=).
    const german = await client.getPrompt({ name: NON_ASCII_PROMPT });
    assert.deepEqual(german.messages[0]?.content, { type: 'text', text: 'Sag Hallo.' });

    const resources = await client.listResources();
    assert.deepEqual(resources.resources.map((r) => r.uri), ['note://hello']);
    const note = await client.readResource({ uri: 'note://hello' });
    assert.deepEqual(note.contents, [{ uri: 'note://hello', mimeType: 'text/plain', text: 'Hello from the note.' }]);
  } finally {
    await client.close();
  }

  // Gatehouse issued no session id, and the transport never held one.
  assert.ok(gatehouseResponses.length >= 10, `expected every exchange to be recorded, got ${gatehouseResponses.length}`);
  assert.deepEqual(gatehouseResponses.filter((r) => r.sessionId !== null), []);
  assert.ok(gatehouseResponses.every((r) => r.status === 200), JSON.stringify(gatehouseResponses));
  assert.equal(transport.sessionId, undefined);

  // What the upstream received: POSTs only, starting with server/discover, no initialize, no session.
  const seen = receivedSince(mark);
  assert.ok(seen.length >= 10);
  assert.ok(seen.every((r) => r.method === 'POST'), `only POSTs: ${seen.map((r) => r.method).join(', ')}`);
  const bodies = seen.map((r) => JSON.parse(r.body) as { method: string; params?: Record<string, unknown> });
  assert.equal(bodies[0]!.method, 'server/discover');
  assert.ok(!bodies.some((b) => b.method === 'initialize'), 'no initialize on 2026-07-28');
  for (const [index, r] of seen.entries()) {
    const body = bodies[index]!;
    const where = `${body.method} (#${index})`;
    assert.equal(r.headers['mcp-session-id'], undefined, `${where}: no session id upstream`);
    assert.equal(r.headers['mcp-protocol-version'], MODERN, `${where}: MCP-Protocol-Version`);
    assert.equal((body.params?._meta as Record<string, unknown> | undefined)?.[META_VERSION_KEY], MODERN, `${where}: _meta protocol version`);
    assert.equal(r.headers['mcp-method'], body.method, `${where}: Mcp-Method matches the body`);
    const name = nameInBody(body);
    if (name === undefined) assert.equal(r.headers['mcp-name'], undefined, `${where}: no Mcp-Name`);
    else assert.equal(decodeHeaderValue(String(r.headers['mcp-name'])), name, `${where}: Mcp-Name matches the body`);
    // Gatehouse forwards its own serialization of the parsed message.
    assert.equal(r.body, JSON.stringify(body), `${where}: body is Gatehouse's re-serialization`);
  }
  const methods = bodies.map((b) => b.method);
  for (const method of ['tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list', 'resources/read']) {
    assert.ok(methods.includes(method), `upstream saw ${method}`);
  }
  const sentinel = seen.find((r, i) => bodies[i]!.method === 'prompts/get' && bodies[i]!.params?.name === NON_ASCII_PROMPT);
  assert.match(String(sentinel?.headers['mcp-name']), /^=\?base64\?.+\?=$/, 'non-ASCII Mcp-Name is sent as a sentinel');
  const deployed = seen.find((r, i) => bodies[i]!.method === 'tools/call' && bodies[i]!.params?.name === HEADER_MIRRORED_TOOL);
  assert.equal(deployed?.headers['mcp-param-region'], 'eu-west', 'Mcp-Param-* headers reach the upstream');
});

test('Gatehouse forwards its own serialization of the body with matching Mcp-Method/Mcp-Name', async () => {
  const mark = upstream.received.length;
  const message = modernRequest(7, 'tools/call', { name: 'echo', arguments: { message: 'spaced out' } });
  const pretty = JSON.stringify(message, null, 2);
  const response = await raw(gh.url('modern'), { headers: modernHeaders('tools/call', 'echo'), body: pretty });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.headers.get('mcp-session-id'), null);
  assert.deepEqual((response.messages[0] as { id: number; result: { content: unknown } }).result.content, [{ type: 'text', text: 'Echo: spaced out' }]);

  const [forwarded, ...rest] = receivedSince(mark);
  assert.equal(rest.length, 0);
  assert.ok(forwarded);
  assert.notEqual(forwarded.body, pretty, 'not the client bytes');
  assert.equal(forwarded.body, JSON.stringify(message), 'the message, re-serialized');
  assert.equal(forwarded.headers['mcp-method'], 'tools/call');
  assert.equal(forwarded.headers['mcp-name'], 'echo');
  assert.equal(forwarded.headers['mcp-protocol-version'], MODERN);
  assert.equal(forwarded.headers['mcp-session-id'], undefined);
});

test('GET and DELETE on 2026-07-28 are answered 405 by Gatehouse', async () => {
  const mark = upstream.received.length;
  const get = await raw(gh.url('modern'), { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-protocol-version': MODERN } });
  assert.equal(get.status, 405, get.text);
  assert.equal(get.headers.get('allow'), 'POST');
  const del = await raw(gh.url('modern'), { method: 'DELETE', headers: { 'mcp-protocol-version': MODERN } });
  assert.equal(del.status, 405, del.text);
  assert.equal(del.headers.get('allow'), 'POST');
  assert.equal(receivedSince(mark).length, 0, 'nothing reached the upstream');
});

test('an Mcp-Method header that disagrees with the body is a 400 with -32020', async () => {
  const mark = upstream.received.length;
  const response = await raw(gh.url('modern'), { headers: modernHeaders('tools/list'), body: modernRequest(11, 'tools/call', { name: 'echo', arguments: { message: 'x' } }) });
  assert.equal(response.status, 400, response.text);
  const error = errorOf(response.messages[0]);
  assert.equal(error.code, -32020);
  assert.match(error.message, /Mcp-Method/);
  assert.equal((response.messages[0] as { id: unknown }).id, 11);
  assert.equal(receivedSince(mark).length, 0, 'nothing reached the upstream');
});

test('an Mcp-Name header that disagrees with the body is a 400 with -32020', async () => {
  const mark = upstream.received.length;
  const tool = await raw(gh.url('modern'), { headers: modernHeaders('tools/call', 'add'), body: modernRequest(12, 'tools/call', { name: 'echo', arguments: { message: 'x' } }) });
  assert.equal(tool.status, 400, tool.text);
  assert.equal(errorOf(tool.messages[0]).code, -32020);
  assert.match(errorOf(tool.messages[0]).message, /Mcp-Name/);
  const resource = await raw(gh.url('modern'), { headers: modernHeaders('resources/read', 'note://other'), body: modernRequest(13, 'resources/read', { uri: 'note://hello' }) });
  assert.equal(resource.status, 400, resource.text);
  assert.equal(errorOf(resource.messages[0]).code, -32020);
  // A sentinel that decodes to another name is a mismatch too.
  const other = `=?base64?${Buffer.from('grüß dich', 'utf8').toString('base64')}?=`;
  const prompt = await raw(gh.url('modern'), { headers: modernHeaders('prompts/get', other), body: modernRequest(14, 'prompts/get', { name: NON_ASCII_PROMPT }) });
  assert.equal(prompt.status, 400, prompt.text);
  assert.equal(errorOf(prompt.messages[0]).code, -32020);
  // A malformed sentinel never matches.
  const malformed = await raw(gh.url('modern'), { headers: modernHeaders('tools/list', '=?base64?@@@?='), body: modernRequest(15, 'tools/list') });
  assert.equal(malformed.status, 400, malformed.text);
  assert.equal(errorOf(malformed.messages[0]).code, -32020);
  assert.equal(receivedSince(mark).length, 0, 'nothing reached the upstream');
});

test('task requests name their task in Mcp-Name, and 2026-07-28 notifications pass without routing headers', async () => {
  const mark = upstream.received.length;
  // SEP-2663: Mcp-Name mirrors params.taskId. This server has no tasks, so it answers for itself
  // (method not found); what matters is that Gatehouse agreed with the headers and forwarded it.
  const task = await raw(gh.url('modern'), { headers: modernHeaders('tasks/get', 'task-123'), body: modernRequest(16, 'tasks/get', { taskId: 'task-123' }) });
  assert.notEqual(errorOf(task.messages[0]).code, -32020, task.text);
  const notification = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 16, _meta: ENVELOPE } };
  const { 'mcp-method': _method, ...versionOnly } = modernHeaders('notifications/cancelled');
  const notified = await raw(gh.url('modern'), { headers: versionOnly, body: notification });
  assert.equal(notified.status, 202, notified.text);
  const [forwardedTask, forwardedNotification, ...rest] = receivedSince(mark);
  assert.equal(rest.length, 0);
  assert.equal(forwardedTask?.headers['mcp-method'], 'tasks/get');
  assert.equal(forwardedTask?.headers['mcp-name'], 'task-123');
  assert.equal(forwardedNotification?.body, JSON.stringify(notification));
  assert.equal(forwardedNotification?.headers['mcp-protocol-version'], MODERN);
});

// Until the era bridge, this was a 400 (-32022): stdio servers speak 2025 and hold a session.
test('a 2026-07-28 request to a stdio-backed API is bridged to the 2025 server, with no session issued', async () => {
  const response = await raw(gh.url('modern-stdio'), { headers: modernHeaders('tools/list'), body: modernRequest(21, 'tools/list') });
  assert.equal(response.status, 200, response.text);
  const result = (response.messages[0] as { id: number; result: { resultType: string; tools: unknown[] } }).result;
  assert.equal((response.messages[0] as { id: number }).id, 21);
  assert.equal(result.resultType, 'complete');
  assert.ok(result.tools.length > 0);
  assert.equal(response.headers.get('mcp-session-id'), null);
});

// The conformance suite's sep-2575-server-unsupported-version-error failed through Gatehouse: the
// -32022 listed every revision Gatehouse serves, server/discover only the server's (or, bridged,
// 2026-07-28 alone). An API serves every revision (Gatehouse bridges the eras), and both say so.
test('server/discover lists the same revisions as -32022 does, forwarded and bridged (it listed only the server\'s own)', async () => {
  for (const api of ['modern', 'modern-stdio']) {
    const discover = await raw(gh.url(api), { headers: modernHeaders('server/discover'), body: modernRequest(31, 'server/discover') });
    assert.equal(discover.status, 200, discover.text);
    const listed = (discover.messages[0] as { result: { supportedVersions: string[] } }).result.supportedVersions;
    assert.deepEqual(listed, ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', MODERN], `${api}: every revision this API serves`);
    const unknown = 'v999.0.0';
    const refused = await raw(gh.url(api), {
      headers: { ...modernHeaders('server/discover'), 'mcp-protocol-version': unknown },
      body: { jsonrpc: '2.0', id: 32, method: 'server/discover', params: { _meta: { ...ENVELOPE, [META_VERSION_KEY]: unknown } } },
    });
    assert.equal(refused.status, 400, refused.text);
    const error = (refused.messages[0] as { id: number; error: { code: number; data: { supported: string[]; requested: string } } }).error;
    assert.equal(error.code, -32022);
    assert.equal(error.data.requested, unknown);
    assert.deepEqual(error.data.supported, listed, `${api}: the -32022 offers what discovery lists`);
  }
  // The server's own answer still says what it speaks (Gatehouse rewrote only its own copy).
  const direct = await raw(upstream.url, { headers: modernHeaders('server/discover'), body: modernRequest(33, 'server/discover') });
  assert.deepEqual((direct.messages[0] as { result: { supportedVersions: string[] } }).result.supportedVersions.includes(MODERN), true);
});

// The v2 server's createMcpHandler also answers 2025-era clients (its default `legacy: 'stateless'`
// fallback: each request is served by a fresh instance, and the upstream issues no session id).
// Gatehouse still gives a 2025-11-25 client the session it expects, sealed without an upstream id.
test('a 2025-11-25 client (SDK v1) reaches the same v2 server through Gatehouse', async () => {
  const mark = upstream.received.length;
  const client = new V1Client({ name: 'gatehouse-e2e-legacy', version: '1.0.0' });
  const transport = new V1StreamableHTTPClientTransport(new URL(gh.url('modern')));
  await client.connect(transport);
  try {
    assert.equal(transport.protocolVersion, '2025-11-25');
    assert.equal(client.getServerVersion()?.name, 'stateless-test-server');
    assert.ok(transport.sessionId, 'Gatehouse issued a session id to the 2025-11-25 client');

    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'add'));
    const add = await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
    assert.deepEqual(add.content, [{ type: 'text', text: '3' }]);
    const note = await client.readResource({ uri: 'note://hello' });
    assert.equal((note.contents[0] as { text?: string }).text, 'Hello from the note.');
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }

  // Gatehouse's one-off probe (does the server still serve 2025 clients?) is not the client's traffic.
  const seen = receivedSince(mark).filter((r) => !r.body.includes('"gatehouse-era-probe"'));
  const bodies = seen.map((r) => (r.body === '' ? undefined : (JSON.parse(r.body) as { method?: string })));
  assert.equal(bodies[0]?.method, 'initialize');
  for (const [index, r] of seen.entries()) {
    const where = `${bodies[index]?.method ?? r.method} (#${index})`;
    assert.equal(r.headers['mcp-session-id'], undefined, `${where}: the upstream issued no session, so none is sent`);
    assert.equal(r.headers['mcp-method'], undefined, `${where}: no 2026 routing headers on 2025 traffic`);
    if (index > 0) assert.equal(r.headers['mcp-protocol-version'], '2025-11-25', `${where}: MCP-Protocol-Version`);
  }
  assert.ok(bodies.some((b) => b?.method === 'tools/call'));
});
