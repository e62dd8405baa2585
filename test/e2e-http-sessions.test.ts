// Sessions on a Streamable HTTP upstream: Gatehouse hands out sealed ids (never the upstream's),
// any node with the same key serves them (restart, second instance), and every kind of bad or
// ended id is answered like an unknown one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectClient,
  randomKeyHex,
  raw,
  startEverything,
  startTestGateway,
  type RunningEverything,
  type TestGateway,
} from './helpers/gatehouse.ts';
import { openRawSession, rpcErrorCode, sleep, startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';
import type { ConfigInput } from '../src/config/schema.ts';

function config(upstreamOrigin: string, extra: Partial<ConfigInput> = {}): Omit<ConfigInput, 'listen'> {
  return {
    servers: { everything: { url: `${upstreamOrigin}/mcp` } },
    apis: [
      { name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } },
      { name: 'other', path: '/other', server: 'everything', auth: { type: 'keyless' } },
    ],
    ...extra,
  };
}

async function upstreamWithProxy(t: { after(fn: () => Promise<void>): void }): Promise<{ everything: RunningEverything; proxy: RecordingProxy }> {
  const everything = await startEverything();
  t.after(() => everything.close());
  const proxy = await startRecordingProxy(everything.origin);
  t.after(() => proxy.close());
  return { everything, proxy };
}

async function gateway(t: { after(fn: () => Promise<void>): void }, cfg: Omit<ConfigInput, 'listen'> & { listen?: ConfigInput['listen'] }, key?: string): Promise<TestGateway> {
  const gh = await startTestGateway(cfg, key === undefined ? {} : { key });
  t.after(() => gh.close());
  return gh;
}

const echoCall = (id: number, message: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message } } });

test('Gatehouse issues sealed gh1. session ids, not the upstream session id', async (t) => {
  const { proxy } = await upstreamWithProxy(t);
  const gh = await gateway(t, config(proxy.origin));
  const { sessionId, headers } = await openRawSession(gh.url());
  assert.match(sessionId, /^gh1\.[A-Za-z0-9_-]+$/);
  const init = proxy.exchanges.find((x) => x.body.includes('"initialize"'));
  const upstreamId = init?.responseHeaders?.['mcp-session-id'];
  assert.equal(typeof upstreamId, 'string', 'the upstream issued its own session id');
  assert.notEqual(sessionId, upstreamId);
  assert.ok(!sessionId.includes(upstreamId as string), 'the upstream id is not visible in the sealed id');
  // Gatehouse sends the upstream its own id, never the sealed one.
  const call = await raw(gh.url(), { headers, body: echoCall(2, 'sealed') });
  assert.equal(call.status, 200);
  const forwarded = proxy.exchanges.filter((x) => x.body.includes('"sealed"'));
  assert.equal(forwarded.length, 1);
  assert.equal(forwarded[0]!.requestHeaders['mcp-session-id'], upstreamId);
});

test('a restarted Gatehouse with the same key serves the existing session to the SDK client and to raw requests', async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const key = randomKeyHex();
  const first = await startTestGateway(config(everything.origin), { key });
  t.after(() => first.close());
  const port = first.gateway.port;
  const { client, transport, close } = await connectClient(first.url());
  t.after(close);
  assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'before restart' } })).content, [{ type: 'text', text: 'Echo: before restart' }]);
  const sessionId = transport.sessionId;
  assert.match(sessionId ?? '', /^gh1\./);
  await first.close();

  const second = await gateway(t, { ...config(everything.origin), listen: { host: '127.0.0.1', port } }, key);
  assert.equal(second.gateway.port, port);
  assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'after restart' } })).content, [{ type: 'text', text: 'Echo: after restart' }]);
  assert.equal(transport.sessionId, sessionId, 'the client kept its session');
  const direct = await raw(second.url(), { headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-11-25' }, body: echoCall(90, 'raw after restart') });
  assert.equal(direct.status, 200);
  assert.deepEqual((direct.messages.at(-1) as { result: unknown }).result, { content: [{ type: 'text', text: 'Echo: raw after restart' }] });

  // The key is what makes the id valid: a Gatehouse with another key does not know the session.
  const stranger = await gateway(t, config(everything.origin), randomKeyHex());
  const refused = await raw(stranger.url(), { headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-11-25' }, body: echoCall(91, 'other key') });
  assert.equal(refused.status, 404);
  assert.equal(rpcErrorCode(refused.messages[0]), -32001);
});

test('two Gatehouse instances with the same key serve the same upstream session at the same time', async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const key = randomKeyHex();
  const a = await gateway(t, config(everything.origin), key);
  const b = await gateway(t, config(everything.origin), key);
  const { headers } = await openRawSession(a.url());
  // Per-session state in the upstream: simulated logging started through A is stopped through B.
  const toggle = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'toggle-simulated-logging', arguments: {} } });
  const started = await raw(a.url(), { headers, body: toggle(2) });
  assert.equal(started.status, 200);
  const startedText = JSON.stringify(started.messages);
  assert.match(startedText, /Started simulated/);
  const stopped = await raw(b.url(), { headers, body: toggle(3) });
  assert.equal(stopped.status, 200);
  const stoppedText = JSON.stringify(stopped.messages);
  assert.match(stoppedText, /Stopped simulated logging/);
  const upstreamSession = /for session ([0-9a-f-]{36})/.exec(startedText)?.[1];
  assert.ok(upstreamSession && stoppedText.includes(upstreamSession), 'both instances reached the same upstream session');
  // Interleaved use of both instances keeps working.
  const [fromA, fromB] = await Promise.all([raw(a.url(), { headers, body: echoCall(4, 'via A') }), raw(b.url(), { headers, body: echoCall(5, 'via B') })]);
  assert.match(fromA.text, /Echo: via A/);
  assert.match(fromB.text, /Echo: via B/);
});

