// A 2025 client (the SDK 1.x client) on a server that speaks only 2026-07-28 (the v2 server SDK
// with `legacy: 'reject'`). Gatehouse bridges the eras (src/bridge/legacy-client.ts): it answers
// `initialize` itself from the server's `server/discover`, keeps the client's session, sends every
// request with the `_meta` envelope and the routing headers, and turns the server's
// `input_required` results into elicitation requests on the client's stream, the answers into
// the retry.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { raw, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { HEADER_MIRRORED_TOOL, NON_ASCII_PROMPT, startStatelessServer, type RunningStatelessServer } from './helpers/stateless-server.ts';
import { deferred } from './helpers/deferred.ts';

const MODERN = '2026-07-28';
let upstream: RunningStatelessServer;
/** The same server serving both eras: 2025 clients are forwarded to it (the audit comparison). */
let dual: RunningStatelessServer;
let gh: TestGateway;
/** A 2026-07-28-only server that offers resource subscriptions. */
let subs: RunningStatelessServer;
/** The same, which changes a resource as a listen with a new filter arrives. */
let racy: RunningStatelessServer;

before(async () => {
  upstream = await startStatelessServer({ modernOnly: true });
  dual = await startStatelessServer();
  subs = await startStatelessServer({ modernOnly: true, subscriptions: true });
  racy = await startStatelessServer({
    modernOnly: true,
    subscriptions: true,
    // The moment a listen with a second URI arrives, the first URI changes: the update goes to the
    // listen the new one replaces.
    onRequest: (request, notify) => {
      if (request.body.includes('"subscriptions/listen"') && request.body.includes('note://secret') && request.body.includes('note://hello')) notify.resourceUpdated('note://hello');
    },
  });
  gh = await startTestGateway({
    servers: { modern: { url: upstream.url }, dual: { url: dual.url }, subs: { url: subs.url }, racy: { url: racy.url } },
    apis: [
      { name: 'modern', path: '/mcp', server: 'modern', auth: { type: 'keyless' } },
      { name: 'dual', path: '/dual', server: 'dual', auth: { type: 'keyless' } },
      { name: 'modern-subs', path: '/subs', server: 'subs', auth: { type: 'keyless' } },
      { name: 'racy', path: '/racy', server: 'racy', auth: { type: 'keyless' } },
    ],
  });
});

after(async () => {
  await gh?.close();
  await upstream?.close();
  await dual?.close();
  await subs?.close();
  await racy?.close();
});

/** The SDK 1.x client (a 2025 client), declaring elicitation and answering it with `name`. */
async function legacyClient(url: string, answer: { action: 'accept' | 'decline'; name?: string } = { action: 'accept', name: 'Ada' }) {
  const elicited: unknown[] = [];
  const client = new Client({ name: 'gatehouse-e2e-2025-client', version: '1.2.3' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicited.push(request.params);
    return answer.action === 'accept' ? { action: 'accept', content: { name: answer.name ?? '' } } : { action: 'decline' };
  });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport, elicited, close: () => client.close() };
}

/** The filters and envelopes of the `subscriptions/listen` requests a server received. */
function listensOf(server: RunningStatelessServer): Array<{ notifications: Record<string, unknown>; meta: Record<string, unknown> }> {
  return server.received
    .filter((r) => r.method === 'POST' && r.body.includes('"subscriptions/listen"'))
    .map((r) => (JSON.parse(r.body) as { params: { notifications: Record<string, unknown>; _meta: Record<string, unknown> } }).params)
    .map((p) => ({ notifications: p.notifications, meta: p._meta }));
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !check(); ) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function receivedBodies(method: string): Array<{ headers: Record<string, unknown>; body: Record<string, unknown> }> {
  return upstream.received
    .filter((r) => r.method === 'POST' && r.body !== '')
    .map((r) => ({ headers: r.headers as Record<string, unknown>, body: JSON.parse(r.body) as Record<string, unknown> }))
    .filter((r) => r.body.method === method);
}

