// A server that speaks only 2026-07-28 (the v2 server SDK with `legacy: 'reject'`: no initialize,
// no sessions) as a member of a federated API, beside server-everything (2025, Streamable HTTP).
// Gatehouse speaks to it sessionlessly (src/upstream/federation/modern-member.ts): its
// capabilities from `server/discover`, the `_meta` envelope of what the client declared on each
// request, `resultType` removed for 2025 clients, its `input_required` answers turned into
// elicitation requests on the client's stream and the answers into the retry, its list changes
// from `subscriptions/listen`. Clients of both eras: the SDK 1.x client (2025) and the 2.x client
// pinned to 2026-07-28. The ACL, hidden tools and audit records hold as for any member.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { raw, startEverything, startTestGateway, tempDir, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { HEADER_MIRRORED_TOOL, startStatelessServer, type RunningStatelessServer } from './helpers/stateless-server.ts';

const MODERN = '2026-07-28';
const ALICE = 'alice-key-federation-modern-0123';
const BOB = 'bob-key-federation-modern-01234';
let everything: RunningEverything;
let modern: RunningStatelessServer;
let gh: TestGateway;

before(async () => {
  const onRequest = (request: { body: string }, notify: RunningStatelessServer['notify']): void => {
    // The moment a listen stream with a second URI reaches the server, the first URI changes: the
    // update goes to the stream the new one replaces, which must still be open.
    if (request.body.includes('"subscriptions/listen"') && request.body.includes('note://secret') && request.body.includes('note://hello')) notify.resourceUpdated('note://hello');
  };
  [everything, modern] = await Promise.all([startEverything(), startStatelessServer({ modernOnly: true, subscriptions: true, onRequest })]);
  gh = await startTestGateway({
    servers: { everything: { url: `${everything.origin}/mcp` }, modern: { url: modern.url } },
    agents: [
      { id: 'alice', apiKeys: [{ value: ALICE }] },
      { id: 'bob', apiKeys: [{ value: BOB }] },
    ],
    apis: [
      { name: 'open', path: '/open', servers: ['everything', 'modern'], auth: { type: 'keyless' } },
      // A virtual server over the 2026-07-28 member: `say` is its echo with the message fixed.
      { name: 'curated', path: '/curated', auth: { type: 'keyless' }, tools: [{ server: 'modern', name: 'echo', as: 'say', arguments: { fixed: { message: 'fixed by the gateway' } } }, { server: 'modern', name: 'add' }, { server: 'modern', name: 'ask_name', as: 'ask' }] },
      {
        name: 'guarded',
        path: '/mcp',
        servers: ['everything', 'modern'],
        auth: { type: 'api-key' },
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'everything__echo' } }] },
                // The 2026-07-28 server's tools for alice, but add (for everyone) and echo (for bob).
                { effect: 'deny', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }], condition: 'mcp.server == "modern" && mcp.originalName == "add"' },
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'glob', value: 'modern__*' } }], condition: 'agent.id == "alice"' },
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
  await Promise.all([everything?.close(), modern?.close()]);
});

/** The SDK 1.x client (2025), declaring elicitation and answering it with a name. */
async function legacyClient(api: string, key?: string, answer: (params: unknown) => Promise<{ action: 'accept' | 'decline'; content?: { name: string } }> = async () => ({ action: 'accept', content: { name: 'Ada' } })) {
  const elicited: unknown[] = [];
  const changed: string[] = [];
  const client = new Client({ name: 'gatehouse-e2e-modern-member-2025', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicited.push(request.params);
    return answer(request.params);
  });
  const updated: string[] = [];
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed.push('tools'));
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => void updated.push(notification.params.uri));
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url(api)), key ? { requestInit: { headers: { authorization: `Bearer ${key}` } } } : {}));
  return { client, elicited, changed, updated, close: () => client.close() };
}

