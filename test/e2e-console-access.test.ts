// The console's Access screen in headless Chromium against a managed-mode Gatehouse: an owner
// creates an API token (shown once, gone after a reload) that works at once against the
// management API with fetch and has its role's rights, revokes it (then 401); makes a user of the
// authorization server an admin user with role viewer (who then signs in and only reads), changes
// the role, and removes the entry. Screenshot console-access.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { browserSkipReason, launchBrowser, screenshot, signIn, type Browser } from './helpers/dashboard-browser.ts';
import { createUser } from '../src/authserver/users.ts';

const skip = browserSkipReason();
const PASSWORD = 'a user password long enough';
let gh: ManagedGatehouse;
let browser: Browser;
let page: Page;

before(async () => {
  if (skip) return;
  gh = await startManaged();
  for (const name of ['vera', 'otto']) await createUser(gh.gateway.store, name, PASSWORD);
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await gh?.close();
});

/** A management API call with a bearer token or a session cookie, as a script would make it. */
async function call(auth: { token?: string; cookie?: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = auth.token ? { authorization: `Bearer ${auth.token}` } : { cookie: auth.cookie! };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${gh.admin}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const accessReady = async () => {
  await page.locator('.screen[data-state="ready"]').waitFor();
  await page.getByRole('table', { name: 'Admin users' }).or(page.getByText('No admin users')).waitFor();
};

test('an owner creates an API token on the Access screen (shown once), uses it with fetch, and revokes it (then 401)', { skip }, async () => {
  await signIn(page, gh.admin, ADMIN_TOKEN, '/');
  // The owner's navigation links the screen.
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Access' }).click();
  await page.waitForURL((url) => url.pathname === '/access');
  await accessReady();
  await page.getByLabel('Name').fill('ci deploys');
  await page.locator('#token-role').selectOption('admin');
  await page.getByLabel('Expires').selectOption('30');
  await page.getByRole('button', { name: 'Create token' }).click();
  const shown = page.locator('[data-new-token]');
  await shown.waitFor();
  const token = (await shown.textContent())!.trim();
  assert.match(token, /^ght_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
  assert.match((await page.getByRole('status').filter({ has: shown }).textContent()) ?? '', /shown this once; copy it now/);
  const row = page.locator('tr[data-token-name="ci deploys"]');
  await row.waitFor();
  assert.equal(await row.getAttribute('data-state'), 'live');
  assert.match((await row.textContent()) ?? '', /admin/);

  // It works at once, with its role's rights: an admin changes servers but not tokens.
  assert.equal((await call({ token }, 'GET', '/api/v1/servers')).status, 200);
  assert.equal((await call({ token }, 'POST', '/api/v1/servers', { name: 'by-ci', url: 'http://127.0.0.1:9/mcp' })).status, 201);
  assert.equal((await call({ token }, 'GET', '/api/v1/tokens')).status, 403);
  const listed = ((await call({ token: ADMIN_TOKEN }, 'GET', '/api/v1/tokens')).body.items as Array<{ name: string; role: string; expiresAt: number | null }>).find((t) => t.name === 'ci deploys')!;
  assert.equal(listed.role, 'admin');
  assert.ok(listed.expiresAt !== null && Math.abs(listed.expiresAt - (Date.now() + 30 * 86_400_000)) < 120_000, 'expires in 30 days');

  // Shown once: after a reload it is nowhere on the page.
  await page.reload();
  await accessReady();
  await page.locator('tr[data-token-name="ci deploys"]').waitFor();
  assert.equal(await page.locator('[data-new-token]').count(), 0);
  assert.ok(!(await page.content()).includes(token.split('.')[1]!), 'the secret is not on the page again');

  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Revoke token ci deploys' }).click();
  await page.locator('tr[data-token-name="ci deploys"][data-state="revoked"]').waitFor();
  const refused = await call({ token }, 'GET', '/api/v1/servers');
  assert.equal(refused.status, 401);
});

test('an owner makes a user an admin user with role viewer, who then only reads; changes the role; removes the entry', { skip }, async () => {
  await page.goto(`${gh.admin}/access`);
  await accessReady();
  await page.getByLabel('User', { exact: true }).selectOption('vera');
  await page.locator('#admin-role').selectOption('viewer');
  await page.getByRole('button', { name: 'Add admin user' }).click();
  const row = page.locator('tr[data-admin="vera"]');
  await row.waitFor();
  assert.equal(await row.getAttribute('data-role'), 'viewer');
  assert.equal(await row.getAttribute('data-source'), 'store');
  // She is no longer offered as a new admin user; otto still is.
  assert.deepEqual(await page.locator('#admin-user option').allTextContents(), ['choose a user…', 'otto']);
  await screenshot(page, 'console-access', { fullPage: true });

  // Vera signs in with her password and reads, but changes nothing.
  const signedIn = await fetch(`${gh.admin}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: 'vera', password: PASSWORD }).toString(), redirect: 'manual' });
  assert.equal(signedIn.status, 303);
  const cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  assert.equal((await call({ cookie }, 'GET', '/api/v1/servers')).status, 200);
  assert.equal((await call({ cookie }, 'POST', '/api/v1/servers', { name: 'by-vera', url: 'http://127.0.0.1:9/mcp' })).status, 403);

  // Made an admin on the screen: her next request may change a server.
  await page.getByLabel('Role of vera').selectOption('admin');
  await page.locator('tr[data-admin="vera"][data-role="admin"]').waitFor();
  await page.getByRole('status').filter({ hasText: 'vera is now an admin' }).waitFor();
  assert.equal((await call({ cookie }, 'POST', '/api/v1/servers', { name: 'by-vera', url: 'http://127.0.0.1:9/mcp' })).status, 201);

  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Remove admin user vera' }).click();
  await page.locator('tr[data-admin="vera"]').waitFor({ state: 'detached' });
  assert.equal((await call({ cookie }, 'GET', '/api/v1/servers')).status, 401, 'her next request is refused');
  const changes = ((await call({ token: ADMIN_TOKEN }, 'GET', '/api/v1/changes')).body.items as Array<{ action: string; target: string }>).filter((c) => c.target === 'admins/vera').map((c) => c.action);
  assert.deepEqual(changes, ['delete admin', 'update admin', 'create admin']);
});
