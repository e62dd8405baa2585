// Sign-in at an external OpenID Connect provider (oidc-provider, a real third-party server) from
// the embedded authorization server's login page. The official SDK client authorizes against
// Gatehouse; the person (played over HTTP, cookies kept per origin) picks "Sign in with Corp SSO",
// signs in at the provider, comes back, consents, and the client calls a tool as the mapped user.
// Then the refusals: the provider's access_denied, a bad, replayed or misdelivered state, ID
// tokens for another audience, nonce or issuer, expired or wrongly signed, an unreachable or
// silent provider, a disabled user, an unknown one where users must exist; local passwords still
// work on the same page; and no secret, code or token reaches the log or the audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { decodeJwt } from 'jose';
import { hiddenField, pkcePair, playUser, registerClient, startOAuthGateway, TestOAuthClient, tokenRequest, USER, type OAuthSetup } from './helpers/oauth-flow.ts';
import { Browser, startLoginIdp, type BrowserStep, type LoginIdp, type Tamper } from './helpers/login-idp.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { createUser } from '../src/authserver/users.ts';

const REDIRECT = 'http://127.0.0.1:45123/callback';

let idp: LoginIdp;
let setup: OAuthSetup;
let origin: string;
let clientId: string;
let silent: Server;
/** Every Gatehouse code and token the tests obtained, for the log greps. */
const secrets: string[] = [];

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

before(async () => {
  idp = await startLoginIdp();
  // A provider that accepts connections and never answers, and a port nobody listens on.
  silent = createServer(() => undefined);
  const silentPort = await listen(silent);
  const closed = createServer();
  const closedPort = await listen(closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const client = { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret };
  setup = await startOAuthGateway({
    // The groups a provider gives reach policies: get-sum is for the "eng" group only.
    apis: [
      {
        name: 'everything',
        path: '/mcp',
        server: 'everything',
        auth: { type: 'oauth2' },
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] },
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'get-sum' } }], condition: 'has(claims.groups) && "eng" in claims.groups' },
              ],
            },
          },
        ],
      },
    ],
    admin: { users: [USER.username, 'alice@corp'] },
    authorizationServer: {
      externalProviders: [
        { name: 'corp', displayName: 'Corp SSO', ...client, scopes: ['openid', 'email', 'profile', 'groups'], groupsClaim: 'groups', users: 'create' },
        { name: 'mail', displayName: 'Mail', ...client, username: 'email' },
        { name: 'down', issuer: `http://127.0.0.1:${closedPort}`, clientId: 'gatehouse' },
        { name: 'silent', issuer: `http://127.0.0.1:${silentPort}`, clientId: 'gatehouse', timeout: '300ms' },
      ],
    },
  });
  origin = setup.gh.origin;
  await idp.start([`${origin}/oauth/external/corp/callback`, `${origin}/oauth/external/mail/callback`]);
  clientId = await registerClient(origin, { redirect_uris: [REDIRECT], scope: 'mcp' });
});

after(async () => {
  await setup.close();
  await idp.close();
  silent.closeAllConnections();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

async function authorizeUrl(client = clientId, scope = 'mcp'): Promise<{ url: string; verifier: string }> {
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: client, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope, state: crypto.randomUUID(), resource: setup.url });
  return { url: `${origin}/oauth/authorize?${query}`, verifier };
}

/** Opens the authorization URL and presses "Sign in with <provider>"; returns where that ends (the consent page, or an error page) and the login page. */
async function signInWith(browser: Browser, provider: string, url: string, until?: (location: string) => boolean): Promise<{ end: BrowserStep; login: string; interaction: string }> {
  const login = await browser.go(url);
  assert.equal(login.status, 200, login.text);
  const interaction = hiddenField(login.text, 'interaction');
  const end = await browser.go(`${origin}/oauth/external/start`, { interaction, csrf: hiddenField(login.text, 'csrf'), provider }, until);
  return { end, login: login.text, interaction };
}

/** Answers the consent page; returns the client's redirect with the code. */
async function approve(browser: Browser, consent: BrowserStep, interaction: string): Promise<URL> {
  assert.equal(consent.status, 200, consent.text);
  assert.match(consent.url, /\/oauth\/consent\?/);
  const answered = await browser.step(`${origin}/oauth/consent`, { interaction, csrf: hiddenField(consent.text, 'csrf'), decision: 'approve' });
  assert.equal(answered.status, 303, answered.text);
  return new URL(answered.location!);
}

