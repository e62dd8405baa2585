// The console in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) against a fresh managed-mode Gatehouse in front of the real server-everything
// over Streamable HTTP. The seed's four steps are made on the console's screens only, deployed
// with its Deploy button, and each is checked with the official SDK client:
//   (a) proxy an unsecured server with a keyless plan: the client works;
//   (b) add an ACL with no rules: the client connects, every list is empty;
//   (c) allow tools/list for Tools with pattern Any: every tool listed, every call refused;
//   (d) allow tools/list + tools/call for the literal tool name `echo`: only echo, and it works.
// On the way: the CEL condition is checked by the server as it is typed, rules reorder with the
// buttons and by dragging, "What would this agent see?" shows a draft rule's effect before it is
// deployed, and a stale ETag is refused with a clear message. Screenshots go to
// test-artifacts/ (and to docs/screenshots/console-*.png with GATEHOUSE_UPDATE_SCREENSHOTS=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, startEverything, type RunningEverything } from './helpers/gatehouse.ts';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { browserSkipReason, launchBrowser, screenshot, signIn, type Browser } from './helpers/dashboard-browser.ts';

const skip = browserSkipReason();

let everything: RunningEverything;
let gh: ManagedGatehouse;
let browser: Browser;
let page: Page;
/** Every tool server-everything offers, read from it directly. */
let upstreamTools: string[];

before(async () => {
  if (skip) return;
  everything = await startEverything();
  const direct = await connectClient(`${everything.origin}/mcp`);
  upstreamTools = (await direct.client.listTools()).tools.map((t) => t.name).sort();
  await direct.close();
  gh = await startManaged();
  browser = await launchBrowser();
  page = browser.page;
  await signIn(page, gh.admin, ADMIN_TOKEN, '/servers');
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await gh?.close();
  await everything?.close();
});

const screen = (name: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name, exact: true });
const rule = (n: number) => page.locator(`li[data-rule="${n - 1}"]`);

/** Clicks Deploy and waits until the bar says which version went live. */
async function deploy(version: number): Promise<void> {
  const bar = page.getByRole('region', { name: 'Draft and deployment' });
  await bar.getByRole('button', { name: 'Deploy' }).click();
  await bar.locator('[data-live-version]').getByText(`Deployed version ${version}: live now.`).waitFor();
}

/** What an agent sees through the API, with the SDK client on a fresh session. */
async function seen(): Promise<{ tools: string[]; prompts: string[]; resources: string[]; call(name: string, args?: Record<string, unknown>): Promise<{ refused: boolean; text: string }>; close(): Promise<void> }> {
  const { client, close } = await connectClient(gh.mcpUrl('/weather'));
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
  const resources = (await client.listResources()).resources.map((r) => r.uri);
  return {
    tools,
    prompts,
    resources,
    call: async (name, args = {}) => {
      // A plain tools/call request: callTool() would itself refuse tools listed as needing tasks.
      const result = await client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema);
      const text = (result.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? '').join('');
      return { refused: result.isError === true && text.includes(`Tool ${name} not found`), text };
    },
    close,
  };
}

test('(a) a server and an API with a keyless plan, made on the console and deployed: the SDK client works', { skip }, async () => {
  await page.getByRole('link', { name: 'New server' }).click();
  await page.getByLabel('Name', { exact: true }).fill('weather');
  await page.getByLabel('Streamable HTTP').check();
  await page.getByLabel('URL', { exact: true }).fill(`${everything.origin}/mcp`);
  await page.getByRole('button', { name: 'Create server' }).click();
  await page.waitForURL((url) => url.pathname === '/servers');
  const row = page.locator('tr[data-server="weather"]');
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /Streamable HTTP/);
  assert.match((await row.textContent()) ?? '', new RegExp(`${everything.origin}/mcp`.replace(/[.:/]/g, '\\$&')));
  await screenshot(page, 'console-servers');

  await screen('APIs').click();
  await page.getByRole('link', { name: 'New API' }).click();
  await page.getByLabel('Name', { exact: true }).fill('weather');
  await page.getByLabel('Path', { exact: true }).fill('/weather');
  await page.getByLabel('MCP proxy of one server').check();
  await page.getByLabel('Server', { exact: true }).selectOption('weather');
  await page.getByLabel('Keyless (anyone who reaches it)').check();
  await page.getByRole('button', { name: 'Create API' }).click();
  await page.waitForURL((url) => url.pathname === '/apis/weather');

  // The client snippet: the MCP URL and a client configuration pointing at it.
  const url = gh.mcpUrl('/weather');
  await page.locator('[data-mcp-url]').getByText(url, { exact: true }).waitFor();
  const config = JSON.parse((await page.locator('[data-client-config]').textContent()) ?? '') as { mcpServers: Record<string, { type: string; url: string }> };
  assert.deepEqual(config, { mcpServers: { weather: { type: 'http', url } } });

  await deploy(1);
  await screenshot(page, 'console-api', { fullPage: true });
  const agent = await seen();
  try {
    assert.deepEqual(agent.tools, upstreamTools, 'no ACL: every tool of the server');
    assert.ok(agent.tools.includes('echo'));
    const echoed = await agent.call('echo', { message: 'through the console' });
    assert.equal(echoed.text, 'Echo: through the console');
  } finally {
    await agent.close();
  }
});

