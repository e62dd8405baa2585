// Upstream failures behind a Streamable HTTP server entry: a dead upstream (502), one that never
// answers (504), and answers larger than limits.maxResponseBytes. Each gives the client a
// JSON-RPC error it can act on, and Gatehouse keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, raw, startEverything, startTestGateway, INIT_REQUEST, MCP_HEADERS } from './helpers/gatehouse.ts';
import { closedPort, openRawSession, rpcErrorCode, startClosingKeepAliveServer, startSilentServer, startUnacceptingListener } from './helpers/http-peers.ts';

test('an upstream that is down gets 502 with a JSON-RPC error and the gateway keeps serving other APIs', async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const port = await closedPort();
  const gh = await startTestGateway({
    servers: { dead: { url: `http://127.0.0.1:${port}/mcp` }, everything: { url: `${everything.origin}/mcp` } },
    apis: [
      { name: 'dead', path: '/dead', server: 'dead', auth: { type: 'keyless' } },
      { name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } },
    ],
  });
  t.after(() => gh.close());

  const res = await raw(gh.url('dead'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(res.status, 502, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = res.messages[0] as { id: unknown; error: { code: number; message: string; data?: { code?: string } } };
  assert.equal(rpcErrorCode(body), -32010);
  assert.equal(body.id, 1, 'the error answers the request id');
  assert.equal(body.error.data?.code, 'GH_UPSTREAM_UNAVAILABLE');
  assert.equal(res.headers.get('mcp-session-id'), null, 'no session for a failed initialize');

  // The SDK client sees the failure as a rejected connect.
  await assert.rejects(connectClient(gh.url('dead')), /502|unavailable/i);

  const { client, close } = await connectClient(gh.url('everything'));
  t.after(close);
  assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'next door' } })).content, [{ type: 'text', text: 'Echo: next door' }]);
});

