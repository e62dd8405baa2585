// "Sign in with Gatehouse" on the admin listener, over real HTTP: the admin listener's button
// opens a flow, the person signs in at the embedded authorization server (its sign-in page; the
// built-in admin client has no consent page), and the admin listener's callback turns the answer into an admin session with the role
// admin.users gives. Each refusal gets its page and status: a state that is not the flow's, a
// user who is not an admin, a user disabled after signing in, a code replayed, a callback with no
// open flow, and a token request for the admin client at the public token endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createUser } from '../src/authserver/users.ts';
import { startTestGateway } from './helpers/gatehouse.ts';
import { browse, CookieJar, hiddenField, startOAuthGateway, USER, type OAuthSetup } from './helpers/oauth-flow.ts';

let setup: OAuthSetup;
let admin: string;
const VIEWER = { username: 'vic', password: 'viewer password that is long' };
const OUTSIDER = { username: 'bob', password: 'bob-password-not-admin' };
const TENANT_ADMIN = { username: 'tina', password: 'tenant admin password long enough' };

before(async () => {
  setup = await startOAuthGateway({ admin: { users: [USER.username, { user: VIEWER.username, role: 'viewer' }, { user: TENANT_ADMIN.username, role: 'admin', tenant: 'acme' }] } });
  await createUser(setup.gh.gateway.store, TENANT_ADMIN.username, TENANT_ADMIN.password);
  await createUser(setup.gh.gateway.store, VIEWER.username, VIEWER.password);
  await createUser(setup.gh.gateway.store, OUTSIDER.username, OUTSIDER.password);
  admin = setup.gh.gateway.admin!.url.replace(/\/$/, '');
});
after(async () => {
  await setup.close();
});

/** The button on the sign-in page: the flow's cookie in the jar, and the authorization URL. */
async function startFlow(jar: CookieJar, next = '/'): Promise<URL> {
  const started = await browse(jar, `${admin}/oauth/start`, { next });
  assert.equal(started.status, 303, started.text);
  return new URL(started.location!);
}

/** The person at the authorization server: sign in; returns where the browser is sent back to (no consent page for the admin client). */
async function signInAtServer(jar: CookieJar, authorize: URL, who: { username: string; password: string }): Promise<URL> {
  const begun = await browse(jar, authorize.href);
  assert.equal(begun.status, 303, begun.text);
  const loginUrl = new URL(begun.location!, authorize);
  const login = await browse(jar, loginUrl.href);
  assert.equal(login.status, 200, login.text);
  assert.match(login.text, /Gatehouse admin/, 'the sign-in page names the admin listener');
  const signedIn = await browse(jar, new URL('/oauth/login', authorize).href, { interaction: hiddenField(login.text, 'interaction'), csrf: hiddenField(login.text, 'csrf'), username: who.username, password: who.password });
  assert.equal(signedIn.status, 303, signedIn.text);
  return new URL(signedIn.location!);
}

async function dashboardApi(jar: CookieJar): Promise<number> {
  const response = await fetch(`${admin}/api/overview`, { headers: { cookie: jar.header() } });
  await response.text();
  return response.status;
}

test('the sign-in page shows "Sign in with Gatehouse" when the authorization server is on', async () => {
  const page = await browse(new CookieJar(), `${admin}/login`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<form method="post" action="\/oauth\/start">.*Sign in with Gatehouse/s);
  assert.match(page.text, /name="password"/, 'the password form stays');
});