test('unknown, tampered and other-API session ids answer 404 and a missing id answers 400', async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const gh = await gateway(t, config(everything.origin));
  const { sessionId, headers } = await openRawSession(gh.url());
  assert.equal((await raw(gh.url(), { headers, body: echoCall(2, 'valid') })).status, 200);

  const withId = (id: string) => ({ ...headers, 'mcp-session-id': id });
  const expect404 = async (label: string, url: string, id: string) => {
    const res = await raw(url, { headers: withId(id), body: echoCall(3, label) });
    assert.equal(res.status, 404, `${label}: ${res.status} ${res.text}`);
    assert.equal(rpcErrorCode(res.messages[0]), -32001, `${label}: ${res.text}`);
  };
  await expect404('unknown sealed-looking id', gh.url(), 'gh1.' + Buffer.alloc(60, 7).toString('base64url'));
  await expect404('an upstream-style id', gh.url(), '3f7e1c9a-8b2d-4e6f-9a1b-2c3d4e5f6a7b');
  const middle = Math.floor(sessionId.length / 2);
  const tampered = sessionId.slice(0, middle) + (sessionId[middle] === 'A' ? 'B' : 'A') + sessionId.slice(middle + 1);
  assert.notEqual(tampered, sessionId);
  await expect404('tampered id', gh.url(), tampered);
  await expect404('id from another API', gh.url('other'), sessionId);
  // GET and DELETE are held to the same rule.
  const get = await raw(gh.url(), { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': tampered, 'mcp-protocol-version': '2025-11-25' } });
  assert.equal(get.status, 404);
  const del = await raw(gh.url('other'), { method: 'DELETE', headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' } });
  assert.equal(del.status, 404);

  const { 'mcp-session-id': _omitted, ...noSession } = headers;
  const missing = await raw(gh.url(), { headers: noSession, body: echoCall(4, 'no session') });
  assert.equal(missing.status, 400);
  assert.equal(rpcErrorCode(missing.messages[0]), -32000);

  // The real session survived all of that.
  assert.match((await raw(gh.url(), { headers, body: echoCall(5, 'still valid') })).text, /Echo: still valid/);
});

test('DELETE ends the session upstream and later requests with its id get 404', async (t) => {
  const { proxy } = await upstreamWithProxy(t);
  const gh = await gateway(t, config(proxy.origin));
  const { headers } = await openRawSession(gh.url());
  const upstreamId = proxy.exchanges.find((x) => x.body.includes('"initialize"'))?.responseHeaders?.['mcp-session-id'];
  const del = await raw(gh.url(), { method: 'DELETE', headers });
  assert.ok(del.status >= 200 && del.status < 300, `DELETE answered ${del.status} ${del.text}`);
  const upstreamDelete = proxy.exchanges.find((x) => x.method === 'DELETE');
  assert.equal(upstreamDelete?.requestHeaders['mcp-session-id'], upstreamId, 'the upstream session was deleted');
  assert.equal(upstreamDelete?.status, 200);
  const after = await raw(gh.url(), { headers, body: echoCall(2, 'after delete') });
  assert.equal(after.status, 404);
  assert.equal(rpcErrorCode(after.messages[0]), -32001);
  const again = await raw(gh.url(), { method: 'DELETE', headers });
  assert.equal(again.status, 404);

  // The SDK client's terminateSession goes the same way.
  const { client, transport, close } = await connectClient(gh.url());
  t.after(close);
  await client.listTools();
  const ended = transport.sessionId!;
  await transport.terminateSession();
  const reuse = await raw(gh.url(), { headers: { ...headers, 'mcp-session-id': ended }, body: echoCall(3, 'after terminate') });
  assert.equal(reuse.status, 404);
});

test('an idle session is reaped after sessions.idleTimeout and its id then gets 404', async (t) => {
  const { proxy } = await upstreamWithProxy(t);
  const gh = await gateway(t, config(proxy.origin, { sessions: { idleTimeout: '1s' } }));
  const idle = await openRawSession(gh.url());
  const upstreamId = proxy.exchanges.find((x) => x.body.includes('"initialize"'))?.responseHeaders?.['mcp-session-id'];
  assert.equal((await raw(gh.url(), { headers: idle.headers, body: echoCall(2, 'fresh') })).status, 200);
  await sleep(3200);
  const late = await raw(gh.url(), { headers: idle.headers, body: echoCall(3, 'too late') });
  assert.equal(late.status, 404, `after 3 s idle: ${late.status} ${late.text}`);
  assert.equal(rpcErrorCode(late.messages[0]), -32001);
  const deleted = proxy.exchanges.find((x) => x.method === 'DELETE');
  assert.equal(deleted?.requestHeaders['mcp-session-id'], upstreamId, 'Gatehouse ended the upstream session too');
  assert.ok(gh.logs.lines.some((l) => l.msg === 'ending idle upstream session'));
  // A new session works.
  const { client, close } = await connectClient(gh.url());
  t.after(close);
  assert.ok((await client.listTools()).tools.length > 0);
});