/** The SDK 2.x client pinned to 2026-07-28, declaring elicitation and answering it with a name. */
async function modernClient(api: string, key?: string) {
  const elicited: unknown[] = [];
  const bodies: Array<Record<string, unknown>> = [];
  const recording = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (typeof init?.body === 'string') bodies.push(JSON.parse(init.body) as Record<string, unknown>);
    return fetch(input, init);
  };
  const client = new ModernClient({ name: 'gatehouse-e2e-modern-member-2026', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: MODERN } } });
  client.setRequestHandler('elicitation/create', async (request) => {
    elicited.push(request.params);
    return { action: 'accept', content: { name: 'Grace' } };
  });
  await client.connect(new ModernTransport(new URL(gh.url(api)), { fetch: recording, ...(key && { requestInit: { headers: { authorization: `Bearer ${key}` } } }) }));
  return { client, elicited, bodies, close: () => client.close() };
}

/** What the 2026-07-28 server received: POST bodies of a method, with their headers. */
function received(method: string): Array<{ headers: Record<string, unknown>; body: Record<string, unknown> }> {
  return modern.received
    .filter((r) => r.method === 'POST' && r.body !== '')
    .map((r) => ({ headers: r.headers as Record<string, unknown>, body: JSON.parse(r.body) as Record<string, unknown> }))
    .filter((r) => r.body.method === method);
}

const params = (r: { body: Record<string, unknown> }) => r.body.params as Record<string, unknown> & { _meta?: Record<string, unknown> };

test('a 2025 client of a federated API with a 2026-07-28-only member: merged lists, calls routed to each, the member spoken to sessionlessly', { timeout: 60_000 }, async () => {
  const { client, close } = await legacyClient('open');
  try {
    const capabilities = client.getServerCapabilities();
    assert.equal(client.getServerVersion()?.name, 'gatehouse');
    assert.ok(capabilities?.tools && capabilities.prompts && capabilities.resources);
    const tools = await client.listTools();
    const names = tools.tools.map((t) => t.name);
    for (const name of ['everything__echo', 'modern__echo', 'modern__add', 'modern__ask_name', `modern__${HEADER_MIRRORED_TOOL}`]) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.deepEqual([...new Set(names.map((n) => n.split('__')[0]))], ['everything', 'modern'], 'servers in config order');
    assert.equal((tools as Record<string, unknown>).resultType, undefined, '2026-07-28 vocabulary is not passed to a 2025 client');

    assert.deepEqual((await client.callTool({ name: 'everything__echo', arguments: { message: 'to 2025' } })).content, [{ type: 'text', text: 'Echo: to 2025' }]);
    const echoed = await client.callTool({ name: 'modern__echo', arguments: { message: 'to 2026' } });
    assert.deepEqual(echoed.content, [{ type: 'text', text: 'Echo: to 2026' }]);
    assert.equal((echoed as Record<string, unknown>).resultType, undefined);
    assert.deepEqual((await client.callTool({ name: 'modern__add', arguments: { a: 2, b: 3 } })).content, [{ type: 'text', text: '5' }]);
    // A tool whose argument the server wants mirrored in Mcp-Param-Region: learned from the list.
    assert.deepEqual((await client.callTool({ name: `modern__${HEADER_MIRRORED_TOOL}`, arguments: { region: 'eu-west', version: '2' } })).content, [{ type: 'text', text: 'deployed 2 to eu-west' }]);
    assert.match(JSON.stringify((await client.getPrompt({ name: 'modern__greeting', arguments: { name: 'Lin' } })).messages), /Say hello to Lin/);
    const uris = (await client.listResources()).resources.map((r) => r.uri);
    assert.ok(uris.includes('note://hello') && uris.some((u) => u.startsWith('demo://')), uris.join(', '));
    assert.deepEqual((await client.readResource({ uri: 'note://hello' })).contents, [{ uri: 'note://hello', mimeType: 'text/plain', text: 'Hello from the note.' }]);
    await client.ping();
    await client.callTool({ name: 'modern__add', arguments: { a: 1, b: 1 } });
  } finally {
    await close();
  }
  // The member got 2026-07-28 requests with the original names, each with the envelope of what the client declared.
  const calls = received('tools/call');
  const add = calls.filter((c) => params(c).name === 'add');
  assert.equal(add.length, 2);
  for (const call of calls) {
    assert.equal(call.headers['mcp-protocol-version'], MODERN);
    assert.equal(call.headers['mcp-session-id'], undefined, 'no session');
    const meta = params(call)._meta!;
    assert.equal(meta['io.modelcontextprotocol/protocolVersion'], MODERN);
    assert.deepEqual(meta['io.modelcontextprotocol/clientInfo'], { name: 'gatehouse-e2e-modern-member-2025', version: '1.0.0' });
    assert.deepEqual(meta['io.modelcontextprotocol/clientCapabilities'], { elicitation: {} });
  }
  assert.equal(add[0]!.headers['mcp-name'], 'add', 'Mcp-Name names the tool on its server');
  assert.equal(calls.find((c) => params(c).name === HEADER_MIRRORED_TOOL)?.headers['mcp-param-region'], 'eu-west');
  assert.ok(received('server/discover').length > 0, 'its capabilities came from server/discover');
  // No initialize reached it (its era is learned from server/discover); nor ping or setLevel.
  assert.deepEqual(received('initialize'), []);
  for (const gone of ['ping', 'logging/setLevel', 'notifications/initialized']) assert.deepEqual(received(gone), [], gone);
});

