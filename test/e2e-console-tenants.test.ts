// Tenants in the console, in headless Chromium against a managed-mode Gatehouse in front of the
// real server-everything: the platform admin's Tenants screen (create, edit, a delete the API
// refuses), and a tenant's admin who sees no Tenants link, only its tenant's objects, creates a
// server and an API under the tenant's prefix, deploys from the draft bar, and the SDK client
// calls echo through the new API. Users of the authorization server: the platform admin picks a
// new user's tenant and sees every user's; a tenant's admin sees and makes its own tenant's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page, Response } from 'playwright-core';
import { connectClient, startEverything, type RunningEverything } from './helpers/gatehouse.ts';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { browserSkipReason, launchBrowser, screenshot, signIn, signInAsUser, type Browser } from './helpers/dashboard-browser.ts';
import { createUser } from '../src/authserver/users.ts';

const skip = browserSkipReason();
const ANN = { username: 'ann', password: 'ann password that is long enough' };

let everything: RunningEverything;
let gh: ManagedGatehouse;
let browser: Browser;
let page: Page;

before(async () => {
  if (skip) return;
  everything = await startEverything();
  gh = await startManaged({ node: { admin: { port: 0, token: ADMIN_TOKEN, users: [{ user: ANN.username, role: 'admin', tenant: 'acme' }] } } });
  await createUser(gh.gateway.store, ANN.username, ANN.password);
  // Another tenant, made by the platform through the API.
  assert.equal((await gh.call('POST', '/api/v1/tenants', { body: { id: 'globex', pathPrefix: '/globex', egress: { allow: ['127.0.0.1'] } } })).status, 201);
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await gh?.close();
  await everything?.close();
});

const nav = () => page.getByRole('navigation', { name: 'Screens' });
const screen = (name: string) => nav().getByRole('link', { name, exact: true });
const ready = () => page.locator('.screen[data-state="ready"]').waitFor();

test('the platform admin creates tenant acme on the Tenants screen, edits its quotas, creates a server of tenant globex, and is shown why globex, which owns it, cannot be deleted', { skip }, async () => {
  await signIn(page, gh.admin, ADMIN_TOKEN, '/servers');
  await screen('Tenants').click();
  await page.waitForURL((url) => url.pathname === '/tenants');
  await page.locator('tr[data-tenant="globex"]').waitFor();

  await page.getByLabel('Tenant id').fill('acme');
  await page.getByLabel('Display name').fill('Acme Corp');
  await page.getByLabel('Path prefix').fill('/acme');
  await page.getByLabel('Requests per day').fill('1000');
  // Its servers will be the test's own, on this machine: a private destination.
  await page.getByLabel('Private destinations').fill('127.0.0.1');
  await page.getByRole('button', { name: 'Create tenant' }).click();
  const row = page.locator('tr[data-tenant="acme"]');
  await row.getByText('1000 requests/day').waitFor();
  assert.match((await row.textContent()) ?? '', /Acme Corp.*\/acme/);
  assert.equal(await page.getByLabel('Tenant id').inputValue(), '', 'the form is ready for the next tenant');

  await page.getByRole('button', { name: 'Edit tenant acme' }).click();
  assert.equal(await page.getByLabel('Path prefix').inputValue(), '/acme', 'the form shows the tenant');
  await page.getByLabel('APIs at most').fill('5');
  await page.getByRole('button', { name: 'Save tenant' }).click();
  await row.getByText('1000 requests/day, 5 APIs').waitFor();
  assert.deepEqual((await gh.call('GET', '/api/v1/tenants/acme')).body, { id: 'acme', name: 'Acme Corp', pathPrefix: '/acme', quotas: { requestsPerDay: 1000, apis: 5 }, egress: { allow: ['127.0.0.1'] } });

  // A server of globex, made on the Servers screen with the tenant picker.
  await screen('Servers').click();
  await page.getByRole('link', { name: 'New server' }).click();
  await page.getByLabel('Name', { exact: true }).fill('globex-weather');
  await page.getByLabel('Tenant', { exact: true }).selectOption('globex');
  await page.getByLabel('URL', { exact: true }).fill(`${everything.origin}/mcp`);
  await page.getByRole('button', { name: 'Create server' }).click();
  await page.locator('tr[data-server="globex-weather"] [data-col="tenant"]').getByText('globex').waitFor();
  assert.equal((await gh.call('GET', '/api/v1/servers/globex-weather')).body.tenant, 'globex');

  // globex owns a server now: the API refuses, and the screen says why in its words.
  await screen('Tenants').click();
  await page.locator('tr[data-tenant="globex"]').waitFor();
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Delete tenant globex' }).click();
  const refusal = page.locator('[data-panel="tenants"] [role="alert"]');
  await refusal.waitFor();
  const refused = await gh.call('DELETE', '/api/v1/tenants/globex', { ifMatch: (await gh.call('GET', '/api/v1/tenants/globex')).etag! });
  assert.equal(refused.status, 400);
  assert.ok(((await refusal.textContent()) ?? '').includes(String(refused.body.error)), 'the API\'s own message is shown');
  assert.equal((await gh.call('GET', '/api/v1/tenants/globex')).status, 200, 'globex is kept');
  await screenshot(page, 'console-tenants');

  // A quota that is not a number: refused with its field, nothing saved.
  await page.getByLabel('Tenant id').fill('initech');
  await page.getByLabel('Agents at most').fill('lots');
  await page.getByRole('button', { name: 'Create tenant' }).click();
  const form = page.getByRole('form', { name: 'New tenant' });
  await form.locator('[role="alert"]').getByText(/quotas\.agents/).first().waitFor();
  assert.equal((await gh.call('GET', '/api/v1/tenants/initech')).status, 404);

  // Live, so that acme's admin can deploy acme's objects onto it.
  await page.getByRole('button', { name: 'Deploy' }).click();
  await page.getByText(/Deployed version \d+: live now\./).waitFor();
});

