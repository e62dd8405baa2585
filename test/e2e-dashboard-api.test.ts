// The admin JSON API behind the dashboard and the serving of its built files, over HTTP on the
// admin listener of a Gatehouse that carried real SDK traffic to server-everything. No browser:
// these run everywhere (the browser test is e2e-dashboard.test.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './helpers/gatehouse.ts';
import { ADMIN_TOKEN, ALICE_KEY, BOB_KEY, CALLS, DENIED_TOOL, TOOL_ERRORS, sendTraffic, startDashboardSetup, type DashboardSetup } from './helpers/dashboard-traffic.ts';
import { binValue, latencyBin } from '../src/audit/rows.ts';
import type { Page, Live } from '../src/admin/api/logs.ts';
import type { RecordDetail } from '../src/admin/api/records.ts';
import type { OverviewView } from '../src/admin/api/overview.ts';
import type { UpstreamView } from '../src/admin/api/upstreams.ts';

let setup: DashboardSetup;

before(async () => {
  setup = await startDashboardSetup();
  await sendTraffic(setup);
  await setup.settle();
});

after(async () => {
  await setup?.close();
});

async function admin(pathAndQuery: string, init: { method?: string; token?: string | null } = {}): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const token = init.token === undefined ? ADMIN_TOKEN : init.token;
  const response = await fetch(`${setup.admin}${pathAndQuery}`, { method: init.method ?? 'GET', headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

async function ok<T>(pathAndQuery: string): Promise<T> {
  const answer = await admin(pathAndQuery);
  assert.equal(answer.status, 200, `${pathAndQuery}: ${answer.text}`);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  return answer.body as T;
}

test('only the admin may call the API: no credential or an agent key gets 401; it is not on the agents\' listener', async () => {
  assert.equal((await admin('/api/overview', { token: null })).status, 401);
  assert.equal((await admin('/api/logs', { token: ALICE_KEY })).status, 401, "an agent's key is not an admin credential");
  const elsewhere = await fetch(`${setup.gh.origin}/api/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(elsewhere.status, 404);
  const meta = await ok<{ apis: Array<{ name: string }>; audit: { readable: boolean } }>('/api/meta');
  assert.deepEqual(meta.apis.map((a) => a.name), ['tools', 'broken', 'stdio']);
  assert.equal(meta.audit.readable, true);
});

test('bad parameters are refused with the parameter named; the API is read-only', async () => {
  const cases: Array<[string, RegExp]> = [
    ['/api/overview?range=2h', /range must be one of 15m, 1h, 24h, 7d/],
    ['/api/logs?status=broken', /status must be one of ok, error/],
    ['/api/logs?decision=maybe', /decision must be one of allowed, denied, error/],
    ['/api/logs?since=yesterday', /since must be a time/],
    ['/api/logs?limit=0', /limit must be a whole number from 1 to 500/],
    ['/api/logs?limit=abc', /limit must be a whole number/],
  ];
  for (const [url, message] of cases) {
    const answer = await admin(url);
    assert.equal(answer.status, 400, url);
    assert.match((answer.body as { error: string }).error, message, url);
  }
  const post = await admin('/api/logs', { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  assert.equal((await admin('/api/nothing-here')).status, 404);
  assert.equal((await admin('/api/logs/no-such-record')).status, 404);
  assert.equal((await admin('/api/logs/%E0%A4%A')).status, 400, 'a malformed escape is a bad request, not a crash');
});

test('logs: newest first, filtered, paged with a cursor that neither skips nor repeats', async () => {
  const sent = [...setup.sent.values()].reduce((a, b) => a + b, 0);
  const everything = await ok<Page>('/api/logs?limit=500');
  assert.equal(everything.records.length, sent, 'one record per HTTP request the clients sent');
  assert.equal(everything.next, null);
  const ids = everything.records.map((r) => r.id);
  assert.deepEqual([...ids].sort().reverse(), ids, 'newest first');
  assert.ok(everything.records.every((r) => !('request' in r) && !('response' in r)), 'list rows carry no payloads');

  const paged: string[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const page: Page = await ok<Page>(`/api/logs?limit=7${cursor ? `&before=${cursor}` : ''}`);
    assert.ok(page.records.length <= 7);
    paged.push(...page.records.map((r) => r.id));
    cursor = page.next;
  }
  assert.deepEqual(paged, ids);

  const denied = await ok<Page>('/api/logs?decision=denied&agent=alice');
  assert.equal(denied.records.length, CALLS.alice[DENIED_TOOL]);
  assert.ok(denied.records.every((r) => r.agent === 'alice' && r.target === DENIED_TOOL && r.decision === 'denied'));
  const echo = await ok<Page>('/api/logs?tool=echo&method=tools/call');
  assert.equal(echo.records.length, CALLS.alice.echo + CALLS.bob.echo);
  const broken = await ok<Page>('/api/logs?api=broken&status=error&since=1h');
  assert.equal(broken.records.length, setup.sent.get('broken'));
  const future = await ok<Page>(`/api/logs?since=${new Date(Date.now() + 3_600_000).toISOString()}`);
  assert.equal(future.records.length, 0);
});

test('one record in full: payloads (when logged) and the decision trace', async () => {
  const [row] = (await ok<Page>('/api/logs?decision=denied&agent=bob&limit=1')).records;
  const record = await ok<RecordDetail>(`/api/logs/${row!.id}`);
  assert.equal(record.method, 'tools/call');
  assert.equal(record.target, DENIED_TOOL);
  assert.equal(record.payloads, true);
  assert.deepEqual(record.request, { name: DENIED_TOOL, arguments: {} });
  assert.ok(Array.isArray(record.trace) && record.trace.length > 0, 'the decision trace is parsed');
  assert.equal((record.trace as Array<{ policy: string; allowed: boolean }>)[0]!.policy, 'acl');
  assert.equal((record.trace as Array<{ policy: string; allowed: boolean }>)[0]!.allowed, false);

  const [noPayloads] = (await ok<Page>('/api/logs?api=broken&limit=1')).records;
  const plain = await ok<RecordDetail>(`/api/logs/${noPayloads!.id}`);
  assert.equal(plain.payloads, false, 'payload logging is off for that API');
  assert.equal(plain.request, undefined);
});

test('live: nothing newer than the newest record, then exactly the new exchanges', async () => {
  const newest = (await ok<Page>('/api/logs?limit=1')).records[0]!.id;
  const idle = await ok<Live>(`/api/live?after=${newest}`);
  assert.deepEqual(idle, { records: [], last: newest });

  const before = setup.sent.get('tools') ?? 0;
  const alice = await setup.connect('tools', ALICE_KEY);
  await alice.client.callTool({ name: 'echo', arguments: { message: 'live' } });
  await alice.close();
  await setup.settle();
  const fresh = await ok<Live>(`/api/live?after=${newest}`);
  assert.equal(fresh.records.length, (setup.sent.get('tools') ?? 0) - before);
  assert.equal(fresh.last, fresh.records[0]!.id);
  assert.ok(fresh.records.some((r) => r.method === 'tools/call' && r.target === 'echo' && r.agent === 'alice'));
  const filtered = await ok<Live>(`/api/live?after=${newest}&method=tools/call`);
  assert.equal(filtered.records.length, 1);
  const first = await ok<Live>('/api/live?limit=3');
  assert.equal(first.records.length, 3, 'without a cursor: the newest records');
});

test('overview: totals, series in whole buckets, the agents × tools matrix', async () => {
  const all = await ok<OverviewView>('/api/overview?range=1h');
  assert.equal(all.bucketMs, 60_000);
  assert.equal(all.until - all.since, 3_600_000);
  assert.equal(all.until % all.bucketMs, 0, 'buckets start on whole minutes');
  assert.ok(all.until > Date.now() - 60_000 && all.since < Date.now() - 3_500_000);
  assert.equal(all.totals.requests, [...setup.sent.values()].reduce((a, b) => a + b, 0));
  assert.equal(all.totals.denied, CALLS.alice[DENIED_TOOL] + CALLS.bob[DENIED_TOOL]);
  assert.equal(all.series.reduce((n, p) => n + p.requests, 0), all.totals.requests, 'the series adds up to the totals');
  assert.ok(all.series.every((p) => p.t % all.bucketMs === 0 && p.t >= all.since && p.t < all.until), 'one point per whole bucket of the range');
  const cell = (agent: string, tool: string) => all.matrix.find((c) => c.agent === agent && c.tool === tool);
  assert.deepEqual(cell('bob', DENIED_TOOL), { agent: 'bob', tool: DENIED_TOOL, server: 'everything', calls: CALLS.bob[DENIED_TOOL], denied: CALLS.bob[DENIED_TOOL] });
  const one = await ok<OverviewView>('/api/overview?range=7d&api=broken');
  assert.equal(one.bucketMs, 3 * 3_600_000);
  assert.equal(one.totals.requests, setup.sent.get('broken'));
  assert.equal(one.totals.errors, setup.sent.get('broken'));
});

test('overview: tool results marked isError are tool errors in the totals, top tools and series, apart from errors and denials (they counted as successes)', async () => {
  const all = await ok<OverviewView>('/api/overview?range=1h&api=tools');
  assert.equal(all.totals.toolErrors, TOOL_ERRORS.times);
  assert.equal(all.totals.errors, 0, 'a tool error is not an error of Gatehouse or the transport');
  assert.equal(all.series.reduce((n, p) => n + p.toolErrors, 0), TOOL_ERRORS.times);
  const row = all.topTools.find((t) => t.name === TOOL_ERRORS.tool)!;
  assert.deepEqual(row, { name: TOOL_ERRORS.tool, server: 'everything', count: CALLS.alice[TOOL_ERRORS.tool], errors: 0, toolErrors: TOOL_ERRORS.times, denied: 0 });
  assert.equal(all.topTools.find((t) => t.name === DENIED_TOOL)!.toolErrors, 0, 'a denied call answered as a missing tool is a denial, not a tool error');
  const listed = await ok<Page>(`/api/logs?api=tools&status=tool_error`);
  assert.deepEqual(listed.records.map((r) => [r.agent, r.target, r.toolError, r.decision]), [[TOOL_ERRORS.agent, TOOL_ERRORS.tool, true, 'allowed']]);
});

test('overview latency percentiles describe request/response exchanges only: a GET stream held open and DELETEs are counted but not timed (a single long stream made p99 read its length)', async () => {
  // An SDK client opens its standalone GET stream after initializing and keeps it until it closes.
  const client = await setup.connect('tools', BOB_KEY);
  let slowest = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await client.client.callTool({ name: 'echo', arguments: { message: `held ${i}` } });
    slowest = Math.max(slowest, performance.now() - started);
  }
  // Keep the stream open clearly longer than any exchange took, as seen from this side.
  await new Promise((resolve) => setTimeout(resolve, Math.max(500, 3 * slowest)));
  await client.close();
  await setup.settle();

  const records = (await ok<Page>('/api/logs?api=tools&limit=500')).records;
  const exchanges = records.filter((r) => r.rpcId !== undefined && r.method !== '(response)');
  const streams = records.filter((r) => r.method === 'GET');
  assert.ok(streams.length >= 1 && records.some((r) => r.method === 'DELETE'));
  const longestExchange = Math.max(...exchanges.map((r) => r.durationMs));
  const longestStream = Math.max(...streams.map((r) => r.durationMs));
  const shown = (ms: number) => Math.round(binValue(latencyBin(ms)) * 100) / 100;
  assert.ok(shown(longestStream) > shown(longestExchange), `the stream (${longestStream} ms) outlasted every exchange (${longestExchange} ms)`);

  const { totals, series } = await ok<OverviewView>('/api/overview?range=1h&api=tools');
  assert.equal(totals.requests, records.length, 'streams and DELETEs are still counted as requests');
  assert.equal(totals.exchanges, exchanges.length);
  assert.equal(totals.p99, shown(longestExchange), 'p99 is the slowest exchange, not the stream');
  assert.ok(series.every((p) => p.p99 <= shown(longestExchange)));
});

test('upstreams: probe status, latency, last error, sessions', async () => {
  const { servers } = await ok<{ servers: UpstreamView[] }>('/api/upstreams');
  const byName = new Map(servers.map((s) => [s.name, s]));
  const up = byName.get('everything')!;
  assert.equal(up.status, 'up');
  assert.equal(up.transport, 'streamable-http');
  assert.ok(up.probe!.latencyMs! >= 0);
  assert.deepEqual(up.apis, ['tools']);
  assert.equal(up.lastError, undefined);
  const down = byName.get('dead')!;
  assert.equal(down.status, 'down');
  assert.match(down.probe!.error!, /ECONNREFUSED/);
  assert.equal(down.lastError?.api, 'broken');
  assert.equal((await ok<RecordDetail>(`/api/logs/${down.lastError!.id}`)).api, 'broken', 'the last error links to its record');
  const stdio = byName.get('everything-stdio')!;
  assert.equal(stdio.transport, 'stdio');
  assert.equal(stdio.status, 'idle', 'no session open: no child');
  assert.equal(stdio.maxChildren, 64);
  assert.equal(stdio.probe, undefined);
});

test('the built dashboard is served with the right types and caching, with routes falling back to the page', async () => {
  const page = await admin('/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type')!, /^text\/html/);
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
  const scripts = [...page.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  assert.ok(scripts.some((s) => s.endsWith('.js')) && scripts.some((s) => s.endsWith('.css')), 'the page loads its bundle from /assets/');
  for (const asset of scripts) {
    const answer = await admin(asset);
    assert.equal(answer.status, 200, asset);
    assert.equal(answer.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(answer.headers.get('content-type')!, asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
  }
  assert.ok(readdirSync(path.join(REPO_ROOT, 'dist', 'web', 'assets')).length >= 2);
  for (const route of ['/logs', '/logs/0abc', '/upstreams']) {
    const answer = await admin(route);
    assert.equal(answer.status, 200, route);
    assert.equal(answer.text, page.text, `${route} is the app's page`);
  }
  assert.equal((await admin('/assets/missing-0000.js')).status, 404, 'a missing file is not the page');
  assert.equal((await admin('/%2e%2e/%2e%2e/package.json')).status, 404, 'nothing outside the built files');
  const signedOut = await fetch(`${setup.admin}/logs`, { headers: { accept: 'text/html' }, redirect: 'manual' });
  assert.equal(signedOut.status, 303, 'a browser without a session is sent to sign in');
  assert.equal(signedOut.headers.get('location'), '/login?next=%2Flogs');
});
