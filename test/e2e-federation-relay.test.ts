// A federated tool call to a Streamable HTTP server is relayed on the client's own exchange
// (federation/member-relay.ts), past the session's message channel: these tests hold it to what
// the channel path gave — the server's own name upstream, progress and the answer on the call's
// stream, event ids a client resumes from after its connection broke, timeouts.response with a
// cancellation, and a member whose upstream session is gone (404) continued on a new one.
// Upstreams: the real server-everything over Streamable HTTP and an SDK server answering in SSE
// with the SDK's event store (server-everything's replays events of every stream and none that
// come later), each behind a recording proxy; the agent: raw requests where the wire matters,
// the SDK client elsewhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, MCP_HEADERS, rawSession, sessionHeaders, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { SseReader, startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';
import { waitUntil } from './helpers/lifecycle-procs.ts';
import { startSdkServer, type RunningSdkServer } from './helpers/sdk-server.ts';

let everything: RunningEverything;
let sdk: RunningSdkServer;
let recorder: RecordingProxy;
let sdkRecorder: RecordingProxy;
let gh: TestGateway;

before(async () => {
  [everything, sdk] = await Promise.all([startEverything(), startSdkServer('sse')]);
  [recorder, sdkRecorder] = await Promise.all([startRecordingProxy(everything.origin), startRecordingProxy(sdk.origin)]);
  gh = await startTestGateway({
    servers: {
      everything: { url: `${recorder.origin}/mcp` },
      slow: { url: `${recorder.origin}/mcp`, timeouts: { response: '1s' } },
      sdk: { url: `${sdkRecorder.origin}/mcp` },
    },
    apis: [
      { name: 'workspace', path: '/mcp', servers: ['everything', 'slow', 'sdk'], namespace: { prefix: 'always', separator: '__' }, auth: { type: 'keyless' } },
    ],
  });
});

after(async () => {
  await gh?.close();
  await Promise.all([recorder?.close(), sdkRecorder?.close()]);
  await Promise.all([everything?.close(), sdk?.close()]);
});

function callBody(id: number, name: string, args: Record<string, unknown>, progressToken?: string): string {
  const params: Record<string, unknown> = { name, arguments: args };
  if (progressToken !== undefined) params._meta = { progressToken };
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params });
}

function postsOf(method: string, proxy = recorder): Array<Record<string, unknown>> {
  return proxy.exchanges
    .filter((e) => e.method === 'POST' && e.body !== '')
    .map((e) => JSON.parse(e.body) as Record<string, unknown>)
    .filter((m) => m.method === method);
}