test('a 2025 client receives an elicitation from the 2026-07-28 member of a federated API, and its answer goes back in the retry', { timeout: 60_000 }, async () => {
  const { client, elicited, close } = await legacyClient('open');
  const before = received('tools/call').length;
  try {
    const result = await client.callTool({ name: 'modern__ask_name', arguments: { greeting: 'Hello' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }]);
    assert.equal(elicited.length, 1);
    assert.match(JSON.stringify(elicited[0]), /What is your name\?/);
  } finally {
    await close();
  }
  const legs = received('tools/call').slice(before);
  assert.equal(legs.length, 2, 'the first leg and the retry');
  assert.equal(params(legs[0]!).inputResponses, undefined);
  assert.deepEqual(params(legs[1]!).inputResponses, { user: { action: 'accept', content: { name: 'Ada' } } });
});

test('a 2025 client that declines the 2026-07-28 member\'s elicitation: the decline reaches the server in the retry', { timeout: 60_000 }, async () => {
  const { client, close } = await legacyClient('open', undefined, async () => ({ action: 'decline' }));
  try {
    const result = await client.callTool({ name: 'modern__ask_name', arguments: { greeting: 'Hi' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'no name (decline)' }]);
  } finally {
    await close();
  }
  assert.deepEqual(params(received('tools/call').at(-1)!).inputResponses, { user: { action: 'decline' } });
});

test('a 2025 client that cancels a call while the 2026-07-28 member waits for its answer: no retry reaches the server and the session carries on', { timeout: 60_000 }, async () => {
  const abort = new AbortController();
  let asked: () => void = () => undefined;
  const questioned = new Promise<void>((resolve) => (asked = resolve));
  // The client never answers: it is asked, then cancels the call.
  const { client, close } = await legacyClient('open', undefined, () => {
    asked();
    return new Promise(() => undefined);
  });
  const before = received('tools/call').length;
  try {
    const call = client.callTool({ name: 'modern__ask_name', arguments: { greeting: 'Hey' } }, undefined, { signal: abort.signal });
    await questioned;
    abort.abort();
    await assert.rejects(call, /abort/i);
    // The session carries on: another call is served.
    assert.deepEqual((await client.callTool({ name: 'modern__echo', arguments: { message: 'after' } })).content, [{ type: 'text', text: 'Echo: after' }]);
  } finally {
    await close();
  }
  const legs = received('tools/call').slice(before).map((c) => [params(c).name, params(c).inputResponses === undefined ? 'first leg' : 'retry']);
  assert.deepEqual(legs, [['ask_name', 'first leg'], ['echo', 'first leg']]);
});

