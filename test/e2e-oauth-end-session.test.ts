// RP-initiated logout at the embedded authorization server: /oauth/end-session is advertised,
// a client registers post_logout_redirect_uris, and a sign-out request ends the person's
// Gatehouse session (the /-/connections cookie, refused server-side afterwards) after a
// CSRF-checked confirmation, ends the client's grants when ticked, and goes back only to a
// registered post_logout_redirect_uri, with the client's state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { browse, CookieJar, hiddenField, pkcePair, playUser, registerClient, startOAuthGateway, tokenRequest, USER, type OAuthSetup, type Step } from './helpers/oauth-flow.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const REDIRECT = 'http://127.0.0.1:45141/callback';
const LOGGED_OUT = 'http://127.0.0.1:45141/logged-out?from=gatehouse';
let setup: OAuthSetup;
let origin: string;

before(async () => {
  setup = await startOAuthGateway();
  origin = setup.gh.origin;
});
after(async () => {
  await setup?.close();
});

async function mcpStatus(token: string): Promise<number> {
  const response = await fetch(setup.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  await response.body?.cancel();
  return response.status;
}

async function tokensFor(clientId: string): Promise<{ access: string; refresh: string }> {
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'mcp offline_access', resource: setup.url });
  const { final } = await playUser(`${origin}/oauth/authorize?${query}`);
  const answer = await tokenRequest(origin, { grant_type: 'authorization_code', code: final.searchParams.get('code')!, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource: setup.url });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return { access: String(answer.body.access_token), refresh: String(answer.body.refresh_token) };
}

/** A browser signed in on /-/connections. */
async function signedInBrowser(): Promise<CookieJar> {
  const jar = new CookieJar();
  const page = await browse(jar, `${origin}/-/connections`);
  const signIn = await browse(jar, `${origin}/-/connections`, { csrf: hiddenField(page.text, 'csrf'), action: 'signin', username: USER.username, password: USER.password });
  assert.equal(signIn.status, 303, signIn.text);
  assert.match((await browse(jar, `${origin}/-/connections`)).text, /Applications you authorized/);
  return jar;
}

/** GET /oauth/end-session with these parameters, then the page it sends the browser to. */
async function endSessionPage(jar: CookieJar, params: Record<string, string>): Promise<Step> {
  const start = await browse(jar, `${origin}/oauth/end-session?${new URLSearchParams(params)}`);
  assert.equal(start.status, 303, start.text);
  assert.match(start.location!, /^\/-\/end-session/);
  return browse(jar, new URL(start.location!, origin).href);
}

