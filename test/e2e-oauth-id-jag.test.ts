// Enterprise-Managed Authorization at the embedded authorization server, with real peers: an
// enterprise IdP (oidc-provider, test/helpers/id-jag-idp.ts) where a person signs in to the MCP
// client's application and which issues ID-JAGs by token exchange (RFC 8693), and the official
// SDK 2.x client's CrossAppAccessProvider, which gets an ID-JAG from that IdP and redeems it at
// Gatehouse's token endpoint with the JWT bearer grant (RFC 7523), with no consent page, then
// calls tools of server-everything through Gatehouse as the mapped user (groups reach the ACL).
// Then each refusal, by hand-made token requests with ID-JAGs the IdP signs: wrong typ, aud,
// client_id, issuer, expired, too long-lived, replayed jti, resource of no API or of another
// tenant, disabled user, unsigned or wrongly signed, scopes, clients not allowed the grant; each
// is a security event, and no assertion, token or secret reaches the log or the audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, CrossAppAccessProvider, StreamableHTTPClientTransport, discoverAndRequestJwtAuthGrant } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { LOCAL_EGRESS, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { pkcePair, registerClient, tokenRequest } from './helpers/oauth-flow.ts';
import { Browser } from './helpers/login-idp.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { startIdJagIdp, type IdJagIdp } from './helpers/id-jag-idp.ts';
import { createExternalUser } from '../src/authserver/users.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const PARTNER_ISSUER = 'http://127.0.0.1:9/partner';
const PLAIN_ISSUER = 'http://127.0.0.1:9/plain';
/** A provider nobody answers for (the discard port, closed): its keys cannot be read. */
const DOWN_ISSUER = 'http://127.0.0.1:9/down';
const PAUSED_ISSUER = 'http://127.0.0.1:9/paused';

let idp: IdJagIdp;
let everything: RunningEverything;
let gh: TestGateway;
let origin: string;
/** The MCP client registered at Gatehouse for the JWT bearer grant, and a second one. */
let app: { id: string; secret: string };
let other: { id: string; secret: string };
/** Every secret the tests handled, for the log greps. */
const secrets: string[] = [];

async function registerConfidential(metadata: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const response = await fetch(`${origin}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'enterprise MCP client', redirect_uris: [], grant_types: [JWT_BEARER], token_endpoint_auth_method: 'client_secret_basic', ...metadata }),
  });
  const body = (await response.json()) as { client_id?: string; client_secret?: string };
  assert.equal(response.status, 201, JSON.stringify(body));
  secrets.push(body.client_secret!);
  return { id: body.client_id!, secret: body.client_secret! };
}

before(async () => {
  idp = await startIdJagIdp();
  everything = await startEverything();
  gh = await startTestGateway({
    tenants: [{ id: 'acme', pathPrefix: '/acme', egress: LOCAL_EGRESS }],
    servers: { everything: { url: `${everything.origin}/mcp` }, 'acme-everything': { url: `${everything.origin}/mcp`, tenant: 'acme' } },
    apis: [
      {
        name: 'tools',
        path: '/mcp',
        server: 'everything',
        auth: { type: 'oauth2', scopes: ['mcp', 'mcp:admin'] },
        // The groups in the ID-JAG reach policies: get-sum is for the "eng" group only.
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] },
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'get-sum' } }], condition: 'has(claims.groups) && "eng" in claims.groups && claims.idp == "corp"' },
              ],
            },
          },
        ],
      },
      { name: 'acme-tools', path: '/acme/mcp', server: 'acme-everything', tenant: 'acme', auth: { type: 'oauth2' } },
    ],
    authorizationServer: {
      externalProviders: [
        { name: 'corp', displayName: 'Corp SSO', issuer: idp.issuer, clientId: 'gatehouse-at-corp', groupsClaim: 'groups', users: 'create', identityAssertions: { maxLifetime: '10m' } },
        // Trusted for identity assertions only (no client of Gatehouse there): not on the login page.
        { name: 'partner', displayName: 'Partner IdP', issuer: PARTNER_ISSUER, identityAssertions: { clients: ['someone-else'] } },
        { name: 'plain', issuer: PLAIN_ISSUER, clientId: 'gatehouse' },
        { name: 'down', issuer: DOWN_ISSUER, timeout: '2s', identityAssertions: {} },
        { name: 'paused', issuer: PAUSED_ISSUER, clientId: 'gatehouse', identityAssertions: { enabled: false } },
      ],
    },
  });
  origin = gh.origin;
  app = await registerConfidential({});
  other = await registerConfidential({ client_name: 'another enterprise client' });
  idp.gatehouseClientId = app.id;
});

after(async () => {
  await gh?.close();
  await everything?.close();
  await idp?.close();
});

const basic = (client: { id: string; secret: string }) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}` });