test('the server refuses a 2025 client on its own (it speaks only 2026-07-28)', async () => {
  const client = new Client({ name: 'direct', version: '1' });
  await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(upstream.url))));
});

test('a 2025 client calling a tool with an x-mcp-header argument before any list went through Gatehouse is served (the server got no Mcp-Param-Region and refused it)', async () => {
  // The first test of the file to reach the server through Gatehouse: no tools/list has passed yet.
  const { client, close } = await legacyClient(gh.url('modern'));
  try {
    const seenLists = receivedBodies('tools/list').length;
    const deploy = await client.callTool({ name: HEADER_MIRRORED_TOOL, arguments: { region: 'ap-south', version: '0.9' } });
    assert.deepEqual(deploy.content, [{ type: 'text', text: 'deployed 0.9 to ap-south' }]);
    assert.equal(receivedBodies('tools/list').length, seenLists + 1, 'Gatehouse listed the tools once to learn the declarations');
    const call = receivedBodies('tools/call').find((c) => (c.body.params as { arguments: { region?: string } }).arguments.region === 'ap-south');
    assert.equal(call?.headers['mcp-param-region'], 'ap-south');
    // Learned: the next call asks for no list.
    await client.callTool({ name: HEADER_MIRRORED_TOOL, arguments: { region: 'ap-east', version: '1.0' } });
    assert.equal(receivedBodies('tools/list').length, seenLists + 1);
  } finally {
    await close();
  }
});

test('a 2025 client initializes, lists, calls, reads and prompts a 2026-07-28-only server through Gatehouse', async () => {
  const { client, transport, close } = await legacyClient(gh.url('modern'));
  try {
    assert.equal(client.getServerVersion()?.name, 'stateless-test-server');
    assert.match(String(transport.sessionId), /^gh1\./, 'the session id is Gatehouse’s own');
    const tools = await client.listTools();
    assert.deepEqual(tools.tools.map((t) => t.name).sort(), ['add', 'ask_name', HEADER_MIRRORED_TOOL, 'echo'].sort());
    assert.equal((tools as Record<string, unknown>).resultType, undefined, '2026-07-28 vocabulary is not passed to a 2025 client');
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'across the eras' } });
    assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: across the eras' }]);
    // A tool with an x-mcp-header argument: the server requires Mcp-Param-Region, Gatehouse sends it.
    const deploy = await client.callTool({ name: HEADER_MIRRORED_TOOL, arguments: { region: 'eu-west', version: '1.2' } });
    assert.deepEqual(deploy.content, [{ type: 'text', text: 'deployed 1.2 to eu-west' }]);
    const resources = await client.listResources();
    assert.deepEqual(resources.resources.map((r) => r.uri), ['note://hello']);
    const read = await client.readResource({ uri: 'note://hello' });
    assert.deepEqual(read.contents, [{ uri: 'note://hello', mimeType: 'text/plain', text: 'Hello from the note.' }]);
    const prompt = await client.getPrompt({ name: 'greeting', arguments: { name: 'Grace' } });
    assert.match(JSON.stringify(prompt.messages), /Say hello to Grace/);
    const german = await client.getPrompt({ name: NON_ASCII_PROMPT });
    assert.match(JSON.stringify(german.messages), /Sag Hallo/);
    await client.ping();
    await client.setLoggingLevel('warning');
    await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
  } finally {
    await close();
  }
  // What the server received: 2026-07-28 requests, each with the envelope of what the client declared.
  const calls = receivedBodies('tools/call');
  assert.ok(calls.length >= 3);
  for (const { headers, body } of calls) {
    assert.equal(headers['mcp-protocol-version'], MODERN);
    assert.equal(headers['mcp-method'], 'tools/call');
    const meta = (body.params as { _meta: Record<string, unknown> })._meta;
    assert.equal(meta['io.modelcontextprotocol/protocolVersion'], MODERN);
    assert.deepEqual(meta['io.modelcontextprotocol/clientInfo'], { name: 'gatehouse-e2e-2025-client', version: '1.2.3' });
    assert.deepEqual(meta['io.modelcontextprotocol/clientCapabilities'], { elicitation: {} });
  }
  const deploy = calls.find((c) => (c.body.params as { arguments: { region?: string } }).arguments.region === 'eu-west')!;
  assert.equal(deploy.headers['mcp-param-region'], 'eu-west');
  const add = calls.find((c) => (c.body.params as { name: string }).name === 'add')!;
  assert.equal((add.body.params as { _meta: Record<string, unknown> })._meta['io.modelcontextprotocol/logLevel'], 'warning', 'the level set with logging/setLevel rides in _meta');
  // The client's initialize, ping and logging/setLevel (gone in 2026-07-28) never reach the server
  // (the only initialize it saw are the direct attempt and Gatehouse's one-off era probe).
  assert.deepEqual(
    receivedBodies('initialize').map((r) => (r.body.params as { clientInfo: { name: string } }).clientInfo.name),
    ['direct', 'gatehouse-era-probe'],
  );
  for (const gone of ['ping', 'logging/setLevel', 'notifications/initialized']) assert.deepEqual(receivedBodies(gone), [], gone);
  assert.equal(receivedBodies('prompts/get').find((r) => (r.body.params as { name: string }).name === NON_ASCII_PROMPT)?.headers['mcp-name'], `=?base64?${Buffer.from(NON_ASCII_PROMPT).toString('base64')}?=`);
});