test('an upstream that does not accept the connection gets 504 after timeouts.connect', async (t) => {
  const stuck = await startUnacceptingListener();
  t.after(() => stuck.close());
  const gh = await startTestGateway({
    servers: { stuck: { url: `${stuck.origin}/mcp`, timeouts: { connect: '300ms', response: '30s' } } },
    apis: [{ name: 'stuck', path: '/stuck', server: 'stuck', auth: { type: 'keyless' } }],
  });
  t.after(() => gh.close());

  const started = Date.now();
  const res = await raw(gh.url('stuck'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(res.status, 504, res.text);
  const body = res.messages[0] as { id: unknown; error: { message: string; data?: { code?: string } } };
  assert.equal(rpcErrorCode(body), -32016);
  assert.equal(body.id, 1);
  assert.equal(body.error.data?.code, 'GH_UPSTREAM_TIMEOUT');
  assert.match(body.error.message, /did not accept the connection in time/);
  assert.ok(Date.now() - started < 10_000, 'the connect timeout, not the response timeout, ended it');
});

test('a request that meets a kept-alive connection the upstream just closed is sent again on a new one', async (t) => {
  for (const close of ['fin', 'reset'] as const) {
    const upstream = await startClosingKeepAliveServer(close);
    t.after(() => upstream.close());
    const gh = await startTestGateway({
      servers: { flaky: { url: `${upstream.origin}/mcp` } },
      apis: [{ name: 'flaky', path: '/mcp', server: 'flaky', auth: { type: 'keyless' } }],
    });
    t.after(() => gh.close());
    // 2026-07-28: no session, so each request is one upstream request.
    const headers = { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' };
    for (const id of [1, 2, 3]) {
      const res = await raw(gh.url(), { headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }) });
      assert.equal(res.status, 200, `${close}, request ${id}: ${res.text}`);
      assert.deepEqual(res.messages[0], { jsonrpc: '2.0', id, result: {} });
    }
    // Connection 1 answers request 1 and closes on request 2, which goes again on connection 2;
    // that one answers it and closes on request 3, which goes on connection 3. Before them,
    // Gatehouse's era probe (server/discover, to learn that this server speaks 2026-07-28 and
    // needs no bridge) was one request on a connection of its own.
    assert.equal(upstream.requests(), 5 + 1, close);
    assert.equal(upstream.connections(), 3 + 1, close);
  }
});

test('a request whose new connection the upstream closes without an answer is not sent again: 502', async (t) => {
  const upstream = await startClosingKeepAliveServer('fin', 0);
  t.after(() => upstream.close());
  const gh = await startTestGateway({
    servers: { closing: { url: `${upstream.origin}/mcp` } },
    apis: [{ name: 'closing', path: '/mcp', server: 'closing', auth: { type: 'keyless' } }],
  });
  t.after(() => gh.close());
  const res = await raw(gh.url(), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(res.status, 502, res.text);
  assert.equal((res.messages[0] as { error: { data?: { code?: string } } }).error.data?.code, 'GH_UPSTREAM_UNAVAILABLE');
  // Two requests: Gatehouse's era probe (server/discover, asked when a 2025 client first
  // initializes, to learn whether the server speaks only 2026-07-28) and the initialize, once.
  assert.equal(upstream.requests(), 2, 'the upstream may have acted on it: it is not sent twice');
});

test('an upstream that accepts the request but never answers gets 504 after timeouts.response', async (t) => {
  const silent = await startSilentServer();
  t.after(() => silent.close());
  const everything = await startEverything();
  t.after(() => everything.close());
  const gh = await startTestGateway({
    servers: { silent: { url: `${silent.origin}/mcp`, timeouts: { response: '500ms' } }, everything: { url: `${everything.origin}/mcp` } },
    apis: [
      { name: 'silent', path: '/silent', server: 'silent', auth: { type: 'keyless' } },
      { name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } },
    ],
  });
  t.after(() => gh.close());

  const res = await raw(gh.url('silent'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(res.status, 504, res.text);
  const body = res.messages[0] as { id: unknown; error: { data?: { code?: string } } };
  assert.equal(rpcErrorCode(body), -32016);
  assert.equal(body.id, 1);
  assert.equal(body.error.data?.code, 'GH_UPSTREAM_TIMEOUT');
  assert.ok(silent.requests() >= 1, 'the request did reach the silent upstream');
  await assert.rejects(connectClient(gh.url('silent')), /504|did not answer/i);

  const { client, close } = await connectClient(gh.url('everything'));
  t.after(close);
  assert.ok((await client.listTools()).tools.some((tool) => tool.name === 'echo'));
});

test('a tool result larger than limits.maxResponseBytes reaches the SDK client as a -32011 error and the session keeps working', async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  // 8 kb: the initialize result (with server-everything's instructions) fits, a 12 kb echo does not.
  const gh = await startTestGateway({
    servers: { everything: { url: `${everything.origin}/mcp` } },
    apis: [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } }],
    limits: { maxResponseBytes: '8kb' },
  });
  t.after(() => gh.close());

  const { client, close } = await connectClient(gh.url());
  t.after(close);
  await assert.rejects(
    client.callTool({ name: 'echo', arguments: { message: 'x'.repeat(12 * 1024) } }, undefined, { timeout: 15_000 }),
    (error: { code?: number; message?: string }) => {
      assert.equal(error.code, -32011, String(error.message));
      assert.match(String(error.message), /too large/i);
      return true;
    },
  );
  // Below the limit, answers still flow on the same session.
  assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'small again' } })).content, [{ type: 'text', text: 'Echo: small again' }]);
  const image = await client.callTool({ name: 'get-tiny-image', arguments: {} });
  assert.ok((image.content as Array<{ type: string }>).some((c) => c.type === 'image'));
  assert.ok(gh.logs.lines.some((l) => l.code === 'GH_UPSTREAM_RESPONSE_TOO_LARGE'), 'the refusal is logged');

  // On the wire: the SSE answer ends with a JSON-RPC error event for the request's id.
  const { headers } = await openRawSession(gh.url());
  const big = await raw(gh.url(), { headers, body: { jsonrpc: '2.0', id: 'big-1', method: 'tools/call', params: { name: 'echo', arguments: { message: 'y'.repeat(12 * 1024) } } } });
  assert.equal(big.status, 200);
  assert.match(big.headers.get('content-type') ?? '', /^text\/event-stream/);
  const last = big.messages.at(-1) as { id: unknown; error?: { code: number } };
  assert.equal(last.id, 'big-1');
  assert.equal(rpcErrorCode(last), -32011);
  assert.ok(!big.text.includes('y'.repeat(1024)), 'no part of the oversized message was relayed');
  const after = await raw(gh.url(), { headers, body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'fine' } } } });
  assert.match(after.text, /Echo: fine/);
});