const newBrowser = () => new Browser([origin, idp.issuer]);
const isCallback = (location: string) => location.startsWith(`${origin}/oauth/external/`);

/** The SDK client, authorized by a person who signs in at the provider as `account`; connected. */
async function connectAs(account: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport; provider: TestOAuthClient; pages: string[]; codes: string[] }> {
  idp.loginAs = account;
  const browser = newBrowser();
  const pages: string[] = [];
  const codes: string[] = [];
  const provider = new TestOAuthClient(REDIRECT, async (url) => {
    const { end, login, interaction } = await signInWith(browser, 'corp', url.href);
    pages.push(login, end.text);
    const final = await approve(browser, end, interaction);
    codes.push(final.searchParams.get('code')!);
  });
  const first = new Client({ name: 'external-login-test', version: '1.0.0' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider })), UnauthorizedError);
  assert.equal(codes.length, 1);
  await new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider }).finishAuth(codes[0]!);
  secrets.push(codes[0]!, provider.saved!.access_token);
  const client = new Client({ name: 'external-login-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider });
  await client.connect(transport);
  return { client, transport, provider, pages, codes };
}

test('the SDK client authorizes through an external provider and calls a tool as the mapped user', async () => {
  idp.accounts.set('alice', { email: 'alice@example.com', email_verified: true, name: 'Alice', groups: ['eng', 'ops'] });
  const { client, transport, provider, pages } = await connectAs('alice');
  try {
    // The login page offered the provider beside the password form; consent names the mapped user.
    assert.match(pages[0]!, /Sign in with Corp SSO/);
    assert.match(pages[0]!, /name="password"/);
    assert.match(pages[1]!, /act as <strong>alice@corp<\/strong>/);

    // The user was created at first sign-in (users: create), without a password.
    const user = await setup.gh.gateway.store.getUserByName('alice@corp');
    assert.ok(user && !user.disabled);

    // Gatehouse's token names that user, the provider and the groups it gave.
    const token = provider.saved!.access_token;
    const claims = decodeJwt(token);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.preferred_username, 'alice@corp');
    assert.equal(claims.idp, 'corp');
    assert.deepEqual(claims.groups, ['eng', 'ops']);
    assert.equal(claims.iss, origin);

    const result = await client.callTool({ name: 'echo', arguments: { message: 'signed in elsewhere' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: signed in elsewhere' }]);

    // The audit log names the user behind the call, and records the sign-in.
    const calls = await recordsWhen(setup.gh.gateway, { method: 'tools/call', user: user.id }, (events) => events.length > 0);
    assert.equal(calls.length, 1);
    const signIns = await recordsWhen(setup.gh.gateway, { method: '/oauth/external/corp/callback' }, (events) => events.some((e) => e.target === 'external-sign-in'));
    const signIn = signIns.find((e) => e.target === 'external-sign-in')!;
    assert.equal(signIn.user, user.id);
    assert.equal(signIn.decision, 'allowed');

    // Such a user has no password to sign in with.
    const browser2 = new Browser([origin]);
    const page = await browser2.go((await authorizeUrl()).url);
    const attempt = await browser2.step(`${origin}/oauth/login`, { interaction: hiddenField(page.text, 'interaction'), csrf: hiddenField(page.text, 'csrf'), username: 'alice@corp', password: 'external' });
    assert.equal(attempt.status, 401);
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
});

test('the groups the provider gives reach policies (claims.groups)', async () => {
  idp.accounts.set('frank', { groups: 'sales' });
  const frank = await connectAs('frank');
  try {
    assert.deepEqual(decodeJwt(frank.provider.saved!.access_token).groups, ['sales']);
    const { tools } = await frank.client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
    assert.ok(!tools.some((t) => t.name === 'get-sum'), 'get-sum is for the eng group');
  } finally {
    await frank.transport.terminateSession().catch(() => undefined);
    await frank.client.close();
  }
  const alice = await connectAs('alice');
  try {
    const result = await alice.client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    assert.equal(result.isError, undefined, JSON.stringify(result));
    assert.match(JSON.stringify(result.content), /5/);
  } finally {
    await alice.transport.terminateSession().catch(() => undefined);
    await alice.client.close();
  }
});

test('a refresh keeps the provider and the groups of the sign-in', async () => {
  const offline = await registerClient(origin, { redirect_uris: [REDIRECT], scope: 'mcp offline_access' });
  const { url, verifier } = await authorizeUrl(offline, 'mcp offline_access');
  const browser = newBrowser();
  idp.loginAs = 'alice';
  const { end, interaction } = await signInWith(browser, 'corp', url);
  const code = (await approve(browser, end, interaction)).searchParams.get('code')!;
  const tokens = await tokenRequest(origin, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: offline, redirect_uri: REDIRECT, resource: setup.url });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const refreshed = await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: offline });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  const claims = decodeJwt(String(refreshed.body.access_token));
  assert.equal(claims.preferred_username, 'alice@corp');
  assert.equal(claims.idp, 'corp');
  assert.deepEqual(claims.groups, ['eng', 'ops']);
  secrets.push(code, ...[tokens.body, refreshed.body].flatMap((b) => [String(b.access_token), String(b.refresh_token)]));
});

test('"Sign in with Gatehouse" on the admin listener can go through the external provider', async () => {
  const admin = setup.gh.gateway.admin!.url.replace(/\/$/, '');
  const browser = new Browser([origin, idp.issuer, admin]);
  idp.loginAs = 'alice';
  const started = await browser.step(`${admin}/oauth/start`, { next: '/' });
  assert.equal(started.status, 303, started.text);
  // The built-in admin client has no consent page: the sign-in ends at the admin listener's callback.
  const { end } = await signInWith(browser, 'corp', started.location!);
  assert.equal(end.status, 200, end.text);
  assert.equal(new URL(end.url).origin + new URL(end.url).pathname, `${admin}/oauth/callback`);
  assert.equal((await browser.step(`${admin}/api/overview`)).status, 200, 'an admin session for alice@corp');
  assert.ok(setup.gh.logs.lines.some((l) => l.msg === 'admin: signed in' && l.admin === 'alice@corp'));
});

test('a local password still signs in on the same page', async () => {
  const { url, verifier } = await authorizeUrl();
  const flow = await playUser(url);
  assert.match(flow.loginPage, /Sign in with Corp SSO/);
  const code = flow.final.searchParams.get('code');
  assert.ok(code, flow.final.href);
  const tokens = await tokenRequest(origin, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource: setup.url });
  assert.equal(tokens.status, 200);
  const claims = decodeJwt(String(tokens.body.access_token));
  assert.equal(claims.preferred_username, USER.username);
  assert.equal(claims.idp, undefined);
  secrets.push(code, String(tokens.body.access_token));
});