test('the 2026-07-28 member\'s list changes reach a 2025 client of the federated API (subscriptions/listen)', { timeout: 60_000 }, async () => {
  const { client, changed, close } = await legacyClient('open');
  try {
    assert.equal(client.getServerCapabilities()?.tools?.listChanged, true);
    await client.listTools();
    // The listen stream is opened after the member's initialize: wait until the server has it.
    for (let i = 0; i < 200 && received('subscriptions/listen').length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const listen = received('subscriptions/listen').at(-1);
    assert.ok(listen, 'the member listens for list changes');
    assert.equal((params(listen).notifications as Record<string, unknown>).toolsListChanged, true);
    const seen = changed.length;
    for (let i = 0; i < 200 && changed.length === seen; i++) {
      modern.notify.toolsChanged();
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(changed.length > seen, 'notifications/tools/list_changed reached the client');
    // The member's cached list was dropped: the next list asks the server again.
    const lists = received('tools/list').length;
    await client.listTools();
    assert.ok(received('tools/list').length > lists);
  } finally {
    await close();
  }
});

test('a 2025 client subscribes to a resource of the 2026-07-28 member: its listen stream takes the URI, and the server\'s update reaches the client', { timeout: 60_000 }, async () => {
  const { client, updated, close } = await legacyClient('open');
  try {
    assert.equal(client.getServerCapabilities()?.resources?.subscribe, true);
    await client.listResources();
    // Answered once the server acknowledged a listen stream whose filter has the URI.
    await client.subscribeResource({ uri: 'note://hello' });
    const listen = received('subscriptions/listen').at(-1)!;
    assert.deepEqual((params(listen).notifications as { resourceSubscriptions?: string[] }).resourceSubscriptions, ['note://hello']);
    modern.notify.resourceUpdated('note://hello');
    for (let i = 0; i < 200 && updated.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(updated, ['note://hello']);
    const streams = received('subscriptions/listen').length;
    await client.unsubscribeResource({ uri: 'note://hello' });
    for (let i = 0; i < 200 && received('subscriptions/listen').length === streams; i++) await new Promise((r) => setTimeout(r, 25));
    const last = received('subscriptions/listen').at(-1)!;
    assert.notEqual(last.body.id, listen.body.id, 'the stream was opened again');
    assert.equal((params(last).notifications as { resourceSubscriptions?: string[] }).resourceSubscriptions, undefined, 'without the URI');
  } finally {
    await close();
  }
});

test('a resource update the member sends while its listen stream is opened again for a new filter reaches the client (the old stream used to be cut first, and the update was lost)', { timeout: 60_000 }, async () => {
  const { client, updated, close } = await legacyClient('open');
  try {
    await client.listResources();
    await client.subscribeResource({ uri: 'note://hello' });
    // The new filter (hello + secret): the server sends hello's update as that stream arrives.
    await client.subscribeResource({ uri: 'note://secret' });
    for (let i = 0; i < 200 && updated.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(updated.includes('note://hello'), `the update arrived (got ${JSON.stringify(updated)})`);
  } finally {
    await close();
  }
});

test('a 2026-07-28 client of the federated API: merged lists, calls to each member; its requests for the 2026-07-28 member\'s items are forwarded as they are, input_required included', { timeout: 60_000 }, async () => {
  const { client, elicited, bodies, close } = await modernClient('open');
  const before = received('tools/call').length;
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const name of ['everything__echo', 'modern__add', 'modern__ask_name']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.deepEqual((await client.callTool({ name: 'everything__echo', arguments: { message: 'from 2026' } })).content, [{ type: 'text', text: 'Echo: from 2026' }]);
    assert.deepEqual((await client.callTool({ name: 'modern__add', arguments: { a: 20, b: 6 } })).content, [{ type: 'text', text: '26' }]);
    // Only the listed spelling is routed, forwarded or not: another one is an unknown tool.
    const calls = received('tools/call').length;
    for (const spelling of ['MODERN__add', 'modern.add', 'add']) {
      const other = await client.callTool({ name: spelling, arguments: { a: 1, b: 1 } });
      assert.equal(other.isError, true, spelling);
      assert.match(JSON.stringify(other.content), /not found/, spelling);
    }
    assert.equal(received('tools/call').length, calls, 'no other spelling reached the server');
    const asked = await client.callTool({ name: 'modern__ask_name', arguments: { greeting: 'Hi' } });
    assert.deepEqual(asked.content, [{ type: 'text', text: 'Hi, Grace!' }]);
    assert.equal(elicited.length, 1);
    assert.match(JSON.stringify(elicited[0]), /What is your name\?/);
  } finally {
    await close();
  }
  // The server's own input key reached the client and came back in its retry, which reached the
  // server as the client sent it (not bridged twice into server requests and back).
  const retry = bodies.filter((b) => b.method === 'tools/call' && (b.params as { name?: string }).name === 'modern__ask_name').at(-1);
  assert.deepEqual((retry?.params as { inputResponses?: unknown }).inputResponses, { user: { action: 'accept', content: { name: 'Grace' } } });
  const legs = received('tools/call').slice(before).filter((c) => params(c).name === 'ask_name');
  assert.equal(legs.length, 2, 'the first leg and the client\'s retry');
  assert.equal(legs[1]!.headers['mcp-name'], 'ask_name', 'Mcp-Name is the server\'s own name');
  assert.deepEqual(params(legs[1]!).inputResponses, { user: { action: 'accept', content: { name: 'Grace' } } });
  assert.deepEqual(params(legs[1]!)._meta!['io.modelcontextprotocol/clientCapabilities'], { elicitation: { form: {} } }, 'the client\'s own envelope');
  const meta = params(received('tools/call').filter((c) => params(c).name === 'add').at(-1)!)._meta!;
  assert.deepEqual(meta['io.modelcontextprotocol/clientInfo'], { name: 'gatehouse-e2e-modern-member-2026', version: '1.0.0' }, 'the 2026-07-28 client\'s declaration reaches the member');
});

test('a 2026-07-28 client\'s call forwarded to the 2026-07-28 member has its Mcp-Param headers checked against the body (they were replaced by headers made from the body, so a disagreement went through)', { timeout: 60_000 }, async () => {
  // The session's tables know the member's tools once its list went through.
  const { client, close } = await modernClient('open');
  try {
    assert.ok((await client.listTools()).tools.some((t) => t.name === `modern__${HEADER_MIRRORED_TOOL}`));
  } finally {
    await close();
  }
  const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'gatehouse-e2e-modern-member-2026', version: '1.0.0' } };
  const name = `modern__${HEADER_MIRRORED_TOOL}`;
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name, 'mcp-param-region': 'us-east' };
  const before = received('tools/call').length;
  const response = await raw(gh.url('open'), { headers, body: { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name, arguments: { region: 'eu-west', version: '3' }, _meta: envelope } } });
  assert.equal(response.status, 400, response.text);
  assert.equal((response.messages[0] as { error: { code: number } }).error.code, -32020);
  assert.equal(received('tools/call').length, before, 'the call did not reach the member');
});

