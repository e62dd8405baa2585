// jwt plan end to end against the real server-everything: JWKS, PEM and HMAC keys, required
// scopes (403 insufficient_scope), the principal claim and session binding, jwt beside api-key on
// one API, and an unreachable key set (503, not 401: the token may be fine).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { INIT_REQUEST, MCP_HEADERS, raw, rawSession, sessionHeaders, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { closedPort } from './helpers/http-peers.ts';

let everything: RunningEverything;
let issuer: TestIssuer;
let gh: TestGateway;
const HMAC_SECRET = 'hmac-secret-for-tests-4b1d9e7c2a8f6035';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

before(async () => {
  everything = await startEverything();
  issuer = await startTestIssuer();
  const server = 'everything';
  gh = await startTestGateway({
    servers: { everything: { url: `${everything.origin}/mcp` } },
    apis: [
      { name: 'jwks', path: '/jwks', server, auth: { type: 'jwt', issuer: issuer.issuer, audience: 'gatehouse', jwksUrl: issuer.jwksUrl, requiredScopes: ['tools:write'], principalClaim: 'client_id' } },
      { name: 'hmac', path: '/hmac', server, auth: { type: 'jwt', issuer: 'https://hmac.test', audience: ['gatehouse', 'other'], secret: HMAC_SECRET } },
      { name: 'pem', path: '/pem', server, auth: { type: 'jwt', issuer: 'https://pem.test', audience: 'gatehouse', publicKey: PEM } },
      { name: 'both', path: '/both', server, auth: [{ type: 'api-key' }, { type: 'jwt', issuer: issuer.issuer, audience: 'gatehouse', jwksUrl: issuer.jwksUrl }] },
      { name: 'down', path: '/down', server, auth: { type: 'jwt', issuer: issuer.issuer, audience: 'gatehouse', jwksUrl: `http://127.0.0.1:${await closedPort()}/jwks` } },
    ],
    agents: [{ id: 'keyed', apiKeys: [{ value: 'keyed-agent-key-0123456789' }] }],
  });
});

after(async () => {
  await gh?.close();
  await issuer?.close();
  await everything?.close();
});

const withToken = (token: string) => ({ ...MCP_HEADERS, authorization: `Bearer ${token}` });

test('JWKS: a valid token reaches the tools through the SDK client', async () => {
  const token = await issuer.sign({ aud: 'gatehouse', client_id: 'ci-bot', scope: 'mcp tools:write' });
  const client = new Client({ name: 'jwt-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(gh.url('jwks')), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: 'echo', arguments: { message: 'jwt' } });
    assert.equal((result.content as Array<{ text: string }>)[0]?.text, 'Echo: jwt');
  } finally {
    await transport.terminateSession();
    await client.close();
  }
});

test('required scopes: 403 insufficient_scope naming them; `scp` lists count too', async () => {
  const narrow = await issuer.sign({ aud: 'gatehouse', client_id: 'ci-bot', scope: 'mcp' });
  const answer = await raw(gh.url('jwks'), { headers: withToken(narrow), body: INIT_REQUEST });
  assert.equal(answer.status, 403);
  assert.equal(answer.headers.get('www-authenticate'), 'Bearer error="insufficient_scope", scope="tools:write", realm="gatehouse"');
  const scp = await issuer.sign({ aud: 'gatehouse', client_id: 'ci-bot', scp: ['tools:write'] });
  assert.equal((await raw(gh.url('jwks'), { headers: withToken(scp), body: INIT_REQUEST })).status, 200);
});

test('the principal claim names the agent: a session opened by one client id is not served to another', async () => {
  const a = await issuer.sign({ aud: 'gatehouse', client_id: 'agent-a', scope: 'tools:write' });
  const sameAgentOtherToken = await issuer.sign({ aud: 'gatehouse', client_id: 'agent-a', scope: 'tools:write', jti: 'second' });
  const b = await issuer.sign({ aud: 'gatehouse', client_id: 'agent-b', scope: 'tools:write' });
  const sessionId = await rawSession(gh.url('jwks'), { authorization: `Bearer ${a}` });
  const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
  assert.equal((await raw(gh.url('jwks'), { headers: { ...sessionHeaders(sessionId), authorization: `Bearer ${b}` }, body: list })).status, 404);
  assert.equal((await raw(gh.url('jwks'), { headers: { ...sessionHeaders(sessionId), authorization: `Bearer ${sameAgentOtherToken}` }, body: list })).status, 200);
  const noClaim = await issuer.sign({ aud: 'gatehouse', scope: 'tools:write' });
  const refused = await raw(gh.url('jwks'), { headers: withToken(noClaim), body: INIT_REQUEST });
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get('www-authenticate') ?? '', /token has no client_id claim/);
});

test('HMAC secret and PEM public key; each refuses the other\'s tokens', async () => {
  const now = Math.floor(Date.now() / 1000);
  const hmac = await new SignJWT({ sub: 'h', aud: 'other' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://hmac.test').setExpirationTime(now + 60).sign(new TextEncoder().encode(HMAC_SECRET));
  const pem = await new SignJWT({ sub: 'p', aud: 'gatehouse' }).setProtectedHeader({ alg: 'RS256' }).setIssuer('https://pem.test').setExpirationTime(now + 60).sign(rsa.privateKey);
  assert.equal((await raw(gh.url('hmac'), { headers: withToken(hmac), body: INIT_REQUEST })).status, 200, 'any of the audiences');
  assert.equal((await raw(gh.url('pem'), { headers: withToken(pem), body: INIT_REQUEST })).status, 200);
  const wrongSecret = await new SignJWT({ sub: 'h', aud: 'gatehouse' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://hmac.test').setExpirationTime(now + 60).sign(new TextEncoder().encode(`${HMAC_SECRET}x`));
  assert.match((await raw(gh.url('hmac'), { headers: withToken(wrongSecret), body: INIT_REQUEST })).headers.get('www-authenticate') ?? '', /token signature invalid/);
  // A PEM plan accepts RSA algorithms only: an HS256 token keyed with the PEM text is refused.
  const confused = await new SignJWT({ sub: 'p', aud: 'gatehouse' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://pem.test').setExpirationTime(now + 60).sign(new TextEncoder().encode(PEM));
  const answer = await raw(gh.url('pem'), { headers: withToken(confused), body: INIT_REQUEST });
  assert.equal(answer.status, 401);
  assert.match(answer.headers.get('www-authenticate') ?? '', /token algorithm not accepted/);
});

test('api-key and jwt on one API: each credential goes to its plan', async () => {
  const token = await issuer.sign({ aud: 'gatehouse', sub: 'svc' });
  assert.equal((await raw(gh.url('both'), { headers: withToken(token), body: INIT_REQUEST })).status, 200);
  assert.equal((await raw(gh.url('both'), { headers: withToken('keyed-agent-key-0123456789'), body: INIT_REQUEST })).status, 200);
  const neither = await raw(gh.url('both'), { headers: withToken('keyed-agent-key-9999999999'), body: INIT_REQUEST });
  assert.equal(neither.status, 401);
});

test('an unreachable JWKS: 503 GH_AUTH_UNAVAILABLE with Retry-After, not 401', async () => {
  const token = await issuer.sign({ aud: 'gatehouse' });
  const answer = await raw(gh.url('down'), { headers: withToken(token), body: INIT_REQUEST });
  assert.equal(answer.status, 503);
  assert.equal(answer.headers.get('retry-after'), '5');
  assert.equal((answer.messages[0] as { error: { data: { code: string } } }).error.data.code, 'GH_AUTH_UNAVAILABLE');
});