/** The confirmation form's fields, as the browser would post them (checkbox ticked unless `untick`). */
function confirmation(page: Step, untick = false): Record<string, string> {
  const form: Record<string, string> = {};
  for (const m of page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form[m[1]!] = hiddenField(page.text, m[1]!);
  if (!untick && /name="end_grants" value="1" checked/.test(page.text)) form.end_grants = '1';
  return form;
}

test('the metadata advertises end_session_endpoint; registration keeps post_logout_redirect_uris and refuses bad ones', async () => {
  const metadata = (await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
  assert.equal(metadata.end_session_endpoint, `${origin}/oauth/end-session`);
  const response = await fetch(`${origin}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', post_logout_redirect_uris: [LOGGED_OUT] }) });
  assert.equal(response.status, 201);
  assert.deepEqual(((await response.json()) as Record<string, unknown>).post_logout_redirect_uris, [LOGGED_OUT]);
  for (const bad of [['javascript:alert(1)'], 'http://127.0.0.1/x', ['https://example.com/#frag'], ['http://evil.example/out'], [42]]) {
    const refused = await fetch(`${origin}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', post_logout_redirect_uris: bad }) });
    assert.equal(refused.status, 400, JSON.stringify(bad));
    const body = (await refused.json()) as Record<string, unknown>;
    assert.equal(body.error, 'invalid_client_metadata');
    assert.match(String(body.error_description), /post_logout_redirect_uris/);
  }
});

test('a confirmed sign-out ends the session cookie (refused server-side too), ends the client\'s grant when ticked, and returns to the registered URI with state', async () => {
  const clientId = await registerClient(origin, { client_name: 'Logout App', redirect_uris: [REDIRECT], scope: 'mcp offline_access', post_logout_redirect_uris: [LOGGED_OUT] });
  const otherClient = await registerClient(origin, { client_name: 'Other App', redirect_uris: [REDIRECT], scope: 'mcp offline_access' });
  const mine = await tokensFor(clientId);
  const other = await tokensFor(otherClient);
  const jar = await signedInBrowser();
  const stolen = new CookieJar();
  for (const [k, v] of jar.cookies) stolen.cookies.set(k, v); // a copy of the session cookie

  const page = await endSessionPage(jar, { client_id: clientId, post_logout_redirect_uri: LOGGED_OUT, state: 'st-123', id_token_hint: 'ignored' });
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /<b>Logout App<\/b>/);
  assert.match(page.text, /signed in to Gatehouse as <b>ada<\/b>/);
  assert.match(page.text, /name="end_grants" value="1" checked/);
  assert.ok(!page.text.includes('ignored'), 'id_token_hint is not carried');
  assert.ok(!/<script/i.test(page.text));

  // CSRF: a post without the page's token is refused, and the session stays.
  const forged = await browse(jar, `${origin}/-/end-session`, { ...confirmation(page), csrf: 'y'.repeat(43) });
  assert.equal(forged.status, 403);
  assert.match((await browse(jar, `${origin}/-/connections`)).text, /Applications you authorized/);
  assert.equal(await mcpStatus(mine.access), 200);

  const done = await browse(jar, `${origin}/-/end-session`, confirmation(page));
  assert.equal(done.status, 303, done.text);
  const back = new URL(done.location!);
  assert.equal(back.origin + back.pathname, 'http://127.0.0.1:45141/logged-out');
  assert.equal(back.searchParams.get('from'), 'gatehouse');
  assert.equal(back.searchParams.get('state'), 'st-123');

  // The session is over: the cookie is cleared, and a copy of it is refused.
  assert.match((await browse(jar, `${origin}/-/connections`)).text, /name="action" value="signin"/);
  assert.match((await browse(stolen, `${origin}/-/connections`)).text, /name="action" value="signin"/);
  // The client's grant ended; the other client's did not.
  assert.equal(await mcpStatus(mine.access), 401);
  assert.equal((await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: mine.refresh, client_id: clientId })).body.error, 'invalid_grant');
  assert.equal(await mcpStatus(other.access), 200);
  assert.equal((await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: other.refresh, client_id: otherClient })).status, 200);

  // Signing in again works (a session made after the sign-out).
  await signedInBrowser();

  const userId = (await setup.gh.gateway.store.getUserByName(USER.username))!.id;
  const records = await recordsWhen(setup.gh.gateway, {}, (events) => events.some((e) => e.target === 'session-ended') && events.some((e) => e.target === 'grant-revoked'));
  const ended = records.find((e) => e.target === 'session-ended');
  assert.ok(ended);
  assert.equal(ended.user, userId);
  assert.equal(ended.agent, clientId);
  assert.match(ended.reason ?? '', /ada signed out of Gatehouse at the request of "Logout App".*1 grant\(s\) of that client ended/);
  const revoked = records.find((e) => e.target === 'grant-revoked' && e.agent === clientId);
  assert.ok(revoked);
  assert.equal(decodeJwt(mine.access).sub, revoked.user);
});

test('unticked, the client\'s grants survive the sign-out; POST /oauth/end-session works like GET', async () => {
  const clientId = await registerClient(origin, { client_name: 'Kept App', redirect_uris: [REDIRECT], scope: 'mcp offline_access', post_logout_redirect_uris: [LOGGED_OUT] });
  const kept = await tokensFor(clientId);
  const jar = await signedInBrowser();
  const start = await browse(jar, `${origin}/oauth/end-session`, { client_id: clientId, post_logout_redirect_uri: LOGGED_OUT, state: 'post-state' });
  assert.equal(start.status, 303);
  const page = await browse(jar, new URL(start.location!, origin).href);
  assert.equal(page.status, 200);
  const done = await browse(jar, `${origin}/-/end-session`, confirmation(page, true));
  assert.equal(done.status, 303);
  assert.equal(new URL(done.location!).searchParams.get('state'), 'post-state');
  assert.match((await browse(jar, `${origin}/-/connections`)).text, /name="action" value="signin"/);
  assert.equal(await mcpStatus(kept.access), 200);
});

test('an unregistered post_logout_redirect_uri is never followed: the sign-out ends on a page', async () => {
  const clientId = await registerClient(origin, { client_name: 'Registered App', redirect_uris: [REDIRECT], post_logout_redirect_uris: [LOGGED_OUT] });
  const jar = await signedInBrowser();
  for (const [params, what] of [
    [{ client_id: clientId, post_logout_redirect_uri: 'https://evil.example/steal' }, 'another site'],
    [{ client_id: clientId, post_logout_redirect_uri: 'http://127.0.0.1:45141/logged-out' }, 'not exactly the registered one'],
    [{ post_logout_redirect_uri: LOGGED_OUT }, 'no client_id to check it against'],
  ] as const) {
    const page = await endSessionPage(jar, params);
    assert.equal(page.status, 200, what);
    assert.match(page.text, /is not registered/, what);
    const done = await browse(jar, `${origin}/-/end-session`, confirmation(page));
    assert.equal(done.status, 200, what);
    assert.equal(done.location, null, what);
    assert.match(done.text, /You are signed out/, what);
  }
});

