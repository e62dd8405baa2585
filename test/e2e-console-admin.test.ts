// The console's other screens in headless Chromium, against a fresh managed-mode Gatehouse in
// front of the real server-everything: deployments (what the draft would change, each version's
// changes, a rollback checked with the SDK client), the history of changes, agents and keys (a
// key shown once, working at once with the SDK client, revoked at once), write-only credentials
// (never shown again, by the page or the API) and users of the authorization server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connectClient, startEverything, type RunningEverything } from './helpers/gatehouse.ts';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { browserSkipReason, launchBrowser, screenshot, signIn, type Browser } from './helpers/dashboard-browser.ts';

const skip = browserSkipReason();

let everything: RunningEverything;
let gh: ManagedGatehouse;
let browser: Browser;
let page: Page;

const ECHO_ONLY = { acl: { rules: [{ name: 'echo only', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] }] } };

before(async () => {
  if (skip) return;
  everything = await startEverything();
  gh = await startManaged();
  // The starting point, made through the management API: version 1 shows echo only.
  await gh.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp` } });
  await gh.call('POST', '/api/v1/apis', { body: { name: 'open', path: '/open', server: 'everything', policies: [ECHO_ONLY] } });
  await gh.call('POST', '/api/v1/apis', { body: { name: 'keyed', path: '/keyed', server: 'everything', auth: { type: 'api-key' } } });
  assert.equal((await gh.call('POST', '/api/v1/deployments', { body: { comment: 'echo only' } })).status, 201);
  browser = await launchBrowser();
  page = browser.page;
  await signIn(page, gh.admin, ADMIN_TOKEN, '/deployments');
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await gh?.close();
  await everything?.close();
});

const screen = (name: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name, exact: true });
const toolsOf = async (path: string) => {
  const { client, close } = await connectClient(gh.mcpUrl(path));
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await close();
  }
};

test('deployments: the draft\'s pending change as a diff, deploy, each version\'s changes, and a rollback the SDK client sees', { skip }, async () => {
  assert.deepEqual(await toolsOf('/open'), ['echo']);
  // A change in the draft: the ACL also allows get-sum.
  const policy = await gh.call('GET', '/api/v1/apis/open/policies/0');
  const rules = [{ name: 'echo and sums', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'regex', value: 'echo|get-sum' } }] }];
  assert.equal((await gh.call('PUT', '/api/v1/apis/open/policies/0', { body: { acl: { rules } }, ifMatch: policy.etag! })).status, 200);

  await page.reload();
  const pending = page.locator('[data-panel="pending"] [data-diff]');
  await pending.waitFor();
  assert.match((await pending.textContent()) ?? '', /\+\s+- name: echo and sums/);
  await page.getByRole('button', { name: 'Deploy' }).click();
  await page.getByText('Deployed version 2: live now.').waitFor();
  await page.locator('tr[data-version="2"]').waitFor();
  assert.deepEqual(await toolsOf('/open'), ['echo', 'get-sum']);

  await page.getByRole('button', { name: 'Changes of version 2' }).click();
  const diff = page.locator('[data-panel="versions"] [data-diff]');
  await diff.waitFor();
  assert.match((await diff.textContent()) ?? '', /-\s+- name: echo only[\s\S]*\+\s+- name: echo and sums/);
  await screenshot(page, 'console-deployments', { fullPage: true });

  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Roll back to version 1' }).click();
  await page.locator('[data-rollback-status]').getByText('Rolled back: version 3 (the configuration of version 1) is live.').waitFor();
  assert.deepEqual(await toolsOf('/open'), ['echo'], 'the client sees version 1 again');
  await page.locator('tr[data-version="3"]').getByText('rollback to version 1').waitFor();

  // The history: every change, newest first, with who made it.
  const actions = await page.locator('[data-panel="changes"] tr[data-change]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-change')));
  assert.deepEqual(actions.slice(0, 4), ['rollback', 'deploy', 'update policy', 'deploy']);
  assert.match((await page.locator('[data-panel="changes"] tr[data-change="rollback"]').textContent()) ?? '', /admin-token/);
});

test('rate limits: a limit of 2 tools/call a minute, set on the console and deployed, refuses the third call', { skip }, async () => {
  await page.goto(`${gh.admin}/apis/open/limits`);
  await page.getByRole('button', { name: 'Add limit' }).click();
  const limit = page.locator('li[data-limit="0"]');
  await limit.getByLabel('Name').fill('two calls');
  await limit.getByLabel('Requests', { exact: true }).fill('2');
  await limit.getByLabel('Per').fill('1m');
  await limit.getByLabel('Only these methods').fill('tools/call');
  assert.equal(await limit.getByLabel('agent', { exact: true }).isChecked(), true, 'per agent by default');
  await page.getByRole('button', { name: 'Save limits to draft' }).click();
  await page.locator('[data-limits-status]').getByText('Saved to the draft').waitFor();
  const policies = (await gh.call('GET', '/api/v1/apis/open/policies')).body.items as Array<{ policy: Record<string, unknown> }>;
  assert.deepEqual(policies[1]!.policy, { rateLimit: { limits: [{ name: 'two calls', key: ['agent'], match: { methods: ['tools/call'] }, rate: 2, per: '1m' }], quotas: [] } }, 'after the ACL in the chain');
  await page.getByRole('button', { name: 'Deploy' }).click();
  await page.getByText(/Deployed version \d+: live now\./).waitFor();
  await screenshot(page, 'console-rate-limits');

  const { client, close } = await connectClient(gh.mcpUrl('/open'));
  try {
    for (const n of [1, 2]) assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: `call ${n}` } })).content, [{ type: 'text', text: `Echo: call ${n}` }]);
    await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'call 3' } }), /Rate limit|two calls/);
  } finally {
    await close();
  }
});

test('agents and keys: a key is shown once, works at once with the SDK client, and a revoked one is refused at once', { skip }, async () => {
  await screen('Agents').click();
  await page.waitForURL((url) => url.pathname === '/agents');
  await page.getByLabel('Agent id').fill('helper');
  await page.getByLabel('Labels').fill('team=support');
  await page.getByRole('button', { name: 'Create agent' }).click();
  await page.locator('tr[data-agent="helper"]').getByText('team=support').waitFor();

  await page.getByRole('button', { name: 'New key' }).click();
  const shown = page.locator('[data-new-key]');
  await shown.waitFor();
  const key = (await shown.textContent()) ?? '';
  assert.ok(key.length > 20);

  const connect = async () => {
    const client = new Client({ name: 'console-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(gh.mcpUrl('/keyed')), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
    await client.connect(transport);
    return { client, close: async () => void (await transport.terminateSession().catch(() => undefined), await client.close()) };
  };
  const agent = await connect();
  assert.ok((await agent.client.listTools()).tools.some((t) => t.name === 'echo'), 'the new key works at once');
  await agent.close();

  // Shown once: not on the page once it is loaded again, not in the API.
  await page.reload();
  await page.locator('tr[data-agent="helper"]').waitFor();
  await page.getByRole('button', { name: 'helper' }).click();
  const row = page.locator('[data-panel="keys"] tr[data-key]');
  await row.waitFor();
  assert.ok(!((await page.content()).includes(key)), 'the key is not shown again');
  assert.ok(!JSON.stringify((await gh.call('GET', '/api/v1/agents/helper/keys')).body).includes(key));
  await screenshot(page, 'console-agents');

  page.once('dialog', (dialog) => void dialog.accept());
  await row.getByRole('button', { name: /^Revoke key/ }).click();
  await row.getByText('revoked').waitFor();
  await assert.rejects(connect(), /Unauthorized: API key revoked/, 'a revoked key is refused at once');
});

test('credentials are write-only: set on the console, listed by name and type, never shown again', { skip }, async () => {
  const secret = 'upstream-secret-value-0123456789';
  await screen('Credentials').click();
  await page.waitForURL((url) => url.pathname === '/credentials');
  await page.getByLabel('Credential name').fill('everything');
  await page.getByLabel('Bearer token').check();
  await page.getByLabel('Token', { exact: true }).fill(secret);
  await page.getByRole('button', { name: 'Set credential' }).click();
  await page.getByText('Credential everything set.').waitFor();
  const row = page.locator('tr[data-credential="everything"]');
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /bearer/);
  assert.equal(await page.getByLabel('Token', { exact: true }).inputValue(), '', 'the secret leaves the form once saved');
  await page.reload();
  await row.waitFor();
  assert.ok(!(await page.content()).includes(secret));
  assert.ok(!JSON.stringify((await gh.call('GET', '/api/v1/credentials')).body).includes(secret));
  await screenshot(page, 'console-credentials');
});

test('a credential set elsewhere since the list was read is not overwritten from the console (412, Reload); read again, it is', { skip }, async () => {
  await screen('Credentials').click();
  await page.waitForURL((url) => url.pathname === '/credentials');
  await page.locator('tr[data-credential="everything"]').waitFor();
  // Another operator sets it after this page listed it.
  assert.equal((await gh.call('PUT', '/api/v1/credentials/everything', { body: { type: 'bearer', token: 'set-by-the-other-operator' } })).status, 200);
  const theirs = (await gh.call('GET', '/api/v1/credentials/everything')).etag;
  await page.getByLabel('Credential name').fill('everything');
  await page.getByLabel('Bearer token').check();
  await page.getByLabel('Token', { exact: true }).fill('set-from-a-stale-list');
  await page.getByRole('button', { name: 'Set credential' }).click();
  const failure = page.locator('form[aria-label="Set a credential"] [data-failure]');
  await failure.waitFor();
  assert.match((await failure.textContent()) ?? '', /^Someone else changed this since you opened it/);
  assert.equal((await gh.call('GET', '/api/v1/credentials/everything')).etag, theirs, 'the other operator\'s credential stands');
  await page.reload();
  await page.locator('tr[data-credential="everything"]').waitFor();
  await page.getByLabel('Credential name').fill('everything');
  await page.getByLabel('Bearer token').check();
  await page.getByLabel('Token', { exact: true }).fill('set-after-reading-again');
  await page.getByRole('button', { name: 'Set credential' }).click();
  await page.getByText('Credential everything set.').waitFor();
  assert.notEqual((await gh.call('GET', '/api/v1/credentials/everything')).etag, theirs);
});

test('users: created on the console with a password never shown, disabled and enabled again', { skip }, async () => {
  const password = 'correct horse battery staple 42';
  await screen('Users').click();
  await page.waitForURL((url) => url.pathname === '/users');
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create user' }).click();
  const row = page.locator('tr[data-user="ada"]');
  await row.waitFor();
  assert.equal(await row.getAttribute('data-disabled'), 'false');
  assert.ok(!(await page.content()).includes(password));
  await page.getByRole('button', { name: 'Disable user ada' }).click();
  await page.locator('tr[data-user="ada"][data-disabled="true"]').waitFor();
  assert.equal((await gh.call('GET', '/api/v1/users/ada')).body.disabled, true, 'the store says so');
  await page.getByRole('button', { name: 'Enable user ada' }).click();
  await page.locator('tr[data-user="ada"][data-disabled="false"]').waitFor();
  assert.equal((await gh.call('GET', '/api/v1/users/ada')).body.disabled, false);
  assert.ok(!JSON.stringify((await gh.call('GET', '/api/v1/users')).body).includes(password));
});