/** Redeems an ID-JAG at Gatehouse's token endpoint as `client`. */
async function redeem(assertion: string, options: { client?: { id: string; secret: string }; form?: Record<string, string> } = {}) {
  const result = await tokenRequest(origin, { grant_type: JWT_BEARER, assertion, ...options.form }, basic(options.client ?? app));
  if (typeof result.body.access_token === 'string') secrets.push(result.body.access_token);
  return result;
}

/** The claims of a good ID-JAG for `sub` and the tools API; `extra` overrides. */
function claims(sub: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub, aud: origin, resource: gh.url('tools'), client_id: app.id, scope: 'mcp', ...extra };
}

test('metadata offers the JWT bearer grant; a confidential client registers it without redirect URIs, a public one cannot', async () => {
  const metadata = (await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json()) as { grant_types_supported: string[] };
  assert.deepEqual(metadata.grant_types_supported, ['authorization_code', 'refresh_token', JWT_BEARER]);
  const refused = await fetch(`${origin}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'public', redirect_uris: [], grant_types: [JWT_BEARER], token_endpoint_auth_method: 'none' }),
  });
  assert.equal(refused.status, 400);
  assert.match(((await refused.json()) as { error_description: string }).error_description, /confidential clients/);
  const noRedirect = await fetch(`${origin}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'code flow without redirect', redirect_uris: [], grant_types: ['authorization_code'], token_endpoint_auth_method: 'client_secret_basic' }),
  });
  assert.equal(noRedirect.status, 400);

  // The login page offers the providers Gatehouse has a client at, not those trusted for assertions only.
  const browserClient = await registerClient(origin, { redirect_uris: ['http://127.0.0.1:45198/callback'] });
  const { challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: browserClient, redirect_uri: 'http://127.0.0.1:45198/callback', code_challenge: challenge, code_challenge_method: 'S256', state: 's', resource: gh.url('tools') });
  const login = await new Browser([origin]).go(`${origin}/oauth/authorize?${query}`);
  assert.equal(login.status, 200, login.text);
  assert.match(login.text, /Sign in with Corp SSO/);
  assert.doesNotMatch(login.text, /Sign in with (Partner IdP|down)/);
});