test('bad sign-out requests get clear 4xx answers, never a crash', async () => {
  const jar = new CookieJar();
  const unknown = await endSessionPage(jar, { client_id: 'no-such-client' });
  assert.equal(unknown.status, 400);
  assert.match(unknown.text, /client_id: unknown client_id/);
  const twice = await browse(jar, `${origin}/oauth/end-session?client_id=a&client_id=b`);
  assert.equal(twice.status, 400);
  assert.match(twice.text, /client_id is given more than once/);
  const twiceOnPage = await browse(jar, `${origin}/-/end-session?state=a&state=b`);
  assert.equal(twiceOnPage.status, 400);
  const long = await browse(jar, `${origin}/oauth/end-session?state=${'x'.repeat(3000)}`);
  assert.equal(long.status, 400);
  const put = await fetch(`${origin}/oauth/end-session`, { method: 'PUT' });
  assert.equal(put.status, 405);
  // Without a session or a client: a plain sign-out page, then the signed-out page.
  const bare = await endSessionPage(jar, {});
  assert.equal(bare.status, 200);
  assert.ok(!bare.text.includes('end_grants'));
  const done = await browse(jar, `${origin}/-/end-session`, confirmation(bare));
  assert.equal(done.status, 200);
  assert.match(done.text, /You are signed out/);
  // A post without any CSRF cookie at all.
  const fresh = await browse(new CookieJar(), `${origin}/-/end-session`, { csrf: 'z'.repeat(43) });
  assert.equal(fresh.status, 403);
});

test('regression: /-/connections and /-/end-session are served with Referrer-Policy same-origin, so a browser posts their forms with the page\'s Origin (no-referrer made it "null", refused with 403)', async () => {
  for (const path of ['/-/connections', '/-/end-session']) {
    const response = await fetch(`${origin}${path}`);
    await response.body?.cancel();
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get('referrer-policy'), 'same-origin', path);
  }
  // What a browser sends then: the page's own origin, accepted.
  const jar = new CookieJar();
  const page = await browse(jar, `${origin}/-/connections`);
  const response = await fetch(`${origin}/-/connections`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin, cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: hiddenField(page.text, 'csrf'), action: 'signin', username: USER.username, password: USER.password }).toString(),
  });
  assert.equal(response.status, 303);
  // And what no-referrer made it send is still refused by the listener's Origin check.
  const nullOrigin = await fetch(`${origin}/-/connections`, { method: 'POST', headers: { origin: 'null', 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=signin' });
  assert.equal(nullOrigin.status, 403);
});

test('a Client ID Metadata Document\'s post_logout_redirect_uris are honoured; bad ones make the client unusable (400)', async () => {
  let docsOrigin = '';
  const docs = createServer((req, res) => {
    const self = `${docsOrigin}${req.url}`;
    const logout = req.url === '/apps/bad-logout.json' ? ['javascript:alert(1)'] : [LOGGED_OUT];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client_id: self, client_name: 'Document App', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', post_logout_redirect_uris: logout }));
  });
  await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
  docsOrigin = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
  const cimd = await startOAuthGateway({ authorizationServer: { allowInsecureMetadataUrlsForTesting: true } });
  try {
    const jar = new CookieJar();
    const start = await browse(jar, `${cimd.gh.origin}/oauth/end-session?${new URLSearchParams({ client_id: `${docsOrigin}/apps/good.json`, post_logout_redirect_uri: LOGGED_OUT, state: 's' })}`);
    const page = await browse(jar, new URL(start.location!, cimd.gh.origin).href);
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /<b>Document App<\/b>/);
    const done = await browse(jar, `${cimd.gh.origin}/-/end-session`, confirmation(page));
    assert.equal(done.status, 303);
    assert.equal(new URL(done.location!).searchParams.get('state'), 's');
    const bad = await browse(jar, `${cimd.gh.origin}/-/end-session?${new URLSearchParams({ client_id: `${docsOrigin}/apps/bad-logout.json` })}`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /post_logout_redirect_uris/);
  } finally {
    await cimd.close();
    docs.closeAllConnections();
    await new Promise<void>((resolve) => docs.close(() => resolve()));
  }
});

test('the page\'s own Sign out ends the session on the server too: a copy of the cookie no longer signs in', async () => {
  const jar = await signedInBrowser();
  const copy = new CookieJar();
  for (const [k, v] of jar.cookies) copy.cookies.set(k, v);
  const page = await browse(jar, `${origin}/-/connections`);
  const out = await browse(jar, `${origin}/-/connections`, { csrf: hiddenField(page.text, 'csrf'), action: 'signout' });
  assert.equal(out.status, 303);
  assert.match((await browse(jar, `${origin}/-/connections`)).text, /name="action" value="signin"/);
  assert.match((await browse(copy, `${origin}/-/connections`)).text, /name="action" value="signin"/);
  await signedInBrowser(); // and signing in again works
});
