// Headless Chromium for the dashboard tests: Debian's /usr/bin/chromium driven by playwright-core,
// with a fresh profile per run. Without Chromium the browser tests are skipped with one line
// (requirements.ts), unless GATEHOUSE_REQUIRE_BROWSER=1 (CI), which makes a missing Chromium a
// failure; GATEHOUSE_SKIP_BROWSER=1 skips them on a machine that has it.
import { existsSync, mkdirSync, copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT, tempDir } from './gatehouse.ts';
import { browserRequirement, CHROMIUM } from './requirements.ts';

export { CHROMIUM };
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Why the browser tests are skipped, or false when they run. */
export function browserSkipReason(): string | false {
  return browserRequirement().skip;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested (to prove nothing left the admin origin). */
  requests: string[];
  close(): Promise<void>;
}

/** A laptop-sized window (1440 × 900). */
export async function launchBrowser(): Promise<Browser> {
  browserRequirement().check();
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get update && apt-get install -y chromium)`);
  const profile = tempDir('gatehouse-chromium-');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1440, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const requests: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  return {
    context,
    page,
    requests,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in on the admin listener's form with the admin token, as a person would. */
export async function signIn(page: Page, admin: string, token: string, next = '/'): Promise<void> {
  await page.goto(`${admin}${next}`);
  // Not signed in: the admin listener sends the browser to its sign-in form.
  await page.waitForURL((url) => url.pathname === '/login');
  await page.getByLabel('Admin token').fill(token);
  // The token's own form: with admin.users the page has a second one, for users.
  await page.locator('form', { has: page.getByLabel('Admin token') }).getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === next);
}

/** Signs in on the admin listener's form as an admin user (admin.users) with a password. */
export async function signInAsUser(page: Page, admin: string, user: { username: string; password: string }, next = '/'): Promise<void> {
  await page.goto(`${admin}${next}`);
  await page.waitForURL((url) => url.pathname === '/login');
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.locator('form', { has: page.getByLabel('Username') }).getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === next);
}

/**
 * Saves a screenshot as a test artifact (test-artifacts/), and as the README's copy
 * (docs/screenshots/) only when GATEHOUSE_UPDATE_SCREENSHOTS=1: a test run leaves the tracked
 * files alone unless the dashboard's look changed on purpose.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  const artifacts = path.join(REPO_ROOT, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? false });
  if (process.env.GATEHOUSE_UPDATE_SCREENSHOTS === '1') {
    const docs = path.join(REPO_ROOT, 'docs', 'screenshots');
    mkdirSync(docs, { recursive: true });
    copyFileSync(file, path.join(docs, `${name}.png`));
  }
  return file;
}
