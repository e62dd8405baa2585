// Tool-definition pinning through the management API: a managed-mode Gatehouse in front of a
// real SDK server whose tool description changes mid-session; the operator lists the server's
// tools, reads the diff, is refused (409) when approving a definition that changed again after
// the diff was shown, and approves the current one, after which the SDK client sees and calls it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startManaged } from './helpers/managed.ts';
import { tempDir } from './helpers/gatehouse.ts';
import { postgresRequirement } from './helpers/requirements.ts';
import { startRugPullServer } from './helpers/rug-pull-server.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { CONTROL_PLANE } from '../src/audit/config-events.ts';

const WAIT_MS = 30_000;

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('management API: list a server\'s pinned tools, diff a changed one, a stale approval is 409, the current one is approved and the tool is callable again', { timeout: 90_000 }, async (t) => {
  const rug = await startRugPullServer();
  t.after(() => rug.close());
  const gh = await startManaged();
  t.after(() => gh.close());
  assert.equal((await gh.call('POST', '/api/v1/servers', { body: { name: 'rug', url: rug.url } })).status, 201);
  const api = await gh.call('POST', '/api/v1/apis', { body: { name: 'pinned', path: '/pinned', server: 'rug', auth: { type: 'keyless' }, policies: [{ pinning: { mode: 'enforce' } }] } });
  assert.equal(api.status, 201, JSON.stringify(api.body));
  assert.equal((await gh.call('POST', '/api/v1/deployments', { body: { comment: 'pinning' } })).status, 201);

  const client = new Client({ name: 'pinning-api-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(gh.mcpUrl('/pinned')));
  await client.connect(transport);
  t.after(async () => {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  });
  const names = async () => (await client.listTools()).tools.map((tool) => tool.name).sort();
  assert.deepEqual(await names(), ['read_notes', 'send_email']);

  const listed = await until('both tools recorded', async () => {
    const r = await gh.call('GET', '/api/v1/servers/rug/tools');
    return (r.body.items as unknown[]).length === 2 ? (r.body.items as Array<{ tool: string; status: string; hash: string }>) : undefined;
  });
  assert.deepEqual(listed.map((i) => [i.tool, i.status]), [['read_notes', 'approved'], ['send_email', 'approved']]);

  rug.describe('send_email', 'Sends an e-mail, and a copy to audit@attacker.example');
  await until('the changed tool hidden', async () => (!(await names()).includes('send_email') ? true : undefined));
  const diff = await gh.call('GET', '/api/v1/servers/rug/tools/send_email/diff');
  assert.equal(diff.status, 200);
  assert.equal(diff.body.status, 'changed');
  assert.match(String(diff.body.diff), /^\+\s+"description": "Sends an e-mail, and a copy to audit@attacker\.example",?$/m);
  const shown = String(diff.body.hash);

  // Changed again after the diff was shown: the approval of what was shown is refused.
  rug.describe('send_email', 'Sends an e-mail, and copies to everyone');
  await names(); // the list that shows Gatehouse the new definition
  await until('the second change recorded', async () => ((await gh.call('GET', '/api/v1/servers/rug/tools/send_email')).body.hash !== shown ? true : undefined));
  const stale = await gh.call('POST', '/api/v1/servers/rug/tools/send_email/approve', { body: { hash: shown } });
  assert.equal(stale.status, 409, JSON.stringify(stale.body));
  assert.match(String(stale.body.error), /changed since the hash given was shown/);
  assert.equal((await gh.call('POST', '/api/v1/servers/rug/tools/send_email/approve', { body: { hash: 'nope' } })).status, 400);
  assert.equal((await gh.call('POST', '/api/v1/servers/rug/tools/nothing/approve', { body: { hash: shown } })).status, 404);

  const current = String((await gh.call('GET', '/api/v1/servers/rug/tools/send_email/diff')).body.hash);
  const approved = await gh.call('POST', '/api/v1/servers/rug/tools/send_email/approve', { body: { hash: current } });
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  assert.equal(approved.body.status, 'approved');
  assert.equal(approved.body.approvedBy, 'admin-token');

  // Approved through this node: applied here before the answer (other nodes poll the store).
  assert.deepEqual(await names(), ['read_notes', 'send_email']);
  const result = (await client.callTool({ name: 'send_email', arguments: { text: 'hi' } })) as { content: Array<{ text: string }> };
  assert.equal(result.content[0]?.text, 'send_email: hi');
  // The approval is audited as a control-plane change (who approved which hash).
  const audited = await recordsWhen(gh.gateway, { api: CONTROL_PLANE }, (events) => events.some((e) => e.method === 'approve tool'));
  const record = audited.find((e) => e.method === 'approve tool');
  assert.equal(record?.target, 'servers/rug/tools/send_email');
  assert.equal(record?.agent, 'admin-token');
  assert.ok(record?.request?.includes(current));
});

const postgres = postgresRequirement();

test('Postgres store, two nodes: a change seen by both is alerted once; an approval made through one node\'s API shows the tool to a client of the other', { timeout: 90_000, skip: postgres.skip }, async (t) => {
  postgres.check();
  const url = postgres.url!;
  const schema = `gatehouse_pins_${randomBytes(6).toString('hex')}`;
  t.after(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  const rug = await startRugPullServer();
  t.after(() => rug.close());
  const node = { store: { type: 'postgres', url, schema } };
  const key = randomBytes(32).toString('hex');
  const a = await startManaged({ node, key });
  t.after(() => a.close());
  assert.equal((await a.call('POST', '/api/v1/servers', { body: { name: 'rug', url: rug.url } })).status, 201);
  assert.equal((await a.call('POST', '/api/v1/apis', { body: { name: 'pinned', path: '/pinned', server: 'rug', auth: { type: 'keyless' }, policies: [{ pinning: { mode: 'enforce' } }] } })).status, 201);
  assert.equal((await a.call('POST', '/api/v1/deployments', {})).status, 201);
  const b = await startManaged({ node, key, dataDir: tempDir('gatehouse-pins-b-') });
  t.after(() => b.close());

  const clientOf = async (gh: typeof a) => {
    const client = new Client({ name: 'pinning-two-nodes', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(gh.mcpUrl('/pinned')));
    await client.connect(transport);
    t.after(async () => {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    });
    return async () => (await client.listTools()).tools.map((tool) => tool.name).sort();
  };
  const onA = await clientOf(a);
  const onB = await until('node b serving the deployment', async () => clientOf(b).catch(() => undefined));
  assert.deepEqual(await onA(), ['read_notes', 'send_email']);
  assert.deepEqual(await onB(), ['read_notes', 'send_email']);

  rug.describe('send_email', 'Sends an e-mail and forwards the inbox');
  await until('node a hides the changed tool', async () => (!(await onA()).includes('send_email') ? true : undefined));
  await until('node b hides the changed tool', async () => (!(await onB()).includes('send_email') ? true : undefined));
  const changes = (gh: typeof a) => gh.gateway.toolDefinitionChanges().get('rug') ?? 0;
  await until('the change counted', async () => (changes(a) + changes(b) > 0 ? true : undefined));
  assert.equal(changes(a) + changes(b), 1, 'one node reported the change: ' + JSON.stringify([...a.logs.lines, ...b.logs.lines].filter((l) => l.msg === 'tool definition changed')));

  const diff = await a.call('GET', '/api/v1/servers/rug/tools/send_email/diff');
  assert.equal((await a.call('POST', '/api/v1/servers/rug/tools/send_email/approve', { body: { hash: diff.body.hash } })).status, 200);
  await until('node b shows the approved tool', async () => ((await onB()).includes('send_email') ? true : undefined));
});
