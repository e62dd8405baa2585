// The approval queue across the nodes of a cluster (two gateways sharing a Postgres store and a
// session key): a call held on node A is listed by node B's admin API, approved there (202: A
// applies it within a second, and the client's call returns), and a second one is denied through
// a webhook link opened on node B (links are signed with a key both nodes derive). Regression:
// the queue was each node's own, so an approver who reached another node saw nothing and the
// webhook's links answered "invalid".
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startEverything, startTestGateway, tempDir, type TestGateway } from './helpers/gatehouse.ts';
import { postgresRequirement } from './helpers/requirements.ts';
import { waitUntil } from './helpers/lifecycle-procs.ts';
import type { ConfigInput } from '../src/config/schema.ts';

const ADMIN = 'admin-approval-cluster-token-0123';
const postgres = postgresRequirement();
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function api(node: TestGateway, method: string, route: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${node.gateway.admin!.url.replace(/\/$/, '')}${route}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('a call held on one node is listed and decided on another: through the admin API (202, applied by the holder) and through a webhook link', { skip: postgres.skip, timeout: 90_000 }, async () => {
  postgres.check();
  const everything = await startEverything();
  cleanups.push(() => everything.close());
  const schema = `gatehouse_approval_cluster_${randomBytes(5).toString('hex')}`;
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  const config: Omit<ConfigInput, 'listen'> = {
    store: { type: 'postgres', url: postgres.url!, schema },
    cluster: { heartbeatInterval: 200, nodeTimeout: 1000 },
    servers: { everything: { url: `${everything.origin}/mcp` } },
    admin: { enabled: true, port: 0, token: ADMIN },
    apis: [{ name: 'held', path: '/mcp', server: 'everything', policies: [{ approval: { when: 'mcp.originalName == "get-sum"', timeout: 60_000 } }] }],
  };
  const dir = tempDir();
  const key = randomBytes(32).toString('hex');
  const a = await startTestGateway(config, { key, dataDir: path.join(dir, 'a') });
  cleanups.push(() => a.close());
  const b = await startTestGateway(config, { key, dataDir: path.join(dir, 'b') });
  cleanups.push(() => b.close());

  const client = new Client({ name: 'approval-cluster', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', a.origin)));
  cleanups.push(() => client.close());

  // Held on A, seen on B.
  const first = client.callTool({ name: 'get-sum', arguments: { a: 20, b: 22 } });
  let held: Record<string, unknown> | undefined;
  await waitUntil(async () => (held = ((await api(b, 'GET', '/api/approvals')).body.items as Array<Record<string, unknown>>)[0]) !== undefined, 'node B lists the call node A holds', 10_000);
  assert.deepEqual([held!.tool, held!.agent, (held!.arguments as { a: number }).a], ['get-sum', 'anonymous', 20]);
  assert.equal((await api(b, 'GET', `/api/approvals/${String(held!.id)}`)).status, 200);
  assert.equal((await api(b, 'POST', `/api/approvals/${String(held!.id)}`, { decision: 'approve', argumentsHash: 'not-the-one-shown' })).status, 409, 'bound to the arguments shown, on B too');
  const approved = await api(b, 'POST', `/api/approvals/${String(held!.id)}`, { decision: 'approve', argumentsHash: held!.argumentsHash });
  assert.equal(approved.status, 202, JSON.stringify(approved.body));
  const result = await first;
  assert.deepEqual(result.content, [{ type: 'text', text: 'The sum of 20 and 22 is 42.' }]);
  await waitUntil(async () => ((await api(b, 'GET', '/api/approvals')).body.items as unknown[]).length === 0, 'the decided call leaves the shared queue', 10_000);

  // A webhook link made on A (the holder), opened on B: the page, then the button.
  const second = client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }).then(
    () => assert.fail('a denied call returns no result'),
    (error: unknown) => error,
  );
  let id = '';
  // The id as an approver on B learns it: A lists its own held call at once, while B sees it
  // only once A's write to the shared store is done (a link opened on B before that answered 410;
  // the webhook is now sent after that write).
  await waitUntil(async () => (id = String(((await api(b, 'GET', '/api/approvals')).body.items as Array<{ id: string }>)[0]?.id ?? '')) !== '', 'the second call is held, and node B sees it', 10_000);
  const link = `${b.gateway.admin!.url.replace(/\/$/, '')}/approvals/${id}?action=deny&t=${a.gateway.approvals.linkToken(id, 'deny')}`;
  const page = await fetch(link);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Deny this tool call\?/);
  const denied = await fetch(link, { method: 'POST' });
  assert.equal(denied.status, 200);
  const error = await second;
  // A refusal is an HTTP 403 whose body is the JSON-RPC error.
  assert.match(String(error), /"code":-32045.*link:deny/);
});
