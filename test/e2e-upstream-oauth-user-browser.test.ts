// Per-user upstream OAuth with a real browser: headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core) plays the person for the official SDK client. At Gatehouse's
// embedded authorization server she signs in and allows the client; the consent page says her
// upstream account comes next, and the browser goes through the upstream's authorization server
// (oidc-provider, which signs her in at once) before landing on the client's loopback callback.
// The client's first session calls the upstream as her. Her connection revoked, the call's
// connect link is opened in the same browser: Gatehouse's /-/connections sign-in, the upstream
// again, "Connected"; the retry works. Without Chromium the test is skipped with one line, unless
// GATEHOUSE_REQUIRE_BROWSER=1 (CI), which makes a missing Chromium a failure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { BrowserContext } from 'playwright-core';
import { startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { browserRequirement } from './helpers/requirements.ts';
import { launchChromium, startLoopbackCallback, type LoopbackCallback } from './helpers/oauth-browser.ts';
import { TestOAuthClient } from './helpers/oauth-flow.ts';
import { type UpstreamIdp, type UserUpstream, startIdpWithUpstream } from './helpers/upstream-idp.ts';
import { createUser } from '../src/authserver/users.ts';

const browser = browserRequirement();
const skip = browser.skip;
const ADA = { username: 'ada', password: 'correct horse battery staple' } as const;

let idp: UpstreamIdp;
let upstream: UserUpstream;
let gh: TestGateway;
let adaId: string;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
let callback: LoopbackCallback;

before(async () => {
  if (skip) return;
  browser.check();
  ({ idp, upstream } = await startIdpWithUpstream());
  gh = await startTestGateway({
    servers: { notes: { url: upstream.url, auth: { type: 'oauth-user' } } },
    apis: [{ name: 'notes', path: '/mcp', server: 'notes', auth: { type: 'oauth2' } }],
  });
  adaId = (await createUser(gh.gateway.store, ADA.username, ADA.password)).id;
  callback = await startLoopbackCallback();
  chromium = await launchChromium();
  context = chromium.context;
});

after(async () => {
  if (skip) return;
  await chromium?.close();
  await callback?.close();
  await gh?.close();
  await upstream?.close();
  await idp?.close();
});

test('in Chromium: signing in connects the upstream account on the way, the first session calls as the person; revoked, the connect link reconnects her and the retry works (the link\'s /-/connections sign-in used to fail in browsers: its post carried Origin: null under no-referrer, and form-action stopped the redirect to the upstream)', { skip }, async () => {
  idp.loginAs = 'ada-upstream';
  const provider = new TestOAuthClient(callback.url, async (url) => {
    const page = await context.newPage();
    try {
      await page.goto(url.href);
      assert.equal(new URL(page.url()).pathname, '/oauth/login');
      await page.fill('#username', ADA.username);
      await page.fill('#password', ADA.password);
      await page.click('button[type=submit]');
      await page.waitForURL((u) => u.pathname === '/oauth/consent');
      assert.match((await page.textContent('main')) ?? '', /you will first connect your account at notes/);
      const upstreamVisits: string[] = [];
      page.on('request', (request) => {
        if (request.url().startsWith(idp.issuer)) upstreamVisits.push(request.url());
      });
      await Promise.all([page.waitForURL((u) => u.href.startsWith(callback.url)), page.click('button[value=approve]')]);
      assert.ok(upstreamVisits.length > 0, 'the browser went through the upstream\'s authorization server');
    } finally {
      await page.close();
    }
  });
  const first = new Client({ name: 'browser-test', version: '1.0.0' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(gh.url('notes')), { authProvider: provider })), UnauthorizedError);
  const answer = callback.answers.at(-1);
  assert.ok(answer && answer.searchParams.get('code'), 'the client got its code at the end');
  assert.equal(answer.searchParams.get('state'), provider.lastState);
  await new StreamableHTTPClientTransport(new URL(gh.url('notes')), { authProvider: provider }).finishAuth(answer.searchParams.get('code')!);

  const client = new Client({ name: 'browser-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url('notes')), { authProvider: provider }));
  try {
    const whoami = async () => ((await client.callTool({ name: 'whoami', arguments: {} })).content as Array<{ text: string }>)[0]!.text;
    assert.equal(await whoami(), 'ada-upstream');

    // Revoked: the call prompts with the link; she opens it in the same browser.
    assert.equal(await gh.gateway.credentialConnections().revokeUser(adaId), 1);
    let link = '';
    await assert.rejects(whoami(), (error: unknown) => {
      assert.ok(error instanceof McpError && error.code === -32042, String(error));
      link = /(http:\/\/\S+\/-\/connect\/notes\?ticket=[^\s,]+)/.exec(error.message)?.[1] ?? '';
      return link !== '';
    });
    const page = await context.newPage();
    try {
      await page.goto(link);
      // Gatehouse asks who opens it (the link names a user of its own): its sign-in, then on.
      await page.waitForURL((u) => u.pathname === '/-/connections');
      await page.getByLabel('Username').fill(ADA.username);
      await page.getByLabel('Password').fill(ADA.password);
      await Promise.all([page.waitForURL((u) => u.pathname === '/-/connect/callback'), page.getByRole('button', { name: 'Sign in' }).click()]);
      assert.match((await page.textContent('main')) ?? '', /Your account at notes is connected/);
    } finally {
      await page.close();
    }
    assert.equal(await whoami(), 'ada-upstream', 'the retry works');
  } finally {
    await client.close();
  }
});