test('the ACL across a 2026-07-28 member: a hidden tool is absent, answered as unknown, never reaches it; audit records name the member and the original name', { timeout: 60_000 }, async () => {
  const alice = await legacyClient('guarded', ALICE);
  const bob = await legacyClient('guarded', BOB);
  const before = received('tools/call').length;
  try {
    const names = (await alice.client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['everything__echo', `modern__${HEADER_MIRRORED_TOOL}`, 'modern__ask_name', 'modern__echo'].sort());
    const hidden = await alice.client.callTool({ name: 'modern__add', arguments: { a: 1, b: 2 } });
    assert.equal(hidden.isError, true);
    assert.deepEqual(hidden.content, [{ type: 'text', text: 'MCP error -32602: Tool modern__add not found' }]);
    for (const spelling of ['MODERN__echo', 'modern.echo', 'echo']) {
      const other = await alice.client.callTool({ name: spelling, arguments: { message: 'x' } });
      assert.equal(other.isError, true, spelling);
    }
    assert.deepEqual((await alice.client.callTool({ name: 'modern__echo', arguments: { message: 'allowed' } })).content, [{ type: 'text', text: 'Echo: allowed' }]);
    assert.deepEqual((await bob.client.listTools()).tools.map((t) => t.name), ['everything__echo']);
    assert.equal((await bob.client.callTool({ name: 'modern__echo', arguments: { message: 'x' } })).isError, true);
  } finally {
    await alice.close();
    await bob.close();
  }
  const reached = received('tools/call').slice(before).map((c) => params(c).name);
  assert.deepEqual(reached, ['echo'], 'only the allowed call reached the 2026-07-28 server');
  const events = await recordsWhen(gh.gateway, { api: 'guarded', method: 'tools/call' }, (e) => e.some((r) => r.target === 'modern__echo' && r.decision === 'allowed') && e.some((r) => r.agent === 'bob'));
  const allowed = events.find((e) => e.target === 'modern__echo' && e.decision === 'allowed');
  assert.deepEqual([allowed?.server, allowed?.originalTarget, allowed?.status], ['modern', 'echo', 200]);
  const denied = events.find((e) => e.target === 'modern__add');
  assert.deepEqual([denied?.server, denied?.originalTarget, denied?.decision], ['modern', 'add', 'denied']);
});

