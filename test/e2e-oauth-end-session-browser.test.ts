// /-/connections and the end-session endpoint in headless Chromium: the person signs in on
// /-/connections, sees the application they authorized, revokes it with the page's button; then
// the application sends the browser to /oauth/end-session, the person confirms, and the browser
// lands on the application's registered post_logout_redirect_uri with its state (the page's
// Content-Security-Policy lets the form's redirect reach it), signed out of /-/connections.
// Regression: the page's forms were refused in every browser (403, Origin "null"): the page was
// served with Referrer-Policy no-referrer, under which browsers send `Origin: null` with form posts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, screenshot, type Browser } from './helpers/dashboard-browser.ts';
import { pkcePair, playUser, registerClient, startOAuthGateway, tokenRequest, USER, type OAuthSetup } from './helpers/oauth-flow.ts';

const skip = browserSkipReason();
let setup: OAuthSetup;
let browser: Browser;
let page: Page;
let app: Server;
let appOrigin: string;

before(async () => {
  if (skip) return;
  setup = await startOAuthGateway();
  // The application's own page where the browser lands after signing out.
  app = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<p id="landed">${req.url}</p>`));
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appOrigin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await new Promise((resolve) => app?.close(resolve));
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

test('regression (/-/connections forms refused in browsers: Origin null under no-referrer): in Chromium, sign in on /-/connections, revoke an application, then sign out through /oauth/end-session back to the application', { skip }, async () => {
  const origin = setup.gh.origin;
  const redirect = `${appOrigin}/callback`;
  const loggedOut = `${appOrigin}/logged-out`;
  const clientId = await registerClient(origin, { client_name: 'Browser App', redirect_uris: [redirect], scope: 'mcp offline_access', post_logout_redirect_uris: [loggedOut] });
  const authorize = async () => {
    const { verifier, challenge } = await pkcePair();
    const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', scope: 'mcp offline_access', resource: setup.url });
    const { final } = await playUser(`${origin}/oauth/authorize?${query}`);
    const answer = await tokenRequest(origin, { grant_type: 'authorization_code', code: final.searchParams.get('code')!, code_verifier: verifier, client_id: clientId, redirect_uri: redirect, resource: setup.url });
    return String(answer.body.access_token);
  };
  const first = await authorize();

  await page.goto(`${origin}/-/connections`);
  await page.getByLabel('Username').fill(USER.username);
  await page.getByLabel('Password', { exact: true }).fill(USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Applications you authorized' }).waitFor();
  const row = page.locator('tr.grant', { hasText: 'Browser App' });
  await row.waitFor();
  await screenshot(page, 'connections-grants');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('Access revoked').waitFor();
  assert.equal(await mcpStatus(first), 401);

  // The application asks the browser to sign out; the person confirms with the box ticked.
  const second = await authorize();
  assert.equal(await mcpStatus(second), 200);
  await page.goto(`${origin}/oauth/end-session?${new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: loggedOut, state: 'browser-state' })}`);
  await page.getByRole('heading', { name: 'Sign out' }).waitFor();
  assert.equal(await page.getByRole('checkbox').isChecked(), true);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((url) => url.origin === appOrigin && url.pathname === '/logged-out');
  assert.equal(new URL(page.url()).searchParams.get('state'), 'browser-state');
  assert.equal(await mcpStatus(second), 401);

  await page.goto(`${origin}/-/connections`);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
});
