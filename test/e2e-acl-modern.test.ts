// An ACL in front of a 2026-07-28 server: the v2-SDK client as the agent, the v2-SDK server of
// test/helpers/stateless-server.ts upstream. server/discover and subscriptions/listen pass the ACL
// (their answers and notifications filtered like the rest), method-not-found is HTTP 404 as the
// revision says, and an unsupported protocol version is answered as the revision specifies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { raw, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { SseReader, rpcErrorCode } from './helpers/http-peers.ts';
import { startStatelessServer, type RunningStatelessServer } from './helpers/stateless-server.ts';
import { deferred } from './helpers/deferred.ts';

const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'gatehouse-e2e-acl', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** echo, and the note `note://hello` (read and subscribe); `note://secret` and everything else hidden. */
const ACL = {
  acl: {
    rules: [
      { name: 'echo', features: [{ type: 'tools' as const, methods: ['tools/list', 'tools/call'], pattern: { type: 'literal' as const, value: 'echo' } }] },
      { name: 'hello-note', features: [{ type: 'resources' as const, methods: ['resources/list', 'resources/read', 'resources/subscribe'], pattern: { type: 'literal' as const, value: 'note://hello' } }] },
    ],
  },
};

/** The client speaks 2026-07-28 only (it starts with server/discover, and never falls back to initialize). */
const PINNED = { versionNegotiation: { mode: { pin: MODERN } } } as const;

let upstream: RunningStatelessServer;
let gh: TestGateway;

before(async () => {
  // Answers as SSE streams: what is under test is what the ACL lets through, in either answer style.
  upstream = await startStatelessServer({ subscriptions: true, responseMode: 'sse' });
  gh = await startTestGateway({
    servers: { modern: { url: upstream.url } },
    apis: [
      { name: 'guarded', path: '/mcp', server: 'modern', policies: [ACL] },
      { name: 'open', path: '/open', server: 'modern' },
    ],
  });
});

after(async () => {
  await gh?.close();
  await upstream?.close();
});

function modernHeaders(method: string, name?: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method };
  if (name !== undefined) headers['mcp-name'] = name;
  return headers;
}

function modernRequest(id: number, method: string, params: Record<string, unknown> = {}): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: ENVELOPE } };
}

test('a 2026-07-28 SDK client connects through an ACL: server/discover passes (it was answered method not found), its capabilities and the lists are filtered', async () => {
  const client = new Client({ name: 'acl-modern', version: '1.0.0' }, PINNED);
  const transport = new StreamableHTTPClientTransport(new URL(gh.url('guarded')));
  await client.connect(transport);
  try {
    assert.equal(transport.protocolVersion, MODERN);
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['echo']);
    assert.deepEqual((await client.listResources()).resources.map((r) => r.uri), ['note://hello']);
    const capabilities = client.getServerCapabilities();
    assert.ok(capabilities?.tools && capabilities.resources, JSON.stringify(capabilities));
    assert.equal(capabilities.prompts, undefined, 'no prompt is allowed: the capability is trimmed from server/discover');
    await assert.rejects(client.readResource({ uri: 'note://secret' }), /not found/i);
  } finally {
    await client.close();
  }
});

test('subscriptions/listen passes an ACL (it was answered method not found): list_changed and updates of a visible URI arrive on its stream', async () => {
  const client = new Client({ name: 'acl-modern-listen', version: '1.0.0' }, PINNED);
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url('guarded'))));
  const toolsChanged = deferred<void>('notifications/tools/list_changed');
  const updated = deferred<string>('notifications/resources/updated');
  client.setNotificationHandler('notifications/tools/list_changed', () => toolsChanged.resolve());
  client.setNotificationHandler('notifications/resources/updated', (notification) => updated.resolve(notification.params.uri));
  const subscription = await client.listen({ toolsListChanged: true, resourceSubscriptions: ['note://hello'] });
  try {
    assert.deepEqual(subscription.honoredFilter, { toolsListChanged: true, resourceSubscriptions: ['note://hello'] });
    upstream.notify.toolsChanged();
    upstream.notify.resourceUpdated('note://hello');
    await toolsChanged.promise;
    assert.equal(await updated.promise, 'note://hello');
  } finally {
    await subscription.close();
    await client.close();
  }
});