test('an admin user signs in through the authorization server and gets an admin session; the callback is single-use', async () => {
  const jar = new CookieJar();
  const authorize = await startFlow(jar, '/servers');
  assert.equal(authorize.origin, setup.gh.origin, 'the browser is sent to the authorization server on the MCP listener');
  assert.equal(authorize.searchParams.get('client_id'), 'gatehouse-admin');
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authorize.searchParams.get('redirect_uri'), `${admin}/oauth/callback`);
  assert.ok((authorize.searchParams.get('state') ?? '').length >= 43);
  assert.equal(await dashboardApi(jar), 401, 'not signed in yet');
  const back = await signInAtServer(jar, authorize, USER);
  assert.equal(back.origin + back.pathname, `${admin}/oauth/callback`);
  assert.equal(back.searchParams.get('iss'), setup.gh.origin);
  const done = await browse(jar, back.href);
  assert.equal(done.status, 200, done.text);
  assert.match(done.text, /url=\/servers/, 'on to the page asked for');
  assert.equal(await dashboardApi(jar), 200, 'the session cookie opens the dashboard API');
  assert.ok(setup.gh.logs.lines.some((l) => l.msg === 'admin: signed in' && l.admin === USER.username && l.role === 'owner' && l.method === 'authorization server'));

  // The same answer again (a reload, or someone who saw the URL): the flow is gone.
  const again = await browse(new CookieJar(), back.href);
  assert.equal(again.status, 400);
  assert.match(again.text, /expired, was already used, or was started in another browser/);
});

test('a state that is not the flow\'s is refused (400), and the flow is over', async () => {
  const jar = new CookieJar();
  const authorize = await startFlow(jar);
  const back = await signInAtServer(jar, authorize, USER);
  const forged = new URL(back);
  forged.searchParams.set('state', 'another-state-than-the-one-this-browser-started');
  const refused = await browse(jar, forged.href);
  assert.equal(refused.status, 400);
  assert.match(refused.text, /state mismatch/);
  assert.equal(await dashboardApi(jar), 401);
  // The right state after that: the flow was used up by the failed attempt.
  assert.equal((await browse(jar, back.href)).status, 400);
  assert.ok(setup.gh.logs.lines.some((l) => l.msg === 'admin: sign-in through the authorization server refused' && l.reason === 'state mismatch'));
});

test('an answer that names another issuer, or none, is refused (400)', async () => {
  for (const iss of ['http://127.0.0.1:1', undefined]) {
    const jar = new CookieJar();
    const back = await signInAtServer(jar, await startFlow(jar), USER);
    const forged = new URL(back);
    if (iss === undefined) forged.searchParams.delete('iss');
    else forged.searchParams.set('iss', iss);
    const refused = await browse(jar, forged.href);
    assert.equal(refused.status, 400, String(iss));
    assert.match(refused.text, /did not come from the authorization server/);
    assert.equal(await dashboardApi(jar), 401);
  }
});

test('a user of the authorization server who is not in admin.users is refused (403)', async () => {
  const jar = new CookieJar();
  const back = await signInAtServer(jar, await startFlow(jar), OUTSIDER);
  const refused = await browse(jar, back.href);
  assert.equal(refused.status, 403);
  assert.match(refused.text, /not an admin user/);
  assert.equal(await dashboardApi(jar), 401);
});

test('a user disabled between signing in and the callback is refused (403)', async (t) => {
  const jar = new CookieJar();
  const back = await signInAtServer(jar, await startFlow(jar), VIEWER);
  await setup.gh.gateway.store.setUserDisabled(VIEWER.username, true);
  t.after(() => setup.gh.gateway.store.setUserDisabled(VIEWER.username, false));
  const refused = await browse(jar, back.href);
  assert.equal(refused.status, 403);
  assert.match(refused.text, /account is disabled/);
  assert.equal(await dashboardApi(jar), 401);
});

test('a disabled user cannot get past the authorization server\'s sign-in page', async (t) => {
  await setup.gh.gateway.store.setUserDisabled(VIEWER.username, true);
  t.after(() => setup.gh.gateway.store.setUserDisabled(VIEWER.username, false));
  const jar = new CookieJar();
  const authorize = await startFlow(jar);
  const login = await browse(jar, new URL((await browse(jar, authorize.href)).location!, authorize).href);
  const refused = await browse(jar, new URL('/oauth/login', authorize).href, { interaction: hiddenField(login.text, 'interaction'), csrf: hiddenField(login.text, 'csrf'), username: VIEWER.username, password: VIEWER.password });
  assert.equal(refused.status, 401);
  assert.equal(await dashboardApi(jar), 401);
});