test('the SDK client signs in at the IdP, gets an ID-JAG there and a Gatehouse token without consent, and calls tools as the mapped user', async () => {
  idp.accounts.set('alice', { email: 'alice@corp.example', email_verified: true, name: 'Alice', groups: ['eng', 'ops'] });
  const idToken = await idp.signIn('alice');
  secrets.push(idToken);
  const contexts: Array<{ authorizationServerUrl: string; resourceUrl: string; scope?: string | undefined }> = [];
  const provider = new CrossAppAccessProvider({
    assertion: async (ctx) => {
      contexts.push({ authorizationServerUrl: ctx.authorizationServerUrl, resourceUrl: ctx.resourceUrl, scope: ctx.scope });
      const grant = await discoverAndRequestJwtAuthGrant({ idpUrl: idp.issuer, audience: ctx.authorizationServerUrl, resource: ctx.resourceUrl, idToken, clientId: idp.app.id, clientSecret: idp.app.secret, scope: ctx.scope, fetchFn: ctx.fetchFn });
      return grant.jwtAuthGrant;
    },
    clientId: app.id,
    clientSecret: app.secret,
    clientName: 'enterprise MCP client',
    expectedIssuer: origin,
  });
  const client = new Client({ name: 'id-jag-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(gh.url('tools')), { authProvider: provider });
  await client.connect(transport);
  try {
    assert.equal(idp.exchanges, 1);
    assert.deepEqual(contexts.map((c) => [c.authorizationServerUrl, c.resourceUrl]), [[origin, gh.url('tools')]]);
    const tokens = provider.tokens()!;
    secrets.push(tokens.access_token);
    assert.equal(tokens.refresh_token, undefined, 'no refresh token: the client asks the IdP for a new ID-JAG');
    const user = await gh.gateway.store.getUserByName('alice@corp');
    assert.ok(user && !user.disabled, 'the user was created at the first assertion (users: create)');
    assert.match(gh.logs.text(), /user created at first identity assertion \(ID-JAG\)/, 'the log says how the user came to be');
    const at = decodeJwt(tokens.access_token);
    assert.equal(at.sub, user.id);
    assert.equal(at.iss, origin);
    assert.equal(at.aud, gh.url('tools'));
    assert.equal(at.client_id, app.id);
    assert.equal(at.preferred_username, 'alice@corp');
    assert.equal(at.idp, 'corp');
    assert.deepEqual(at.groups, ['eng', 'ops']);
    // The SDK asks for what the protected resource metadata advertises; the IdP granted it.
    assert.equal(contexts[0]!.scope, 'mcp mcp:admin');
    assert.equal(at.scope, 'mcp mcp:admin');

    const echo = await client.callTool({ name: 'echo', arguments: { message: 'managed by the enterprise' } });
    assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: managed by the enterprise' }]);
    const sum = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    assert.equal(sum.isError, undefined, JSON.stringify(sum));
    assert.match(JSON.stringify(sum.content), /5/);

    const calls = await recordsWhen(gh.gateway, { method: 'tools/call', user: user.id }, (events) => events.length >= 2);
    assert.equal(calls.length, 2);
    assert.ok(calls.every((c) => c.decision === 'allowed' && c.api === 'tools'), JSON.stringify(calls));
    const redeemed = await recordsWhen(gh.gateway, { method: '/oauth/token' }, (events) => events.some((e) => e.target === 'identity-assertion-redeemed'));
    const event = redeemed.find((e) => e.target === 'identity-assertion-redeemed')!;
    assert.equal(event.user, user.id);
    assert.equal(event.api, 'tools');
    assert.equal(event.decision, 'allowed');
    assert.match(event.reason ?? '', /identity assertion of corp as alice@corp \(scope: mcp mcp:admin\)/);
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }

  // Without the eng group, get-sum is hidden (the ACL reads the groups the ID-JAG gave).
  idp.accounts.set('frank', { groups: ['sales'] });
  const jag = await idp.mint(claims('frank', { groups: ['sales'] }));
  const answer = await redeem(jag);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const frank = new Client({ name: 'id-jag-test', version: '1.0.0' });
  const bearer = new StreamableHTTPClientTransport(new URL(gh.url('tools')), { requestInit: { headers: { authorization: `Bearer ${String(answer.body.access_token)}` } } });
  await frank.connect(bearer);
  try {
    const { tools } = await frank.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
    assert.ok(!tools.some((t) => t.name === 'get-sum'), 'get-sum is for the eng group');
  } finally {
    await bearer.terminateSession().catch(() => undefined);
    await frank.close();
  }
});

test('scopes: what the client asks within the ID-JAG and the API; offline_access is never granted; the rest is invalid_scope', async () => {
  const narrowed = await redeem(await idp.mint(claims('alice', { scope: 'mcp mcp:admin offline_access' })), { form: { scope: 'mcp offline_access' } });
  assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
  assert.equal(narrowed.body.scope, 'mcp');
  assert.equal(narrowed.body.refresh_token, undefined);
  const all = await redeem(await idp.mint(claims('alice', { scope: 'mcp mcp:admin unknown-to-gatehouse' })));
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assert.equal(all.body.scope, 'mcp mcp:admin');
  const defaults = await redeem(await idp.mint(claims('alice', { scope: undefined })));
  assert.equal(defaults.status, 200, JSON.stringify(defaults.body));
  assert.equal(defaults.body.scope, 'mcp mcp:admin', 'no scope anywhere: what the API advertises');

  const beyond = await redeem(await idp.mint(claims('alice', { scope: 'mcp' })), { form: { scope: 'mcp:admin' } });
  assert.equal(beyond.status, 400);
  assert.equal(beyond.body.error, 'invalid_scope');
  assert.match(String(beyond.body.error_description), /not within the assertion's scope/);
  const unknown = await redeem(await idp.mint(claims('alice')), { form: { scope: 'mcp root' } });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.error, 'invalid_scope');
  assert.match(String(unknown.body.error_description), /unsupported scope: root/);
  const nothing = await redeem(await idp.mint(claims('alice', { scope: 'email profile' })));
  assert.equal(nothing.status, 400);
  assert.equal(nothing.body.error, 'invalid_scope');
});

test('a replayed ID-JAG is refused and recorded as a security event', async () => {
  const jag = await idp.mint(claims('alice'));
  const first = await redeem(jag);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const again = await redeem(jag);
  assert.equal(again.status, 400);
  assert.equal(again.body.error, 'invalid_grant');
  assert.match(String(again.body.error_description), /already redeemed/);
  // typ is a media type: its "application/" form is the same type.
  const longTyp = await redeem(await idp.mint(claims('alice'), { typ: 'application/oauth-id-jag+jwt' }));
  assert.equal(longTyp.status, 200, JSON.stringify(longTyp.body));
  // Concurrent redemptions of one fresh ID-JAG: exactly one wins.
  const racing = await idp.mint(claims('alice'));
  const results = await Promise.all(Array.from({ length: 5 }, () => redeem(racing)));
  assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.body.error ?? 'ok')));
  const events = await recordsWhen(gh.gateway, { method: '/oauth/token' }, (list) => list.filter((e) => e.target === 'identity-assertion-replayed').length >= 5);
  const replays = events.filter((e) => e.target === 'identity-assertion-replayed');
  assert.equal(replays.length, 5);
  assert.ok(replays.every((e) => e.decision === 'denied' && e.status === 400 && e.agent === app.id));
  assert.ok(gh.logs.lines.some((l) => l.level === 40 && /already redeemed/.test(String(l.msg))), 'a replay is logged at warn');
});

