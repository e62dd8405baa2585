// The management API end to end: a managed-mode Gatehouse in front of the real server-everything,
// changed only through /api/v1, checked with the official SDK client.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { REPO_ROOT, connectClient, startEverything, tempDir } from './helpers/gatehouse.ts';
import { postgresRequirement } from './helpers/requirements.ts';
import { ADMIN_TOKEN, startManaged } from './helpers/managed.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { CONTROL_PLANE } from '../src/audit/config-events.ts';

const ALL_TOOLS = { acl: { rules: [{ name: 'all tools', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }] }] } };
const HIDE_SUM = { name: 'no sums', effect: 'deny', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'get-sum' } }] };

test('a deployed ACL change hides a tool from a connected client without dropping its session; rollback brings it back', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const gh = await startManaged();
  t.after(() => gh.close());
  assert.deepEqual(await (await fetch(`${gh.admin}/-/health`)).json(), { status: 'ok', mode: 'managed', configVersion: null }, 'nothing deployed yet');

  assert.equal((await gh.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp` } })).status, 201);
  const created = await gh.call('POST', '/api/v1/apis', { body: { name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' }, policies: [ALL_TOOLS] } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const v1 = await gh.call('POST', '/api/v1/deployments', { body: { comment: 'first' } });
  assert.equal(v1.status, 201, JSON.stringify(v1.body));
  assert.equal(v1.body.version, 1);
  assert.deepEqual(v1.body.apis, [{ name: 'everything', path: '/mcp', url: gh.mcpUrl('/mcp') }]);
  // The node reports the version it serves: health and a metric.
  assert.deepEqual(await (await fetch(`${gh.admin}/-/health`)).json(), { status: 'ok', mode: 'managed', configVersion: 1 });
  const metrics = await (await fetch(`${gh.admin}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  assert.match(metrics, /^gatehouse_config_version 1$/m);

  const { client, transport, close } = await connectClient(gh.mcpUrl('/mcp'));
  t.after(() => close());
  const session = transport.sessionId;
  const names = async () => (await client.listTools()).tools.map((tool) => tool.name);
  assert.ok((await names()).includes('get-sum'));

  // Add a deny rule to the ACL through the API (If-Match the policy's ETag) and deploy.
  const policy = await gh.call('GET', '/api/v1/apis/everything/policies/0');
  assert.ok(policy.etag);
  const rules = [...((policy.body.policy as typeof ALL_TOOLS).acl.rules as unknown[]), HIDE_SUM];
  const put = await gh.call('PUT', '/api/v1/apis/everything/policies/0', { body: { acl: { rules } }, ifMatch: policy.etag });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const diff = await gh.call('GET', '/api/v1/draft/diff');
  assert.match(String(diff.body.text), /\+\s+- name: no sums/);
  const v2 = await gh.call('POST', '/api/v1/deployments', {});
  assert.equal(v2.body.version, 2);

  assert.ok(!(await names()).includes('get-sum'), 'the tool is hidden after the deploy');
  const refused = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }).then(
    (r) => r,
    (e: Error) => e,
  );
  assert.ok(refused instanceof Error || (refused as { isError?: boolean }).isError, 'a hidden tool cannot be called');
  assert.equal(transport.sessionId, session, 'same session');

  // The versions can be compared.
  const compared = await gh.call('GET', '/api/v1/deployments/2/diff');
  assert.equal(compared.body.from, 'version 1');
  assert.ok((compared.body.patch as Array<{ path: string }>).some((op) => op.path.startsWith('/apis/0/policies/0/acl/rules/1')));

  // Roll back to version 1 (If-Match: the draft's ETag): a new version 3, the tool is back.
  const draft = await gh.call('GET', '/api/v1/draft');
  const rolled = await gh.call('POST', '/api/v1/deployments/1/rollback', { ifMatch: draft.etag! });
  assert.equal(rolled.status, 201, JSON.stringify(rolled.body));
  assert.equal(rolled.body.version, 3);
  assert.equal(rolled.body.rolledBackFrom, 1);
  assert.ok((await names()).includes('get-sum'), 'the tool is back');
  const echoed = await client.callTool({ name: 'echo', arguments: { message: 'still here' } });
  assert.deepEqual(echoed.content, [{ type: 'text', text: 'Echo: still here' }]);
  assert.equal(transport.sessionId, session, 'the session survived three deployments');

  // Every change is recorded with who and a JSON Patch.
  const changes = (await gh.call('GET', '/api/v1/changes')).body.items as Array<{ action: string; actor: string; patch: unknown[]; version?: number }>;
  assert.deepEqual(changes.map((c) => c.action), ['rollback', 'deploy', 'update policy', 'deploy', 'create api', 'create server']);
  assert.ok(changes.every((c) => c.actor === 'admin-token'));
  assert.ok(changes.find((c) => c.action === 'update policy')!.patch.length > 0);
});

