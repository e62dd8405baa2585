// Wire-level guards in front of a Streamable HTTP upstream: each bad request gets the right HTTP
// status and a JSON-RPC error with the right code, and none of it disturbs normal traffic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MCP_HEADERS, connectClient, raw, startEverything, startTestGateway, type RawResponse, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { nodeRequest, openRawSession, rpcErrorCode, startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';

let everything: RunningEverything;
let proxy: RecordingProxy;
let gh: TestGateway;
let session: { sessionId: string; headers: Record<string, string> };

before(async () => {
  everything = await startEverything();
  // The recording proxy lets tests check that refused requests never reach the upstream.
  proxy = await startRecordingProxy(everything.origin);
  gh = await startTestGateway({
    servers: { everything: { url: `${proxy.origin}/mcp` } },
    apis: [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } }],
    limits: { maxRequestBytes: '1kb' },
  });
  session = await openRawSession(gh.url(), '2025-06-18');
});

after(async () => {
  await gh?.close();
  await proxy?.close();
  await everything?.close();
});

const echo = (id: number | string, message = 'hi') => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message } } });

function assertRefused(res: RawResponse, status: number, rpc: number, label: string): void {
  assert.equal(res.status, status, `${label}: HTTP ${res.status} ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${label}: JSON body`);
  const body = res.messages[0] as { jsonrpc?: string; error?: { code: number; message: string } };
  assert.equal(body?.jsonrpc, '2.0', `${label}: a JSON-RPC message`);
  assert.equal(rpcErrorCode(body), rpc, `${label}: ${res.text}`);
  assert.ok(body.error!.message.length > 0);
}

/** Runs `fn` and asserts the upstream saw no request meanwhile. */
async function unforwarded<T>(fn: () => Promise<T>): Promise<T> {
  const before = proxy.exchanges.length;
  const out = await fn();
  assert.equal(proxy.exchanges.length, before, 'the refused request did not reach the upstream');
  return out;
}

test('an unsupported MCP-Protocol-Version is refused with 400, -32022, the request id and data {supported, requested} (it was id null and -32000)', async () => {
  const res = await unforwarded(() => raw(gh.url(), { headers: { ...session.headers, 'mcp-protocol-version': '2099-01-01' }, body: echo(2) }));
  assertRefused(res, 400, -32022, 'unsupported version');
  assert.match(res.text, /2099-01-01/);
  const answer = res.messages[0] as { id: unknown; error: { data: { supported: string[]; requested: string; code: string } } };
  assert.equal(answer.id, 2);
  assert.equal(answer.error.data.requested, '2099-01-01');
  assert.ok(answer.error.data.supported.includes('2025-11-25') && answer.error.data.supported.includes('2026-07-28'), JSON.stringify(answer.error.data));
  assert.equal(answer.error.data.code, 'GH_UNSUPPORTED_PROTOCOL_VERSION');
  // A body that names no id (unparseable, a notification) is answered with id null.
  const garbled = await unforwarded(() => raw(gh.url(), { headers: { ...session.headers, 'mcp-protocol-version': '2099-01-01' }, body: '{"jsonrpc":' }));
  assertRefused(garbled, 400, -32022, 'unsupported version, unparseable body');
  assert.equal((garbled.messages[0] as { id: unknown }).id, null);
});

test('a Host header that is not loopback is refused with 403 and a loopback one passes', async () => {
  const port = gh.gateway.port;
  const evil = await unforwarded(() => nodeRequest(gh.url(), { headers: { ...MCP_HEADERS, host: 'evil.example' }, body: JSON.stringify(echo(2)) }));
  assert.equal(evil.status, 403, evil.text);
  assert.equal(rpcErrorCode(evil.json), -32000);
  const rebinding = await unforwarded(() => nodeRequest(gh.url(), { headers: { ...MCP_HEADERS, host: `127.evil.example:${port}` }, body: JSON.stringify(echo(3)) }));
  assert.equal(rebinding.status, 403, rebinding.text);
  const good = await nodeRequest(gh.url(), { headers: { ...session.headers, host: `localhost:${port}` }, body: JSON.stringify(echo(4, 'loopback host')) });
  assert.equal(good.status, 200, good.text);
  assert.match(good.text, /Echo: loopback host/);
});