test('a 2026-07-28 client under the ACL: the hidden tool of the 2026-07-28 member is unknown and never forwarded; the forwarded call is audited with its server and original name', { timeout: 60_000 }, async () => {
  const { client, close } = await modernClient('guarded', ALICE);
  const before = received('tools/call').length;
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('modern__echo') && !names.includes('modern__add'), names.join(', '));
    const hidden = await client.callTool({ name: 'modern__add', arguments: { a: 1, b: 2 } });
    assert.equal(hidden.isError, true);
    assert.deepEqual(hidden.content, [{ type: 'text', text: 'MCP error -32602: Tool modern__add not found' }]);
    assert.deepEqual((await client.callTool({ name: 'modern__echo', arguments: { message: 'forwarded and audited' } })).content, [{ type: 'text', text: 'Echo: forwarded and audited' }]);
  } finally {
    await close();
  }
  assert.deepEqual(received('tools/call').slice(before).map((c) => params(c).name), ['echo'], 'the hidden call reached no server');
  const events = await recordsWhen(gh.gateway, { api: 'guarded', method: 'tools/call' }, (e) => e.some((r) => r.target === 'modern__echo' && r.status === 200 && r.agent === 'alice' && r.upstreamStatus === 200));
  const forwarded = events.find((e) => e.target === 'modern__echo' && e.upstreamStatus === 200);
  assert.deepEqual([forwarded?.server, forwarded?.originalTarget, forwarded?.decision], ['modern', 'echo', 'allowed']);
});