test('a verified email links to the existing user of that name; an unverified or unknown one is refused (users must exist)', async () => {
  await createUser(setup.gh.gateway.store, 'bob@example.com', 'bobs password 123');
  idp.accounts.set('bob', { email: 'Bob@Example.com', email_verified: true });
  idp.accounts.set('carol', { email: 'carol@example.com', email_verified: false });
  idp.accounts.set('dave', { email: 'dave@example.com', email_verified: true });

  idp.loginAs = 'bob';
  const bob = await signInWith(newBrowser(), 'mail', (await authorizeUrl()).url);
  assert.equal(bob.end.status, 200, bob.end.text);
  assert.match(bob.end.text, /act as <strong>bob@example\.com<\/strong>/);

  idp.loginAs = 'carol';
  const carol = await signInWith(newBrowser(), 'mail', (await authorizeUrl()).url);
  assert.equal(carol.end.status, 403);
  assert.match(carol.end.text, /not verified the address carol@example\.com/);

  idp.loginAs = 'dave';
  const dave = await signInWith(newBrowser(), 'mail', (await authorizeUrl()).url);
  assert.equal(dave.end.status, 403);
  assert.match(dave.end.text, /no Gatehouse account for dave@example\.com/);
  assert.equal(await setup.gh.gateway.store.getUserByName('dave@example.com'), undefined);
});

test('a disabled Gatehouse user is refused though the provider signs them in', async () => {
  idp.accounts.set('erin', { email: 'erin@example.com', email_verified: true });
  idp.loginAs = 'erin';
  const first = await signInWith(newBrowser(), 'corp', (await authorizeUrl()).url);
  assert.equal(first.end.status, 200, first.end.text);
  assert.ok(await setup.gh.gateway.store.setUserDisabled('erin@corp', true));
  const again = await signInWith(newBrowser(), 'corp', (await authorizeUrl()).url);
  assert.equal(again.end.status, 403);
  assert.match(again.end.text, /account erin@corp is disabled/);
  assert.doesNotMatch(again.end.text, /Allow access/);
});

