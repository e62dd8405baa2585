// The dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) signs in to the admin listener with the admin token, against a Gatehouse that
// carried real traffic from the SDK client to server-everything (allowed calls, calls an ACL
// denied, a failed upstream). The overview shows the counts that traffic produced, a filter on
// the logs screen narrows to the right records, a record opens by keyboard, the live tail shows a
// new call, the upstreams screen shows who is up, down and running. Screenshots of the overview
// and the logs screen go to test-artifacts/ (and to docs/screenshots/ with GATEHOUSE_UPDATE_SCREENSHOTS=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, BOB_KEY, CALLS, DENIED_TOOL, DOCUMENT, TOOL_ERRORS, sendTraffic, startDashboardSetup, type DashboardSetup } from './helpers/dashboard-traffic.ts';
import { browserSkipReason, launchBrowser, screenshot, signIn, type Browser } from './helpers/dashboard-browser.ts';

const skip = browserSkipReason();

let setup: DashboardSetup;
let browser: Browser;
let page: Page;
/** A stdio session kept open so that the upstreams screen has a child to show. */
let stdioClient: { close(): Promise<void> } | undefined;

before(async () => {
  if (skip) return;
  setup = await startDashboardSetup();
  await sendTraffic(setup);
  const stdio = await setup.connect('stdio');
  await stdio.client.listTools();
  stdioClient = stdio;
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await stdioClient?.close();
  await setup?.close();
});

const number = (text: string | null) => Number((text ?? '').replace(/[^\d.]/g, ''));
/** A latency as the dashboard shows it ("12.3 ms", "450 ms", "12.5 s"), in ms: the unit counts. */
const milliseconds = (text: string | null) => number(text) * (/\d\s*s$/.test((text ?? '').trim()) ? 1000 : 1);
const ready = (scope = 'main .screen') => page.locator(`${scope}[data-state="ready"]`).waitFor();
const screen = (name: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name, exact: true });

test('signing in with the admin token on the sign-in form opens the dashboard', { skip }, async () => {
  await signIn(page, setup.admin, ADMIN_TOKEN);
  await screen('Overview').waitFor();
  assert.equal(await screen('Overview').getAttribute('aria-current'), 'page');
});

test('the upstreams screen shows the server that is up, the one that is down, and the stdio child', { skip }, async () => {
  await screen('Upstreams').click();
  await page.waitForURL((url) => url.pathname === '/upstreams');
  await ready();
  const row = (name: string) => page.locator(`tr[data-server="${name}"]`);
  assert.match((await row('everything').locator('[data-col=status]').textContent()) ?? '', /^Up/);
  assert.match((await row('dead').locator('[data-col=status]').textContent()) ?? '', /^Down.*ECONNREFUSED/);
  const lastError = (await row('dead').locator('[data-col=last-error]').textContent()) ?? '';
  assert.match(lastError, /ago: .+/, 'the failed connection of the broken API is the last error');
  assert.match((await row('everything-stdio').locator('[data-col=status]').textContent()) ?? '', /^Running/);
  assert.match((await row('everything-stdio').locator('[data-col=sessions]').textContent()) ?? '', /^1 \/ 64$/, 'one child, of at most 64');
});

