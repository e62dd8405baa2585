// Users of the embedded authorization server belong to tenants, end to end: a Gatehouse with two
// tenants, each with an oauth2 API (embedded authorization server) in front of the real
// server-everything. Acme's user gets a token for Acme's API with the official SDK client and
// calls a tool; the same user is refused at sign-in for Globex's API (a page that names nothing
// of Globex), and so is a platform (default-tenant) user; a refresh token stops working when
// its user is moved to another tenant; self-registration lands in the API's tenant.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { decodeJwt } from 'jose';
import { LOCAL_EGRESS, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { browse, CookieJar, hiddenField, pkcePair, playUser, registerClient, TestOAuthClient, tokenRequest, type PlayedFlow } from './helpers/oauth-flow.ts';
import { createUser } from '../src/authserver/users.ts';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:45124/callback';
let everything: RunningEverything;
let gh: TestGateway;

before(async () => {
  everything = await startEverything();
  gh = await startTestGateway({
    authorizationServer: { selfRegistration: true, scopes: ['mcp', 'offline_access'] },
    tenants: [
      { id: 'acme', pathPrefix: '/acme', egress: LOCAL_EGRESS },
      { id: 'globex', pathPrefix: '/globex', egress: LOCAL_EGRESS },
    ],
    servers: {
      'acme-everything': { url: `${everything.origin}/mcp`, tenant: 'acme' },
      'globex-everything': { url: `${everything.origin}/mcp`, tenant: 'globex' },
      'platform-everything': { url: `${everything.origin}/mcp` },
    },
    apis: [
      { name: 'acme-api', path: '/acme/mcp', server: 'acme-everything', tenant: 'acme', auth: { type: 'oauth2' } },
      { name: 'globex-api', path: '/globex/mcp', server: 'globex-everything', tenant: 'globex', auth: { type: 'oauth2' } },
      { name: 'platform-api', path: '/mcp', server: 'platform-everything', auth: { type: 'oauth2' } },
    ],
  });
  await createUser(gh.gateway.store, 'anna', PASSWORD, 'acme');
  await createUser(gh.gateway.store, 'gil', PASSWORD, 'globex');
  await createUser(gh.gateway.store, 'root', PASSWORD);
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

/** The SDK client authorizes for `url` as `username`, then connects (as an application does). */
async function connectAs(url: string, username: string): Promise<{ client: Client; provider: TestOAuthClient; close(): Promise<void> }> {
  const flows: PlayedFlow[] = [];
  const provider = new TestOAuthClient(REDIRECT, async (authUrl) => void flows.push(await playUser(authUrl, { username, password: PASSWORD })));
  await assert.rejects(new Client({ name: 't', version: '1' }).connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider })), UnauthorizedError);
  const code = flows.at(-1)?.final.searchParams.get('code');
  assert.ok(code, 'a code was issued');
  await new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }).finishAuth(code);
  const client = new Client({ name: 't', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await client.connect(transport);
  return { client, provider, close: () => client.close() };
}

/** A hand-made authorization request for `resource`, signed in as `username`: the answer to the sign-in form. */
async function signInFor(resource: string, username: string): Promise<{ status: number; text: string; location: string | null; jar: CookieJar; interaction: string }> {
  const clientId = await registerClient(gh.origin, { redirect_uris: [REDIRECT] });
  const { challenge } = await pkcePair();
  const jar = new CookieJar();
  const authorize = new URL('/oauth/authorize', gh.origin);
  for (const [k, v] of Object.entries({ client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', resource, state: 's1' })) authorize.searchParams.set(k, v);
  const start = await browse(jar, authorize.href);
  assert.equal(start.status, 303, start.text);
  const login = await browse(jar, new URL(start.location!, gh.origin).href);
  const interaction = hiddenField(login.text, 'interaction');
  const answer = await browse(jar, `${gh.origin}/oauth/login`, { interaction, csrf: hiddenField(login.text, 'csrf'), username, password: PASSWORD });
  return { ...answer, jar, interaction };
}

test("acme's user gets a token for acme's API with the SDK client and calls a tool of server-everything", async () => {
  const url = gh.url('acme-api');
  const { client, provider, close } = await connectAs(url, 'anna');
  try {
    const claims = decodeJwt(provider.saved!.access_token);
    assert.equal(claims.aud, url);
    assert.equal(claims.preferred_username, 'anna');
    const result = await client.callTool({ name: 'echo', arguments: { message: 'acme only' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: acme only' }]);
  } finally {
    await close();
  }
});

test("acme's user is refused at sign-in for globex's API, with a page that tells nothing of globex; the request is over", async () => {
  const refused = await signInFor(gh.url('globex-api'), 'anna');
  assert.equal(refused.status, 403);
  assert.equal(refused.location, null, 'no code, no redirect');
  assert.match(refused.text, /Not your organisation/);
  assert.match(refused.text, /The account anna cannot be used with this application/);
  assert.doesNotMatch(refused.text, /globex/i);
  // The interaction ended: its consent page is gone.
  const consent = await browse(refused.jar, `${gh.origin}/oauth/consent?interaction=${refused.interaction}`);
  assert.notEqual(consent.status, 200);
  assert.ok(gh.logs.lines.some((l) => l.msg === 'authorization server: sign-in refused, the user belongs to another tenant than the API' && l.userTenant === 'acme' && l.apiTenant === 'globex'));
  // Globex's own user signs in there; the platform's user is refused there too, and is at home on the platform's API.
  assert.equal((await signInFor(gh.url('globex-api'), 'gil')).status, 303);
  assert.equal((await signInFor(gh.url('globex-api'), 'root')).status, 403);
  assert.equal((await signInFor(gh.url('acme-api'), 'root')).status, 403);
  assert.equal((await signInFor(gh.url('platform-api'), 'root')).status, 303);
  assert.equal((await signInFor(gh.url('platform-api'), 'anna')).status, 403, "a tenant's user does not reach the platform's APIs either");
});

test('a refresh token stops working once its user is moved to another tenant (the grant ends)', async () => {
  const url = gh.url('acme-api');
  const clientId = await registerClient(gh.origin, { redirect_uris: [REDIRECT] });
  const { verifier, challenge } = await pkcePair();
  const authorize = new URL('/oauth/authorize', gh.origin);
  for (const [k, v] of Object.entries({ client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', resource: url, scope: 'mcp offline_access', state: 's2' })) authorize.searchParams.set(k, v);
  await createUser(gh.gateway.store, 'mover', PASSWORD, 'acme');
  const flow = await playUser(authorize, { username: 'mover', password: PASSWORD });
  const code = flow.final.searchParams.get('code');
  assert.ok(code, flow.final.href);
  const tokens = await tokenRequest(gh.origin, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource: url });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const refresh = String(tokens.body.refresh_token);
  const first = await tokenRequest(gh.origin, { grant_type: 'refresh_token', refresh_token: refresh, client_id: clientId });
  assert.equal(first.status, 200, 'refreshes while in acme');
  assert.equal(await gh.gateway.store.setUserTenant('mover', 'globex'), true);
  const moved = await tokenRequest(gh.origin, { grant_type: 'refresh_token', refresh_token: String(first.body.refresh_token), client_id: clientId });
  assert.equal(moved.status, 400);
  assert.equal(moved.body.error, 'invalid_grant');
  assert.match(String(moved.body.error_description), /does not belong to the tenant of this API/);
  assert.doesNotMatch(String(moved.body.error_description), /globex|acme/);
});

test("self-registration at acme's API makes an acme user, who is refused at globex's", async () => {
  const clientId = await registerClient(gh.origin, { redirect_uris: [REDIRECT] });
  const { challenge } = await pkcePair();
  const jar = new CookieJar();
  const authorize = new URL('/oauth/authorize', gh.origin);
  for (const [k, v] of Object.entries({ client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', resource: gh.url('acme-api'), state: 's3' })) authorize.searchParams.set(k, v);
  const start = await browse(jar, authorize.href);
  const interaction = new URL(start.location!, gh.origin).searchParams.get('interaction')!;
  const signup = await browse(jar, `${gh.origin}/oauth/signup?interaction=${interaction}`);
  assert.equal(signup.status, 200, signup.text);
  const created = await browse(jar, `${gh.origin}/oauth/signup`, { interaction, csrf: hiddenField(signup.text, 'csrf'), username: 'newbie', password: PASSWORD });
  assert.equal(created.status, 303, created.text);
  assert.equal((await gh.gateway.store.getUserByName('newbie'))?.tenant, 'acme');
  assert.equal((await signInFor(gh.url('globex-api'), 'newbie')).status, 403);
});