test('a foreign Origin is refused with 403 and a loopback Origin passes', async () => {
  const evil = await unforwarded(() => raw(gh.url(), { headers: { ...session.headers, origin: 'http://evil.example' }, body: echo(2) }));
  assertRefused(evil, 403, -32000, 'evil origin');
  const local = await raw(gh.url(), { headers: { ...session.headers, origin: 'http://localhost:1234' }, body: echo(3, 'from localhost') });
  assert.equal(local.status, 200, local.text);
  assert.match(local.text, /Echo: from localhost/);
});

test('a POST that does not accept both JSON and SSE, or a GET that does not accept SSE, is refused with 406', async () => {
  const jsonOnly = await unforwarded(() => raw(gh.url(), { headers: { ...session.headers, accept: 'application/json' }, body: echo(2) }));
  assertRefused(jsonOnly, 406, -32000, 'POST accepting JSON only');
  const { accept: _accept, ...noAccept } = session.headers;
  // fetch would add "Accept: */*"; node:http sends no Accept at all.
  const none = await unforwarded(() => nodeRequest(gh.url(), { headers: noAccept, body: JSON.stringify(echo(3)) }));
  assert.equal(none.status, 406, none.text);
  assert.equal(rpcErrorCode(none.json), -32000);
  const sseOnly = await unforwarded(() => raw(gh.url(), { headers: { ...session.headers, accept: 'text/event-stream' }, body: echo(4) }));
  assertRefused(sseOnly, 406, -32000, 'POST accepting SSE only');
  const get = await unforwarded(() => raw(gh.url(), { method: 'GET', headers: { ...noAccept, accept: 'application/json' } }));
  assertRefused(get, 406, -32000, 'GET accepting JSON');
});

test('a body that is not application/json is refused with 415', async () => {
  const res = await unforwarded(() => raw(gh.url(), { headers: { ...session.headers, 'content-type': 'text/plain' }, body: JSON.stringify(echo(2)) }));
  assertRefused(res, 415, -32000, 'text/plain body');
});

test('a body over limits.maxRequestBytes is refused with 413, with or without Content-Length', async () => {
  const big = JSON.stringify(echo(2, 'x'.repeat(2048)));
  const declared = await unforwarded(() => raw(gh.url(), { headers: session.headers, body: big }));
  assertRefused(declared, 413, -32600, 'declared length');
  const chunked = await unforwarded(() => nodeRequest(gh.url(), { headers: { ...session.headers, 'transfer-encoding': 'chunked' }, body: big }));
  assert.equal(chunked.status, 413, chunked.text);
  assert.equal(rpcErrorCode(chunked.json), -32600);
  // Just under the limit still goes through.
  const fits = await raw(gh.url(), { headers: session.headers, body: echo(3, 'y'.repeat(800)) });
  assert.equal(fits.status, 200, fits.text);
});

test('malformed JSON is refused with 400 and -32700', async () => {
  const res = await unforwarded(() => raw(gh.url(), { headers: session.headers, body: '{"jsonrpc":"2.0","id":2,"method":"tools/list"' }));
  assertRefused(res, 400, -32700, 'truncated JSON');
});

test('bodies that are not JSON-RPC 2.0 messages are refused with 400 and -32600', async () => {
  const cases: Array<[string, string]> = [
    ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":2,"method":"tools/list"}'],
    ['id as an object', '{"jsonrpc":"2.0","id":{"n":1},"method":"tools/list"}'],
    ['fractional id', '{"jsonrpc":"2.0","id":1.5,"method":"tools/list"}'],
    ['method not a string', '{"jsonrpc":"2.0","id":2,"method":42}'],
    ['params as an array', '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":[1]}'],
    ['a bare string', '"tools/list"'],
    ['response with result and error', '{"jsonrpc":"2.0","id":2,"result":{},"error":{"code":1,"message":"x"}}'],
  ];
  for (const [label, body] of cases) {
    const res = await unforwarded(() => raw(gh.url(), { headers: session.headers, body }));
    assertRefused(res, 400, -32600, label);
  }
});