test('the overview shows the counts the traffic produced', { skip }, async () => {
  await stdioClient!.close();
  stdioClient = undefined;
  await setup.settle();
  const sent = [...setup.sent.values()].reduce((a, b) => a + b, 0);
  const broken = setup.sent.get('broken') ?? 0;
  assert.ok(broken >= 1, 'the client tried the broken API');
  const denied = CALLS.alice[DENIED_TOOL] + CALLS.bob[DENIED_TOOL];
  // Whether a denial also counts as an error is the audit log's call (status and JSON-RPC code); ask it.
  const deniedErrors = (await adminJson<{ records: unknown[] }>(`/api/logs?decision=denied&status=error&limit=500`)).records.length;

  await screen('Overview').click();
  await page.waitForURL((url) => url.pathname === '/');
  await ready();
  const stat = async (name: string) => number(await page.locator(`[data-stat="${name}"] [data-value]`).textContent());
  assert.equal(await stat('requests'), sent, 'every HTTP request the clients sent is one exchange');
  assert.equal(await stat('denied'), denied);
  assert.equal(await stat('errors'), broken + deniedErrors);
  assert.equal(await stat('tool-errors'), TOOL_ERRORS.times, 'a tool result marked isError is a tool error, not a success');
  const latency = async (name: string) => milliseconds(await page.locator(`[data-stat="${name}"] [data-value]`).textContent());
  // Read with their units: a p99 of "12.5 s" read as 12.5 came out below a p50 of "450 ms".
  assert.ok((await latency('p50')) > 0 && (await latency('p99')) >= (await latency('p50')), 'latency percentiles are shown');

  const ranked = (kind: string, name: string, col: string) => page.locator(`[data-ranking="${kind}"] tr[data-name="${name}"] [data-col="${col}"]`).textContent().then(number);
  assert.equal(await ranked('tools', 'echo', 'count'), CALLS.alice.echo + CALLS.bob.echo);
  assert.equal(await ranked('tools', 'get-sum', 'count'), CALLS.alice['get-sum']);
  assert.equal(await ranked('tools', DENIED_TOOL, 'count'), denied);
  assert.equal(await ranked('tools', DENIED_TOOL, 'denied'), denied);
  assert.equal(await ranked('tools', 'echo', 'denied'), 0);
  assert.equal(await ranked('tools', TOOL_ERRORS.tool, 'tool-errors'), TOOL_ERRORS.times);
  assert.equal(await ranked('tools', TOOL_ERRORS.tool, 'errors'), 0);
  assert.equal(await ranked('tools', DENIED_TOOL, 'tool-errors'), 0);
  assert.equal(await ranked('resources', DOCUMENT, 'count'), 1);
  assert.equal(await ranked('prompts', 'simple-prompt', 'count'), 1);
  assert.equal(await ranked('methods', 'tools/call', 'count'), Object.values(CALLS).flatMap((c) => Object.values(c)).reduce((a: number, b: number) => a + b, 0));

  // Agents × tools: calls and denials per cell; no cell where an agent never called the tool.
  const cell = (agent: string, tool: string) => page.locator(`.matrix tr[data-agent="${agent}"] td[data-tool="${tool}"]`);
  for (const [agent, calls] of Object.entries(CALLS)) {
    for (const [tool, times] of Object.entries(calls)) {
      assert.equal(Number(await cell(agent, tool).getAttribute('data-calls')), times, `${agent} × ${tool}: calls`);
      assert.equal(Number(await cell(agent, tool).getAttribute('data-denied')), tool === DENIED_TOOL ? times : 0, `${agent} × ${tool}: denials`);
    }
  }
  assert.equal(await cell('bob', 'get-sum').getAttribute('data-calls'), null, 'bob never called get-sum');
  // Top tools and agents × tools name the server behind each tool.
  assert.equal(await page.locator('[data-ranking="tools"] tr[data-name="echo"]').getAttribute('data-server'), 'everything');
  assert.match((await page.locator('[data-ranking="tools"] tr[data-name="echo"] .ranking-server').textContent()) ?? '', /everything/);
  assert.equal(await cell('alice', 'echo').getAttribute('data-server'), 'everything');
  assert.ok((await page.locator('.matrix th.matrix-tool[data-server="everything"]').count()) > 0, 'the tool columns name their server');
  assert.match((await cell('bob', DENIED_TOOL).textContent()) ?? '', /2 denied/);

  const deniedRows = await page.locator('[data-denied-row]').all();
  assert.deepEqual((await Promise.all(deniedRows.map((r) => r.locator('[data-col=count]').textContent()))).map(number).sort(), [CALLS.alice[DENIED_TOOL], CALLS.bob[DENIED_TOOL]].sort());

  // A shorter range has finer buckets and the same totals (all the traffic is recent).
  const shorter = page.waitForResponse((r) => r.url().includes('/api/overview') && r.url().includes('range=15m'));
  await page.getByLabel('Time range', { exact: true }).selectOption('15m');
  await shorter;
  await ready();
  assert.equal(await stat('requests'), sent);
  assert.equal(await stat('denied'), denied);
  await screenshot(page, 'dashboard-overview', { fullPage: true });

  // One API: only its traffic.
  const response = page.waitForResponse((r) => r.url().includes('/api/overview') && r.url().includes('api=broken'));
  await page.getByLabel('API', { exact: true }).selectOption('broken');
  await response;
  await ready();
  assert.equal(await stat('requests'), broken);
  assert.equal(await stat('errors'), broken);
  assert.equal(await stat('denied'), 0);

  // One server: the broken API's server, across APIs.
  await page.getByLabel('API', { exact: true }).selectOption('');
  const byServer = page.waitForResponse((r) => r.url().includes('/api/overview') && r.url().includes('server=dead'));
  await page.getByLabel('Server', { exact: true }).selectOption('dead');
  await byServer;
  await ready();
  assert.equal(await stat('requests'), broken);
});

