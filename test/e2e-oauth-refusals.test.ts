// Bad input at the embedded authorization server: each attempt gets the OAuth error the specs
// name, and nothing that could be an open redirect ever redirects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sendRaw } from './helpers/raw-http.ts';
import { browse, CookieJar, hiddenField, pkcePair, playUser, registerClient, startOAuthGateway, tokenRequest, USER, type OAuthSetup } from './helpers/oauth-flow.ts';

const REDIRECT = 'http://127.0.0.1:9999/callback';
let setup: OAuthSetup;
let origin: string;
let clientId: string;

before(async () => {
  setup = await startOAuthGateway();
  origin = setup.gh.origin;
  clientId = await registerClient(origin, { redirect_uris: [REDIRECT], scope: 'mcp offline_access' });
});
after(async () => {
  await setup.close();
});

async function authorizeUrl(params: Record<string, string | undefined> = {}): Promise<{ url: string; verifier: string }> {
  const { verifier, challenge } = await pkcePair();
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'mcp offline_access',
    state: crypto.randomUUID(),
    resource: setup.url,
    ...params,
  };
  const query = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
  return { url: `${origin}/oauth/authorize?${query}`, verifier };
}

/** A full approved flow; returns the code and its verifier. */
async function approvedCode(params: Record<string, string | undefined> = {}): Promise<{ code: string; verifier: string }> {
  const { url, verifier } = await authorizeUrl(params);
  const { final } = await playUser(url);
  const code = final.searchParams.get('code');
  assert.ok(code, final.href);
  return { code, verifier };
}

function exchange(code: string, verifier: string, extra: Record<string, string> = {}) {
  return tokenRequest(origin, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource: setup.url, ...extra });
}

test('a replayed authorization code is refused with invalid_grant, and the grant it produced is revoked', async () => {
  const { code, verifier } = await approvedCode();
  const first = await exchange(code, verifier);
  assert.equal(first.status, 200);
  assert.ok(first.body.refresh_token);
  const replay = await exchange(code, verifier);
  assert.equal(replay.status, 400);
  assert.equal(replay.body.error, 'invalid_grant');
  const refresh = await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: String(first.body.refresh_token), client_id: clientId });
  assert.equal(refresh.status, 400);
  assert.equal(refresh.body.error, 'invalid_grant');
});

test('a mismatched PKCE verifier is refused with invalid_grant', async () => {
  const { code } = await approvedCode();
  const other = await pkcePair();
  const wrong = await exchange(code, other.verifier);
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error, 'invalid_grant');
});

test('a code is bound to its client, redirect URI and resource', async () => {
  const otherClient = await registerClient(origin, { redirect_uris: [REDIRECT] });
  const a = await approvedCode();
  const stolen = await exchange(a.code, a.verifier, { client_id: otherClient });
  assert.equal(stolen.body.error, 'invalid_grant');
  const b = await approvedCode();
  const otherRedirect = await exchange(b.code, b.verifier, { redirect_uri: 'http://127.0.0.1:9999/elsewhere' });
  assert.equal(otherRedirect.body.error, 'invalid_grant');
  const c = await approvedCode();
  const otherResource = await exchange(c.code, c.verifier, { resource: `${origin}/other` });
  assert.equal(otherResource.status, 400);
  assert.equal(otherResource.body.error, 'invalid_target');
});

test('open-redirect attempts on redirect_uri get an error page, never a redirect', async () => {
  for (const redirect of [
    'http://127.0.0.1:9999/other',
    'http://127.0.0.1:9999/callback/extra',
    'http://127.0.0.1:9999/callback?next=http://evil.example',
    'http://evil.example/callback',
    'https://127.0.0.1.evil.example/callback',
    'http://localhost:9999/callback',
    'javascript:alert(document.cookie)',
    'data:text/html,<script>alert(1)</script>',
  ]) {
    const { url } = await authorizeUrl({ redirect_uri: redirect });
    const response = await fetch(url, { redirect: 'manual' });
    assert.equal(response.status, 400, redirect);
    assert.equal(response.headers.get('location'), null, redirect);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/, redirect);
    assert.match(await response.text(), /not registered/, redirect);
  }
  // Unknown clients get the page too, even with a plausible redirect URI.
  const { url } = await authorizeUrl({ client_id: 'no-such-client' });
  const unknown = await fetch(url, { redirect: 'manual' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.headers.get('location'), null);
});