test('a JSON-RPC batch is refused with 400 and -32600 for MCP-Protocol-Version 2025-06-18', async () => {
  const res = await unforwarded(() => raw(gh.url(), { headers: session.headers, body: [echo(2), echo(3)] }));
  assertRefused(res, 400, -32600, 'batch');
  assert.match(res.text, /batch/i);
});

test('a path with no API answers 404 and an HTTP method other than GET, POST and DELETE answers 405 with Allow', async () => {
  const unknown = await unforwarded(() => raw(`${gh.origin}/not-mcp`, { headers: session.headers, body: echo(2) }));
  assertRefused(unknown, 404, -32601, 'unknown path');
  const put = await unforwarded(() => raw(gh.url(), { method: 'PUT', headers: session.headers, body: echo(3) }));
  assertRefused(put, 405, -32000, 'PUT');
  const allow = (put.headers.get('allow') ?? '').split(',').map((m) => m.trim()).sort();
  assert.deepEqual(allow, ['DELETE', 'GET', 'POST']);
});

test('a 2026-07-28 request whose Mcp-Method or Mcp-Name header disagrees with the body, or lacks Mcp-Name while its body names a tool, is refused with 400 and -32020 (a missing Mcp-Name was served)', async () => {
  const headers = { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28' };
  const body = echo(2, 'stateless');
  const method = await unforwarded(() => raw(gh.url(), { headers: { ...headers, 'mcp-method': 'tools/list', 'mcp-name': 'echo' }, body }));
  assertRefused(method, 400, -32020, 'Mcp-Method mismatch');
  const name = await unforwarded(() => raw(gh.url(), { headers: { ...headers, 'mcp-method': 'tools/call', 'mcp-name': 'get-sum' }, body }));
  assertRefused(name, 400, -32020, 'Mcp-Name mismatch');
  const missing = await unforwarded(() => raw(gh.url(), { headers: { ...headers, 'mcp-name': 'echo' }, body }));
  assertRefused(missing, 400, -32020, 'Mcp-Method missing');
  const noName = await unforwarded(() => raw(gh.url(), { headers: { ...headers, 'mcp-method': 'tools/call' }, body }));
  assertRefused(noName, 400, -32020, 'Mcp-Name missing');
  assert.match((noName.messages[0] as { error: { message: string } }).error.message, /Mcp-Name/);
  // Agreeing headers pass the check. The upstream (server-everything) speaks 2025-11-25 at most,
  // so the request is bridged (src/bridge/): served through a 2025 session Gatehouse opens, and
  // the upstream sees 2025 traffic, without 2026-07-28 routing headers.
  const seen = proxy.exchanges.length;
  // A served 2026-07-28 request carries its _meta (the bridge refuses one without, as the revision asks).
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const served = { ...body, params: { ...body.params, _meta: meta } };
  const agreeing = await raw(gh.url(), { headers: { ...headers, 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, body: served });
  assert.equal(agreeing.status, 200, agreeing.text);
  const result = (agreeing.messages[0] as { result?: { resultType?: string; content?: unknown } }).result;
  assert.equal(result?.resultType, 'complete', agreeing.text);
  const upstreamBodies = proxy.exchanges.slice(seen).map((e) => e.body);
  assert.ok(upstreamBodies.some((b) => b.includes('"method":"initialize"')), 'a 2025 session was opened upstream');
  const call = proxy.exchanges.slice(seen).find((e) => e.body.includes('"method":"tools/call"'));
  assert.ok(call, 'the call reached the upstream');
  assert.equal(call.requestHeaders['mcp-method'], undefined);
});

test('after all the bad input the raw session and a new SDK client still work', async (t) => {
  const res = await raw(gh.url(), { headers: session.headers, body: echo(99, 'unharmed') });
  assert.equal(res.status, 200);
  assert.match(res.text, /Echo: unharmed/);
  const { client, close } = await connectClient(gh.url());
  t.after(close);
  const result = await client.callTool({ name: 'echo', arguments: { message: 'all good' } });
  assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: all good' }]);
});
