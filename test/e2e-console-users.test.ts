// The console's Users screen and two-factor sign-in, in headless Chromium against a managed-mode
// Gatehouse: the Users screen shows each user's 2FA state; the platform admin resets a user's
// two-factor sign-in ("Reset 2FA") and sets another's password ("Set password"), and the store
// says so. An admin user with two-factor sign-in signs in to the console with password and code
// (the code read from the otpauth URI by the otpauth library, as an authenticator app would).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { browserSkipReason, launchBrowser, screenshot, signIn, type Browser } from './helpers/dashboard-browser.ts';
import { Authenticator } from './helpers/authenticator.ts';
import { checkLogin, createUser } from '../src/authserver/users.ts';
import { SecondFactor } from '../src/authserver/second-factor.ts';
import { CredentialVault } from '../src/credentials/vault.ts';
import { credentialsKeySource } from '../src/credentials/key.ts';
import { readAuditFile } from './helpers/audit-db.ts';
import path from 'node:path';

const skip = browserSkipReason();
const PASSWORD = 'a user password long enough';
let gh: ManagedGatehouse;
let browser: Browser;
let page: Page;
let rootApp: Authenticator;

before(async () => {
  if (skip) return;
  gh = await startManaged({ node: { admin: { port: 0, token: ADMIN_TOKEN, users: [{ user: 'root', role: 'admin' }] } } });
  const factor = new SecondFactor(gh.gateway.store, new CredentialVault(gh.gateway.store, credentialsKeySource(gh.dataDir)));
  for (const name of ['root', 'tess', 'pat']) await createUser(gh.gateway.store, name, PASSWORD);
  await factor.enable((await gh.gateway.store.getUserByName('tess'))!);
  rootApp = new Authenticator((await factor.enable((await gh.gateway.store.getUserByName('root'))!)).uri);
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await gh?.close();
});

const ready = () => page.locator('.screen[data-state="ready"]').waitFor();

test('the Users screen shows 2FA; the admin resets a user\'s 2FA and sets another\'s password', { skip }, async () => {
  await signIn(page, gh.admin, ADMIN_TOKEN, '/users');
  await ready();
  const tess = page.locator('tr[data-user="tess"]');
  await tess.waitFor();
  assert.equal(await tess.getAttribute('data-totp'), 'true');
  assert.equal((await tess.locator('td[data-col="totp"] .badge').textContent())?.trim(), 'on');
  assert.equal(await page.locator('tr[data-user="pat"]').getAttribute('data-totp'), 'false');
  assert.equal(await page.getByRole('button', { name: 'Reset 2FA of user pat' }).count(), 0, 'nothing to reset without 2FA');
  await screenshot(page, 'console-users');

  await page.getByRole('button', { name: 'Reset 2FA of user tess' }).click();
  await page.locator('tr[data-user="tess"][data-totp="false"]').waitFor();
  await page.getByRole('status').filter({ hasText: 'Two-factor sign-in of tess is off' }).waitFor();
  assert.equal((await gh.gateway.store.getUserByName('tess'))?.totpSecret, undefined, 'the store says so');

  const next = 'set by the admin in the console';
  await page.locator('tr[data-user="pat"]').getByRole('button', { name: 'Set password' }).click();
  await page.getByLabel('New password').fill(next);
  await page.getByRole('form', { name: 'Set password' }).getByRole('button', { name: 'Set password' }).click();
  await page.getByRole('status').filter({ hasText: 'Password of pat set' }).waitFor();
  assert.equal(await page.getByRole('form', { name: 'Set password' }).count(), 0, 'the form closes');
  assert.ok(await checkLogin(gh.gateway.store, 'pat', next), 'the new password signs in');
  assert.equal(await checkLogin(gh.gateway.store, 'pat', PASSWORD), undefined, 'the old one does not');
});

test('an admin user with two-factor sign-in signs in to the console with password and code, not with the password alone', { skip }, async () => {
  await browser.context.clearCookies();
  const form = () => page.locator('form', { has: page.getByLabel('Username') });
  await page.goto(`${gh.admin}/users`);
  await page.waitForURL((url) => url.pathname === '/login');
  await page.getByLabel('Username').fill('root');
  await page.getByLabel('Password').fill(PASSWORD);
  await form().getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Unknown user, wrong password or code').waitFor();
  assert.equal(new URL(page.url()).pathname, '/login');
  // The refused code is in the audit log, as at the authorization server's own sign-in.
  await gh.gateway.audit?.flush();
  const root = await gh.gateway.store.getUserByName('root');
  const refused = readAuditFile(path.join(gh.dataDir, 'audit.db')).filter((r) => r.target === 'second-factor-refused' && r.method === '/login');
  assert.equal(refused.length, 1, 'one audit record of the refused code');
  assert.equal(refused[0]!.user, root!.id);
  assert.equal(refused[0]!.decision, 'denied');
  assert.match(String(refused[0]!.reason), /admin sign-in of root refused: the second-factor code was wrong/);

  await page.getByLabel('Username').fill('root');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Code from your authenticator app').fill(await rootApp.code());
  await form().getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/users');
  await ready();
  await page.locator('tr[data-user="root"][data-totp="true"]').waitFor();
});