test('the provider\'s access_denied ends on a clear error page', async () => {
  idp.loginAs = 'alice';
  idp.decline = true;
  try {
    const { end } = await signInWith(newBrowser(), 'corp', (await authorizeUrl()).url);
    assert.equal(end.status, 403);
    assert.match(end.text, /Sign-in refused/);
    assert.match(end.text, /Corp SSO answered access_denied: the person declined/);
  } finally {
    idp.decline = false;
  }
});

test('a bad state is refused: forged, replayed, delivered to another browser, or to another provider\'s callback', async () => {
  idp.loginAs = 'alice';
  const browser = newBrowser();
  await browser.go((await authorizeUrl()).url);
  const forged = await browser.step(`${origin}/oauth/external/corp/callback?code=abc&state=forged-state`);
  assert.equal(forged.status, 400);
  assert.match(forged.text, /does not belong to a sign-in started here/);
  const none = await browser.step(`${origin}/oauth/external/corp/callback?code=abc`);
  assert.equal(none.status, 400);

  // Replayed: the first delivery signs in, the second finds nothing.
  const { end: atCallback } = await signInWith(browser, 'corp', (await authorizeUrl()).url, isCallback);
  const callback = atCallback.location!;
  const consent = await browser.go(callback);
  assert.equal(consent.status, 200, consent.text);
  const replayed = await browser.go(callback);
  assert.equal(replayed.status, 400);

  // Delivered to a browser that did not start the sign-in (login CSRF): refused.
  const started = await signInWith(newBrowser(), 'corp', (await authorizeUrl()).url, isCallback);
  const other = newBrowser();
  const elsewhere = await other.go(started.end.location!);
  assert.equal(elsewhere.status, 403);
  assert.match(elsewhere.text, /another browser/);

  // One provider's answer at another provider's callback (mix-up): refused.
  const mixed = await signInWith(browser, 'corp', (await authorizeUrl()).url, isCallback);
  const atMail = await browser.go(mixed.end.location!.replace('/oauth/external/corp/', '/oauth/external/mail/'));
  assert.equal(atMail.status, 400);
});

const TAMPERED: Array<[Tamper, RegExp]> = [
  ['audience', /\(claim aud\)/],
  ['nonce', /\(claim nonce\)/],
  ['issuer', /\(claim iss\)/],
  ['expired', /\(claim exp\).*expiration is past/],
  ['signature', /signature verification failed/],
];
for (const [tamper, reason] of TAMPERED) {
  test(`an ID token is refused: ${tamper} spoilt by the provider`, async () => {
    idp.loginAs = 'alice';
    idp.tamper = tamper;
    try {
      const { end } = await signInWith(newBrowser(), 'corp', (await authorizeUrl()).url);
      assert.equal(end.status, 401, end.text);
      assert.match(end.text, /The ID token from Corp SSO is not valid/);
      assert.match(end.text, reason);
      assert.doesNotMatch(end.text, /Allow access/);
    } finally {
      idp.tamper = undefined;
    }
  });
}

test('an unreachable provider and one that does not answer end on error pages (502, 504)', async () => {
  const down = await signInWith(newBrowser(), 'down', (await authorizeUrl()).url);
  assert.equal(down.end.status, 502);
  assert.match(down.end.text, /down could not be reached \(discovery\)/);
  const silentEnd = await signInWith(newBrowser(), 'silent', (await authorizeUrl()).url);
  assert.equal(silentEnd.end.status, 504);
  assert.match(silentEnd.end.text, /silent did not answer in time/);
  // Gatehouse still serves the login page after both.
  const page = await newBrowser().go((await authorizeUrl()).url);
  assert.equal(page.status, 200);
});

test('no client secret, code or token reaches the log or the audit log', async () => {
  const audit = setup.gh.gateway.audit!;
  await audit.flush();
  const records = JSON.stringify(await audit.reader!.list({}, { limit: 10_000 }));
  const logs = setup.gh.logs.text();
  assert.match(logs, /signed in with corp as alice@corp/);
  assert.ok(idp.issued.length >= 6, `only ${idp.issued.length} tokens and codes seen`);
  for (const secret of [idp.clientSecret, ...idp.issued, ...secrets]) {
    assert.ok(!logs.includes(secret), 'a secret, code or token is in the log');
    assert.ok(!records.includes(secret), 'a secret, code or token is in the audit log');
  }
});