test('a 2025 client receiving an elicitation from a 2026-07-28 server: input_required becomes elicitation/create, the answer the retry', async () => {
  const { client, elicited, close } = await legacyClient(gh.url('modern'));
  const before = receivedBodies('tools/call').length;
  try {
    const result = await client.callTool({ name: 'ask_name', arguments: { greeting: 'Hello' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }]);
    assert.equal(elicited.length, 1);
    assert.match(JSON.stringify(elicited[0]), /What is your name\?/);
  } finally {
    await close();
  }
  const legs = receivedBodies('tools/call').slice(before);
  assert.equal(legs.length, 2, 'the first leg and the retry');
  assert.equal((legs[0]!.body.params as Record<string, unknown>).inputResponses, undefined);
  assert.deepEqual((legs[1]!.body.params as Record<string, unknown>).inputResponses, { user: { action: 'accept', content: { name: 'Ada' } } });
});

test('a 2025 client that declines the elicitation: the decline reaches the server in the retry', async () => {
  const { client, close } = await legacyClient(gh.url('modern'), { action: 'decline' });
  try {
    const result = await client.callTool({ name: 'ask_name', arguments: { greeting: 'Hi' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'no name (decline)' }]);
  } finally {
    await close();
  }
});

test('a bridged session is bound to its client: another session id is 404, a second GET stream is 409, DELETE ends it', async () => {
  const { transport, close } = await legacyClient(gh.url('modern'));
  const session = transport.sessionId!;
  const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
  // The client holds its standalone stream open: another GET of the session is a conflict.
  let second = await raw(gh.url('modern'), { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } });
  for (let i = 0; i < 50 && second.status !== 409; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    second = await raw(gh.url('modern'), { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } });
  }
  assert.equal(second.status, 409, second.text);
  await close();
  const tampered = await raw(gh.url('modern'), {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': `${session.slice(0, -4)}AAAA`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
  });
  assert.equal(tampered.status, 404);
  const deleted = await raw(gh.url('modern'), { method: 'DELETE', headers });
  assert.equal(deleted.status, 200);
});

