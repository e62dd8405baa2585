// The Policy Studio with several ACL policies, and the simulator with a tool call's arguments, in
// a real browser: headless Chromium (playwright-core) against a managed-mode Gatehouse in front of
// the real server-everything. The API's second ACL is edited on the console (a pattern changed, a
// rule added whose condition reads the call's arguments, checked by the server as it is typed),
// deployed with the Deploy button, and the official SDK client sees exactly the change; the first
// ACL is left as it was. Then "What would this agent see?" is asked about one call with its
// arguments (typed as JSON, checked as typed) and a user with token claims, and its verdict names
// the rule that decides, as the deployed gateway decides the same call. Last, a second rate-limit
// policy is added beside the first on the Rate limits tab, deployed, and limits the client.
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

const FIRST_ACL = { acl: { rules: [{ name: 'tools for all', effect: 'allow', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }] }] } };
const SECOND_ACL = { acl: { rules: [{ name: 'only these', effect: 'allow', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] }] } };
const NO_SECRETS = '"message" in mcp.arguments && string(mcp.arguments.message).contains("secret")';

before(async () => {
  if (skip) return;
  everything = await startEverything();
  gh = await startManaged();
  assert.equal((await gh.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp` } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/apis', { body: { name: 'tools', path: '/tools', server: 'everything', policies: [FIRST_ACL, SECOND_ACL] } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/users', { body: { username: 'alice', password: 'correct horse battery staple' } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/deployments', {})).status, 201);
  browser = await launchBrowser();
  page = browser.page;
  await signIn(page, gh.admin, ADMIN_TOKEN, '/apis/tools/policy');
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await gh?.close();
  await everything?.close();
});

/** Clicks Deploy and waits until the bar says which version went live. */
async function deploy(version: number): Promise<void> {
  const bar = page.getByRole('region', { name: 'Draft and deployment' });
  await bar.getByRole('button', { name: 'Deploy' }).click();
  await bar.locator('[data-live-version]').getByText(`Deployed version ${version}: live now.`).waitFor();
}

/** The tools listed through the deployed API, and what one call answers, with the SDK client. */
async function throughGateway(call: { name: string; message: string }): Promise<{ tools: string[]; answer: string }> {
  const { client, close } = await connectClient(gh.mcpUrl('/tools'));
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    const result = await client.request({ method: 'tools/call', params: { name: call.name, arguments: { message: call.message } } }, CallToolResultSchema);
    return { tools, answer: (result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('') };
  } finally {
    await close();
  }
}

test('the second ACL of an API, edited in the Policy Studio and deployed: the SDK client sees the change, the first ACL is unchanged', { skip }, async () => {
  assert.deepEqual((await throughGateway({ name: 'echo', message: 'before' })).tools, ['echo'], 'deployed as made: only echo passes both ACLs');

  const acls = page.locator('section[data-acl-editor]');
  await acls.nth(1).waitFor();
  assert.equal(await acls.count(), 2, 'one editor per ACL of the chain');
  const first = page.getByRole('region', { name: /^ACL 1/ });
  const second = page.getByRole('region', { name: /^ACL 2/ });
  assert.match((await second.getByRole('heading').textContent()) ?? '', /^ACL 2 \(policy 2 of the chain\)$/);
  assert.equal(await first.getByLabel('Rule name').inputValue(), 'tools for all');

  // Rule 1 of the second ACL: echo becomes any tool whose name matches get-*, and echo again.
  const rule = (n: number) => second.locator(`li[data-rule="${n - 1}"]`);
  const tools = rule(1).locator('[data-feature="tools"]');
  assert.equal(await tools.getByLabel('Tools literal value').inputValue(), 'echo');
  await tools.getByLabel('Tools name pattern').selectOption('regex');
  await tools.getByLabel('Tools regex value').fill('echo|get-sum');
  // A deny rule on echo's arguments, its condition checked by the server as it is typed.
  await second.getByRole('button', { name: 'Add rule' }).click();
  await rule(2).getByLabel('Rule name').fill('no secrets');
  await rule(2).getByLabel('Effect').selectOption('deny');
  const denyTools = rule(2).locator('[data-feature="tools"]');
  await denyTools.getByLabel('tools/call', { exact: true }).check();
  await denyTools.getByLabel('Tools name pattern').selectOption('literal');
  await denyTools.getByLabel('Tools literal value').fill('echo');
  const condition = rule(2).getByLabel('Trigger condition (CEL)');
  await condition.fill('mcp.arguments.message.contanis("secret")');
  await rule(2).locator('.cel-field[data-cel-state="invalid"]').waitFor();
  assert.match((await rule(2).locator('[data-cel-error]').textContent()) ?? '', /contanis/);
  await condition.fill(NO_SECRETS);
  await rule(2).locator('.cel-field[data-cel-state="valid"]').waitFor();
  await screenshot(page, 'console-policy-studio-acls', { fullPage: true });

  await second.getByRole('button', { name: 'Save to draft' }).click();
  await page.getByText('ACL 2: saved to the draft. Deploy to make it live.').waitFor();
  const policies = (await gh.call('GET', '/api/v1/apis/tools/policies')).body.items as Array<{ policy: unknown }>;
  assert.deepEqual(policies[0]!.policy, FIRST_ACL, 'the first ACL as it was');
  assert.deepEqual(policies[1]!.policy, {
    acl: {
      rules: [
        { name: 'only these', effect: 'allow', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'regex', value: 'echo|get-sum' } }] },
        { name: 'no secrets', effect: 'deny', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'echo' } }], condition: NO_SECRETS },
      ],
    },
  });
  // Still only in the draft: the client sees what was deployed.
  assert.deepEqual((await throughGateway({ name: 'echo', message: 'a secret' })).answer, 'Echo: a secret');

  await deploy(2);
  const open = await throughGateway({ name: 'echo', message: 'hello' });
  assert.deepEqual(open.tools, ['echo', 'get-sum']);
  assert.equal(open.answer, 'Echo: hello');
  assert.match((await throughGateway({ name: 'echo', message: 'my secret' })).answer, /Tool echo not found/, 'the new deny rule refuses the call as a missing tool');
});

test('another ACL is added after the last one, saved empty (allowing nothing), and removed again, each in the draft', { skip }, async () => {
  await page.getByRole('button', { name: 'Add another ACL' }).click();
  const third = page.getByRole('region', { name: /^ACL 3/ });
  assert.match((await third.getByRole('heading').textContent()) ?? '', /^ACL 3 \(new, not saved yet\)$/);
  await third.getByText('No rules: agents connect').waitFor();
  await third.getByRole('button', { name: 'Discard ACL' }).click();
  assert.equal(await page.locator('section[data-acl-editor]').count(), 2, 'discarded: never saved');

  await page.getByRole('button', { name: 'Add another ACL' }).click();
  await page.getByRole('region', { name: /^ACL 3/ }).getByRole('button', { name: 'Save ACL to draft' }).click();
  await page.getByText('ACL 3: saved to the draft.').waitFor();
  await page.getByRole('region', { name: /^ACL 3 \(policy 3 of the chain\)/ }).waitFor();
  const policies = async () => ((await gh.call('GET', '/api/v1/apis/tools/policies')).body.items as Array<{ policy: unknown }>).map((p) => p.policy);
  assert.deepEqual((await policies())[2], { acl: { rules: [] } });
  assert.equal((await policies()).length, 3);

  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('region', { name: /^ACL 3/ }).getByRole('button', { name: 'Remove ACL' }).click();
  await page.getByText('ACL 3 removed from the draft.').waitFor();
  assert.equal(await page.locator('section[data-acl-editor]').count(), 2);
  assert.equal((await policies()).length, 2);
  await page.getByRole('region', { name: 'Draft and deployment' }).getByText('The draft equals the deployed configuration.').waitFor();
});

test('"What would this agent see?" decides one tool call with its arguments, typed as JSON and checked as typed, for a user with claims', { skip }, async () => {
  await page.getByRole('navigation', { name: 'API' }).getByRole('link', { name: 'What would this agent see?' }).click();
  await page.waitForURL((url) => url.pathname === '/apis/tools/simulate');
  await page.getByLabel('Agent', { exact: true }).fill('bot');
  await page.getByLabel('User (optional)').fill('alice');
  await page.getByLabel('Token claims (optional)').fill('{"groups": ["ops"]}');
  await page.getByLabel('Tool call (optional)').fill('echo');
  const args = page.getByLabel('Arguments', { exact: true });
  const simulate = page.getByRole('button', { name: 'Simulate' });

  // Not JSON: said at once, and the simulation cannot be asked.
  await args.fill('{"message": "my secret"');
  const field = page.locator('.json-field', { has: args });
  await field.locator('[data-json-error]').waitFor();
  assert.equal(await field.getAttribute('data-json-state'), 'invalid');
  assert.match((await field.locator('[data-json-error]').textContent()) ?? '', /^Not JSON: /);
  assert.equal(await args.getAttribute('aria-invalid'), 'true');
  assert.equal(await simulate.isDisabled(), true);
  await args.fill('["my secret"]');
  assert.match((await field.locator('[data-json-error]').textContent()) ?? '', /^Expected a JSON object \(\{…\}\), not a list\.$/);
  assert.equal(await simulate.isDisabled(), true);

  await args.fill('{"message": "my secret"}');
  await page.locator('.json-field[data-json-state="valid"]', { has: args }).waitFor();
  await simulate.click();
  await page.locator('[data-simulator="done"]').waitFor();
  const call = page.locator('.simulated-call');
  assert.equal(await call.getAttribute('data-call-allowed'), 'false');
  assert.match((await call.textContent()) ?? '', /^tools\/call of echo with \{"message":"my secret"\}: denied by acl #2: no secrets$/);
  const cell = (item: string, method: string) => page.locator(`table[data-kind="tool"] tr[data-item="${item}"] td[data-method="${method}"]`);
  assert.match((await cell('echo', 'tools/call').textContent()) ?? '', /^denied by acl #2: no secrets$/);
  assert.match((await cell('echo', 'tools/list').textContent()) ?? '', /^allowed by acl #2: only these$/);
  assert.equal(await page.locator('table[data-kind="tool"] tr[data-called="true"]').getAttribute('data-item'), 'echo');
  const claims = JSON.parse((await page.locator('[data-claims]').textContent()) ?? '{}') as Record<string, unknown>;
  assert.equal(claims.preferred_username, 'alice');
  assert.deepEqual(claims.groups, ['ops']);
  assert.match((await page.locator('.simulation > p').first().textContent()) ?? '', /for user \S+ \(alice\)/);
  await screenshot(page, 'console-simulator-call', { fullPage: true });

  // Harmless arguments: allowed, as the deployed gateway answers the same call.
  await args.fill('{"message": "hello"}');
  await simulate.click();
  await page.locator('.simulated-call[data-call-allowed="true"]').waitFor();
  assert.match((await page.locator('.simulated-call').textContent()) ?? '', /: allowed by acl #2: only these$/);
  assert.equal((await throughGateway({ name: 'echo', message: 'hello' })).answer, 'Echo: hello');

  // A tool no server lists: the server's refusal is shown.
  await page.getByLabel('Tool call (optional)').fill('no-such-tool');
  await simulate.click();
  const failure = page.locator('[data-failure]');
  await failure.waitFor();
  assert.match((await failure.textContent()) ?? '', /tool "no-such-tool" not found: no server of API "tools" lists it/);
});

test('rate limits: a second rateLimit policy added on its own, deployed, refuses the SDK client\'s third echo; emptied, it is removed', { skip }, async () => {
  await page.getByRole('navigation', { name: 'API' }).getByRole('link', { name: 'Rate limits' }).click();
  await page.waitForURL((url) => url.pathname === '/apis/tools/limits');
  const editor = (n: number) => page.locator(`section[data-limits-editor="${n}"]`);
  const policies = async () => ((await gh.call('GET', '/api/v1/apis/tools/policies')).body.items as Array<{ policy: Record<string, unknown> }>).map((p) => p.policy);

  // The first: a generous limit per agent.
  await page.getByRole('button', { name: 'Add limit' }).click();
  await editor(1).getByLabel('Name').fill('per agent');
  await editor(1).getByLabel('Requests', { exact: true }).fill('100');
  await page.getByRole('button', { name: 'Save limits to draft' }).click();
  await page.locator('[data-limits-status]').getByText('Saved to the draft').waitFor();
  await page.getByRole('button', { name: 'Add another rate-limit policy' }).click();
  // The second, on echo only: two calls a minute.
  await editor(2).getByRole('button', { name: 'Add limit' }).click();
  await editor(2).getByLabel('Name').fill('two echo calls');
  await editor(2).getByLabel('Requests', { exact: true }).fill('2');
  await editor(2).getByLabel('Only these tools').fill('echo');
  await editor(2).getByRole('button', { name: 'Save limits to draft' }).click();
  await page.getByRole('region', { name: 'Rate-limit policy 2' }).getByText('(policy 4 of the chain)').waitFor();
  const chain = await policies();
  assert.deepEqual(chain.map((p) => Object.keys(p)[0]), ['acl', 'acl', 'rateLimit', 'rateLimit'], 'after the ACLs, in the order added');
  assert.deepEqual(chain[2], { rateLimit: { limits: [{ name: 'per agent', key: ['agent'], rate: 100, per: '1m' }], quotas: [] } });
  assert.deepEqual(chain[3], { rateLimit: { limits: [{ name: 'two echo calls', key: ['agent'], match: { tools: ['echo'] }, rate: 2, per: '1m' }], quotas: [] } });

  await deploy(3);
  const { client, close } = await connectClient(gh.mcpUrl('/tools'));
  try {
    for (const n of [1, 2]) assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: `call ${n}` } })).content, [{ type: 'text', text: `Echo: call ${n}` }]);
    await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'call 3' } }), /Rate limit|two echo calls/);
    assert.deepEqual((await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })).isError ?? false, false, 'another tool is not limited by the second policy');
  } finally {
    await close();
  }

  // Emptied and saved: the second policy leaves the chain; the first stays.
  await editor(2).getByRole('button', { name: 'Remove limit 1' }).click();
  await editor(2).getByRole('button', { name: 'Save limits to draft' }).click();
  await page.locator('[data-limits-status]').getByText('Rate-limit policy 2 removed from the draft.').waitFor();
  assert.deepEqual((await policies()).map((p) => Object.keys(p)[0]), ['acl', 'acl', 'rateLimit']);
  assert.equal(await page.locator('section[data-limits-editor]').count(), 1);
});