test('a tenant\'s admin sees no Tenants link, only its tenant\'s servers, creates a server and an API at /acme/tools, deploys from the draft bar (which read the platform-only draft and failed) though globex\'s server was added after the bar read it (then 412), and the SDK client calls echo', { skip }, async () => {
  // Leave the platform admin's page first: its deploy makes it read again (info, the diff, the
  // tenants), and those reads, answered after the cookies are cleared, were 401s counted below.
  await page.goto('about:blank');
  await browser.context.clearCookies();
  // Every management or admin API call the console makes for acme's admin must succeed.
  const failed: string[] = [];
  const watch = (response: Response) => {
    if (new URL(response.url()).pathname.startsWith('/api/') && response.status() >= 400) failed.push(`${response.request().method()} ${response.url()} ${response.status()}`);
  };
  page.on('response', watch);
  try {
    await signInAsUser(page, gh.admin, ANN, '/servers');
    await ready();
    await screen('Servers').waitFor();
    const links = await nav().getByRole('link').allTextContents();
    assert.ok(!links.includes('Tenants'), `no platform screens: ${links.join(', ')}`);
    assert.ok(links.includes('Users'), `its tenant's users: ${links.join(', ')}`);
    await page.getByText('The draft equals the deployed configuration.').waitFor();
    assert.equal(await page.locator('tr[data-server="globex-weather"]').count(), 0, 'another tenant\'s server is not shown');

    await page.getByRole('link', { name: 'New server' }).click();
    await page.getByLabel('Name', { exact: true }).fill('acme-everything');
    await page.getByLabel('Streamable HTTP').check();
    await page.getByLabel('URL', { exact: true }).fill(`${everything.origin}/mcp`);
    await page.getByRole('button', { name: 'Create server' }).click();
    await page.waitForURL((url) => url.pathname === '/servers');
    await page.locator('tr[data-server="acme-everything"]').waitFor();
    assert.equal(await page.locator('tr[data-server]').count(), 1, 'acme\'s server only');

    await screen('APIs').click();
    await page.getByRole('link', { name: 'New API' }).click();
    await page.getByLabel('Name', { exact: true }).fill('acme-tools');
    await page.getByLabel('Path', { exact: true }).fill('/acme/tools');
    await page.getByLabel('MCP proxy of one server').check();
    // The servers are read after the form shows ("Loading servers…" until then).
    await page.getByLabel('Server', { exact: true }).locator('option', { hasText: 'acme-everything' }).waitFor({ state: 'attached' });
    assert.deepEqual(await page.getByLabel('Server', { exact: true }).locator('option').allTextContents(), ['acme-everything'], 'only acme\'s servers to choose from');
    await page.getByLabel('Server', { exact: true }).selectOption('acme-everything');
    await page.getByLabel('Keyless (anyone who reaches it)').check();
    await page.getByRole('button', { name: 'Create API' }).click();
    await page.waitForURL((url) => url.pathname === '/apis/acme-tools');

    const bar = page.locator('section.draft-bar');
    await bar.getByText(/The draft has \d+ changes? not deployed yet\./).waitFor();
    // The draft changes after the bar read it, outside acme: its Deploy still names what acme
    // reviewed (it was refused with 412 when it named the whole draft).
    assert.equal((await gh.call('POST', '/api/v1/servers', { body: { name: 'globex-later', url: `${everything.origin}/mcp`, tenant: 'globex' } })).status, 201);
    await bar.getByRole('button', { name: 'Deploy' }).click();
    await bar.getByText(/Deployed version \d+: live now\./).waitFor();
    const version = Number(await bar.getAttribute('data-deployed-version'));
    const live = (await gh.call('GET', `/api/v1/deployments/${version}`)).body.document as { apis: Array<{ name: string; tenant?: string }>; servers: Record<string, unknown> };
    assert.deepEqual(live.apis.map((a) => [a.name, a.tenant]), [['acme-tools', 'acme']]);
    assert.equal(live.servers['globex-later'], undefined, 'globex\'s pending server stays pending');

    const { client, close } = await connectClient(gh.mcpUrl('/acme/tools'));
    try {
      assert.ok((await client.listTools()).tools.some((t) => t.name === 'echo'));
      assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'from acme' } })).content, [{ type: 'text', text: 'Echo: from acme' }]);
    } finally {
      await close();
    }

    // Every other screen acme's admin can reach reads without a refusal (the watch above).
    await page.getByRole('navigation', { name: 'API' }).getByRole('link', { name: 'Policy Studio' }).click();
    await page.getByRole('button', { name: 'Add an ACL' }).waitFor();
    for (const path of ['/apis/acme-tools/limits', '/apis/acme-tools/simulate', '/agents', '/credentials', '/', '/logs', '/upstreams', '/approvals', '/tools']) {
      await page.goto(`${gh.admin}${path}`);
      await ready();
      await page.waitForLoadState('networkidle', { timeout: 10_000 });
    }

    // The deployments screen: its versions without the platform's rollback.
    await screen('Deployments').click();
    await page.locator(`tr[data-version="${version}"]`).waitFor();
    await ready();
    assert.equal(await page.getByRole('button', { name: /^Roll back/ }).count(), 0);
    // Opened by address, the Tenants screen says whose it is, without an error.
    await page.goto(`${gh.admin}/tenants`);
    await page.getByText('Tenants are managed by the platform\'s admins').waitFor();
    assert.equal(await page.locator('[role="alert"]').count(), 0);
  } finally {
    page.off('response', watch);
  }
  assert.deepEqual(failed, [], 'no API call failed for the tenant\'s admin');
});