test('a loopback redirect URI matches on any port, as RFC 8252 asks', async () => {
  const { url } = await authorizeUrl({ redirect_uri: 'http://127.0.0.1:40001/callback' });
  const response = await fetch(url, { redirect: 'manual' });
  assert.equal(response.status, 303);
  assert.match(response.headers.get('location')!, /^\/oauth\/login\?interaction=/);
  const localhostClient = await registerClient(origin, { redirect_uris: ['http://localhost:1/oauth/callback'] });
  const viaLocalhost = await authorizeUrl({ client_id: localhostClient, redirect_uri: 'http://localhost:40002/oauth/callback' });
  assert.equal((await fetch(viaLocalhost.url, { redirect: 'manual' })).status, 303);
});

test('registering a dangerous redirect URI is refused', async () => {
  for (const redirect of ['javascript:alert(1)', 'http://evil.example/callback', 'https://example.com/cb#fragment', 'file:///etc/passwd']) {
    const response = await fetch(`${origin}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirect], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(response.status, 400, redirect);
    const body = (await response.json()) as { error: string };
    assert.ok(['invalid_redirect_uri', 'invalid_client_metadata'].includes(body.error), `${redirect}: ${body.error}`);
  }
});

test('PKCE plain, or no PKCE at all, is refused (back to the client, with iss)', async () => {
  for (const [method, challenge] of [['plain', 'a'.repeat(43)], [undefined, 'a'.repeat(43)], ['S256', undefined]] as const) {
    const { url } = await authorizeUrl({ code_challenge_method: method, code_challenge: challenge, state: 'pkce-state' });
    const response = await fetch(url, { redirect: 'manual' });
    assert.equal(response.status, 303);
    const back = new URL(response.headers.get('location')!);
    assert.equal(back.origin + back.pathname, REDIRECT);
    assert.equal(back.searchParams.get('error'), 'invalid_request', String(method));
    assert.equal(back.searchParams.get('state'), 'pkce-state');
    assert.equal(back.searchParams.get('iss'), origin);
    assert.equal(back.searchParams.get('code'), null);
  }
});

test('a missing or foreign resource is refused with invalid_target', async () => {
  for (const resource of [undefined, 'https://other.example/mcp', `${origin}/not-an-api`, `${origin}/mcp?x=1`, 'not a url']) {
    const { url } = await authorizeUrl({ resource });
    const response = await fetch(url, { redirect: 'manual' });
    assert.equal(response.status, 303, String(resource));
    const back = new URL(response.headers.get('location')!);
    assert.equal(back.searchParams.get('error'), 'invalid_target', String(resource));
  }
  // The trailing-slash spelling of the API's URL is the same resource.
  const { url } = await authorizeUrl({ resource: `${setup.url}/` });
  assert.match((await fetch(url, { redirect: 'manual' })).headers.get('location')!, /^\/oauth\/login/);
});

test('an unknown scope is refused with invalid_scope', async () => {
  const { url } = await authorizeUrl({ scope: 'mcp admin' });
  const back = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
  assert.equal(back.searchParams.get('error'), 'invalid_scope');
});

test('forms without the right CSRF token are refused with 403', async () => {
  const { url } = await authorizeUrl();
  const jar = new CookieJar();
  const start = await browse(jar, url);
  const loginUrl = new URL(start.location!, origin).href;
  const login = await browse(jar, loginUrl);
  const interaction = hiddenField(login.text, 'interaction');
  const csrf = hiddenField(login.text, 'csrf');
  const credentials = { interaction, username: USER.username, password: USER.password };

  assert.equal((await browse(jar, `${origin}/oauth/login`, credentials)).status, 403, 'login without token');
  assert.equal((await browse(new CookieJar(), `${origin}/oauth/login`, { ...credentials, csrf })).status, 403, 'token without its cookie (another browser)');
  assert.equal((await browse(jar, `${origin}/oauth/login`, { ...credentials, csrf: csrf.slice(1) + 'x' })).status, 403, 'wrong token');

  const signedIn = await browse(jar, `${origin}/oauth/login`, { ...credentials, csrf });
  assert.equal(signedIn.status, 303);
  const consent = await browse(jar, new URL(signedIn.location!, origin).href);
  const consentCsrf = hiddenField(consent.text, 'csrf');
  const noToken = await browse(jar, `${origin}/oauth/consent`, { interaction, decision: 'approve' });
  assert.equal(noToken.status, 403);
  assert.equal(noToken.location, null);
  const crossSite = await browse(new CookieJar(), `${origin}/oauth/consent`, { interaction, decision: 'approve', csrf: consentCsrf });
  assert.equal(crossSite.status, 403);
  // The refusals did not use the interaction up: the person can still answer.
  const answered = await browse(jar, `${origin}/oauth/consent`, { interaction, decision: 'approve', csrf: consentCsrf });
  assert.equal(answered.status, 303);
  assert.ok(new URL(answered.location!).searchParams.get('code'));
});

test('an attacker\'s consent link opened by a signed-in victim without the interaction cookie is refused (consent bypass)', async () => {
  // The attacker registers a client of their own (registration is open) and starts an
  // authorization in their browser, which gets the interaction's cookie.
  const evilRedirect = 'http://127.0.0.1:9998/evil-callback';
  const evilClient = await registerClient(origin, { client_name: 'Totally Legit App', redirect_uris: [evilRedirect] });
  const { verifier, challenge } = await pkcePair();
  const attacker = new CookieJar();
  const started = await browse(
    attacker,
    `${origin}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: evilClient, redirect_uri: evilRedirect, code_challenge: challenge, code_challenge_method: 'S256', resource: setup.url, state: 'evil' })}`,
  );
  assert.equal(started.status, 303);
  const link = new URL(started.location!, origin).href;
  const interaction = new URL(link).searchParams.get('interaction')!;
  assert.equal((await browse(attacker, link)).status, 200, 'the browser that started it gets the sign-in page');

  // The victim opens the link in their own browser: no sign-in form, so nothing to sign in on.
  const victim = new CookieJar();
  const victimPage = await browse(victim, link);
  assert.equal(victimPage.status, 403);
  assert.match(victimPage.text, /started in another browser/);
  assert.ok(!victimPage.text.includes('name="csrf"'), 'no form token is handed out');
  assert.equal(victim.cookies.size, 0, 'no cookie for the interaction is set');
  // Even if the victim posted credentials with a token made up by the attacker, the sign-in is refused.
  const posted = await browse(victim, `${origin}/oauth/login`, { interaction, csrf: 'x'.repeat(43), username: USER.username, password: USER.password });
  assert.equal(posted.status, 403);

  // The other order: the victim signs in on an authorization they started themselves, and the
  // attacker learns its interaction id. Without the victim's cookie, consent is refused.
  const own = await authorizeUrl();
  const mine = new CookieJar();
  const ownStart = await browse(mine, own.url);
  const ownLogin = await browse(mine, new URL(ownStart.location!, origin).href);
  const ownInteraction = hiddenField(ownLogin.text, 'interaction');
  const signedIn = await browse(mine, `${origin}/oauth/login`, { interaction: ownInteraction, csrf: hiddenField(ownLogin.text, 'csrf'), username: USER.username, password: USER.password });
  assert.equal(signedIn.status, 303);
  for (const outsider of [new CookieJar(), attacker]) {
    const page = await browse(outsider, `${origin}/oauth/consent?interaction=${ownInteraction}`);
    assert.equal(page.status, 403);
    assert.ok(!page.text.includes('Allow'), 'no consent form');
    const approve = await browse(outsider, `${origin}/oauth/consent`, { interaction: ownInteraction, decision: 'approve', csrf: 'x'.repeat(43) });
    assert.equal(approve.status, 403);
    assert.equal(approve.location, null, 'no code is sent anywhere');
  }
  // The victim's own browser can still answer, and nothing was issued to the attacker's client.
  const consent = await browse(mine, `${origin}/oauth/consent?interaction=${ownInteraction}`);
  assert.equal(consent.status, 200);
  const answered = await browse(mine, `${origin}/oauth/consent`, { interaction: ownInteraction, decision: 'approve', csrf: hiddenField(consent.text, 'csrf') });
  assert.equal(answered.status, 303);
  assert.ok(new URL(answered.location!).searchParams.get('code'));
  assert.equal((await tokenRequest(origin, { grant_type: 'authorization_code', code: 'never-issued', code_verifier: verifier, client_id: evilClient, redirect_uri: evilRedirect })).status, 400);
});

test('the consent answer is single-use, and a used state cannot start another authorization', async () => {
  const { url } = await authorizeUrl({ state: 'once-only' });
  const flow = await playUser(url);
  assert.equal(flow.final.searchParams.get('state'), 'once-only');
  // Replaying the consent form (same interaction, same cookie, same token) finds nothing.
  const consent = await browse(flow.jar, `${origin}/oauth/consent?interaction=${flow.interaction}`);
  assert.equal(consent.status, 400);
  const replay = await browse(flow.jar, `${origin}/oauth/consent`, { interaction: flow.interaction, decision: 'approve', csrf: 'anything' });
  assert.ok(replay.status === 400 || replay.status === 403, String(replay.status));
  assert.equal(replay.location, null);
  // The same state again for this client.
  const again = await authorizeUrl({ state: 'once-only' });
  const back = new URL((await fetch(again.url, { redirect: 'manual' })).headers.get('location')!);
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  assert.match(back.searchParams.get('error_description')!, /state/);
});

test('deny sends the person back with access_denied, state and iss', async () => {
  const { url } = await authorizeUrl({ state: 'deny-state' });
  const { final } = await playUser(url, { decision: 'deny' });
  assert.equal(final.origin + final.pathname, REDIRECT);
  assert.equal(final.searchParams.get('error'), 'access_denied');
  assert.equal(final.searchParams.get('state'), 'deny-state');
  assert.equal(final.searchParams.get('iss'), origin);
  assert.equal(final.searchParams.get('code'), null);
});

test('a wrong password or a disabled account does not sign in', async () => {
  const { url } = await authorizeUrl();
  await assert.rejects(playUser(url, { password: 'wrong password!' }), /sign-in answered 401/);
  await setup.gh.gateway.store.setUserDisabled(USER.username, true);
  try {
    const again = await authorizeUrl();
    await assert.rejects(playUser(again.url), /sign-in answered 401/);
  } finally {
    await setup.gh.gateway.store.setUserDisabled(USER.username, false);
  }
  assert.ok(!setup.gh.logs.text().includes(USER.password), 'passwords never logged');
  assert.ok(!setup.gh.logs.text().includes('wrong password!'), 'wrong passwords never logged');
});

test('a disabled user\'s refresh token stops working', async () => {
  const { code, verifier } = await approvedCode();
  const tokens = await exchange(code, verifier);
  await setup.gh.gateway.store.setUserDisabled(USER.username, true);
  try {
    const refresh = await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: clientId });
    assert.equal(refresh.body.error, 'invalid_grant');
  } finally {
    await setup.gh.gateway.store.setUserDisabled(USER.username, false);
  }
});

test('a confidential client must authenticate with its secret (basic or post)', async () => {
  const response = await fetch(`${origin}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'server app', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_basic' }),
  });
  assert.equal(response.status, 201);
  const registered = (await response.json()) as { client_id: string; client_secret: string };
  assert.ok(registered.client_secret);
  const run = async () => {
    const { verifier, challenge } = await pkcePair();
    const query = new URLSearchParams({ response_type: 'code', client_id: registered.client_id, redirect_uri: 'https://app.example/cb', code_challenge: challenge, code_challenge_method: 'S256', resource: setup.url });
    const { final } = await playUser(`${origin}/oauth/authorize?${query}`);
    return { code: final.searchParams.get('code')!, verifier };
  };
  const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` });
  const form = (code: string, verifier: string) => ({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://app.example/cb' });

  const a = await run();
  const noSecret = await tokenRequest(origin, { ...form(a.code, a.verifier), client_id: registered.client_id });
  assert.equal(noSecret.status, 401);
  assert.equal(noSecret.body.error, 'invalid_client');
  const wrongSecret = await tokenRequest(origin, form(a.code, a.verifier), basic(registered.client_id, 'nope'));
  assert.equal(wrongSecret.status, 401);
  assert.equal(wrongSecret.body.error, 'invalid_client');
  const good = await tokenRequest(origin, form(a.code, a.verifier), basic(registered.client_id, registered.client_secret));
  assert.equal(good.status, 200, JSON.stringify(good.body));
  const b = await run();
  const viaPost = await tokenRequest(origin, { ...form(b.code, b.verifier), client_id: registered.client_id, client_secret: registered.client_secret });
  assert.equal(viaPost.status, 200, JSON.stringify(viaPost.body));
  assert.ok(!setup.gh.logs.text().includes(registered.client_secret), 'client secret never logged');
});

test('two Authorization headers at the token and revocation endpoints are refused with 400 (the first used to win silently)', async () => {
  const response = await fetch(`${origin}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'two headers', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_basic' }),
  });
  const { client_id: id, client_secret: secret } = (await response.json()) as { client_id: string; client_secret: string };
  const basic = (s: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(s)}`).toString('base64')}`;
  const form: Array<[string, string]> = [['content-type', 'application/x-www-form-urlencoded']];
  for (const [path, body] of [
    ['/oauth/token', 'grant_type=refresh_token&refresh_token=ghr_nothing'],
    ['/oauth/revoke', 'token=ghr_nothing'],
  ] as const) {
    const one = await sendRaw(origin + path, { headers: [...form, ['authorization', basic(secret)]], body });
    assert.notEqual(one.status, 401, `${path}: the client authenticates with one header`);
    for (const pair of [[basic(secret), basic('wrong')], [basic('wrong'), basic(secret)]]) {
      const answer = await sendRaw(origin + path, { headers: [...form, ['Authorization', pair[0]!], ['Authorization', pair[1]!]], body });
      assert.equal(answer.status, 400, path);
      assert.deepEqual(JSON.parse(answer.text), { error: 'invalid_request', error_description: 'the Authorization header must be sent once' });
    }
  }
});

