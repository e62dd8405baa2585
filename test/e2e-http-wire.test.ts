// What Gatehouse puts on the wire for a Streamable HTTP upstream: answers relayed with the
// upstream's own status and content type (SSE as SSE, JSON as JSON, 202 without a body), and
// requests forwarded as what Gatehouse parsed (re-serialized), never as the client's raw bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MCP_HEADERS, connectClient, raw, startEverything, type RawResponse, type RunningEverything, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { openRawSession, rpcErrorCode, startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';

let everything: RunningEverything;
let proxy: RecordingProxy;
let gh: TestGateway;

before(async () => {
  everything = await startEverything();
  proxy = await startRecordingProxy(everything.origin);
  gh = await startTestGateway({
    servers: { everything: { url: `${proxy.origin}/mcp` } },
    apis: [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } }],
  });
});

after(async () => {
  await gh?.close();
  await proxy?.close();
  await everything?.close();
});

const direct = () => `${everything.origin}/mcp`;
const contentType = (res: RawResponse | Response) => res.headers.get('content-type');

test('answers keep the upstream status and content type: SSE for requests, 202 without a body for notifications and responses', async () => {
  // server-everything runs the SDK transport in streaming mode: it answers every request as
  // text/event-stream and only errors as application/json. The same request sent directly and
  // through Gatehouse must come back the same way.
  const viaGateway = await openRawSession(gh.url(), '2025-06-18');
  const viaDirect = await openRawSession(direct(), '2025-06-18');
  const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
  const [g, d] = [await raw(gh.url(), { headers: viaGateway.headers, body: list }), await raw(direct(), { headers: viaDirect.headers, body: list })];
  assert.equal(g.status, d.status);
  assert.equal(contentType(g), contentType(d));
  assert.match(contentType(g) ?? '', /^text\/event-stream/);
  assert.deepEqual(g.messages, d.messages, 'same tools/list result either way');

  // A notification and a (stray) response: 202, no body, no content type, both ways.
  for (const body of [{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, { jsonrpc: '2.0', id: 'not-asked', result: {} }]) {
    const viaG = await raw(gh.url(), { headers: viaGateway.headers, body });
    const viaD = await raw(direct(), { headers: viaDirect.headers, body });
    assert.equal(viaD.status, 202);
    assert.equal(viaG.status, 202, `${JSON.stringify(body)}: ${viaG.text}`);
    assert.equal(viaG.text, '');
    assert.equal(contentType(viaG), contentType(viaD));
  }
});

test('a JSON answer from the upstream is relayed as JSON with its status and body', async (t) => {
  // A second standalone GET stream on one session: the upstream refuses it with 409 and a JSON
  // body. Through Gatehouse, the same.
  const viaGateway = await openRawSession(gh.url(), '2025-06-18');
  const viaDirect = await openRawSession(direct(), '2025-06-18');
  const getHeaders = (h: Record<string, string>) => ({ accept: 'text/event-stream', 'mcp-session-id': h['mcp-session-id']!, 'mcp-protocol-version': '2025-06-18' });
  const opened: AbortController[] = [];
  t.after(() => opened.forEach((c) => c.abort()));
  const openStream = async (url: string, h: Record<string, string>) => {
    const controller = new AbortController();
    opened.push(controller);
    const res = await fetch(url, { method: 'GET', headers: getHeaders(h), signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(contentType(res) ?? '', /^text\/event-stream/);
    return res;
  };
  await openStream(gh.url(), viaGateway.headers);
  await openStream(direct(), viaDirect.headers);
  const g = await raw(gh.url(), { method: 'GET', headers: getHeaders(viaGateway.headers) });
  const d = await raw(direct(), { method: 'GET', headers: getHeaders(viaDirect.headers) });
  assert.equal(d.status, 409);
  assert.equal(g.status, d.status, g.text);
  assert.equal(contentType(g), contentType(d));
  assert.match(contentType(g) ?? '', /^application\/json/);
  assert.deepEqual(g.messages, d.messages);
  assert.equal(rpcErrorCode(g.messages[0]), -32000);
});

test('the upstream receives what Gatehouse parsed: duplicate keys resolved as JSON.parse does, one canonical serialization', async () => {
  const { headers } = await openRawSession(gh.url(), '2025-06-18');
  const send = async (text: string) => {
    const seen = proxy.exchanges.length;
    const res = await raw(gh.url(), { headers, body: text });
    const forwarded = proxy.exchanges.slice(seen).filter((x) => x.method === 'POST');
    assert.equal(forwarded.length, 1, 'one upstream request');
    return { res, upstreamBody: forwarded[0]!.body };
  };

  // Duplicate keys: a checker reading the first "name" would see echo; the upstream must see
  // exactly what Gatehouse decided the message is (the last value wins in JSON.parse).
  const duplicate = '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","name":"get-sum","arguments":{"message":"dup","a":1,"a":2,"b":3}}}';
  const dup = await send(duplicate);
  assert.equal(dup.upstreamBody, JSON.stringify(JSON.parse(duplicate)));
  assert.ok(!dup.upstreamBody.includes('"echo"'));
  assert.equal(dup.res.status, 200);
  const sum = dup.res.messages.at(-1) as { id: number; result: { content: Array<{ text: string }> } };
  assert.equal(sum.id, 5);
  assert.match(sum.result.content[0]!.text, /\b5\b/, 'get-sum ran with a=2, b=3');

  // Whitespace, escapes (\u0065 is "e"), non-ASCII, U+2028 and an id written as 6.0.
  const escaped = String.raw`  {  "jsonrpc" : "2.0" ,
    "id" : 6.0 ,	"method" : "tools/call" ,
    "params" : { "name" : "\u0065cho" , "arguments" : { "message" : "caf\u00e9 \ud83d\ude00 \u2028 \"q\" \/ tab\t" } } }  `;
  const esc = await send(escaped);
  assert.equal(esc.upstreamBody, JSON.stringify(JSON.parse(escaped)));
  assert.notEqual(esc.upstreamBody, escaped);
  assert.ok(esc.upstreamBody.startsWith('{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo",'), esc.upstreamBody);
  const echoed = esc.res.messages.at(-1) as { id: number; result: { content: Array<{ text: string }> } };
  assert.equal(echoed.id, 6);
  assert.equal(echoed.result.content[0]!.text, 'Echo: café 😀 \u2028 "q" / tab\t');
});

test('after the wire checks a new SDK client works through Gatehouse', async (t) => {
  const { client, close } = await connectClient(gh.url());
  t.after(close);
  assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'on the wire' } })).content, [{ type: 'text', text: 'Echo: on the wire' }]);
  // Plain JSON-RPC still flows raw as well.
  const { headers } = await openRawSession(gh.url());
  const ping = await raw(gh.url(), { headers: { ...headers, accept: MCP_HEADERS.accept }, body: { jsonrpc: '2.0', id: 'p', method: 'ping' } });
  assert.deepEqual(ping.messages.at(-1), { jsonrpc: '2.0', id: 'p', result: {} });
});

