// The admin listener end to end: its own port, health without authentication, everything else
// behind the admin token or a signed-in session; agents' API keys and OAuth access tokens (which
// work on the MCP listener) are refused; the sign-in form with its cookie, sign-out, sign-in as an
// admin user of the embedded authorization server; Host/Origin checks; the token file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:net';
import { INIT_REQUEST, MCP_HEADERS, raw, startEverything, startTestGateway, tempDir } from './helpers/gatehouse.ts';
import { nodeRequest } from './helpers/http-peers.ts';
import { sendRaw } from './helpers/raw-http.ts';
import { CookieJar, pkcePair, playUser, registerClient, startOAuthGateway, tokenRequest, USER, type OAuthSetup } from './helpers/oauth-flow.ts';
import { createUser } from '../src/authserver/users.ts';

const ALICE_KEY = 'alice-agent-key-5d1e07c9a3';
const REDIRECT = 'http://127.0.0.1:9999/callback';
let setup: OAuthSetup;
let admin: string;
let token: string;
let dataDir: string;

before(async () => {
  dataDir = tempDir();
  setup = await startOAuthGateway(
    {
      agents: [{ id: 'alice', apiKeys: [{ value: ALICE_KEY }] }],
      apis: [
        { name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'oauth2' } },
        { name: 'keyed', path: '/keyed', server: 'everything', auth: { type: 'api-key' } },
      ],
      admin: { users: [USER.username] },
    },
    { dataDir },
  );
  await createUser(setup.gh.gateway.store, 'bob', 'bob-password-not-admin');
  admin = setup.gh.gateway.admin!.url.replace(/\/$/, '');
  token = setup.gh.gateway.admin!.token.token;
});
after(async () => {
  await setup.close();
});

const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