test('the discovery documents state what the server does, and claim no ID tokens (none are issued)', async () => {
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    const response = await fetch(origin + path);
    assert.equal(response.status, 200);
    const metadata = (await response.json()) as Record<string, unknown>;
    assert.equal(metadata.issuer, origin);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(metadata.response_types_supported, ['code']);
    assert.deepEqual(metadata.grant_types_supported, ['authorization_code', 'refresh_token']);
    assert.deepEqual(metadata.token_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post']);
    assert.deepEqual(metadata.scopes_supported, ['mcp', 'offline_access']);
    assert.equal(metadata.client_id_metadata_document_supported, true);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.equal(metadata.registration_endpoint, `${origin}/oauth/register`);
    assert.equal(metadata.jwks_uri, `${origin}/oauth/jwks`);
    assert.equal(metadata.revocation_endpoint, `${origin}/oauth/revoke`);
    // No ID tokens are issued, so nothing about them is claimed.
    assert.deepEqual(Object.keys(metadata).filter((k) => /id_token|subject_types|userinfo/.test(k)), [], path);
  }
});

test('with dynamic registration off, /oauth/register is 404 and not advertised', async () => {
  const off = await startOAuthGateway({ authorizationServer: { dynamicRegistration: false } });
  try {
    const response = await fetch(`${off.gh.origin}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(response.status, 404);
    const metadata = (await (await fetch(`${off.gh.origin}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata.registration_endpoint, undefined);
  } finally {
    await off.close();
  }
});