test('a code presented again in a new flow is refused (400) and recorded as a replay', async () => {
  const first = new CookieJar();
  const back = await signInAtServer(first, await startFlow(first), USER);
  assert.equal((await browse(first, back.href)).status, 200);
  // An attacker who saw the first answer starts a flow of their own and slips the used code in.
  const attacker = new CookieJar();
  const theirs = await startFlow(attacker);
  const replay = new URL(`${admin}/oauth/callback`);
  replay.searchParams.set('code', back.searchParams.get('code')!);
  replay.searchParams.set('state', theirs.searchParams.get('state')!);
  replay.searchParams.set('iss', setup.gh.origin);
  const refused = await browse(attacker, replay.href);
  assert.equal(refused.status, 400);
  assert.match(refused.text, /invalid, expired or was already used/);
  assert.equal(await dashboardApi(attacker), 401);
  assert.ok(setup.gh.logs.lines.some((l) => typeof l.reason === 'string' && l.reason.startsWith('code refused')));
  // The authorization server saw a replay and ended what the first use produced (its security event).
  assert.ok(setup.gh.logs.lines.some((l) => (l.event as { kind?: string; clientId?: string } | undefined)?.kind === 'code-replayed' && (l.event as { clientId?: string }).clientId === 'gatehouse-admin'));
});

test('the admin client cannot be used at the public token endpoint, nor its audience by another client', async () => {
  const response = await fetch(`${setup.gh.origin}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'gatehouse-admin', code: 'x', code_verifier: 'y'.repeat(43) }).toString(),
  });
  assert.equal(response.status, 401);
  assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
  // The admin client asking for an API's audience, or a redirect elsewhere, is refused too.
  const jar = new CookieJar();
  const authorize = await startFlow(jar);
  const elsewhere = new URL(authorize);
  elsewhere.searchParams.set('redirect_uri', 'http://127.0.0.1:9/evil');
  assert.equal((await browse(jar, elsewhere.href)).status, 400);
  const apiAudience = new URL(authorize);
  apiAudience.searchParams.set('resource', setup.url);
  const answered = await browse(jar, apiAudience.href);
  assert.equal(answered.status, 303);
  assert.equal(new URL(answered.location!).searchParams.get('error'), 'invalid_target');
});

test('starting a sign-in is a POST from the admin pages only', async () => {
  assert.equal((await fetch(`${admin}/oauth/start`)).status, 405);
  const crossSite = await fetch(`${admin}/oauth/start`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'next=/', redirect: 'manual' });
  assert.equal(crossSite.status, 403);
});

test('without the embedded authorization server there is no button, and /oauth/start says it is not available', async (t) => {
  const plain = await startTestGateway({ servers: { none: { url: 'http://127.0.0.1:9/mcp' } }, apis: [{ name: 'open', path: '/mcp', server: 'none' }], admin: { users: [USER.username] } });
  t.after(() => plain.close());
  const base = plain.gateway.admin!.url.replace(/\/$/, '');
  const page = await browse(new CookieJar(), `${base}/login`);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /Sign in with Gatehouse/);
  assert.match(page.text, /name="password"/);
  const start = await browse(new CookieJar(), `${base}/oauth/start`, { next: '/' });
  assert.equal(start.status, 404);
  assert.equal((await browse(new CookieJar(), `${base}/oauth/callback?code=x&state=y`)).status, 404);
});

test('a tenant\'s admin user signed in through the authorization server is confined to its tenant (the dashboard API shows none of the other APIs)', async () => {
  const meta = async (jar: CookieJar) => (await (await fetch(`${admin}/api/meta`, { headers: { cookie: jar.header() } })).json()) as { apis: unknown[] };
  const tenantJar = new CookieJar();
  const done = await browse(tenantJar, (await signInAtServer(tenantJar, await startFlow(tenantJar), TENANT_ADMIN)).href);
  assert.equal(done.status, 200, done.text);
  assert.ok(setup.gh.logs.lines.some((l) => l.msg === 'admin: signed in' && l.admin === TENANT_ADMIN.username && l.role === 'admin'));
  assert.deepEqual((await meta(tenantJar)).apis, [], 'no API of tenant acme in this config');
  const ownerJar = new CookieJar();
  await browse(ownerJar, (await signInAtServer(ownerJar, await startFlow(ownerJar), USER)).href);
  assert.ok((await meta(ownerJar)).apis.length > 0, 'a platform owner sees every API');
});