test('a 2025 client gets list changes and updates of the resources it subscribed to on its standalone stream, from a 2026-07-28-only server (GET was 405 and subscribe -32601)', async () => {
  const { client, close } = await legacyClient(gh.url('modern-subs'));
  const toolsChanged = deferred<void>('notifications/tools/list_changed');
  const updated = deferred<string>('notifications/resources/updated');
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => toolsChanged.resolve());
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => updated.resolve(notification.params.uri));
  try {
    const capabilities = client.getServerCapabilities();
    assert.equal(capabilities?.resources?.subscribe, true, 'offered: subscriptions are bridged');
    assert.equal(capabilities?.tools?.listChanged, true, 'offered: list changes are bridged');
    await client.subscribeResource({ uri: 'note://hello' });
    // The listen that serves the client's GET stream carries the subscription (it starts again on a change).
    await waitFor(() => listensOf(subs).some((l) => JSON.stringify(l).includes('note://hello')), 'a listen with the subscription');
    subs.notify.toolsChanged();
    subs.notify.resourceUpdated('note://hello');
    await toolsChanged.promise;
    assert.equal(await updated.promise, 'note://hello');
    const listen = listensOf(subs).at(-1)!;
    assert.deepEqual(listen.notifications, { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true, resourceSubscriptions: ['note://hello'] });
    assert.deepEqual(listen.meta['io.modelcontextprotocol/clientInfo'], { name: 'gatehouse-e2e-2025-client', version: '1.2.3' });
    await client.unsubscribeResource({ uri: 'note://hello' });
    await waitFor(() => JSON.stringify(listensOf(subs).at(-1)).includes('note://hello') === false, 'a listen without the subscription');
  } finally {
    await close();
  }
});

test('a resource update sent while the GET stream\'s listen is opened again for a new subscription reaches the 2025 client (the old listen used to be cut first)', async () => {
  const { client, close } = await legacyClient(gh.url('racy'));
  const updated = deferred<string>('notifications/resources/updated');
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => updated.resolve(notification.params.uri));
  try {
    await client.subscribeResource({ uri: 'note://hello' });
    await waitFor(() => listensOf(racy).some((l) => JSON.stringify(l).includes('note://hello')), 'a listen with the first subscription');
    await client.subscribeResource({ uri: 'note://secret' });
    assert.equal(await updated.promise, 'note://hello');
  } finally {
    await close();
  }
});

test('bridged calls leave audit records like forwarded ones', async () => {
  for (const api of ['modern', 'dual']) {
    const { client, close } = await legacyClient(gh.url(api));
    try {
      await client.callTool({ name: 'echo', arguments: { message: `audited on ${api}` } });
    } finally {
      await close();
    }
  }
  const shape = (api: string) =>
    recordsWhen(gh.gateway, { api, method: 'tools/call' }, (events) => events.some((e) => e.target === 'echo')).then((events) => {
      const record = events.find((e) => e.target === 'echo');
      assert.ok(record, `a tools/call record on ${api}`);
      assert.ok(record.session, `${api}: the record names the session`);
      assert.equal(typeof record.upstreamMs, 'number', `${api}: the upstream time is measured`);
      assert.ok(record.bytesIn > 0 && record.bytesOut > 0, `${api}: bytes counted`);
      const { agent, method, feature, target, decision, status, upstreamStatus, errorCode, toolError } = record;
      return { agent, method, feature, target, decision, status, upstreamStatus, errorCode, toolError };
    });
  const bridged = await shape('modern');
  const forwarded = await shape('dual');
  assert.deepEqual(bridged, forwarded);
  assert.equal(bridged.upstreamStatus, 200);
  // The initialize Gatehouse answered itself from server/discover is recorded too, with its session.
  const inits = await recordsWhen(gh.gateway, { api: 'modern', method: 'initialize' }, (events) => events.length > 0);
  assert.ok(inits.every((e) => e.status === 200 && e.session !== undefined), JSON.stringify(inits.map((e) => [e.status, e.session])));
});