test('repeated wrong passwords for one account are throttled (429), even when the right one follows', async () => {
  const { createUser } = await import('../src/authserver/users.ts');
  await createUser(setup.gh.gateway.store, 'victim', 'the real password');
  const { url } = await authorizeUrl();
  const jar = new CookieJar();
  const start = await browse(jar, url);
  const login = await browse(jar, new URL(start.location!, origin).href);
  const form = { interaction: hiddenField(login.text, 'interaction'), csrf: hiddenField(login.text, 'csrf'), username: 'victim' };
  for (let i = 0; i < 10; i++) assert.equal((await browse(jar, `${origin}/oauth/login`, { ...form, password: `guess ${i}` })).status, 401);
  const throttled = await browse(jar, `${origin}/oauth/login`, { ...form, password: 'the real password' });
  assert.equal(throttled.status, 429);
  assert.match(throttled.text, /Too many failed attempts/);
  // Other accounts are not affected.
  const other = await browse(jar, `${origin}/oauth/login`, { ...form, username: USER.username, password: USER.password });
  assert.equal(other.status, 303);
});

test('the token audience is the API\'s resource URL as its metadata states it, whichever slash the client used', async () => {
  const { decodeJwt } = await import('jose');
  const { code, verifier } = await approvedCode({ resource: `${setup.url}/` });
  const tokens = await exchange(code, verifier, { resource: `${setup.url}/` });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  assert.equal(decodeJwt(String(tokens.body.access_token)).aud, setup.url);
  // And the resource server accepts it.
  const response = await fetch(setup.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${String(tokens.body.access_token)}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
  assert.equal(response.status, 200);
});

test('a revoked refresh token is refused', async () => {
  const { code, verifier } = await approvedCode();
  const tokens = await exchange(code, verifier);
  const refreshToken = String(tokens.body.refresh_token);
  const revoke = await fetch(`${origin}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token', client_id: clientId }).toString(),
  });
  assert.equal(revoke.status, 200);
  const refresh = await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
  assert.equal(refresh.status, 400);
  assert.equal(refresh.body.error, 'invalid_grant');
});
