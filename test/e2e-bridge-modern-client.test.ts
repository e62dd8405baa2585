// A 2026-07-28 client (the v2 SDK client, pinned to 2026-07-28) on 2025 servers: server-everything
// over Streamable HTTP and over stdio. Gatehouse bridges the eras (src/bridge/): it opens an
// upstream session on the client's behalf with the capabilities the client declared, answers
// `server/discover` from the server's initialize, adds `resultType` and the cache hints, turns
// the server's elicitation during a call into `input_required` and the retry into the answer,
// and serves `subscriptions/listen` with `resources/subscribe` and the server's notifications.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { raw, startEverythingBehindGatehouse } from './helpers/gatehouse.ts';

const MODERN = '2026-07-28';
let setup: Awaited<ReturnType<typeof startEverythingBehindGatehouse>>;

before(async () => {
  setup = await startEverythingBehindGatehouse();
});

after(async () => {
  await setup?.close();
});

interface Answers {
  readonly elicited: unknown[];
  readonly bodies: Array<Record<string, unknown>>;
}

/** A v2 client pinned to 2026-07-28 that declares elicitation and answers it with a fixed form. */
async function modernClient(api: string): Promise<{ client: Client; answers: Answers; close(): Promise<void> }> {
  const answers: Answers = { elicited: [], bodies: [] };
  const recording = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (typeof init?.body === 'string') answers.bodies.push(JSON.parse(init.body) as Record<string, unknown>);
    return fetch(input, init);
  };
  const client = new Client({ name: 'gatehouse-e2e-bridge', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: MODERN } } });
  client.setRequestHandler('elicitation/create', async (request) => {
    answers.elicited.push(request.params);
    return { action: 'accept', content: { name: 'Ada Lovelace', check: true, email: 'ada@example.com' } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(setup.gh.url(api)), { fetch: recording }));
  return { client, answers, close: () => client.close() };
}

for (const [label, api] of [
  ['Streamable HTTP (2025)', 'everything'],
  ['stdio', 'everything-stdio'],
] as const) {
  test(`a 2026-07-28 client discovers, lists, calls, reads and prompts server-everything over ${label}`, async () => {
    const { client, close } = await modernClient(api);
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      assert.match(String(client.getServerVersion()?.name), /everything/i);
      const tools = await client.listTools();
      assert.ok(tools.tools.some((t) => t.name === 'echo'));
      // The tools the server registers for elicitation-capable clients are there: it was initialized with the declared capabilities.
      assert.ok(tools.tools.some((t) => t.name === 'trigger-elicitation-request'), tools.tools.map((t) => t.name).join(', '));
      const echo = await client.callTool({ name: 'echo', arguments: { message: 'across the eras' } });
      assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: across the eras' }]);
      const resources = await client.listResources();
      assert.ok(resources.resources.length > 0);
      const first = resources.resources[0]!;
      const read = await client.readResource({ uri: first.uri });
      assert.equal(read.contents[0]?.uri, first.uri);
      const prompts = await client.listPrompts();
      assert.ok(prompts.prompts.some((p) => p.name === 'simple-prompt'), prompts.prompts.map((p) => p.name).join(', '));
      const prompt = await client.getPrompt({ name: 'simple-prompt' });
      assert.ok(prompt.messages.length > 0);
    } finally {
      await close();
    }
  });

  test(`elicitation raised by server-everything over ${label} during a 2026-07-28 tools/call is answered through input_required`, async () => {
    const { client, answers, close } = await modernClient(api);
    try {
      const result = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
      assert.equal(answers.elicited.length, 1, 'the client was asked once');
      assert.match(JSON.stringify(answers.elicited[0]), /Please provide inputs/);
      assert.match(JSON.stringify(result.content), /Ada Lovelace/, JSON.stringify(result.content));
      // On the wire: the first leg, then a retry carrying the answer and the sealed request state.
      const legs = answers.bodies.filter((b) => b.method === 'tools/call' && (b.params as { name?: string }).name === 'trigger-elicitation-request');
      assert.equal(legs.length, 2, JSON.stringify(legs));
      const retry = legs[1]!.params as { inputResponses?: Record<string, unknown>; requestState?: string };
      assert.equal(Object.keys(retry.inputResponses ?? {}).length, 1);
      assert.match(String(retry.requestState), /^ghs1\./);
    } finally {
      await close();
    }
  });
}

