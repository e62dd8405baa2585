// JSON-RPC envelopes an ACL must not be fooled by, end to end through Gatehouse to a real
// server-everything (over Streamable HTTP, behind a recording proxy, and over stdio): batches whose
// requests share an id, answers replayed on a resumed stream, notifications named like requests,
// and messages with members JSON-RPC does not define.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { everythingStdioCommand, raw, rawSession, sessionHeaders, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { SseReader, openRawSession, rpcErrorCode, startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';
import { recordsWhen } from './helpers/audit-db.ts';

/** Only `echo` is visible: every other tool of server-everything is hidden. */
const ECHO_ONLY = { acl: { rules: [{ name: 'echo-only', features: [{ type: 'tools' as const, methods: ['tools/list', 'tools/call'], pattern: { type: 'literal' as const, value: 'echo' } }] }] } };

let everything: RunningEverything;
let proxy: RecordingProxy;
let gh: TestGateway;

before(async () => {
  everything = await startEverything();
  proxy = await startRecordingProxy(everything.origin);
  const stdio = everythingStdioCommand();
  gh = await startTestGateway({
    servers: { http: { url: `${proxy.origin}/mcp` }, stdio: { command: stdio.command, args: stdio.args } },
    apis: [
      { name: 'http', path: '/mcp', server: 'http', policies: [ECHO_ONLY] },
      { name: 'stdio', path: '/mcp-stdio', server: 'stdio', policies: [ECHO_ONLY] },
      { name: 'open-stdio', path: '/open-stdio', server: 'stdio' },
    ],
  });
});

after(async () => {
  await gh?.close();
  await proxy?.close();
  await everything?.close();
});

/** The upstream POST bodies recorded since `mark`. */
function forwardedSince(mark: number): string[] {
  return proxy.exchanges.slice(mark).filter((e) => e.method === 'POST').map((e) => e.body);
}

function toolNames(message: unknown): string[] {
  const result = (message as { result?: { tools?: Array<{ name: string }> } }).result;
  return (result?.tools ?? []).map((t) => t.name);
}

function errorMessage(message: unknown): string {
  return (message as { error?: { message?: string } }).error?.message ?? '';
}

const headers2025 = (sid: string) => ({ ...sessionHeaders(sid), 'mcp-protocol-version': '2025-03-26' });