test('a stored federated session with a 2026-07-28 member continues on another node: the 2026-07-28 member is asked its discover again, with the declaration stored at initialize', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const key = randomBytes(32).toString('hex');
  const config = {
    store: { type: 'sqlite', file: path.join(dir, 'shared.db') },
    servers: { everything: { url: `${everything.origin}/mcp` }, modern: { url: modern.url } },
    apis: [{ name: 'open', path: '/open', servers: ['everything', 'modern'], auth: { type: 'keyless' } }],
  };
  const a = await startTestGateway(config as never, { key, dataDir: path.join(dir, 'a') });
  const b = await startTestGateway(config as never, { key, dataDir: path.join(dir, 'b') });
  try {
    const onA = new Client({ name: 'nodes', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    const transportA = new StreamableHTTPClientTransport(new URL(a.url('open')));
    await onA.connect(transportA);
    assert.deepEqual((await onA.callTool({ name: 'modern__add', arguments: { a: 1, b: 1 } })).content, [{ type: 'text', text: '2' }]);
    const discovers = received('server/discover').length;
    // Node B continues the session by its id (the SDK client does not initialize again).
    const onB = new Client({ name: 'nodes', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    onB.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Node B' } }));
    await onB.connect(new StreamableHTTPClientTransport(new URL(b.url('open')), { sessionId: transportA.sessionId }));
    assert.deepEqual((await onB.callTool({ name: 'modern__add', arguments: { a: 2, b: 3 } })).content, [{ type: 'text', text: '5' }]);
    assert.deepEqual((await onB.callTool({ name: 'everything__echo', arguments: { message: 'on B' } })).content, [{ type: 'text', text: 'Echo: on B' }]);
    assert.deepEqual((await onB.callTool({ name: 'modern__ask_name', arguments: { greeting: 'Hello' } })).content, [{ type: 'text', text: 'Hello, Node B!' }]);
    assert.ok(received('server/discover').length > discovers, 'node B asked the 2026-07-28 member\'s discover (nothing of it is stored)');
    const meta = params(received('tools/call').filter((c) => params(c).name === 'add').at(-1)!)._meta!;
    assert.deepEqual(meta['io.modelcontextprotocol/clientInfo'], { name: 'nodes', version: '1.0.0' }, 'the declaration stored at initialize is the envelope on node B');
    await onB.close();
  } finally {
    await a.close();
    await b.close();
  }
});

test('a 2026-07-28 member that goes away is left out and the others keep working; when it is back it is added again and the client is told its lists changed', { timeout: 90_000 }, async () => {
  const { client, changed, close } = await legacyClient('open');
  const port = Number(new URL(modern.url).port);
  const toolNames = async () => (await client.listTools()).tools.map((t) => t.name);
  try {
    assert.ok((await toolNames()).includes('modern__echo'));
    await modern.close();
    // The next call to it meets a server that cannot be reached: an error for that call only.
    await assert.rejects(client.callTool({ name: 'modern__echo', arguments: { message: 'anyone?' } }), /could not be reached/);
    let names = await toolNames();
    for (let i = 0; i < 200 && names.some((n) => n.startsWith('modern__')); i++) {
      await new Promise((r) => setTimeout(r, 50));
      names = await toolNames();
    }
    assert.ok(!names.some((n) => n.startsWith('modern__')), `its tools are left out: ${names.join(', ')}`);
    assert.deepEqual((await client.callTool({ name: 'everything__echo', arguments: { message: 'still here' } })).content, [{ type: 'text', text: 'Echo: still here' }]);

    const seen = changed.length;
    modern = await startStatelessServer({ modernOnly: true, subscriptions: true, port });
    // Tried again with backoff: waited for (bounded), the list asked again each time.
    names = await toolNames();
    for (let i = 0; i < 400 && !names.includes('modern__echo'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      names = await toolNames();
    }
    assert.ok(names.includes('modern__echo'), `its tools are back: ${names.join(', ')}`);
    for (let i = 0; i < 200 && changed.length === seen; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(changed.length > seen, 'the client was told its lists changed');
    assert.deepEqual((await client.callTool({ name: 'modern__echo', arguments: { message: 'back' } })).content, [{ type: 'text', text: 'Echo: back' }]);
  } finally {
    await close();
  }
});

test('a virtual server over a 2026-07-28 member keeps its fixed arguments for a 2026-07-28 client: passing one is refused, and the member gets the fixed value (the forwarded path used to send the client\'s arguments as they were)', { timeout: 60_000 }, async () => {
  const { client, bodies, close } = await modernClient('curated');
  try {
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['add', 'ask', 'say']);
    // Forwarded to the member, not bridged twice: the server's own input key reaches the client
    // and its retry (a double bridge would have made elicitation of it and keys of its own).
    const asked = await client.callTool({ name: 'ask', arguments: { greeting: 'Hello' } });
    assert.deepEqual(asked.content, [{ type: 'text', text: 'Hello, Grace!' }]);
    const retry = bodies.filter((b) => b.method === 'tools/call' && (b.params as { name?: string }).name === 'ask').at(-1);
    assert.deepEqual((retry?.params as { inputResponses?: unknown }).inputResponses, { user: { action: 'accept', content: { name: 'Grace' } } });
    assert.equal(received('tools/call').filter((c) => params(c).name === 'echo' && JSON.stringify(params(c).arguments) === '{"message":"fixed by the gateway"}').length, 0);
    const said = await client.callTool({ name: 'say', arguments: {} });
    assert.deepEqual(said.content, [{ type: 'text', text: 'Echo: fixed by the gateway' }]);
    const echo = received('tools/call').filter((c) => params(c).name === 'echo').at(-1)!;
    assert.deepEqual(params(echo).arguments, { message: 'fixed by the gateway' }, 'the member gets the fixed value');
    assert.equal(echo.headers['mcp-name'], 'echo');
    assert.deepEqual(params(echo)._meta!['io.modelcontextprotocol/clientInfo'], { name: 'gatehouse-e2e-modern-member-2026', version: '1.0.0' });
    const overridden = await client.callTool({ name: 'say', arguments: { message: 'from the client' } }).then(
      (result) => JSON.stringify(result),
      (error: Error) => error.message,
    );
    assert.doesNotMatch(overridden, /from the client/);
    assert.match(overridden, /set by the gateway and cannot be passed/);
    const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    assert.deepEqual(sum.content, [{ type: 'text', text: '5' }]);
  } finally {
    await close();
  }
});