test('refusals: each bad ID-JAG gets an RFC 6749 error naming the check, and a security event', async () => {
  const now = Math.floor(Date.now() / 1000);
  const cases: Array<[string, Promise<string>, number, string, RegExp, { client?: { id: string; secret: string }; form?: Record<string, string> }?]> = [
    ['wrong typ', idp.mint(claims('alice'), { typ: 'JWT' }), 400, 'invalid_grant', /typ header must be oauth-id-jag\+jwt/],
    ['no typ', idp.mint(claims('alice'), { typ: null }), 400, 'invalid_grant', /typ header must be oauth-id-jag\+jwt/],
    ['wrong aud', idp.mint(claims('alice', { aud: 'https://other-as.example' })), 400, 'invalid_grant', /another audience/],
    ['other client_id', idp.mint(claims('alice', { client_id: other.id })), 400, 'invalid_grant', /issued to another client/],
    ['unknown issuer', idp.mint(claims('alice', { iss: 'https://unknown-idp.example' })), 400, 'invalid_grant', /not an identity provider trusted for identity assertions/],
    ['provider without identity assertions', idp.mint(claims('alice', { iss: PLAIN_ISSUER })), 400, 'invalid_grant', /not an identity provider trusted for identity assertions/],
    ['provider with identity assertions turned off', idp.mint(claims('alice', { iss: PAUSED_ISSUER })), 400, 'invalid_grant', /not an identity provider trusted for identity assertions/],
    ['client not allowed by the provider', idp.mint(claims('alice', { iss: PARTNER_ISSUER })), 400, 'unauthorized_client', /may not redeem identity assertions of partner/],
    ['expired', idp.mint(claims('alice', { iat: now - 900, exp: now - 300 })), 400, 'invalid_grant', /expired/],
    ['too long-lived', idp.mint(claims('alice', { exp: now + 3600 })), 400, 'invalid_grant', /lives longer than this server accepts \(600 s/],
    ['issued in the future', idp.mint(claims('alice', { iat: now + 600, exp: now + 700 })), 400, 'invalid_grant', /issued in the future/],
    ['no jti', idp.mint(claims('alice', { jti: undefined })), 400, 'invalid_grant', /lacks the jti claim/],
    ['no resource', idp.mint(claims('alice', { resource: undefined })), 400, 'invalid_grant', /lacks the resource claim/],
    ['resource of no API', idp.mint(claims('alice', { resource: `${origin}/nowhere` })), 400, 'invalid_target', /not an API of this gateway/],
    ['resource parameter differs', idp.mint(claims('alice')), 400, 'invalid_target', /differs from the assertion's resource/, { form: { resource: gh.url('acme-tools') } }],
    ['API of another tenant', idp.mint(claims('alice', { resource: gh.url('acme-tools') })), 400, 'invalid_grant', /belongs to another organisation/],
    ['unsigned (alg none)', idp.mint(claims('alice'), { key: 'none' }), 400, 'invalid_grant', /signature algorithm is not accepted .*never none/],
    ['signed by another key', idp.mint(claims('alice'), { key: 'impostor' }), 400, 'invalid_grant', /signature does not verify/],
    ['not a JWT', Promise.resolve('not-a-jwt'), 400, 'invalid_grant', /not a JWT/],
    ['provider unreachable', idp.mint(claims('alice', { iss: DOWN_ISSUER })), 502, 'server_error', /down could not be reached/],
    ['client that did not register the grant', idp.mint(claims('alice')), 400, 'unauthorized_client', /did not register the grant type/, { client: await registerConfidential({ grant_types: ['authorization_code'], redirect_uris: ['http://127.0.0.1:9999/callback'] }) }],
    ['wrong client secret', idp.mint(claims('alice')), 401, 'invalid_client', /wrong client_secret/, { client: { id: app.id, secret: 'not-the-secret' } }],
  ];
  for (const [name, minted, status, error, description, options] of cases) {
    const answer = await redeem(await minted, options);
    assert.equal(answer.status, status, `${name}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error, error, `${name}: ${JSON.stringify(answer.body)}`);
    assert.match(String(answer.body.error_description), description, name);
    assert.equal(answer.body.access_token, undefined, name);
  }
  const missing = await tokenRequest(origin, { grant_type: JWT_BEARER }, basic(app));
  assert.equal(missing.status, 400);
  assert.equal(missing.body.error, 'invalid_request');

  const events = await recordsWhen(gh.gateway, { method: '/oauth/token' }, (list) => list.filter((e) => e.target === 'identity-assertion-refused').length >= cases.length - 1);
  const refused = events.filter((e) => e.target === 'identity-assertion-refused');
  assert.ok(refused.length >= cases.length - 1, `${refused.length} refusals recorded`);
  assert.ok(refused.some((e) => /of corp refused: invalid_grant: the assertion is for another audience/.test(e.reason ?? '')));
  assert.ok(refused.some((e) => e.api === 'acme-tools' && /another organisation/.test(e.reason ?? '')));
});

test('a disabled user, and a user of another tenant, get no token', async () => {
  await createExternalUser(gh.gateway.store, 'dora@corp');
  await gh.gateway.store.setUserDisabled('dora@corp', true);
  const disabled = await redeem(await idp.mint(claims('dora')));
  assert.equal(disabled.status, 400);
  assert.equal(disabled.body.error, 'invalid_grant');
  assert.match(String(disabled.body.error_description), /dora@corp is disabled/);

  await createExternalUser(gh.gateway.store, 'ann@corp', 'acme');
  const tenantApi = await redeem(await idp.mint(claims('ann', { resource: gh.url('acme-tools') })));
  assert.equal(tenantApi.status, 200, 'ann reaches her own tenant\'s API');
  const platformApi = await redeem(await idp.mint(claims('ann')));
  assert.equal(platformApi.status, 400);
  assert.equal(platformApi.body.error, 'invalid_grant');
  assert.match(String(platformApi.body.error_description), /another organisation/);
});

test('no ID token, ID-JAG, access token or client secret reaches the log or the audit log', async () => {
  const audit = JSON.stringify(await recordsWhen(gh.gateway, {}, () => true));
  const logged = gh.logs.text();
  const all = [...secrets, ...idp.issued, idp.app.secret];
  assert.ok(all.length > 20);
  for (const secret of all) {
    assert.ok(!logged.includes(secret), `the log holds a secret: ${secret.slice(0, 12)}…`);
    assert.ok(!audit.includes(secret), `the audit log holds a secret: ${secret.slice(0, 12)}…`);
    // Nor the signature part alone (a token's most secret part).
    const signature = secret.split('.')[2];
    if (signature && signature.length > 20) assert.ok(!logged.includes(signature) && !audit.includes(signature));
  }
});
