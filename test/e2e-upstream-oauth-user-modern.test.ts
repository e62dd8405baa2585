// Per-user upstream OAuth for a 2026-07-28 client of a server that speaks 2026-07-28 (the v2
// server SDK): the first call gets, instead of the 2025 error -32042, a multi round-trip answer —
// `input_required` whose input request is the URL-mode elicitation naming the connect link; the
// person connects their upstream account (oidc-provider as the upstream's authorization server,
// played over HTTP); the client's retry with `inputResponses` and the request state goes to the
// server as the plain call, with that person's own upstream token. Nothing of Gatehouse's round
// reaches the server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { MCP_HEADERS, raw, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { followInBrowser, startUpstreamIdp, type UpstreamIdp } from './helpers/upstream-idp.ts';
import { startStatelessServer, type RunningStatelessServer } from './helpers/stateless-server.ts';

const MODERN = '2026-07-28';
let agents: TestIssuer;
let idp: UpstreamIdp;
let modern: RunningStatelessServer;
let gh: TestGateway;

before(async () => {
  agents = await startTestIssuer();
  let upstreamUrl = '';
  idp = await startUpstreamIdp(() => upstreamUrl);
  modern = await startStatelessServer({ modernOnly: true });
  upstreamUrl = modern.url;
  gh = await startTestGateway({
    servers: { modern: { url: modern.url, auth: { type: 'oauth-user', issuer: idp.issuer, scopes: ['mcp'] } } },
    apis: [{ name: 'modern', path: '/mcp', server: 'modern', auth: { type: 'oauth2', issuer: agents.issuer } }],
  });
});

after(async () => {
  await gh?.close();
  await modern?.close();
  await idp?.close();
  await agents?.close();
});

interface Answer {
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

async function call(token: string, params: Record<string, unknown>): Promise<Answer> {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { url: {} } }, 'io.modelcontextprotocol/clientInfo': { name: 'oauth-user-modern', version: '1' } };
  const headers = { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
  const answer = await raw(gh.url('modern'), { headers, body: { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' }, ...params, _meta: envelope } } });
  assert.equal(answer.status, 200, answer.text);
  return answer.messages.at(-1) as Answer;
}

test('a 2026-07-28 client gets input_required with the connect link; after the person connects, its retry reaches the server as the plain call with their own token', { timeout: 60_000 }, async () => {
  const token = await agents.sign({ sub: 'grace', aud: gh.url('modern'), scope: 'mcp' });
  const first = await call(token, {});
  assert.equal(first.error, undefined, JSON.stringify(first.error));
  assert.equal(first.result!.resultType, 'input_required');
  const requests = first.result!.inputRequests as Record<string, { method: string; params: { mode: string; url: string; elicitationId: string; message: string } }>;
  const [[key, request]] = Object.entries(requests) as [[string, (typeof requests)[string]]];
  assert.equal(request.method, 'elicitation/create');
  assert.equal(request.params.mode, 'url');
  assert.ok(request.params.url.startsWith(`${gh.origin}/-/connect/modern?ticket=`), request.params.url);
  assert.equal(typeof first.result!.requestState, 'string');
  assert.ok(!modern.received.some((r) => r.body.includes('"tools/call"')), 'the server saw no call yet');

  // A retry before the person connected: asked again.
  const early = await call(token, { inputResponses: { [key]: { action: 'accept' } }, requestState: first.result!.requestState });
  assert.equal(early.result?.resultType, 'input_required');

  idp.loginAs = 'grace-upstream';
  const page = await followInBrowser(request.params.url);
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Connected/);

  const retry = await call(token, { inputResponses: { [key]: { action: 'accept' } }, requestState: first.result!.requestState });
  assert.equal(retry.error, undefined, JSON.stringify(retry.error));
  assert.deepEqual(retry.result!.content, [{ type: 'text', text: 'Echo: hi' }]);
  const reached = modern.received.filter((r) => r.body.includes('"tools/call"'));
  assert.equal(reached.length, 1, 'one call reached the server');
  const params = (JSON.parse(reached[0]!.body) as { params: Record<string, unknown> }).params;
  assert.equal(params.requestState, undefined, 'Gatehouse\'s request state stays with Gatehouse');
  assert.equal(params.inputResponses, undefined, 'and so do its input keys');
  const authorization = String(reached[0]!.headers.authorization ?? '');
  assert.ok(authorization.startsWith('Bearer '), 'the call carries an upstream token');
  const { payload } = await jwtVerify(authorization.slice('Bearer '.length), createRemoteJWKSet(new URL(`${idp.issuer}/jwks`)), { issuer: idp.issuer, audience: modern.url });
  assert.equal(payload.sub, 'grace-upstream', 'the person\'s own upstream account');
  assert.ok(!JSON.stringify(retry).includes(authorization.slice('Bearer '.length)), 'the agent never sees it');
});
