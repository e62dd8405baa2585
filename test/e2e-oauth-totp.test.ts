// Two-factor sign-in (TOTP) and the password change, end to end over real HTTP: a user of the
// embedded authorization server sets up TOTP on the self-service page (/-/connections), reading
// the otpauth:// URI with the otpauth library as an authenticator app would (and its QR code with
// an independent decoder, as a phone's camera would); the official MCP SDK
// client then runs its OAuth flow to server-everything, the person giving the code after the
// password; a wrong code and a replayed code are refused (and recorded), the page's own sign-in
// asks for the code too; the user turns TOTP off with a current code and changes their password,
// which ends the page's earlier sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { decodeJwt } from 'jose';
import { browse, CookieJar, hiddenField, pkcePair, playUser, registerClient, startOAuthGateway, TestOAuthClient, USER, type OAuthSetup, type PlayedFlow, type Step } from './helpers/oauth-flow.ts';
import { Authenticator } from './helpers/authenticator.ts';
import { decodeQrSvg } from './helpers/qr-decode.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { createUser } from '../src/authserver/users.ts';

let setup: OAuthSetup;
let page: string;
before(async () => {
  setup = await startOAuthGateway();
  page = `${setup.gh.origin}/-/connections`;
});
after(async () => {
  await setup.close();
});

/** The text of an HTML page without tags, entities decoded as far as these pages use them. */
const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'");

/** A browser on /-/connections: signs in (with a code when given), then posts its forms. */
async function pageBrowser(username: string, password: string, code?: string): Promise<{ jar: CookieJar; signIn: Step; post(form: Record<string, string>): Promise<Step>; get(): Promise<Step> }> {
  const jar = new CookieJar();
  const first = await browse(jar, page);
  assert.equal(first.status, 200);
  const post = async (form: Record<string, string>) => browse(jar, page, { csrf: hiddenField((await browse(jar, page)).text, 'csrf'), ...form });
  const signIn = await post({ action: 'signin', username, password, ...(code !== undefined && { code }) });
  return { jar, signIn, post, get: () => browse(jar, page) };
}

