// The console's Users screen and a user's grants, in headless Chromium against a managed-mode
// Gatehouse with an API on the embedded authorization server: a person authorizes a client
// (over real HTTP), the admin opens "Grants" of that user, sees the application, clicks Revoke,
// and the client's access token is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { decodeJwt } from 'jose';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { browserSkipReason, launchBrowser, screenshot, signIn, type Browser } from './helpers/dashboard-browser.ts';
import { startEverything, type RunningEverything } from './helpers/gatehouse.ts';
import { pkcePair, playUser, registerClient, tokenRequest } from './helpers/oauth-flow.ts';
import { createUser } from '../src/authserver/users.ts';

const skip = browserSkipReason();
const PASSWORD = 'a user password long enough';
const REDIRECT = 'http://127.0.0.1:45161/cb';
let gh: ManagedGatehouse;
let everything: RunningEverything;
let browser: Browser;
let page: Page;

before(async () => {
  if (skip) return;
  everything = await startEverything();
  gh = await startManaged();
  assert.equal((await gh.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp` } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/apis', { body: { name: 'tools', path: '/mcp', server: 'everything', auth: { type: 'oauth2' } } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/deployments', { body: { comment: 'oauth2 API' } })).status, 201);
  await createUser(gh.gateway.store, 'tess', PASSWORD);
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await gh?.close();
  await everything?.close();
});

async function mcpStatus(token: string): Promise<number> {
  const response = await fetch(gh.mcpUrl('/mcp'), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  await response.body?.cancel();
  return response.status;
}

test('the admin lists a user\'s grants in the console and revokes one: the client\'s token is refused', { skip }, async () => {
  const origin = gh.gateway.baseUrl();
  const resource = gh.mcpUrl('/mcp');
  const clientId = await registerClient(origin, { client_name: 'Console Listed App', redirect_uris: [REDIRECT], scope: 'mcp offline_access' });
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'mcp offline_access', resource });
  const { final } = await playUser(`${origin}/oauth/authorize?${query}`, { username: 'tess', password: PASSWORD });
  const answer = await tokenRequest(origin, { grant_type: 'authorization_code', code: final.searchParams.get('code')!, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource });
  const access = String(answer.body.access_token);
  const grantId = String(decodeJwt(access).grant_id);
  assert.equal(await mcpStatus(access), 200);

  await signIn(page, gh.admin, ADMIN_TOKEN, '/users');
  await page.locator('.screen[data-state="ready"]').waitFor();
  await page.getByRole('button', { name: 'Grants of user tess' }).click();
  const section = page.locator('section[data-grants-for="tess"][data-state="ready"]');
  await section.waitFor();
  const row = section.locator(`tr[data-grant="${grantId}"]`);
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /Console Listed App.*tools.*mcp offline_access/);
  await screenshot(page, 'console-user-grants');

  await row.getByRole('button', { name: 'Revoke grant of Console Listed App' }).click();
  await page.getByRole('status').filter({ hasText: 'Access of Console Listed App to tess\'s account revoked' }).waitFor();
  await section.getByText('No application has access to this account.').waitFor();
  assert.equal(await mcpStatus(access), 401);
  assert.equal((await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: String(answer.body.refresh_token), client_id: clientId })).body.error, 'invalid_grant');
});