async function get(pathname: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${admin}${pathname}`, { headers, redirect: 'manual' });
}

async function post(pathname: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${admin}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
}

/** An access token of the embedded authorization server, obtained as a real client does (DCR, PKCE, sign-in, consent). */
async function oauthAccessToken(): Promise<string> {
  const origin = setup.gh.origin;
  const clientId = await registerClient(origin, { redirect_uris: [REDIRECT] });
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's', resource: setup.url });
  const { final } = await playUser(`${origin}/oauth/authorize?${query}`);
  const code = final.searchParams.get('code');
  assert.ok(code, final.href);
  const tokens = await tokenRequest(origin, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource: setup.url });
  assert.equal(tokens.status, 200);
  return String(tokens.body.access_token);
}

test('the admin listener is a separate loopback port; health needs no authentication', async () => {
  const url = new URL(admin);
  assert.equal(url.hostname, '127.0.0.1');
  assert.notEqual(Number(url.port), setup.gh.gateway.port);
  const health = await get('/-/health');
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok', mode: 'file' });
  // The MCP listener does not serve the admin routes.
  assert.equal((await fetch(`${setup.gh.origin}/metrics`)).status, 404);
});

test('without credentials: 401 with a Bearer challenge for the API and /metrics, a redirect to sign-in for a browser', async () => {
  for (const pathname of ['/metrics', '/api/meta', '/']) {
    const answer = await get(pathname);
    assert.equal(answer.status, 401, pathname);
    assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="gatehouse-admin"');
    assert.match(((await answer.json()) as { error: string }).error, /Admin authentication required/);
  }
  const page = await get('/logs?api=x', { accept: 'text/html,application/xhtml+xml' });
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), `/login?next=${encodeURIComponent('/logs?api=x')}`);
  assert.equal((await get('/metrics', bearer('not-the-admin-token-at-all'))).status, 401);
});

test("an agent's API key and an OAuth access token work on the MCP listener and never on the admin listener", async () => {
  const keyed = await raw(`${setup.gh.origin}/keyed`, { headers: { ...MCP_HEADERS, ...bearer(ALICE_KEY) }, body: INIT_REQUEST });
  assert.equal(keyed.status, 200, `the key is good: ${keyed.text}`);
  const access = await oauthAccessToken();
  const viaOAuth = await raw(setup.url, { headers: { ...MCP_HEADERS, ...bearer(access) }, body: INIT_REQUEST });
  assert.equal(viaOAuth.status, 200, `the token is good: ${viaOAuth.text}`);

  for (const credential of [ALICE_KEY, access]) {
    for (const pathname of ['/metrics', '/api/meta', '/api/overview', '/']) {
      assert.equal((await get(pathname, bearer(credential))).status, 401, `${pathname} refuses an agent credential`);
    }
    const signIn = await post('/login', { token: credential });
    assert.equal(signIn.status, 401, 'the sign-in form refuses it too');
    assert.equal(signIn.headers.get('set-cookie'), null);
  }
});

test('the admin token opens /metrics, the admin API and the dashboard', async () => {
  const metrics = await get('/metrics', bearer(token));
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /gatehouse_requests_total/);
  const meta = await get('/api/meta', bearer(token));
  assert.equal(meta.status, 200);
  assert.deepEqual(((await meta.json()) as { apis: Array<{ name: string }> }).apis.map((a) => a.name), ['everything', 'keyed']);
  const home = await get('/', bearer(token));
  assert.equal(home.status, 200);
  assert.match(home.headers.get('content-type') ?? '', /^text\/html/);
});

test('sign-in with the token: an HttpOnly SameSite=Strict cookie that opens the admin API until sign-out', async () => {
  const form = await get('/login?next=%2Fapi%2Fmeta');
  assert.equal(form.status, 200);
  const html = await form.text();
  assert.match(html, /<form method="post" action="\/login">/);
  assert.match(html, /name="token"/);
  assert.match(html, /name="next" value="\/api\/meta"/);
  assert.match(html, /name="username"/, 'admin users are configured: the user form is shown too');

  const wrong = await post('/login', { token: 'wrong-token-wrong-token' });
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /not the admin token/);

  const signedIn = await post('/login', { token, next: '/api/meta' });
  assert.equal(signedIn.status, 303);
  assert.equal(signedIn.headers.get('location'), '/api/meta');
  const cookie = signedIn.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^gatehouse_admin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
  const jar = new CookieJar();
  jar.take(signedIn);
  const session = { cookie: jar.header() };
  assert.equal((await get('/api/meta', session)).status, 200);
  assert.equal((await get('/metrics', session)).status, 200);
  assert.ok(!JSON.stringify(setup.gh.logs.lines).includes(token), 'the token is never logged');

  // Sign-out ends the session on the server, not only in the browser.
  const out = await post('/logout', {}, session);
  assert.equal(out.status, 303);
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  assert.equal((await get('/api/meta', session)).status, 401);
});

test('sign-in refuses other origins and cross-site requests, and redirects only to this listener', async () => {
  const foreign = await post('/login', { token }, { origin: 'http://evil.example' });
  assert.equal(foreign.status, 403);
  assert.equal(foreign.headers.get('set-cookie'), null);
  const crossSite = await post('/login', { token }, { 'sec-fetch-site': 'cross-site' });
  assert.equal(crossSite.status, 403);
  const own = await post('/login', { token }, { origin: admin, 'sec-fetch-site': 'same-origin' });
  assert.equal(own.status, 303);
  for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/ok\r\nset-cookie: x=y']) {
    const answer = await post('/login', { token, next });
    assert.equal(answer.status, 303);
    assert.equal(answer.headers.get('location'), '/', `next=${JSON.stringify(next)} is not followed`);
  }
  assert.equal((await fetch(`${admin}/login`, { method: 'PUT' })).status, 405);
  assert.equal((await get('/logout')).status, 405, 'sign-out is a POST');
});

test('sign-in as a user of the embedded authorization server listed in admin.users', async () => {
  const listed = await post('/login', { username: USER.username, password: USER.password });
  assert.equal(listed.status, 303);
  const jar = new CookieJar();
  jar.take(listed);
  const meta = await get('/api/meta', { cookie: jar.header() });
  assert.equal(meta.status, 200);
  assert.ok(setup.gh.logs.lines.some((l) => l.msg === 'admin: signed in' && l.admin === USER.username));

  const notListed = await post('/login', { username: 'bob', password: 'bob-password-not-admin' });
  assert.equal(notListed.status, 401, 'a user who is not an admin user');
  assert.equal(notListed.headers.get('set-cookie'), null);
  const wrongPassword = await post('/login', { username: USER.username, password: 'not the password' });
  assert.equal(wrongPassword.status, 401);
  assert.match(await wrongPassword.text(), /value="ada"/, 'the form keeps the name');
});

test('Host and Origin checks as on the MCP listener', async () => {
  const url = new URL(admin);
  const badHost = await nodeRequest(`${admin}/-/health`, { headers: { host: `evil.example:${url.port}` } });
  assert.equal(badHost.status, 403);
  const badOrigin = await get('/metrics', { ...bearer(token), origin: 'http://evil.example' });
  assert.equal(badOrigin.status, 403);
  assert.equal((await get('/metrics', { ...bearer(token), origin: `http://localhost:${url.port}` })).status, 200);
});