test('a filter on the logs screen narrows to the right records, and a record opens with its details', { skip }, async () => {
  await screen('Logs').click();
  await page.waitForURL((url) => url.pathname === '/logs');
  await ready();
  const rows = page.locator('.logs-table tbody tr');
  const all = await rows.count();
  assert.equal(all, Math.min(50, [...setup.sent.values()].reduce((a, b) => a + b, 0)), 'newest first, one row per exchange');
  const times = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')!));
  assert.deepEqual([...times].sort().reverse(), times, 'newest first');

  // A click opens a record beside the list.
  const deniedRow = rows.filter({ has: page.locator('[data-col=decision]', { hasText: 'denied' }) }).first();
  const clickedId = await deniedRow.getAttribute('data-id');
  await deniedRow.click();
  await page.waitForURL((url) => url.pathname === `/logs/${clickedId}`);
  await page.getByTestId('record-panel').locator('[data-payload="request"]').waitFor();
  await screenshot(page, 'dashboard-logs');
  await page.getByRole('button', { name: 'Close the record (Escape)' }).click();
  await page.waitForURL((url) => url.pathname === '/logs');

  // Agent and decision: bob's denied calls, nothing else.
  await page.getByLabel('Agent', { exact: true }).fill('bob');
  const filtered = page.waitForResponse((r) => r.url().includes('/api/logs?') && r.url().includes('decision=denied'));
  await page.getByLabel('Decision', { exact: true }).selectOption('denied');
  await filtered;
  await ready();
  assert.equal(await rows.count(), CALLS.bob[DENIED_TOOL]);
  for (const row of await rows.all()) {
    assert.equal(await row.locator('[data-col=agent]').textContent(), 'bob');
    assert.equal(await row.locator('[data-col=target]').textContent(), DENIED_TOOL);
    assert.equal(await row.locator('[data-col=decision]').textContent(), 'denied');
  }
  assert.match(page.url(), /agent=bob/, 'the filters are in the address, so the view can be shared');

  // Open the newest one with the keyboard.
  const first = rows.first();
  const id = await first.getAttribute('data-id');
  await first.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.pathname === `/logs/${id}`);
  const panel = page.getByTestId('record-panel');
  await panel.locator('.record-body').waitFor();
  assert.match((await panel.locator('#record-title').textContent()) ?? '', /tools\/call\s*get-env/);
  assert.equal(await panel.locator('[data-fact="Decision"] dd').textContent(), 'denied');
  assert.equal(await panel.locator('[data-fact="Agent"] dd').textContent(), 'bob');
  const trace = panel.locator('[data-trace-step]');
  assert.ok((await trace.count()) >= 1, 'the decision trace is shown');
  assert.match((await trace.first().textContent()) ?? '', /acl.*tools\/call.*get-env.*denied/);
  // Payload logging is on for this API: the request arguments and the answer are there.
  assert.match((await panel.locator('[data-payload="request"]').textContent()) ?? '', /"name": "get-env"/);
  assert.match((await panel.locator('[data-payload="response"]').textContent()) ?? '', /isError|error/);

  // Escape closes it and gives the focus back to the row.
  await page.keyboard.press('Escape');
  await page.waitForURL((url) => url.pathname === '/logs');
  await page.waitForFunction((rowId) => (document.activeElement as HTMLElement | null)?.dataset.id === rowId, id);

  // Tool and agent, typed and applied with Enter.
  await page.getByRole('button', { name: 'Clear' }).click();
  await ready();
  await page.getByLabel('Agent', { exact: true }).fill('alice');
  await page.getByLabel('Tool / target', { exact: true }).fill('echo');
  const echo = page.waitForResponse((r) => r.url().includes('/api/logs?') && r.url().includes('tool=echo'));
  await page.getByLabel('Tool / target', { exact: true }).press('Enter');
  await echo;
  await ready();
  assert.equal(await rows.count(), CALLS.alice.echo);
  assert.deepEqual(new Set(await rows.locator('[data-col=agent]').allTextContents()), new Set(['alice']));
  assert.deepEqual(new Set(await rows.locator('[data-col=method]').allTextContents()), new Set(['tools/call']));
});

test('the live tail shows a new call as it happens', { skip }, async () => {
  await page.goto(`${setup.admin}/logs?agent=bob&tool=get-sum`);
  await ready();
  const rows = page.locator('.logs-table tbody tr');
  assert.equal(await rows.count(), 0, 'bob has not called get-sum yet');
  await page.getByLabel('Live tail', { exact: true }).check();
  const bob = await setup.connect('tools', BOB_KEY);
  await bob.client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
  await bob.close();
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().locator('[data-col=agent]').textContent(), 'bob');
  assert.equal(await rows.first().locator('[data-col=target]').textContent(), 'get-sum');
});

test('a Gatehouse running from a file shows no console screens, and a console address says where to change it', { skip }, async () => {
  const asked = page.waitForResponse((r) => r.url().endsWith('/api/v1/info'));
  await page.goto(`${setup.admin}/upstreams`);
  assert.equal((await asked).status(), 404, 'the management API answers in managed mode only');
  await screen('Upstreams').waitFor();
  assert.equal(await screen('Servers').count(), 0);
  assert.equal(await screen('APIs').count(), 0);
  await page.goto(`${setup.admin}/servers`);
  await page.getByText('The console changes a managed Gatehouse (gatehouse start --managed)').first().waitFor();
});

test('the dashboard made no request outside the admin listener', { skip }, async () => {
  const elsewhere = browser.requests.filter((url) => !url.startsWith(`${setup.admin}/`) && !url.startsWith('data:'));
  assert.deepEqual(elsewhere, []);
  assert.ok(browser.requests.some((url) => url.includes('/assets/')), 'the bundled scripts came from the admin listener');
});

async function adminJson<T>(path: string): Promise<T> {
  const response = await fetch(`${setup.admin}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return (await response.json()) as T;
}