test('users: the platform admin creates a user of globex with the tenant picker and sees every tenant\'s users; acme\'s admin sees only acme\'s, and its new user lands in acme', { skip }, async () => {
  const password = 'a user password long enough';
  assert.equal((await gh.call('POST', '/api/v1/users', { body: { username: 'early-acme', password, tenant: 'acme' } })).status, 201);
  await browser.context.clearCookies();
  await signIn(page, gh.admin, ADMIN_TOKEN, '/users');
  await ready();
  await page.getByLabel('Username').fill('gina-user');
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Tenant').selectOption('globex');
  await page.getByRole('button', { name: 'Create user' }).click();
  const gina = page.locator('tr[data-user="gina-user"]');
  await gina.waitFor();
  assert.equal(await gina.locator('td[data-col="tenant"]').textContent(), 'globex');
  assert.equal(await page.locator('tr[data-user="early-acme"] td[data-col="tenant"]').textContent(), 'acme');
  assert.equal((await gh.call('GET', '/api/v1/users/gina-user')).body.tenant, 'globex', 'the store says so');

  await browser.context.clearCookies();
  await signInAsUser(page, gh.admin, ANN, '/users');
  await ready();
  await page.locator('tr[data-user="early-acme"]').waitFor();
  assert.equal(await page.locator('tr[data-user="gina-user"]').count(), 0, 'another tenant\'s user is not shown');
  assert.equal(await page.getByLabel('Tenant').count(), 0, 'no tenant picker for a tenant\'s admin');
  await page.getByLabel('Username').fill('acme-made');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.locator('tr[data-user="acme-made"]').waitFor();
  assert.equal(await page.locator('tr[data-user="acme-made"] td[data-col="tenant"]').textContent(), 'acme');
  assert.equal((await gh.call('GET', '/api/v1/users/acme-made')).body.tenant, 'acme');
  // Disabling works on the tenant's own user (GET for the ETag, then PUT).
  await page.getByRole('button', { name: 'Disable user acme-made' }).click();
  await page.locator('tr[data-user="acme-made"][data-disabled="true"]').waitFor();
});

test('the New API form says "Loading servers…" while the servers are read, not "No servers yet" (a test read the options then and saw none)', { skip }, async () => {
  // Hold the servers' answer until the form has been looked at.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/v1/servers', async (route) => {
    await held;
    await route.continue();
  });
  try {
    await page.goto(`${gh.admin}/apis/new`);
    await page.getByLabel('MCP proxy of one server').check();
    const options = page.getByLabel('Server', { exact: true }).locator('option');
    assert.deepEqual(await options.allTextContents(), ['Loading servers…']);
    release();
    await options.filter({ hasText: 'acme-everything' }).waitFor({ state: 'attached' });
    assert.ok(!(await options.allTextContents()).some((text) => text.startsWith('No servers yet')));
  } finally {
    release();
    await page.unroute('**/api/v1/servers');
  }
});