test('a federated tool call is relayed on its own stream: the server gets its own name, the client progress and the answer under event ids of the member', { timeout: 30_000 }, async () => {
  const session = await rawSession(gh.url('workspace'));
  const response = await fetch(gh.url('workspace'), {
    method: 'POST',
    headers: sessionHeaders(session),
    body: callBody(7, 'everything__trigger-long-running-operation', { duration: 1, steps: 3 }, 'relay-progress'),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = new SseReader(response);
  const { match, seen } = await reader.until((e) => (e.message as { id?: unknown } | undefined)?.id === 7);
  const progress = seen.filter((e) => (e.message as { method?: string }).method === 'notifications/progress');
  assert.equal(progress.length, 3, 'each step\'s progress reaches the client on the call\'s stream');
  for (const event of seen) assert.match(event.id ?? '', /^m0~./, 'every event carries the member\'s prefix and the server\'s own id');
  assert.match(JSON.stringify(match.message), /Long running operation completed/);
  const sent = postsOf('tools/call').filter((m) => m.id === 7);
  assert.equal(sent.length, 1);
  assert.equal((sent[0]!.params as { name: string }).name, 'trigger-long-running-operation', 'the server got its own name');
});

test('a relayed call whose client connection broke is resumed through the session\'s GET with Last-Event-ID, and its answer arrives there', { timeout: 30_000 }, async () => {
  const session = await rawSession(gh.url('workspace'));
  const controller = new AbortController();
  const response = await fetch(gh.url('workspace'), {
    method: 'POST',
    headers: sessionHeaders(session),
    body: callBody(8, 'sdk__hold', { key: 'resume-1' }, 'resume-progress'),
    signal: controller.signal,
  });
  const reader = new SseReader(response);
  const { match: progress } = await reader.until((e) => (e.message as { method?: string } | undefined)?.method === 'notifications/progress');
  assert.match(progress.id ?? '', /^m2~./, 'the progress event carries the member\'s prefix and the server\'s id');
  controller.abort();
  await sdk.holding('resume-1');
  sdk.release('resume-1');
  const resumed = await fetch(gh.url('workspace'), { method: 'GET', headers: { ...sessionHeaders(session), accept: 'text/event-stream', 'last-event-id': progress.id! } });
  assert.equal(resumed.status, 200);
  const { match, seen } = await new SseReader(resumed).until((e) => (e.message as { id?: unknown } | undefined)?.id === 8);
  assert.match(JSON.stringify(match.message), /released resume-1/);
  assert.ok(!seen.some((e) => e.id === progress.id), 'the event the client had is not sent again');
  const resumedUpstream = sdkRecorder.exchanges.filter((e) => e.method === 'GET' && e.requestHeaders['last-event-id'] !== undefined);
  assert.equal(resumedUpstream.at(-1)?.requestHeaders['last-event-id'], progress.id!.slice('m2~'.length), 'the server was asked from its own event id');
});

test('a relayed call the server does not answer within timeouts.response gets GH_UPSTREAM_TIMEOUT, and the server is told to stop', { timeout: 30_000 }, async () => {
  const c = await connectClient(gh.url('workspace'));
  try {
    const started = Date.now();
    await assert.rejects(c.client.callTool({ name: 'slow__trigger-long-running-operation', arguments: { duration: 5, steps: 1 } }, undefined, { timeout: 20_000 }), (error: Error & { code?: number }) => {
      assert.equal(error.code, -32016, error.message);
      return true;
    });
    assert.ok(Date.now() - started < 4_500, 'answered at the timeout, not when the server finished');
    await waitUntil(() => postsOf('notifications/cancelled').some((m) => /timeouts\.response/.test(String((m.params as { reason?: unknown }).reason))), 'the server got notifications/cancelled naming timeouts.response');
  } finally {
    await c.close();
  }
});

test('a relayed call to a server that forgot the upstream session (404) is served on a new one, and the session stays whole', { timeout: 30_000 }, async () => {
  const c = await connectClient(gh.url('workspace'));
  try {
    const echo = (text: string) => c.client.callTool({ name: 'sdk__echo', arguments: { message: text } });
    assert.match(JSON.stringify(await echo('before')), /before/);
    // The upstream session the relayed call went on, ended behind Gatehouse's back.
    const last = [...sdkRecorder.exchanges].reverse().find((e) => e.method === 'POST' && e.body.includes('"before"'));
    const upstreamSession = last?.requestHeaders['mcp-session-id'];
    assert.equal(typeof upstreamSession, 'string');
    const initsBefore = postsOf('initialize', sdkRecorder).length;
    const ended = await fetch(sdk.url, { method: 'DELETE', headers: { ...MCP_HEADERS, 'mcp-session-id': String(upstreamSession), 'mcp-protocol-version': '2025-06-18' } });
    assert.ok(ended.status < 300, `the SDK server ended the session (${ended.status})`);
    assert.match(JSON.stringify(await echo('after')), /after/, 'the call is answered on a new upstream session');
    assert.ok(postsOf('initialize', sdkRecorder).length > initsBefore, 'the member was initialized again');
    const tries = sdkRecorder.exchanges.filter((e) => e.method === 'POST' && e.body.includes('"after"'));
    assert.equal(tries[0]?.status, 404, 'the first try met the forgotten session');
    assert.equal(tries.at(-1)?.status, 200);
  } finally {
    await c.close();
  }
});