test('the generated token lives in <dataDir>/admin.token (0600) and is reused after a restart', async (t) => {
  const file = path.join(dataDir, 'admin.token');
  assert.equal(readFileSync(file, 'utf8').trim(), token);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(token, /^gha_[A-Za-z0-9_-]{43}$/);
  const everything = await startEverything();
  // One running Gatehouse per data directory: the restarted one reads a copy of the token file.
  const restarted = tempDir();
  copyFileSync(file, path.join(restarted, 'admin.token'));
  const again = await startTestGateway({ servers: { e: { url: `${everything.origin}/mcp` } }, apis: [{ name: 'e', path: '/mcp', server: 'e' }] }, { dataDir: restarted });
  t.after(async () => {
    await again.close();
    await everything.close();
  });
  assert.equal(again.gateway.admin!.token.token, token);
  assert.equal((await fetch(`${again.gateway.admin!.url}metrics`, { headers: bearer(token) })).status, 200);
  const started = again.logs.lines.find((l) => l.msg === 'admin listening');
  assert.equal(started?.token, path.join(restarted, 'admin.token'), 'the log names where the token is');
  assert.equal(started?.tokenId, again.gateway.admin!.token.id);
  assert.ok(!again.logs.text().includes(token));
});

test('a configured token replaces the file; an admin.port that is taken stops the start, naming it; admin.enabled: false', async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const base = { servers: { e: { url: `${everything.origin}/mcp` } }, apis: [{ name: 'e', path: '/mcp', server: 'e' }] };
  const configured = await startTestGateway({ ...base, admin: { token: 'configured-admin-token-1234' } });
  t.after(() => configured.close());
  assert.equal((await fetch(`${configured.gateway.admin!.url}metrics`, { headers: bearer('configured-admin-token-1234') })).status, 200);

  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as { port: number }).port;
  await assert.rejects(startTestGateway({ ...base, admin: { port } }), (error: Error) => {
    assert.match(error.message, new RegExp(`admin listener: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(EADDRINUSE\\)`));
    return true;
  });

  const disabled = await startTestGateway({ ...base, admin: { enabled: false } });
  t.after(() => disabled.close());
  assert.equal(disabled.gateway.admin, undefined);
});

test('bad admin, metrics and tracing settings are refused naming the file, the field and what is expected', async () => {
  const { parseConfigText } = await import('../src/config/load.ts');
  const base = 'servers:\n  e: { url: "http://127.0.0.1:3001/mcp" }\napis:\n  - { name: e, path: /mcp, server: e }\n';
  const refused = (extra: string, field: string, message: RegExp) => {
    assert.throws(
      () => parseConfigText(base + extra, 'gatehouse.yaml', {}),
      (error: Error & { problems?: Array<{ field: string; message: string }> }) => {
        assert.match(error.message, /gatehouse\.yaml/);
        const problem = error.problems?.find((p) => p.field === field);
        assert.ok(problem, `${field} named in: ${error.message}`);
        assert.match(problem.message, message);
        return true;
      },
    );
  };
  refused('admin:\n  token: short\n', 'admin.token', /at least 16 characters/);
  refused('admin:\n  port: 70000\n', 'admin.port', /65535/);
  refused('admin:\n  users: ["not a name"]\n', 'admin.users[0]', /username/);
  refused('metrics:\n  labels: { tools: true }\n', 'metrics.labels.tools', /unknown field/);
  refused('tracing:\n  enabled: true\n  endpoint: collector:4318\n', 'tracing.endpoint', /absolute http/);
  refused('tracing:\n  sampleRatio: 2\n', 'tracing.sampleRatio', /1/);
});

test('two Authorization headers on the admin listener are refused with 400, whichever comes first (the first used to win silently)', async () => {
  for (const pair of [[`Bearer ${token}`, 'Bearer junk'], ['Bearer junk', `Bearer ${token}`], [`Bearer ${token}`, `Bearer ${token}`]]) {
    const answer = await sendRaw(`${admin}/api/meta`, { headers: pair.map((v): [string, string] => ['Authorization', v]) });
    assert.equal(answer.status, 400, pair.map((p) => p.slice(0, 12)).join(' + '));
    assert.match(answer.text, /Authorization header must be sent once/);
  }
  assert.equal((await sendRaw(`${admin}/api/meta`, { headers: [['Authorization', `Bearer ${token}`]] })).status, 200, 'one good token passes');
});
