// An external OpenID Connect provider (oidc-provider, a real third-party server) names the
// tenant of the users who sign in through it (`tenantClaim`), on a Gatehouse with two tenants:
// a user created at first sign-in lands in the tenant the provider names and reaches that
// tenant's API only; a tenant the gateway does not serve, a missing claim, or a claim that
// disagrees with the existing account's tenant is refused with a clear page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_EGRESS, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { hiddenField, pkcePair, registerClient } from './helpers/oauth-flow.ts';
import { Browser, startLoginIdp, type BrowserStep, type LoginIdp } from './helpers/login-idp.ts';

const REDIRECT = 'http://127.0.0.1:45125/callback';
let idp: LoginIdp;
let everything: RunningEverything;
let gh: TestGateway;
let clientId: string;

before(async () => {
  idp = await startLoginIdp();
  everything = await startEverything();
  gh = await startTestGateway({
    tenants: [
      { id: 'acme', pathPrefix: '/acme', egress: LOCAL_EGRESS },
      { id: 'globex', pathPrefix: '/globex', egress: LOCAL_EGRESS },
    ],
    servers: {
      'acme-everything': { url: `${everything.origin}/mcp`, tenant: 'acme' },
      'globex-everything': { url: `${everything.origin}/mcp`, tenant: 'globex' },
    },
    apis: [
      { name: 'acme-api', path: '/acme/mcp', server: 'acme-everything', tenant: 'acme', auth: { type: 'oauth2' } },
      { name: 'globex-api', path: '/globex/mcp', server: 'globex-everything', tenant: 'globex', auth: { type: 'oauth2' } },
    ],
    authorizationServer: {
      externalProviders: [{ name: 'corp', displayName: 'Corp SSO', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, scopes: ['openid', 'tenant'], tenantClaim: 'tenant', users: 'create' }],
    },
  });
  await idp.start([`${gh.origin}/oauth/external/corp/callback`]);
  clientId = await registerClient(gh.origin, { redirect_uris: [REDIRECT] });
});

after(async () => {
  await gh?.close();
  await everything?.close();
  await idp?.close();
});

/** A person signs in at the provider as `account` for an authorization request for `api`: where that ends. */
async function signInAs(account: string, api: string): Promise<BrowserStep> {
  idp.loginAs = account;
  const browser = new Browser([gh.origin, idp.issuer]);
  const { challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: crypto.randomUUID(), resource: gh.url(api) });
  const login = await browser.go(`${gh.origin}/oauth/authorize?${query}`);
  assert.equal(login.status, 200, login.text);
  return browser.go(`${gh.origin}/oauth/external/start`, { interaction: hiddenField(login.text, 'interaction'), csrf: hiddenField(login.text, 'csrf'), provider: 'corp' });
}

test('a user created at first sign-in lands in the tenant the provider names, and reaches that tenant\'s API only', async () => {
  idp.accounts.set('ann', { tenant: 'acme' });
  const consent = await signInAs('ann', 'acme-api');
  assert.equal(consent.status, 200, consent.text);
  assert.match(consent.url, /\/oauth\/consent\?/);
  assert.equal((await gh.gateway.store.getUserByName('ann@corp'))?.tenant, 'acme');
  const elsewhere = await signInAs('ann', 'globex-api');
  assert.equal(elsewhere.status, 403);
  assert.match(elsewhere.text, /Not your organisation/);
  assert.doesNotMatch(elsewhere.text, /globex/i);
});

test('a tenant the gateway does not serve, and a missing claim, are refused with a clear page; no user is made', async () => {
  idp.accounts.set('ivan', { tenant: 'initech' });
  const unknown = await signInAs('ivan', 'acme-api');
  assert.equal(unknown.status, 403);
  assert.match(unknown.text, /the organisation it names for you \(&quot;initech&quot;\) is not one this gateway serves|the organisation it names for you \("initech"\) is not one this gateway serves/);
  assert.equal(await gh.gateway.store.getUserByName('ivan@corp'), undefined);
  idp.accounts.set('nora', {});
  const missing = await signInAs('nora', 'acme-api');
  assert.equal(missing.status, 403);
  assert.match(missing.text, /gave no (&quot;|")tenant(&quot;|") claim/);
  assert.equal(await gh.gateway.store.getUserByName('nora@corp'), undefined);
});

test('a claim that disagrees with the existing account\'s tenant is refused: the provider cannot move a user', async () => {
  idp.accounts.set('gus', { tenant: 'globex' });
  assert.equal((await signInAs('gus', 'globex-api')).status, 200);
  idp.accounts.set('gus', { tenant: 'acme' });
  const moved = await signInAs('gus', 'acme-api');
  assert.equal(moved.status, 403);
  assert.match(moved.text, /belongs to another organisation than the one Corp SSO names for you/);
  assert.equal((await gh.gateway.store.getUserByName('gus@corp'))?.tenant, 'globex');
});