test('a stale ETag is refused with 412, a change without If-Match with 428; bad input names the field in gatehouse check\'s words', { timeout: 30_000 }, async (t) => {
  const gh = await startManaged();
  t.after(() => gh.close());
  const made = await gh.call('POST', '/api/v1/servers', { body: { name: 'up', url: 'http://127.0.0.1:9/mcp' } });
  const etag = made.etag!;
  const first = await gh.call('PUT', '/api/v1/servers/up', { body: { url: 'http://127.0.0.1:10/mcp' }, ifMatch: etag });
  assert.equal(first.status, 200);
  const second = await gh.call('PUT', '/api/v1/servers/up', { body: { url: 'http://127.0.0.1:11/mcp' }, ifMatch: etag });
  assert.equal(second.status, 412, 'the second operator read an older version');
  assert.equal(second.etag, first.etag, 'the answer carries the current ETag');
  assert.equal((await gh.call('GET', '/api/v1/servers/up')).body.url, 'http://127.0.0.1:10/mcp', 'the first change stands');
  assert.equal((await gh.call('DELETE', '/api/v1/servers/up')).status, 428);
  const staleDraft = await gh.call('PUT', '/api/v1/draft', { body: { servers: {}, apis: [] }, ifMatch: '"draft-1"' });
  assert.equal(staleDraft.status, 412);

  const bad = await gh.call('POST', '/api/v1/apis', { body: { name: 'w', path: 'weather', server: 'nope' } });
  assert.equal(bad.status, 400);
  const problems = bad.body.problems as Array<{ field: string; message: string }>;
  assert.ok(problems.some((p) => p.field === 'apis[0].path' && p.message.startsWith('expected an absolute path')), JSON.stringify(problems));
  const badRef = await gh.call('POST', '/api/v1/apis', { body: { name: 'w', path: '/w', server: 'nope' } });
  assert.deepEqual(badRef.body.problems, [{ field: 'apis[0].server', message: 'no server named "nope"; expected one of the names under `servers` (up)' }]);
  const badRule = await gh.call('POST', '/api/v1/apis', { body: { name: 'w', path: '/w', server: 'up', policies: [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/lst'] }] }] } }] } });
  assert.equal(badRule.status, 400);
  assert.match(JSON.stringify(badRule.body.problems), /apis\[0\]\.policies\[0\]\.acl\.rules\[0\]\.features\[0\]\.methods\[0\]/);
  const unknownField = await gh.call('POST', '/api/v1/servers', { body: { name: 'x', url: 'http://127.0.0.1:9/mcp', colour: 'red' } });
  assert.equal(unknownField.status, 400);
  assert.match(JSON.stringify(unknownField.body.problems), /servers\.x\.colour/);
  // Nothing of that reached the draft.
  assert.deepEqual(Object.keys((await gh.call('GET', '/api/v1/draft')).body.document as object), ['servers', 'apis']);
});

test('agents, keys shown once, users and write-only credentials through the API; the OpenAPI document is served', { timeout: 30_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const gh = await startManaged();
  t.after(() => gh.close());
  await gh.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp` } });
  await gh.call('POST', '/api/v1/apis', { body: { name: 'keyed', path: '/keyed', server: 'everything', auth: { type: 'api-key' } } });
  await gh.call('POST', '/api/v1/deployments', {});

  assert.equal((await gh.call('POST', '/api/v1/agents', { body: { id: 'bot', labels: { team: 'a' } } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/agents', { body: { id: 'bot' } })).status, 409);
  const key = await gh.call('POST', '/api/v1/agents/bot/keys', {});
  assert.equal(key.status, 201);
  assert.equal(typeof key.body.key, 'string');
  const listed = (await gh.call('GET', '/api/v1/agents/bot/keys')).body.items as Array<Record<string, unknown>>;
  assert.equal(listed.length, 1);
  assert.ok(!('key' in listed[0]!) && !('hash' in listed[0]!), 'never shown again');

  const response = await fetch(gh.mcpUrl('/keyed'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${String(key.body.key)}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  assert.equal(response.status, 200, 'the new key works at once');
  await response.text();
  const revoked = await gh.call('DELETE', `/api/v1/agents/bot/keys/${String(key.body.id)}`);
  assert.equal(revoked.status, 204);

  const agent = await gh.call('GET', '/api/v1/agents/bot');
  const disabled = await gh.call('PUT', '/api/v1/agents/bot', { body: { ...agent.body, disabled: true }, ifMatch: agent.etag! });
  assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
  assert.equal(disabled.body.disabled, true);

  const user = await gh.call('POST', '/api/v1/users', { body: { username: 'carol', password: 'a-long-enough-password-1' } });
  assert.equal(user.status, 201);
  assert.ok(!JSON.stringify(user.body).includes('scrypt'));

  const cred = await gh.call('PUT', '/api/v1/credentials/everything', { body: { type: 'bearer', token: 'upstream-secret-value-123' } });
  assert.equal(cred.status, 200, JSON.stringify(cred.body));
  const creds = await gh.call('GET', '/api/v1/credentials');
  assert.ok(!JSON.stringify(creds.body).includes('upstream-secret-value-123'), 'write-only');
  assert.deepEqual((creds.body.items as Array<{ name: string; type: string }>).map((c) => [c.name, c.type]), [['everything', 'bearer']]);

  const openapi = await gh.call('GET', '/api/v1/openapi.json');
  assert.equal(openapi.body.openapi, '3.1.0');
  assert.ok((openapi.body.components as { schemas: Record<string, unknown> }).schemas.Api);
  assert.deepEqual(openapi.body, JSON.parse(readFileSync(path.join(REPO_ROOT, 'schema', 'openapi.json'), 'utf8')), 'the served document is the published one');
  const anonymous = await fetch(`${gh.admin}/api/v1/servers`);
  assert.equal(anonymous.status, 401, 'admin-token authenticated');
});

test('every change through the management API is in the audit log with who, when and a JSON Patch, and no secret', { timeout: 30_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const gh = await startManaged();
  t.after(() => gh.close());
  const started = Date.now();
  // A literal credential in a server's headers is a secret: the recorded patch must not show it.
  await gh.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp`, headers: { authorization: 'Bearer literal-header-secret-42' } } });
  await gh.call('POST', '/api/v1/apis', { body: { name: 'keyed', path: '/keyed', server: 'everything', auth: { type: 'api-key' } } });
  const v1 = await gh.call('POST', '/api/v1/deployments', { body: { comment: 'first' } });
  assert.equal(v1.status, 201, JSON.stringify(v1.body));
  await gh.call('POST', '/api/v1/agents', { body: { id: 'bot' } });
  const key = await gh.call('POST', '/api/v1/agents/bot/keys', {});
  await gh.call('DELETE', `/api/v1/agents/bot/keys/${String(key.body.id)}`);
  await gh.call('PUT', '/api/v1/credentials/everything', { body: { type: 'bearer', token: 'upstream-secret-value-123' } });
  await gh.call('POST', '/api/v1/apis', { body: { name: 'open', path: '/open', server: 'everything', auth: { type: 'keyless' } } });
  assert.equal((await gh.call('POST', '/api/v1/deployments', {})).body.version, 2);
  const draft = await gh.call('GET', '/api/v1/draft');
  const rollback = await gh.call('POST', '/api/v1/deployments/1/rollback', { ifMatch: draft.etag! });
  assert.equal(rollback.status, 201, JSON.stringify(rollback.body));

  const expected = ['create server', 'create api', 'deploy', 'create agent', 'create key', 'revoke key', 'set credential', 'rollback'];
  const events = await recordsWhen(gh.gateway, { api: CONTROL_PLANE }, (e) => expected.every((action) => e.some((x) => x.method === action)));
  const byAction = new Map(events.map((e) => [e.method, e]));
  for (const action of expected) {
    const event = byAction.get(action);
    assert.ok(event, `${action} is recorded: ${JSON.stringify(events.map((e) => e.method))}`);
    assert.equal(event.agent, 'admin-token', 'who');
    assert.equal(event.feature, 'config');
    assert.ok(event.time >= started && event.time <= Date.now(), 'when');
    assert.ok(Array.isArray(JSON.parse(event.request!)), `${action}: the change is a JSON Patch`);
  }
  const server = JSON.parse(byAction.get('create server')!.request!) as Array<{ op: string; path: string }>;
  assert.ok(server.some((op) => op.op === 'add' && op.path.startsWith('/servers')), JSON.stringify(server));
  assert.deepEqual(events.filter((e) => e.method === 'deploy').map((e) => e.reason).sort(), ['version 1', 'version 2']);
  assert.equal(byAction.get('rollback')!.reason, 'version 3');
  assert.equal(byAction.get('rollback')!.target, 'versions/1');
  assert.equal(byAction.get('create key')!.target, `agents/bot/keys/${String(key.body.id)}`);
  assert.equal(byAction.get('set credential')!.target, 'credentials/everything');
  const all = JSON.stringify(events);
  for (const secret of ['literal-header-secret-42', 'upstream-secret-value-123', String(key.body.key)]) assert.ok(!all.includes(secret), `no secret in the audit log: ${secret.slice(0, 8)}…`);
});

test('API tokens: an owner makes them (shown once), a viewer reads and is refused changes (403), an admin changes all but tokens, a revoked one stops at once; each change names its token', { timeout: 30_000 }, async (t) => {
  const gh = await startManaged();
  t.after(() => gh.close());
  const as = async (token: string, method: string, route: string, body?: unknown) => {
    const response = await fetch(`${gh.admin}${route}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  };
  const viewer = await gh.call('POST', '/api/v1/tokens', { body: { name: 'dashboards', role: 'viewer' } });
  assert.equal(viewer.status, 201, JSON.stringify(viewer.body));
  const viewerToken = String(viewer.body.token);
  assert.match(viewerToken, /^ght_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
  const admin = await gh.call('POST', '/api/v1/tokens', { body: { name: 'ci deploys', role: 'admin' } });
  const adminToken = String(admin.body.token);

  const listed = await gh.call('GET', '/api/v1/tokens');
  assert.deepEqual((listed.body.items as Array<{ name: string; role: string }>).map((x) => [x.name, x.role]), [['ci deploys', 'admin'], ['dashboards', 'viewer']]);
  assert.ok(!JSON.stringify(listed.body).includes(viewerToken.split('.')[1]!) && !JSON.stringify(listed.body).includes('digest'), 'never shown again');

  // Bad input names the field.
  const bad = await gh.call('POST', '/api/v1/tokens', { body: { name: '', role: 'root' } });
  assert.equal(bad.status, 400);
  assert.deepEqual((bad.body.problems as Array<{ field: string }>).map((p) => p.field), ['name', 'role']);

  // viewer: reads; every change refused.
  assert.equal((await as(viewerToken, 'GET', '/api/v1/servers')).status, 200);
  const refused = await as(viewerToken, 'POST', '/api/v1/servers', { name: 'x', url: 'http://127.0.0.1:9/mcp' });
  assert.equal(refused.status, 403);
  assert.match(String(refused.body.error), /viewer may only read/);
  assert.equal((await fetch(`${gh.admin}/metrics`, { headers: { authorization: `Bearer ${viewerToken}` } })).status, 200, 'a viewer scrapes metrics');
  // admin: changes config, not tokens.
  assert.equal((await as(adminToken, 'POST', '/api/v1/servers', { name: 'x', url: 'http://127.0.0.1:9/mcp' })).status, 201);
  assert.equal((await as(adminToken, 'GET', '/api/v1/tokens')).status, 403);
  assert.equal((await as(adminToken, 'POST', '/api/v1/tokens', { name: 'more', role: 'owner' })).status, 403, 'no escalation');
  const changes = (await gh.call('GET', '/api/v1/changes')).body.items as Array<{ actor: string; action: string }>;
  assert.equal(changes[0]!.actor, `token:${String(admin.body.id)}`, 'the change names the token that made it');

  // A forged secret for a real id, and a revoked token, are unknown (401).
  const forged = `ght_${String(viewer.body.id)}.${'A'.repeat(43)}`;
  assert.equal((await as(forged, 'GET', '/api/v1/servers')).status, 401);
  assert.equal((await gh.call('DELETE', `/api/v1/tokens/${String(viewer.body.id)}`)).status, 204);
  assert.equal((await as(viewerToken, 'GET', '/api/v1/servers')).status, 401, 'revoked at once');
  assert.equal((await gh.call('DELETE', `/api/v1/tokens/${String(viewer.body.id)}`)).status, 404, 'already revoked');

  const audit = await recordsWhen(gh.gateway, { api: CONTROL_PLANE }, (e) => e.some((x) => x.method === 'revoke token'));
  assert.ok(audit.some((e) => e.method === 'create token' && e.agent === 'admin-token'));
  assert.ok(!JSON.stringify(audit).includes(viewerToken.split('.')[1]!), 'no token secret in the audit log');
});

const postgres = postgresRequirement();

/** Node settings on a fresh Postgres schema (dropped after the test), a session key for every node, and server-everything. */
/**
 * A schema of its own on the shared Postgres. `closeFirst` takes what must stop before the schema
 * is dropped (nodes, their clients): node:test runs a test's after-hooks in the order they were
 * registered, so a node closed by a hook of its own would still be at work (a reload reading
 * tool_pins) when this setup's earlier hook dropped the schema under it.
 */
async function sharedPostgresSetup(t: TestContext, prefix: string): Promise<{ node: Record<string, unknown>; key: string; everything: Awaited<ReturnType<typeof startEverything>>; closeFirst: (close: () => Promise<unknown> | unknown) => void }> {
  postgres.check();
  const url = postgres.url!;
  const schema = `${prefix}${randomBytes(6).toString('hex')}`;
  const closers: Array<() => Promise<unknown> | unknown> = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  const everything = await startEverything();
  t.after(() => everything.close());
  return { node: { store: { type: 'postgres', url, schema } }, key: randomBytes(32).toString('hex'), everything, closeFirst: (close) => closers.push(close) };
}

test('Postgres store: a deployment made on one managed gateway is served by the next one started on the same database', { timeout: 60_000, skip: postgres.skip }, async (t) => {
  const { node, key, everything, closeFirst } = await sharedPostgresSetup(t, 'gatehouse_mgmt_');
  const first = await startManaged({ node, key });
  await first.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp` } });
  await first.call('POST', '/api/v1/apis', { body: { name: 'only-echo', path: '/echo', server: 'everything', policies: [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] }] } }] } });
  assert.equal((await first.call('POST', '/api/v1/deployments', {})).status, 201);
  await first.close();

  const second = await startManaged({ node, key, dataDir: tempDir('gatehouse-managed-pg-') });
  closeFirst(() => second.close());
  const { client, close } = await connectClient(second.mcpUrl('/echo'));
  closeFirst(() => close());
  assert.deepEqual((await client.listTools()).tools.map((tool) => tool.name), ['echo']);
  const versions = (await second.call('GET', '/api/v1/deployments')).body.items as Array<{ version: number }>;
  assert.deepEqual(versions.map((v) => v.version), [1]);
});