test('subscriptions/listen naming a hidden URI is answered like resources/subscribe of it, and one not in canonical form is refused', async () => {
  const hiddenListen = await raw(gh.url('guarded'), { headers: modernHeaders('subscriptions/listen'), body: modernRequest(21, 'subscriptions/listen', { notifications: { resourceSubscriptions: ['note://hello', 'note://secret'] } }) });
  assert.equal(hiddenListen.status, 200, hiddenListen.text);
  assert.deepEqual(hiddenListen.messages, [{ jsonrpc: '2.0', id: 21, error: { code: -32602, message: 'MCP error -32602: Resource note://secret not found' } }]);
  const upper = await raw(gh.url('guarded'), { headers: modernHeaders('subscriptions/listen'), body: modernRequest(22, 'subscriptions/listen', { notifications: { resourceSubscriptions: ['NOTE://hello'] } }) });
  assert.equal(upper.status, 400, upper.text);
  assert.equal((upper.messages[0] as { error: { data: { canonical: string } } }).error.data.canonical, 'note://hello');

  // A raw listen stream: the acknowledgement and a list_changed come through the ACL's filter.
  const abort = new AbortController();
  const response = await fetch(gh.url('guarded'), { method: 'POST', signal: abort.signal, headers: modernHeaders('subscriptions/listen'), body: JSON.stringify(modernRequest(23, 'subscriptions/listen', { notifications: { toolsListChanged: true } })) });
  assert.equal(response.status, 200);
  const reader = new SseReader(response);
  try {
    const { match: ack } = await reader.until((e) => (e.message as { method?: string } | undefined)?.method === 'notifications/subscriptions/acknowledged');
    assert.deepEqual((ack.message as { params: { notifications: unknown } }).params.notifications, { toolsListChanged: true });
    upstream.notify.toolsChanged();
    await reader.until((e) => (e.message as { method?: string } | undefined)?.method === 'notifications/tools/list_changed');
  } finally {
    abort.abort();
    await reader.cancel();
  }
});

test('under an ACL a 2026-07-28 method the ACL does not cover is answered 404 with -32601, as the revision says and as the server does (it was 200)', async () => {
  const refused = await raw(gh.url('guarded'), { headers: modernHeaders('foo/bar'), body: modernRequest(31, 'foo/bar') });
  assert.equal(refused.status, 404, refused.text);
  assert.deepEqual(refused.messages, [{ jsonrpc: '2.0', id: 31, error: { code: -32601, message: 'Method not found' } }]);
  const upstreamAnswer = await raw(gh.url('open'), { headers: modernHeaders('foo/bar'), body: modernRequest(32, 'foo/bar') });
  assert.equal(upstreamAnswer.status, 404, 'the server answers an unknown method the same way');
  assert.equal(rpcErrorCode(upstreamAnswer.messages[0]), -32601);
});

test('under an ACL a 2026-07-28 resources/subscribe or resources/unsubscribe (removed by the revision) is answered 404 with -32601 as the server answers it, not -32602 as a hidden resource (found by the conformance suite)', async () => {
  for (const [i, method] of ['resources/subscribe', 'resources/unsubscribe'].entries()) {
    // note://secret is hidden from this agent, but the method itself is what is gone, whatever it names.
    const body = modernRequest(35 + i, method, { uri: 'note://secret' });
    const refused = await raw(gh.url('guarded'), { headers: modernHeaders(method, 'note://secret'), body });
    assert.equal(refused.status, 404, `${method}: ${refused.text}`);
    assert.equal(rpcErrorCode(refused.messages[0]), -32601, method);
    const upstreamAnswer = await raw(gh.url('open'), { headers: modernHeaders(method, 'note://secret'), body });
    assert.equal(upstreamAnswer.status, 404, `the server answers ${method} the same way: ${upstreamAnswer.text}`);
    assert.equal(rpcErrorCode(upstreamAnswer.messages[0]), -32601, method);
  }
});

test('a 2026-07-28 request with an unsupported MCP-Protocol-Version is answered with its id, -32022 and data {supported, requested} (it was id null and -32000)', async () => {
  const mark = upstream.received.length;
  const res = await raw(gh.url('guarded'), { headers: { ...modernHeaders('tools/list'), 'mcp-protocol-version': '2099-01-01' }, body: modernRequest(41, 'tools/list') });
  assert.equal(res.status, 400, res.text);
  const answer = res.messages[0] as { id: unknown; error: { code: number; data: { supported: string[]; requested: string } } };
  assert.equal(answer.id, 41);
  assert.equal(answer.error.code, -32022);
  assert.equal(answer.error.data.requested, '2099-01-01');
  assert.ok(answer.error.data.supported.includes(MODERN), JSON.stringify(answer.error.data));
  assert.equal(upstream.received.length, mark, 'not forwarded');
});