for (const api of ['http', 'stdio'] as const) {
  test(`${api}: a 2025-03-26 batch of tools/list and ping sharing id 1 is refused with -32600 (the ping's id let the unfiltered tool list through)`, async () => {
    const url = gh.url(api);
    const sid = await rawSession(url);
    const mark = proxy.exchanges.length;
    const res = await raw(url, {
      headers: headers2025(sid),
      body: [
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        { jsonrpc: '2.0', id: 1, method: 'ping' },
      ],
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(rpcErrorCode(res.messages[0]), -32600);
    assert.match(res.text, /id 1 .*more than once|repeat/i);
    assert.ok(!res.text.includes('get-env'), 'no hidden tool is named');
    assert.deepEqual(forwardedSince(mark), [], 'nothing of the batch reached the upstream');

    // Ids 1 and "1" are different ids (for JSON-RPC and for the pairing of answers): both are
    // answered, each judged against its own request, and the list is filtered.
    const mixed = await raw(url, {
      headers: headers2025(sid),
      body: [
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        { jsonrpc: '2.0', id: '1', method: 'ping' },
      ],
    });
    assert.equal(mixed.status, 200, mixed.text);
    const answers = mixed.messages.flatMap((m) => (Array.isArray(m) ? m : [m])) as Array<{ id: unknown }>;
    assert.deepEqual(toolNames(answers.find((a) => a.id === 1)), ['echo']);
    assert.deepEqual((answers.find((a) => a.id === '1') as { result?: unknown }).result, {});
  });

  test(`${api}: under an ACL a notification named like a request (tools/call, resources/read without an id) is refused with 400 and audited as denied (it was forwarded unfiltered)`, async () => {
    const url = gh.url(api);
    const sid = await rawSession(url);
    const mark = proxy.exchanges.length;
    for (const body of [
      { jsonrpc: '2.0', method: 'tools/call', params: { name: 'get-env', arguments: {} } },
      { jsonrpc: '2.0', method: 'resources/read', params: { uri: 'demo://resource/static/document/architecture.md' } },
    ]) {
      const res = await raw(url, { headers: sessionHeaders(sid), body });
      assert.equal(res.status, 400, `${body.method}: ${res.text}`);
      assert.equal(rpcErrorCode(res.messages[0]), -32600);
      assert.match(errorMessage(res.messages[0]), new RegExp(`"${body.method}" sent without an id.*request method needs an id`));
    }
    // A 2025-03-26 batch carrying one is refused whole.
    const batch = await raw(url, {
      headers: headers2025(sid),
      body: [
        { jsonrpc: '2.0', id: 5, method: 'tools/list' },
        { jsonrpc: '2.0', method: 'tools/call', params: { name: 'get-env', arguments: {} } },
      ],
    });
    assert.equal(batch.status, 400, batch.text);
    assert.deepEqual(forwardedSince(mark), [], 'no such notification reached the upstream');
    // Real notifications still pass.
    const cancelled = await raw(url, { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99 } } });
    assert.equal(cancelled.status, 202, cancelled.text);

    const records = await recordsWhen(gh.gateway, { api, method: 'tools/call' }, (events) => events.some((e) => e.rpcId === undefined));
    const refused = records.find((e) => e.rpcId === undefined && e.target === 'get-env');
    assert.ok(refused, `the refused notification is audited: ${JSON.stringify(records)}`);
    assert.equal(refused.decision, 'denied');
    assert.equal(refused.status, 400);
  });

  test(`${api}: a message with an unknown top-level member is refused with -32600 (an SDK stdio child dropped it and the request was never answered)`, async () => {
    const url = gh.url(api);
    const sid = await rawSession(url);
    const mark = proxy.exchanges.length;
    const res = await raw(url, { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: 2, method: 'tools/list', extra: true } });
    assert.equal(res.status, 400, res.text);
    assert.equal(rpcErrorCode(res.messages[0]), -32600);
    assert.equal((res.messages[0] as { id: unknown }).id, 2, 'answered with the request id');
    assert.match(errorMessage(res.messages[0]), /unknown member "extra"/);
    assert.deepEqual(forwardedSince(mark), []);
  });
}

test('without an ACL, a request with an unknown top-level member to a stdio server is answered with -32600 at once (it hung: the child dropped it)', async () => {
  const url = gh.url('open-stdio');
  const sid = await rawSession(url);
  const res = await raw(url, { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: 3, method: 'tools/list', meta: {} } });
  assert.equal(res.status, 400, res.text);
  assert.equal(rpcErrorCode(res.messages[0]), -32600);
  // The session still works afterwards.
  const list = await raw(url, { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: 4, method: 'tools/list' } });
  assert.ok(toolNames(list.messages.at(-1)).includes('get-env'));
});

test('http: a tools/list answer replayed on a resumed GET stream is filtered (no request of that exchange to judge it against, it passed unfiltered)', async () => {
  const url = gh.url('http');
  // 2025-11-25 clients get a priming event with an id, so the POST stream is resumable at once.
  const { headers } = await openRawSession(url, '2025-11-25');
  const post = new AbortController();
  const response = await fetch(url, { method: 'POST', headers, signal: post.signal, body: JSON.stringify({ jsonrpc: '2.0', id: 41, method: 'tools/list' }) });
  assert.equal(response.status, 200);
  const first = new SseReader(response);
  const { match: priming } = await first.until((e) => e.id !== undefined, 10_000);
  post.abort();
  await first.cancel();

  const get = new AbortController();
  const resumed = await fetch(url, { method: 'GET', signal: get.signal, headers: { accept: 'text/event-stream', 'mcp-session-id': headers['mcp-session-id']!, 'mcp-protocol-version': '2025-11-25', 'last-event-id': priming.id! } });
  assert.equal(resumed.status, 200);
  const reader = new SseReader(resumed);
  try {
    const { match } = await reader.until((e) => (e.message as { id?: unknown } | undefined)?.id === 41, 10_000);
    assert.deepEqual(toolNames(match.message), ['echo']);
  } finally {
    get.abort();
    await reader.cancel();
  }
});