/** A hand-made authorization request, signed in with the password: the answer (the code page for a user with TOTP). */
async function passwordStep(username: string, password: string): Promise<{ answer: Step; jar: CookieJar; interaction: string }> {
  const redirect = 'http://127.0.0.1:45125/callback';
  const clientId = await registerClient(setup.gh.origin, { redirect_uris: [redirect] });
  const { challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', resource: setup.url });
  const jar = new CookieJar();
  const start = await browse(jar, `${setup.gh.origin}/oauth/authorize?${query}`);
  assert.equal(start.status, 303, start.text);
  const login = await browse(jar, new URL(start.location!, setup.gh.origin).href);
  const interaction = hiddenField(login.text, 'interaction');
  const answer = await browse(jar, `${setup.gh.origin}/oauth/login`, { interaction, csrf: hiddenField(login.text, 'csrf'), username, password });
  return { answer, jar, interaction };
}

async function enrol(username: string, password: string): Promise<Authenticator> {
  const browser = await pageBrowser(username, password);
  assert.equal(browser.signIn.status, 303, browser.signIn.text);
  assert.match((await browser.get()).text, /Two-factor sign-in is <b>off<\/b>/);
  const started = await browser.post({ action: 'totp-start' });
  assert.equal(started.status, 200, started.text);
  const uri = unescape(/<code class="totp-uri">([^<]+)<\/code>/.exec(started.text)![1]!);
  assert.match(uri, /^otpauth:\/\/totp\/Gatehouse:/);
  // The same link as a QR code, inline SVG, read as a phone's camera reads it.
  const qr = /<div class="totp-qr"[^>]*>(<svg[\s\S]*?<\/svg>)\s*<\/div>/.exec(started.text);
  assert.ok(qr, 'the page shows a QR code');
  assert.equal(decodeQrSvg(qr[1]!), uri);
  const app = new Authenticator(uri);
  assert.match(started.text, new RegExp(`<code class="totp-secret">${app.secret}</code>`));
  // Not on until a code proves the app has the secret.
  const user = await setup.gh.gateway.store.getUserByName(username);
  assert.equal(user?.totpSecret, undefined);
  const wrong = await browser.post({ action: 'totp-confirm', code: app.wrongCode() });
  assert.equal(wrong.status, 401);
  assert.equal((await setup.gh.gateway.store.getUserByName(username))?.totpSecret, undefined);
  const confirmed = await browser.post({ action: 'totp-confirm', code: await app.code() });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.match(confirmed.text, /Two-factor sign-in is on/);
  // Stored sealed: neither the secret nor any recognisable part of it is in the store.
  const stored = (await setup.gh.gateway.store.getUserByName(username))!;
  assert.match(stored.totpSecret!, /^gj1\./);
  assert.ok(!stored.totpSecret!.includes(app.secret) && !stored.totpSecret!.includes(app.secret.slice(0, 8)));
  return app;
}

test('a user sets up TOTP on the self-service page; the SDK client signs in with password and code, and calls a tool', async () => {
  await createUser(setup.gh.gateway.store, 'tess', USER.password);
  const app = await enrol('tess', USER.password);

  const flows: PlayedFlow[] = [];
  const provider = new TestOAuthClient('http://127.0.0.1:45126/callback', async (url) => {
    flows.push(await playUser(url, { username: 'tess', password: USER.password, code: () => app.code() }));
  });
  await assert.rejects(new Client({ name: 'totp-test', version: '1' }).connect(new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider })), UnauthorizedError);
  const code = flows.at(-1)!.final.searchParams.get('code');
  assert.ok(code);
  await new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider }).finishAuth(code);
  const client = new Client({ name: 'totp-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider }));
  try {
    assert.equal(decodeJwt(provider.saved!.access_token).preferred_username, 'tess');
    const result = await client.callTool({ name: 'echo', arguments: { message: 'two factors' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: two factors' }]);
  } finally {
    await client.close();
  }

  // A replayed code: the one the SDK flow's sign-in just used, within its window.
  const replay = await passwordStep('tess', USER.password);
  assert.equal(replay.answer.status, 200);
  assert.match(replay.answer.text, /Enter your code/);
  const csrf = hiddenField(replay.answer.text, 'csrf');
  // The password alone is not a sign-in: the consent page sends the browser back.
  const early = await browse(replay.jar, `${setup.gh.origin}/oauth/consent?interaction=${replay.interaction}`);
  assert.equal(early.status, 303);
  assert.match(early.location ?? '', /^\/oauth\/login\?/);
  const replayed = await browse(replay.jar, `${setup.gh.origin}/oauth/login/code`, { interaction: replay.interaction, csrf, code: app.lastCode });
  assert.equal(replayed.status, 401);
  assert.match(replayed.text, /already used/);
  const wrong = await browse(replay.jar, `${setup.gh.origin}/oauth/login/code`, { interaction: replay.interaction, csrf, code: app.wrongCode() });
  assert.equal(wrong.status, 401);
  assert.match(wrong.text, /Wrong code/);
  const malformed = await browse(replay.jar, `${setup.gh.origin}/oauth/login/code`, { interaction: replay.interaction, csrf, code: 'not a code' });
  assert.equal(malformed.status, 401);
  // Another browser cannot finish the sign-in started here (the interaction is bound to its cookie).
  const stranger = await browse(new CookieJar(), `${setup.gh.origin}/oauth/login/code`, { interaction: replay.interaction, csrf, code: await app.code() });
  assert.equal(stranger.status, 403);
  const right = await browse(replay.jar, `${setup.gh.origin}/oauth/login/code`, { interaction: replay.interaction, csrf, code: await app.code() });
  assert.equal(right.status, 303, right.text);
  assert.match(right.location ?? '', /^\/oauth\/consent\?/);

  // Each refusal is a security event in the log (warn), naming the user, never the code.
  const logs = setup.gh.logs.text();
  assert.equal((logs.match(/"kind":"second-factor-refused"/g) ?? []).length, 3, logs);
  assert.match(logs, /a second-factor code was used again/);
  for (const secret of [app.secret, ...app.given]) assert.ok(!logs.includes(secret), 'a secret or code was logged');

  // The self-service page's own sign-in asks for the code too.
  const noCode = await pageBrowser('tess', USER.password);
  assert.equal(noCode.signIn.status, 401);
  assert.match(noCode.signIn.text, /Wrong username, password or code/);
  const reused = await pageBrowser('tess', USER.password, app.lastCode);
  assert.equal(reused.signIn.status, 401);
  const withCode = await pageBrowser('tess', USER.password, await app.code());
  assert.equal(withCode.signIn.status, 303, withCode.signIn.text);
  assert.match((await withCode.get()).text, /Two-factor sign-in is <b>on<\/b>/);

  // Turning it off takes a current code; then the password alone signs in again.
  assert.equal((await withCode.post({ action: 'totp-off', code: app.wrongCode() })).status, 401);
  assert.equal((await setup.gh.gateway.store.getUserByName('tess'))?.totpSecret !== undefined, true);
  const off = await withCode.post({ action: 'totp-off', code: await app.code() });
  assert.equal(off.status, 200, off.text);
  assert.match(off.text, /Two-factor sign-in is off/);
  assert.equal((await setup.gh.gateway.store.getUserByName('tess'))?.totpSecret, undefined);
  const passwordOnly = await passwordStep('tess', USER.password);
  assert.equal(passwordOnly.answer.status, 303);

  // The page's refused codes (its sign-in without a code, with a used one; a wrong code to turn it
  // off) are in the audit log, as the sign-in page's are.
  const tess = await setup.gh.gateway.store.getUserByName('tess');
  const onPage = await recordsWhen(setup.gh.gateway, { method: '/-/connections' }, (events) => events.filter((e) => e.target === 'second-factor-refused').length >= 3);
  const refused = onPage.filter((e) => e.target === 'second-factor-refused');
  assert.equal(refused.length, 3);
  assert.ok(refused.every((e) => e.user === tess!.id && e.decision === 'denied' && e.status === 401));
  assert.deepEqual(refused.map((e) => /the second-factor code was (wrong|used before)/.exec(String(e.reason))?.[0]).sort(), ['the second-factor code was used before', 'the second-factor code was wrong', 'the second-factor code was wrong']);
  assert.ok(refused.some((e) => /turning two-factor sign-in off of tess/.test(String(e.reason))));
});

test('failed codes are throttled like failed passwords: after ten, even a right code waits', async () => {
  await createUser(setup.gh.gateway.store, 'theo', USER.password);
  const app = await enrol('theo', USER.password);
  const step = await passwordStep('theo', USER.password);
  const csrf = hiddenField(step.answer.text, 'csrf');
  for (let i = 0; i < 10; i++) {
    const wrong = await browse(step.jar, `${setup.gh.origin}/oauth/login/code`, { interaction: step.interaction, csrf, code: app.wrongCode() });
    assert.equal(wrong.status, 401);
  }
  const blocked = await browse(step.jar, `${setup.gh.origin}/oauth/login/code`, { interaction: step.interaction, csrf, code: await app.code() });
  assert.equal(blocked.status, 429);
  assert.match(blocked.text, /Too many failed attempts/);
});

test('a user changes their password on the self-service page: the rules apply, and earlier sessions end', async () => {
  await createUser(setup.gh.gateway.store, 'pia', USER.password);
  const older = await pageBrowser('pia', USER.password);
  assert.equal(older.signIn.status, 303);
  const browser = await pageBrowser('pia', USER.password);
  const next = 'a brand new passphrase';
  const wrongCurrent = await browser.post({ action: 'password', current: 'not my password', password: next, confirm: next });
  assert.equal(wrongCurrent.status, 401);
  assert.match(wrongCurrent.text, /current password is wrong/);
  const mismatch = await browser.post({ action: 'password', current: USER.password, password: next, confirm: `${next}!` });
  assert.equal(mismatch.status, 400);
  const short = await browser.post({ action: 'password', current: USER.password, password: 'short', confirm: 'short' });
  assert.equal(short.status, 400);
  assert.match(short.text, /at least 8 characters/);
  // Without the CSRF token (a form posted from elsewhere): refused.
  const forged = await browse(browser.jar, page, { action: 'password', current: USER.password, password: next, confirm: next });
  assert.equal(forged.status, 403);

  const changed = await browser.post({ action: 'password', current: USER.password, password: next, confirm: next });
  assert.equal(changed.status, 200, changed.text);
  assert.match(changed.text, /Password changed/);
  // This browser stays signed in (a new session); the one from before the change is signed out.
  assert.match((await browser.get()).text, /Your connected servers<\/h1>(?!<p>Sign in)/);
  assert.doesNotMatch((await browser.get()).text, /name="username"/);
  assert.match((await older.get()).text, /name="username"/);
  // The old password no longer signs in at the authorization server; the new one does.
  await assert.rejects(playUser(await authorizeUrl(), { username: 'pia', password: USER.password }), /sign-in answered 401/);
  const flow = await playUser(await authorizeUrl(), { username: 'pia', password: next });
  assert.ok(flow.final.searchParams.get('code'));
  assert.ok(!setup.gh.logs.text().includes(next), 'the new password was logged');
});

async function authorizeUrl(): Promise<string> {
  const redirect = 'http://127.0.0.1:45127/callback';
  const clientId = await registerClient(setup.gh.origin, { redirect_uris: [redirect] });
  const { challenge } = await pkcePair();
  return `${setup.gh.origin}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', resource: setup.url })}`;
}