test('Postgres store: a deploy on one node is live on the others at once, announced by NOTIFY (the polling fallback off), without dropping their sessions', { timeout: 60_000, skip: postgres.skip }, async (t) => {
  const { node, key, everything, closeFirst } = await sharedPostgresSetup(t, 'gatehouse_notify_');
  // The polling fallback is off (an hour): only the notification can bring the deploy to b and c.
  const a = await startManaged({ node, key, pollMs: 3_600_000 });
  closeFirst(() => a.close());
  await a.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp` } });
  await a.call('POST', '/api/v1/apis', { body: { name: 'everything', path: '/mcp', server: 'everything', policies: [ALL_TOOLS] } });
  assert.equal((await a.call('POST', '/api/v1/deployments', {})).status, 201);
  const others = [await startManaged({ node, key, pollMs: 3_600_000, dataDir: tempDir('gatehouse-managed-b-') }), await startManaged({ node, key, pollMs: 3_600_000, dataDir: tempDir('gatehouse-managed-c-') })];
  for (const other of others) closeFirst(() => other.close());
  const clients = await Promise.all(others.map((other) => connectClient(other.mcpUrl('/mcp'))));
  for (const c of clients) closeFirst(() => c.close());
  for (const c of clients) assert.ok((await c.client.listTools()).tools.some((tool) => tool.name === 'get-sum'));
  // Listening starts as a node starts: wait until both listen before deploying.
  await new Promise((resolve) => setTimeout(resolve, 500));

  const policy = await a.call('GET', '/api/v1/apis/everything/policies/0');
  const rules = [...((policy.body.policy as typeof ALL_TOOLS).acl.rules as unknown[]), HIDE_SUM];
  assert.equal((await a.call('PUT', '/api/v1/apis/everything/policies/0', { body: { acl: { rules } }, ifMatch: policy.etag! })).status, 200);
  assert.equal((await a.call('POST', '/api/v1/deployments', {})).body.version, 2);
  const health = async (admin: string) => ((await (await fetch(`${admin}/-/health`)).json()) as { configVersion: number }).configVersion;
  for (const other of others) {
    for (let i = 0; i < 100 && (await health(other.admin)) !== 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await health(other.admin), 2, 'the node serves version 2 within 5 s, without polling');
  }
  for (const c of clients) assert.ok(!(await c.client.listTools()).tools.some((tool) => tool.name === 'get-sum'), 'the same session sees the change');
});