test('(b) an ACL with no rules, added in the Policy Studio: the client connects and every list is empty', { skip }, async () => {
  await page.getByRole('navigation', { name: 'API' }).getByRole('link', { name: 'Policy Studio' }).click();
  await page.waitForURL((url) => url.pathname === '/apis/weather/policy');
  await page.getByRole('button', { name: 'Add an ACL' }).click();
  await page.getByText('No rules: agents connect').waitFor();
  await page.getByRole('button', { name: 'Save ACL to draft' }).click();
  await page.locator('[data-studio-status]').getByText('Saved to the draft').waitFor();
  await deploy(2);

  const draft = await gh.call('GET', '/api/v1/apis/weather');
  assert.deepEqual((draft.body as { policies: unknown[] }).policies, [{ acl: { rules: [] } }], 'the ACL as the config writes it');
  const agent = await seen();
  try {
    assert.deepEqual(agent.tools, []);
    assert.deepEqual(agent.prompts, []);
    assert.deepEqual(agent.resources, []);
    assert.ok((await agent.call('echo', { message: 'x' })).refused);
  } finally {
    await agent.close();
  }
});

test('(c) allow tools/list for Tools with pattern Any: every tool is listed and every call refused', { skip }, async () => {
  await page.getByRole('button', { name: 'Add rule' }).click();
  const first = rule(1);
  await first.getByLabel('Rule name').fill('list tools');
  const tools = first.locator('[data-feature="tools"]');
  await tools.getByLabel('tools/list', { exact: true }).check();
  assert.equal(await tools.getByLabel('Tools name pattern').inputValue(), 'any');
  assert.equal(await first.getByLabel('Effect').inputValue(), 'allow');
  await page.getByRole('button', { name: 'Save to draft' }).click();
  await page.locator('[data-studio-status]').getByText('Saved to the draft').waitFor();
  await deploy(3);

  const policy = await gh.call('GET', '/api/v1/apis/weather/policies/0');
  assert.deepEqual(policy.body.policy, { acl: { rules: [{ name: 'list tools', effect: 'allow', features: [{ type: 'tools', methods: ['tools/list'], pattern: { type: 'any' } }] }] } });
  const agent = await seen();
  try {
    assert.deepEqual(agent.tools, upstreamTools, 'every tool is listed');
    assert.deepEqual(agent.prompts, []);
    for (const name of agent.tools) assert.ok((await agent.call(name)).refused, `${name}: the call is refused`);
  } finally {
    await agent.close();
  }
});

test('the trigger condition is compiled by the server as it is typed, and the error points at its column', { skip }, async () => {
  const condition = rule(1).getByLabel('Trigger condition (CEL)');
  const field = rule(1).locator('.cel-field');
  await condition.fill('agent.idd == "x"');
  await field.locator('[data-cel-error]').waitFor();
  assert.equal(await field.getAttribute('data-cel-state'), 'invalid');
  assert.match((await field.locator('[data-cel-error]').textContent()) ?? '', /unknown field `idd` of `agent` \(at column 7\)/);
  assert.equal(await condition.getAttribute('aria-invalid'), 'true');
  assert.equal((await field.locator('.cel-caret').textContent())?.split('\n')[1], '      ^', 'the caret is under column 7');
  await screenshot(page, 'console-policy-cel-error');

  await condition.fill('agent.id != "blocked"');
  await rule(1).locator('.cel-field[data-cel-state="valid"]').waitFor();
  assert.equal(await condition.getAttribute('aria-invalid'), 'false');
  await condition.fill('');
  await rule(1).locator('.cel-field[data-cel-state="empty"]').waitFor();
});

test('rules reorder with the up and down buttons and by dragging', { skip }, async () => {
  await page.getByRole('button', { name: 'Add rule' }).click();
  await rule(2).getByLabel('Rule name').fill('second');
  const names = async () => Promise.all((await page.locator('li[data-rule]').all()).map((r) => r.getByLabel('Rule name').inputValue()));
  assert.deepEqual(await names(), ['list tools', 'second']);
  await page.getByRole('button', { name: 'Move rule 2 up' }).click();
  assert.deepEqual(await names(), ['second', 'list tools']);
  await page.getByRole('button', { name: 'Move rule 1 down' }).click();
  assert.deepEqual(await names(), ['list tools', 'second']);
  await rule(2).locator('.drag-handle').dragTo(rule(1));
  assert.deepEqual(await names(), ['second', 'list tools'], 'dropped on the first rule: it takes its place');
  await page.getByRole('button', { name: 'Remove rule 1' }).click();
  assert.deepEqual(await names(), ['list tools']);
});

