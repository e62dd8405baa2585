// passthrough end to end: an upstream that really enforces OAuth (the SDK's bearer middleware and
// MCP server, tokens from a real authorization server), Gatehouse in front of it relaying the
// 401 and the metadata rewritten to point at itself, and the official SDK client running the flow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { INIT_REQUEST, MCP_HEADERS, raw, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { startOAuthUpstream, type OAuthUpstream } from './helpers/auth-upstream.ts';
import { startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';
import { connectWithOAuth } from './helpers/auth-client.ts';

let issuer: TestIssuer;
let upstream: OAuthUpstream;
let proxy: RecordingProxy;
let gh: TestGateway;

before(async () => {
  issuer = await startTestIssuer();
  upstream = await startOAuthUpstream(issuer, () => gh.url('secured'));
  proxy = await startRecordingProxy(upstream.origin);
  gh = await startTestGateway({
    servers: { secured: { url: `${proxy.origin}/mcp` } },
    apis: [{ name: 'secured', path: '/secured', server: 'secured', auth: { type: 'passthrough' } }],
  });
});

after(async () => {
  await gh?.close();
  await proxy?.close();
  await upstream?.close();
  await issuer?.close();
});

const prm = () => `${gh.origin}/.well-known/oauth-protected-resource/secured`;

test('without a token: the upstream\'s 401 comes back with resource_metadata pointing at Gatehouse', async () => {
  const answer = await raw(gh.url('secured'), { body: INIT_REQUEST });
  assert.equal(answer.status, 401);
  const challenge = answer.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer error="invalid_token"/, 'the upstream\'s own challenge is relayed');
  assert.ok(challenge.includes(`resource_metadata="${prm()}"`), challenge);
  assert.ok(!challenge.includes(upstream.origin), 'the upstream\'s address is not shown');
});

test('Gatehouse serves the upstream\'s metadata with resource rewritten to the Gatehouse URL', async () => {
  const answer = await fetch(prm());
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), {
    resource: gh.url('secured'),
    authorization_servers: [issuer.issuer],
    scopes_supported: ['mcp'],
    bearer_methods_supported: ['header'],
  });
});

test('the SDK client gets a token from the upstream\'s authorization server; Gatehouse forwards it as sent', async () => {
  const { client, close } = await connectWithOAuth(gh.url('secured'));
  try {
    const tools = await client.listTools();
    assert.deepEqual(tools.tools.map((t) => t.name), ['whoami']);
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const seen = JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as { clientId: string; resource: string };
    assert.ok(seen.clientId !== '', 'the upstream saw the client\'s token');
    assert.equal(seen.resource, gh.url('secured'), 'the token names Gatehouse\'s URL as its audience (see docs/auth.md)');
  } finally {
    await close();
  }
  const token = issuer.issued.at(-1)!.token;
  const forwarded = proxy.exchanges.filter((e) => e.requestHeaders.authorization !== undefined);
  assert.ok(forwarded.length > 0);
  for (const exchange of forwarded) assert.equal(exchange.requestHeaders.authorization, `Bearer ${token}`);
});

test('a session is bound to the token that opened it', async () => {
  const tokenA = await issuer.sign({ aud: gh.url('secured'), client_id: 'a', scope: 'mcp' });
  const tokenB = await issuer.sign({ aud: gh.url('secured'), client_id: 'b', scope: 'mcp' });
  const init = await raw(gh.url('secured'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${tokenA}` }, body: INIT_REQUEST });
  assert.equal(init.status, 200, init.text);
  const sessionId = init.headers.get('mcp-session-id')!;
  const headers = { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
  const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
  assert.equal((await raw(gh.url('secured'), { headers: { ...headers, authorization: `Bearer ${tokenB}` }, body: list })).status, 404);
  assert.equal((await raw(gh.url('secured'), { headers: { ...headers, authorization: `Bearer ${tokenA}` }, body: list })).status, 200);
});

test('a token the upstream refuses is refused by the upstream, not by Gatehouse (the audience trade-off)', async () => {
  const elsewhere = await issuer.sign({ aud: 'https://another-resource.test/mcp', scope: 'mcp' });
  const answer = await raw(gh.url('secured'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${elsewhere}` }, body: INIT_REQUEST });
  assert.equal(answer.status, 401);
  assert.match(answer.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  assert.ok(proxy.exchanges.some((e) => e.requestHeaders.authorization === `Bearer ${elsewhere}`), 'Gatehouse could not judge it and passed it on');
});

test('without a session, a GET, a DELETE and a non-initialize POST reach the upstream\'s challenge: 401 with resource_metadata rewritten (they got 400 GH_SESSION_REQUIRED)', async () => {
  const requests: Array<{ method: string; headers: Record<string, string>; body?: unknown }> = [
    { method: 'GET', headers: { accept: 'text/event-stream' } },
    { method: 'GET', headers: { accept: 'application/json, text/event-stream' } }, // what mcp-remote probes with
    { method: 'DELETE', headers: {} },
    { method: 'POST', headers: { ...MCP_HEADERS }, body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } },
    { method: 'POST', headers: { ...MCP_HEADERS }, body: { jsonrpc: '2.0', method: 'notifications/initialized' } },
  ];
  for (const request of requests) {
    for (const authorization of [undefined, 'Bearer not-a-token-the-upstream-knows']) {
      const headers = { ...request.headers, ...(authorization ? { authorization } : {}) };
      const answer = await raw(gh.url('secured'), { method: request.method, headers, ...(request.body ? { body: request.body } : {}) });
      const label = `${request.method} ${JSON.stringify(request.body ?? '')} ${authorization ? 'with a bad token' : 'without a token'}`;
      assert.equal(answer.status, 401, `${label}: ${answer.text}`);
      const challenge = answer.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer error="invalid_token"/, label);
      assert.ok(challenge.includes(`resource_metadata="${prm()}"`), `${label}: ${challenge}`);
    }
  }
  // With a good token and no session, what the upstream says about sessions is its own answer
  // (this one is stateless: it opens a stream for a GET, and answers a request without a session).
  const token = await issuer.sign({ aud: gh.url('secured'), client_id: 'c', scope: 'mcp' });
  const stop = new AbortController();
  const stream = await fetch(gh.url('secured'), { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` }, signal: stop.signal });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
  stop.abort();
  const list = await raw(gh.url('secured'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: { jsonrpc: '2.0', id: 3, method: 'tools/list' } });
  assert.equal(list.status, 200, list.text);
  // A session that is named is still Gatehouse's to check: an unknown one is 404, whoever asks.
  const named = await raw(gh.url('secured'), { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': 'gh1.forged' } });
  assert.equal(named.status, 404);
});