test('2026-07-28 results from a 2025 server carry resultType and the cache hints (private, ttl 0)', async () => {
  const envelope = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  };
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' };
  const response = await raw(setup.gh.url('everything-stdio'), { headers, body: { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: envelope } } });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.headers.get('mcp-session-id'), null, 'no session is issued to a 2026-07-28 client');
  const result = (response.messages[0] as { result: Record<string, unknown> }).result;
  assert.equal(result.resultType, 'complete');
  assert.equal(result.ttlMs, 0);
  assert.equal(result.cacheScope, 'private');
  assert.ok(Array.isArray(result.tools));
});

test('methods 2026-07-28 removed are answered 404 with -32601 when bridged', async () => {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
  for (const method of ['ping', 'logging/setLevel', 'resources/subscribe']) {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method };
    const params = method === 'logging/setLevel' ? { level: 'info' } : method === 'resources/subscribe' ? { uri: 'demo://resource/static/document/architecture.md' } : {};
    const response = await raw(setup.gh.url('everything-stdio'), { headers: method === 'resources/subscribe' ? { ...headers, 'mcp-name': 'demo://resource/static/document/architecture.md' } : headers, body: { jsonrpc: '2.0', id: 9, method, params: { ...params, _meta: envelope } } });
    assert.equal(response.status, 404, `${method}: ${response.text}`);
    assert.equal((response.messages[0] as { error: { code: number } }).error.code, -32601, method);
  }
});

test('a forged requestState is refused with -32602 and nothing is forwarded', async () => {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
  const response = await raw(setup.gh.url('everything-stdio'), {
    headers,
    body: { jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x' }, inputResponses: {}, requestState: 'ghs1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', _meta: envelope } },
  });
  assert.equal(response.status, 400, response.text);
  assert.equal((response.messages[0] as { error: { code: number } }).error.code, -32602);
});

test('a bridged 2026-07-28 request without _meta, its protocol version or its client capabilities, or with inputResponses that is no object (or holds a response that is none), is refused with 400 / -32602 as a 2026-07-28 server does (the bridge filled in defaults and answered 200)', async () => {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' };
  const full = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
  const cases: Array<[string, Record<string, unknown>]> = [
    ['no _meta', {}],
    ['no protocol version', { _meta: { 'io.modelcontextprotocol/clientCapabilities': {} } }],
    ['no client capabilities', { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } }],
    ['inputResponses a number', { _meta: full, inputResponses: 3 }],
    ['inputResponses null', { _meta: full, inputResponses: null }],
    ['an input response that is a number', { _meta: full, inputResponses: { name: 42 } }],
  ];
  for (const [label, params] of cases) {
    const response = await raw(setup.gh.url('everything-stdio'), { headers, body: { jsonrpc: '2.0', id: 11, method: 'server/discover', params } });
    assert.equal(response.status, 400, `${label}: ${response.text}`);
    const error = (response.messages[0] as { id: unknown; error: { code: number } });
    assert.equal(error.error.code, -32602, label);
    assert.equal(error.id, 11, label);
  }
  const ok = await raw(setup.gh.url('everything-stdio'), { headers, body: { jsonrpc: '2.0', id: 12, method: 'server/discover', params: { _meta: full } } });
  assert.equal(ok.status, 200, 'clientInfo is optional');
});

for (const [label, api] of [
  ['Streamable HTTP (2025)', 'everything'],
  ['stdio', 'everything-stdio'],
] as const) {
  test(`subscriptions/listen receives notifications/resources/updated from server-everything over ${label}, tagged with the subscription id`, async () => {
    const { client, close } = await modernClient(api);
    const uri = 'demo://resource/static/document/architecture.md';
    const updates: Array<{ uri?: unknown; _meta?: Record<string, unknown> }> = [];
    let wake: (() => void) | undefined;
    client.setNotificationHandler('notifications/resources/updated', (notification) => {
      updates.push(notification.params as { uri?: unknown; _meta?: Record<string, unknown> });
      wake?.();
    });
    try {
      const subscription = await client.listen({ resourceSubscriptions: [uri] });
      assert.deepEqual(subscription.honoredFilter, { resourceSubscriptions: [uri] });
      // server-everything sends updates of subscribed resources once this tool is called (then every 5 s).
      const received = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no notifications/resources/updated within 15 s')), 15_000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      await client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
      await received;
      assert.equal(updates[0]?.uri, uri);
      assert.match(String(updates[0]?._meta?.['io.modelcontextprotocol/subscriptionId']), /^listen:/);
      await subscription.close();
    } finally {
      await close();
    }
  });
}
