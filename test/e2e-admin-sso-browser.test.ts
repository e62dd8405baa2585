// "Sign in with Gatehouse" in a real browser: headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core) against a managed-mode Gatehouse whose embedded authorization server
// is on (an oauth2 API deployed through the management API). The MCP listener, where the
// authorization server lives, is reached under another host name (publicUrl http://localhost:…)
// than the admin listener (http://127.0.0.1:…): another site to the browser. The admin clicks the
// button, signs in on the authorization server's page, lands on the dashboard signed in,
// and calls the management API from the page with the role admin.users gives: an owner creates a
// server; a viewer reads but is refused a change (403).
// Without Chromium these tests are skipped with one line, unless GATEHOUSE_REQUIRE_BROWSER=1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Page } from 'playwright-core';
import { startEverything, type RunningEverything } from './helpers/gatehouse.ts';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { browserSkipReason, launchBrowser, type Browser } from './helpers/dashboard-browser.ts';
import { createUser } from '../src/authserver/users.ts';

const skip = browserSkipReason();
const OWNER = { username: 'ada', password: 'correct horse battery staple' };
const VIEWER = { username: 'vic', password: 'viewer password that is long' };

let everything: RunningEverything;
let gh: ManagedGatehouse;
let mcpOrigin: string;

/** A free port for the MCP listener, so that publicUrl can name it before the start. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

before(async () => {
  if (skip) return;
  everything = await startEverything();
  const port = await freePort();
  mcpOrigin = `http://localhost:${port}`;
  gh = await startManaged({
    node: {
      listen: { host: '127.0.0.1', port },
      publicUrl: mcpOrigin,
      admin: { port: 0, token: ADMIN_TOKEN, users: [OWNER.username, { user: VIEWER.username, role: 'viewer' }] },
    },
  });
  await createUser(gh.gateway.store, OWNER.username, OWNER.password);
  await createUser(gh.gateway.store, VIEWER.username, VIEWER.password);
  // An API that trusts the embedded authorization server turns it on.
  assert.equal((await gh.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp` } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/apis', { body: { name: 'secured', path: '/secured', server: 'everything', auth: { type: 'oauth2' } } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/deployments', { body: { comment: 'oauth2 API' } })).status, 201);
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

/** The person: the admin sign-in page, the button, the authorization server's pages, back on the dashboard. */
async function signInWithGatehouse(page: Page, who: { username: string; password: string }): Promise<void> {
  await page.goto(`${gh.admin}/`);
  await page.waitForURL((url) => url.pathname === '/login');
  await page.getByRole('button', { name: 'Sign in with Gatehouse' }).click();
  await page.waitForURL((url) => url.origin === mcpOrigin && url.pathname === '/oauth/login');
  await page.fill('#username', who.username);
  await page.fill('#password', who.password);
  assert.match((await page.textContent('body')) ?? '', /Gatehouse admin/, 'the sign-in page names the admin listener');
  // No consent page for the admin listener's own client: back to its callback, whose page moves
  // on to the dashboard by itself.
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.origin === gh.admin && url.pathname === '/');
}

/** A management API call made by the dashboard page (its cookie, its origin). */
function callFromPage(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return page.evaluate(
    async ([method, path, body]) => {
      const response = await fetch(path as string, { method: method as string, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, text: await response.text() };
    },
    [method, path, body] as const,
  );
}

test('an owner signs in with Gatehouse, lands on the dashboard and changes the configuration from the page', { skip }, async () => {
  const browser: Browser = await launchBrowser();
  try {
    const { page } = browser;
    await signInWithGatehouse(page, OWNER);
    // The dashboard is there, signed in: its own API answers the page.
    await page.getByRole('navigation', { name: 'Screens' }).waitFor();
    const servers = await callFromPage(page, 'GET', '/api/v1/servers');
    assert.equal(servers.status, 200, servers.text);
    const made = await callFromPage(page, 'POST', '/api/v1/servers', { name: 'made-by-ada', url: `${everything.origin}/mcp` });
    assert.equal(made.status, 201, made.text);
    const cookies = await browser.context.cookies(gh.admin);
    const session = cookies.find((c) => c.name === 'gatehouse_admin');
    assert.ok(session && session.httpOnly && session.sameSite === 'Strict', 'the same session cookie as the password sign-in');
    assert.ok(!cookies.some((c) => c.name === 'gatehouse_admin_flow'), 'the flow cookie is gone');
  } finally {
    await browser.close();
  }
});

test('a viewer signs in with Gatehouse, reads, and is refused a change (403)', { skip }, async () => {
  const browser: Browser = await launchBrowser();
  try {
    const { page } = browser;
    await signInWithGatehouse(page, VIEWER);
    const servers = await callFromPage(page, 'GET', '/api/v1/servers');
    assert.equal(servers.status, 200, servers.text);
    const refused = await callFromPage(page, 'POST', '/api/v1/servers', { name: 'made-by-vic', url: `${everything.origin}/mcp` });
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.text, /viewer/);
    assert.equal((await gh.call('GET', '/api/v1/servers/made-by-vic')).status, 404, 'nothing was made');
  } finally {
    await browser.close();
  }
});
