// "Sign in with <provider>" in a real browser: headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core) opens the authorization URL the SDK client built, clicks the
// provider's button on Gatehouse's login page, passes through the external provider
// (oidc-provider; its person signs in and consents on their own), comes back to the consent page
// as the mapped user, clicks Allow and lands on the client's loopback callback. The SDK client
// then finishes and calls a tool. Skipped without Chromium unless GATEHOUSE_REQUIRE_BROWSER=1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { BrowserContext } from 'playwright-core';
import { decodeJwt } from 'jose';
import { browserRequirement } from './helpers/requirements.ts';
import { launchChromium, startLoopbackCallback, type LoopbackCallback } from './helpers/oauth-browser.ts';
import { startOAuthGateway, TestOAuthClient, type OAuthSetup } from './helpers/oauth-flow.ts';
import { startLoginIdp, type LoginIdp } from './helpers/login-idp.ts';

const browser = browserRequirement();
const skip = browser.skip;

let idp: LoginIdp;
let setup: OAuthSetup;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
let callback: LoopbackCallback;
let callbackUrl: string;
let answers: URL[] = [];

before(async () => {
  if (skip) return;
  browser.check();
  idp = await startLoginIdp();
  setup = await startOAuthGateway({
    authorizationServer: {
      externalProviders: [{ name: 'corp', displayName: 'Corp SSO', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, users: 'create' }],
    },
  });
  await idp.start([`${setup.gh.origin}/oauth/external/corp/callback`]);
  callback = await startLoopbackCallback();
  ({ url: callbackUrl, answers } = callback);
  chromium = await launchChromium();
  context = chromium.context;
});

after(async () => {
  if (skip) return;
  await chromium?.close();
  await callback?.close();
  await setup?.close();
  await idp?.close();
});

test('a person clicks "Sign in with Corp SSO" in Chromium, signs in there, allows access; the SDK client calls a tool as that user', { skip }, async () => {
  idp.loginAs = 'grace';
  idp.accounts.set('grace', { email: 'grace@example.com', email_verified: true });
  const provider = new TestOAuthClient(callbackUrl, async (url) => {
    const page = await context.newPage();
    try {
      await page.goto(url.href);
      assert.equal(new URL(page.url()).pathname, '/oauth/login');
      await page.click('button:has-text("Sign in with Corp SSO")');
      await page.waitForURL((u) => u.pathname === '/oauth/consent', { timeout: 20_000 });
      assert.match((await page.textContent('main')) ?? '', /act as grace@corp/);
      await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.click('button[value=approve]')]);
    } finally {
      await page.close();
    }
  }, { client_name: 'Browser Test App' });
  const first = new Client({ name: 'browser-test', version: '1.0.0' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider })), UnauthorizedError);
  assert.equal(answers.length, 1, 'the browser reached the callback once');
  await new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider }).finishAuth(answers[0]!.searchParams.get('code')!);
  assert.equal(decodeJwt(provider.saved!.access_token).preferred_username, 'grace@corp');

  const client = new Client({ name: 'browser-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: 'echo', arguments: { message: 'from Chromium via Corp SSO' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: from Chromium via Corp SSO' }]);
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
});
