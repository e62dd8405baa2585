// The authorization flow in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core) opens the authorization URL the SDK client built, the test fills in the
// sign-in form and clicks Allow on the consent page, and the browser lands on the client's
// loopback callback, where the code is captured. The SDK client then finishes and calls tools.
// Without Chromium these tests are skipped with one line, unless GATEHOUSE_REQUIRE_BROWSER=1 (CI
// installs Chromium and sets it), which makes a missing Chromium a failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { BrowserContext } from 'playwright-core';
import { browserRequirement } from './helpers/requirements.ts';
import { launchChromium, startLoopbackCallback, type LoopbackCallback } from './helpers/oauth-browser.ts';
import { startOAuthGateway, TestOAuthClient, USER, type OAuthSetup } from './helpers/oauth-flow.ts';

const browser = browserRequirement();
const skip = browser.skip;

let setup: OAuthSetup;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
/** The client's loopback callback: records each authorization response. */
let callback: LoopbackCallback;
let callbackUrl: string;
let answers: URL[] = [];

before(async () => {
  if (skip) return;
  browser.check();
  setup = await startOAuthGateway({ authorizationServer: { selfRegistration: true } });
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
});

/** What the person does in the browser; returns the authorization response the callback received. */
type Person = (authorizationUrl: URL) => Promise<void>;

async function connectThroughBrowser(person: Person): Promise<{ provider: TestOAuthClient; answer: URL }> {
  const before = answers.length;
  const provider = new TestOAuthClient(callbackUrl, person, { client_name: 'Browser Test App' });
  const first = new Client({ name: 'browser-test', version: '1.0.0' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider })), UnauthorizedError);
  assert.equal(answers.length, before + 1, 'the browser reached the callback once');
  const answer = answers.at(-1)!;
  assert.equal(answer.searchParams.get('state'), provider.lastState);
  assert.equal(answer.searchParams.get('iss'), setup.gh.origin);
  await new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider }).finishAuth(answer.searchParams.get('code')!);
  return { provider, answer };
}

async function callEcho(provider: TestOAuthClient, message: string): Promise<unknown> {
  const client = new Client({ name: 'browser-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
    return (await client.callTool({ name: 'echo', arguments: { message } })).content;
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

test('a person signs in and allows access in Chromium; the SDK client then calls tools', { skip }, async () => {
  const { provider } = await connectThroughBrowser(async (url) => {
    const page = await context.newPage();
    try {
      await page.goto(url.href);
      assert.equal(new URL(page.url()).pathname, '/oauth/login');
      assert.match(await page.textContent('main') ?? '', /Browser Test App wants to use your Gatehouse account/);
      await page.fill('#username', USER.username);
      await page.fill('#password', USER.password);
      await page.click('button[type=submit]');
      await page.waitForURL((u) => u.pathname === '/oauth/consent');
      const consent = (await page.textContent('main')) ?? '';
      assert.match(consent, /Browser Test App/);
      assert.ok(consent.includes(callbackUrl), 'consent names the redirect URI');
      assert.match(consent, /mcp/);
      await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.click('button[value=approve]')]);
      assert.match((await page.textContent('body')) ?? '', /Authorized/);
    } finally {
      await page.close();
    }
  });
  assert.deepEqual(await callEcho(provider, 'from the browser'), [{ type: 'text', text: 'Echo: from the browser' }]);
});

test('with self-registration on, a new person creates an account in Chromium and is asked for consent', { skip }, async () => {
  const username = `new-${Date.now().toString(36)}`;
  const { provider } = await connectThroughBrowser(async (url) => {
    const page = await context.newPage();
    try {
      await page.goto(url.href);
      await page.click('text=Create one');
      await page.waitForURL((u) => u.pathname === '/oauth/signup');
      await page.fill('#username', username);
      await page.fill('#password', 'short');
      // The browser's own minlength check stops the form: submit past it to see the server's answer.
      await page.$eval('form', (form) => (form as unknown as { noValidate: boolean }).noValidate = true);
      await page.click('button[type=submit]');
      assert.match((await page.textContent('.error')) ?? '', /at least 8 characters/);
      await page.fill('#password', 'a much better password');
      await page.click('button[type=submit]');
      await page.waitForURL((u) => u.pathname === '/oauth/consent');
      assert.match((await page.textContent('main')) ?? '', new RegExp(`act as ${username}`));
      await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.click('button[value=approve]')]);
    } finally {
      await page.close();
    }
  });
  assert.ok(await setup.gh.gateway.store.getUserByName(username), 'the account exists');
  assert.deepEqual(await callEcho(provider, 'new account'), [{ type: 'text', text: 'Echo: new account' }]);
});

test('an attacker\'s consent link opened by a signed-in victim without the interaction cookie is refused (consent bypass, two Chromium profiles)', { skip }, async () => {
  // The victim is a second browser with a profile of its own: no cookie of the attacker's reaches it.
  const victimBrowser = await launchChromium();
  const victim = victimBrowser.context;
  const attackerPage = await context.newPage();
  const victimPage = await victim.newPage();
  const before = answers.length;
  try {
    // The attacker's client (registered by the SDK's provider through open registration) starts an
    // authorization in the attacker's browser, which stops at the sign-in page: that link is the bait.
    const attackerApp = new TestOAuthClient(callbackUrl, async (url) => {
      await attackerPage.goto(url.href);
    }, { client_name: 'Totally Legit App' });
    await assert.rejects(new Client({ name: 'attacker', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: attackerApp })), UnauthorizedError);
    const bait = attackerPage.url();
    assert.equal(new URL(bait).pathname, '/oauth/login');

    // The victim opens the link: refused, with no form to sign in on.
    const opened = await victimPage.goto(bait);
    assert.equal(opened?.status(), 403);
    assert.match((await victimPage.textContent('main')) ?? '', /started in another browser/);
    assert.equal(await victimPage.$('#password'), null);

    // The other order: the victim signs in on an authorization of their own; the attacker, who
    // learned its interaction id, opens its consent page in the attacker's browser.
    const victimApp = new TestOAuthClient(callbackUrl, async (url) => {
      await victimPage.goto(url.href);
      await victimPage.fill('#username', USER.username);
      await victimPage.fill('#password', USER.password);
      await victimPage.click('button[type=submit]');
      await victimPage.waitForURL((u) => u.pathname === '/oauth/consent');
    }, { client_name: 'Victim App' });
    await assert.rejects(new Client({ name: 'victim', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: victimApp })), UnauthorizedError);
    const consentUrl = victimPage.url();
    const stolen = await attackerPage.goto(consentUrl);
    assert.equal(stolen?.status(), 403);
    assert.equal(await attackerPage.$('button[value=approve]'), null, 'no Allow button for the attacker');
    assert.equal(answers.length, before, 'no authorization response reached any callback');

    // The victim's own browser still has its consent page.
    await victimPage.reload();
    assert.match((await victimPage.textContent('main')) ?? '', /Victim App/);
    await Promise.all([victimPage.waitForURL((u) => u.href.startsWith(callbackUrl)), victimPage.click('button[value=approve]')]);
    assert.equal(answers.length, before + 1);
    assert.equal(answers.at(-1)!.searchParams.get('state'), victimApp.lastState);
  } finally {
    await attackerPage.close();
    await victimBrowser.close();
  }
});