test('(d) allow tools/list + tools/call for the literal tool name echo: only echo is visible, and callable', { skip }, async () => {
  const tools = rule(1).locator('[data-feature="tools"]');
  await rule(1).getByLabel('Rule name').fill('echo only');
  await tools.getByLabel('tools/call', { exact: true }).check();
  await tools.getByLabel('Tools name pattern').selectOption('literal');
  await tools.getByLabel('Tools literal value').fill('echo');
  await screenshot(page, 'console-policy-studio', { fullPage: true });
  await page.getByRole('button', { name: 'Save to draft' }).click();
  await page.locator('[data-studio-status]').getByText('Saved to the draft').waitFor();
  await deploy(4);

  const policy = await gh.call('GET', '/api/v1/apis/weather/policies/0');
  assert.deepEqual(policy.body.policy, { acl: { rules: [{ name: 'echo only', effect: 'allow', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] }] } });
  const agent = await seen();
  try {
    assert.deepEqual(agent.tools, ['echo']);
    assert.equal((await agent.call('echo', { message: 'only me' })).text, 'Echo: only me');
    const others = upstreamTools.filter((t) => t !== 'echo');
    assert.ok(others.length > 0);
    for (const name of others) assert.ok((await agent.call(name)).refused, `${name}: refused`);
  } finally {
    await agent.close();
  }
});

test('"What would this agent see?" shows the draft\'s decisions per item and method, with the deciding rule, before it is deployed', { skip }, async () => {
  // A rule saved to the draft only: prompts listed for everyone.
  await page.getByRole('button', { name: 'Add rule' }).click();
  await rule(2).getByLabel('Rule name').fill('list prompts');
  await rule(2).locator('[data-feature="prompts"]').getByLabel('prompts/list', { exact: true }).check();
  await page.getByRole('button', { name: 'Save to draft' }).click();
  await page.locator('[data-studio-status]').getByText('Saved to the draft').waitFor();

  await page.getByRole('navigation', { name: 'API' }).getByRole('link', { name: 'What would this agent see?' }).click();
  await page.waitForURL((url) => url.pathname === '/apis/weather/simulate');
  await page.getByLabel('Agent', { exact: true }).fill('bot');
  await page.getByLabel('Draft (not deployed yet)').check();
  await page.getByRole('button', { name: 'Simulate' }).click();
  await page.locator('[data-simulator="done"]').waitFor();
  const cell = (kind: string, item: string, method: string) => page.locator(`table[data-kind="${kind}"] tr[data-item="${item}"] td[data-method="${method}"]`);
  assert.equal(await cell('tool', 'echo', 'tools/list').getAttribute('data-allowed'), 'true');
  assert.match((await cell('tool', 'echo', 'tools/call').textContent()) ?? '', /^allowed by echo only$/);
  assert.match((await cell('tool', 'get-sum', 'tools/list').textContent()) ?? '', /^denied no rule allows it$/);
  assert.match((await cell('prompt', 'simple-prompt', 'prompts/list').textContent()) ?? '', /^allowed by list prompts$/);
  assert.equal(await cell('prompt', 'simple-prompt', 'prompts/get').getAttribute('data-allowed'), 'false');
  // Every tool of the server has a row; only echo may be listed.
  const rows = await page.locator('table[data-kind="tool"] tbody tr').all();
  assert.deepEqual((await Promise.all(rows.map((r) => r.getAttribute('data-item')))).sort(), upstreamTools);
  const listed = await page.locator('table[data-kind="tool"] td[data-method="tools/list"][data-allowed="true"]').count();
  assert.equal(listed, 1);
  await screenshot(page, 'console-simulator', { fullPage: true });

  // Not deployed: the client still sees no prompts; the deployed version, simulated, agrees.
  const agent = await seen();
  try {
    assert.deepEqual(agent.prompts, []);
  } finally {
    await agent.close();
  }
  await page.getByLabel('Deployed version').check();
  await page.getByRole('button', { name: 'Simulate' }).click();
  await page.locator('.simulation').getByText('deployed version 4').waitFor();
  assert.equal(await cell('prompt', 'simple-prompt', 'prompts/list').getAttribute('data-allowed'), 'false');
});

test('a change made elsewhere since the form was opened is refused (412) with a clear message, and nothing is overwritten', { skip }, async () => {
  await page.getByRole('navigation', { name: 'API' }).getByRole('link', { name: 'Settings' }).click();
  await page.waitForURL((url) => url.pathname === '/apis/weather');
  await page.getByLabel('Path', { exact: true }).waitFor();
  // Wait until the form shows the stored API (it loads after the page).
  await page.waitForFunction(() => (document.getElementById('api-path') as HTMLInputElement | null)?.value === '/weather');
  // Another operator changes the API through the management API.
  const current = await gh.call('GET', '/api/v1/apis/weather');
  const other = await gh.call('PUT', '/api/v1/apis/weather', { body: { ...current.body, path: '/forecast' }, ifMatch: current.etag! });
  assert.equal(other.status, 200);

  await page.getByLabel('Path', { exact: true }).fill('/weather-v2');
  await page.getByRole('button', { name: 'Save to draft' }).click();
  const failure = page.locator('[data-failure]');
  await failure.waitFor();
  assert.match((await failure.textContent()) ?? '', /^Someone else changed this since you opened it, so your change was not saved\. Reload/);
  assert.equal((await gh.call('GET', '/api/v1/apis/weather')).body.path, '/forecast', 'the other change stands');
});
