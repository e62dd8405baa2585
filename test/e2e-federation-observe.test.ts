// What the audit log, metrics, the dashboard's API and rate limits say of a federated API: the
// server each call went to and the tool's name there, beside the name the agent used. Real peers:
// server-everything over Streamable HTTP, server-memory and server-filesystem over stdio, the SDK
// client as the agent; audit in SQLite and in Postgres.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI, startEverything, startTestGateway, tempDir, writeConfig, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { filesystemServer, memoryServer, publicFolder } from './helpers/federation-peers.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import type { AuditEvent } from '../src/audit/event.ts';
import type { OverviewView } from '../src/admin/api/overview.ts';
import type { Page } from '../src/admin/api/logs.ts';

const ALICE = 'alice-key-fed-observe-0123456789';
const BOB = 'bob-key-fed-observe-0123456789ab';
const PG_URL = process.env.GATEHOUSE_TEST_POSTGRES_URL;

let everything: RunningEverything;
let folder: string;
let faq: string;

before(async () => {
  everything = await startEverything();
  ({ folder, faq } = publicFolder());
});

after(async () => {
  await everything?.close();
});

/** The workspace API of the issue (three servers, prefixed), a virtual server, and the policies under test. */
function config(audit: Record<string, unknown>): Record<string, unknown> {
  return {
    servers: { everything: { url: `${everything.origin}/mcp` }, memory: memoryServer(), files: filesystemServer(folder) },
    agents: [
      { id: 'alice', apiKeys: [{ value: ALICE }] },
      { id: 'bob', apiKeys: [{ value: BOB }] },
    ],
    apis: [
      {
        name: 'workspace',
        path: '/mcp',
        servers: ['everything', 'memory', 'files'],
        auth: { type: 'api-key' },
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }] },
                // Resources of server-everything only: mcp.server of a URI is the server whose list or template has it.
                { features: [{ type: 'resources', methods: ['resources/list', 'resources/templates/list', 'resources/read'], pattern: { type: 'any' } }], condition: 'mcp.server == "everything"' },
              ],
            },
          },
          {
            rateLimit: {
              limits: [
                // Per server: three calls of memory's tools per agent, whatever the tool; other servers are not counted.
                { name: 'memory-calls', key: ['agent', 'server'], match: { methods: ['tools/call'], servers: ['memory'] }, rate: 3, per: '1h' },
                // create_entities of memory, by its own name.
                { name: 'memory-create', key: ['agent', 'tool'], match: { servers: ['memory'], tools: ['create_entities'] }, rate: 1, per: '1h' },
              ],
            },
          },
        ],
      },
      {
        name: 'support',
        path: '/support',
        auth: { type: 'api-key' },
        tools: [
          { server: 'everything', name: 'echo', as: 'say' },
          { server: 'files', name: 'read_text_file', arguments: { fixed: { path: faq } } },
        ],
      },
    ],
    metrics: { labels: { tool: true } },
    audit,
  };
}

async function connect(gh: TestGateway, api: string, key: string): Promise<Client> {
  const client = new Client({ name: 'observe', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url(api)), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

/** Calls through both APIs: one per server, a renamed tool, a resource read before any list. */
async function traffic(gh: TestGateway): Promise<void> {
  const alice = await connect(gh, 'workspace', ALICE);
  try {
    // No list first: the read is decided (mcp.server) and recorded with the server whose template fits the URI.
    const read = await alice.readResource({ uri: 'demo://resource/dynamic/text/1' });
    assert.ok(read.contents.length > 0);
    assert.equal((await alice.callTool({ name: 'everything__echo', arguments: { message: 'hi' } })).isError, undefined);
    await alice.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote notes'] }] } });
    await alice.callTool({ name: 'files__list_allowed_directories', arguments: {} });
  } finally {
    await alice.close();
  }
  const bob = await connect(gh, 'support', BOB);
  try {
    const said = await bob.callTool({ name: 'say', arguments: { message: 'hello' } });
    assert.match(JSON.stringify(said.content), /hello/);
    const read = await bob.callTool({ name: 'read_text_file', arguments: {} });
    assert.match(JSON.stringify(read.content), /Is Gatehouse a gateway/);
  } finally {
    await bob.close();
  }
}

function checkRecords(events: AuditEvent[]): void {
  const of = (api: string, target: string) => {
    const found = events.filter((e) => e.api === api && e.target === target && e.method !== '(response)');
    assert.equal(found.length, 1, `one record of ${api} ${target}: ${JSON.stringify(events.map((e) => [e.api, e.method, e.target, e.server]))}`);
    return found[0]!;
  };
  const pick = (e: AuditEvent) => [e.method, e.target, e.server, e.originalTarget, e.decision];
  assert.deepEqual(pick(of('workspace', 'everything__echo')), ['tools/call', 'everything__echo', 'everything', 'echo', 'allowed']);
  assert.deepEqual(pick(of('workspace', 'memory__create_entities')), ['tools/call', 'memory__create_entities', 'memory', 'create_entities', 'allowed']);
  assert.deepEqual(pick(of('workspace', 'files__list_allowed_directories')), ['tools/call', 'files__list_allowed_directories', 'files', 'list_allowed_directories', 'allowed']);
  assert.deepEqual(pick(of('workspace', 'demo://resource/dynamic/text/1')), ['resources/read', 'demo://resource/dynamic/text/1', 'everything', 'demo://resource/dynamic/text/1', 'allowed']);
  assert.deepEqual(pick(of('support', 'say')), ['tools/call', 'say', 'everything', 'echo', 'allowed']);
  assert.deepEqual(pick(of('support', 'read_text_file')), ['tools/call', 'read_text_file', 'files', 'read_text_file', 'allowed']);
  // Records that name no one server (initialize, lists) have none.
  const init = events.find((e) => e.api === 'workspace' && e.method === 'initialize')!;
  assert.equal(init.server, undefined);
}

const traffickedCalls = (events: AuditEvent[]) => events.filter((e) => e.method === 'tools/call').length >= 5 && events.some((e) => e.method === 'resources/read');

test('audit records of federated calls carry the server and the original name (sqlite); logs, top tools and metrics name the server', { timeout: 60_000 }, async (t) => {
  const gh = await startTestGateway(config({}) as never);
  t.after(() => gh.close());
  await traffic(gh);
  const events = await recordsWhen(gh.gateway, {}, traffickedCalls);
  checkRecords(events);

  // The dashboard's API: top tools and agents × tools name the server; a filter by server.
  const admin = async <T>(pathAndQuery: string): Promise<T> => {
    const response = await fetch(`${gh.gateway.admin!.url}${pathAndQuery.slice(1)}`, { headers: { authorization: `Bearer ${gh.gateway.admin!.token.token}` } });
    assert.equal(response.status, 200, pathAndQuery);
    return (await response.json()) as T;
  };
  const overview = await admin<OverviewView>('/api/overview?range=1h');
  const top = (name: string) => overview.topTools.find((r) => r.name === name);
  assert.equal(top('memory__create_entities')?.server, 'memory');
  assert.equal(top('say')?.server, 'everything');
  assert.equal(overview.topResources.find((r) => r.name === 'demo://resource/dynamic/text/1')?.server, 'everything');
  assert.deepEqual(
    overview.matrix.filter((c) => c.agent === 'alice').map((c) => [c.tool, c.server]).sort(),
    [['everything__echo', 'everything'], ['files__list_allowed_directories', 'files'], ['memory__create_entities', 'memory']],
  );
  assert.ok(['everything', 'files', 'memory'].every((s) => overview.servers.includes(s)), overview.servers.join(', '));
  const files = await admin<OverviewView>('/api/overview?range=1h&server=files');
  assert.deepEqual(files.topTools.map((r) => [r.name, r.server]).sort(), [['files__list_allowed_directories', 'files'], ['read_text_file', 'files']]);
  const page = await admin<Page>('/api/logs?server=memory');
  assert.deepEqual(page.records.map((r) => [r.target, r.originalTarget]), [['memory__create_entities', 'create_entities']]);

  // Metrics: the tool label comes with the server's.
  const text = await (await fetch(`${gh.gateway.admin!.url}metrics`, { headers: { authorization: `Bearer ${gh.gateway.admin!.token.token}` } })).text();
  const line = (labels: string) => text.split('\n').find((l) => l.startsWith('gatehouse_requests_total{') && l.includes(labels));
  assert.ok(line('api="workspace",method="tools/call",decision="allowed",outcome="ok",tool="memory__create_entities",server="memory"'), text);
  assert.ok(line('api="support",method="tools/call",decision="allowed",outcome="ok",tool="say",server="everything"'), text);
  assert.ok(line('api="workspace",method="initialize",decision="allowed",outcome="ok",tool="",server=""'), 'a federated exchange that names no one server has an empty server label');
});

test('audit records of federated calls carry the server and the original name (postgres)', { timeout: 60_000, skip: PG_URL ? false : 'GATEHOUSE_TEST_POSTGRES_URL not set' }, async (t) => {
  const schema = `gatehouse_fed_observe_${randomBytes(6).toString('hex')}`;
  const gh = await startTestGateway(config({ sink: { type: 'postgres', url: PG_URL, schema } }) as never);
  t.after(async () => {
    await gh.close();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });
  await traffic(gh);
  checkRecords(await recordsWhen(gh.gateway, {}, traffickedCalls));
  const memory = await gh.gateway.audit!.reader!.list({ server: 'memory' }, { limit: 10 });
  assert.deepEqual(memory.map((e) => [e.target, e.originalTarget]), [['memory__create_entities', 'create_entities']]);
});

test('a rate limit keyed by server applies to that server only; a limit on a tool of one server names it by its own name', { timeout: 60_000 }, async (t) => {
  const gh = await startTestGateway(config({}) as never);
  t.after(() => gh.close());
  const alice = await connect(gh, 'workspace', ALICE);
  t.after(() => alice.close());
  const entity = (name: string) => ({ entities: [{ name, entityType: 'person', observations: [] }] });
  await alice.callTool({ name: 'memory__create_entities', arguments: entity('Ada') });
  // memory-create: create_entities of memory once an hour.
  await assert.rejects(alice.callTool({ name: 'memory__create_entities', arguments: entity('Grace') }), /Rate limit ..memory-create.. exceeded/);
  // memory-calls: three memory calls (the refused one took its token too); the fourth is refused.
  await alice.callTool({ name: 'memory__read_graph', arguments: {} });
  await assert.rejects(alice.callTool({ name: 'memory__read_graph', arguments: {} }), /Rate limit ..memory-calls.. exceeded/);
  // The other servers are not limited.
  for (let i = 0; i < 5; i++) assert.equal((await alice.callTool({ name: 'everything__echo', arguments: { message: `m${i}` } })).isError, undefined);
  await alice.callTool({ name: 'files__list_allowed_directories', arguments: {} });
  // Another agent has counters of its own.
  const bob = await connect(gh, 'workspace', BOB);
  t.after(() => bob.close());
  await bob.callTool({ name: 'memory__read_graph', arguments: {} });

  const events = await recordsWhen(gh.gateway, { decision: 'denied' }, (e) => e.length >= 2);
  assert.deepEqual(events.map((e) => [e.target, e.server, e.originalTarget, e.rule]).sort(), [
    ['memory__create_entities', 'memory', 'create_entities', 'rate-limit'],
    ['memory__read_graph', 'memory', 'read_graph', 'rate-limit'],
  ]);
});

test('a federated resource is decided with its server (mcp.server) before the session listed resources: it read "" and was hidden', { timeout: 60_000 }, async (t) => {
  const gh = await startTestGateway(config({}) as never);
  t.after(() => gh.close());
  const alice = await connect(gh, 'workspace', ALICE);
  t.after(() => alice.close());
  // First thing in the session: a URI of a template of server-everything.
  const read = await alice.readResource({ uri: 'demo://resource/dynamic/text/2' });
  assert.equal(read.contents[0]?.uri, 'demo://resource/dynamic/text/2');
  const listed = (await alice.listResources()).resources.map((r) => r.uri);
  assert.ok(listed.length > 0 && listed.every((uri) => uri.startsWith('demo://')), listed.join(', '));
});

test('gatehouse acl explain names the server of a virtual server\'s resource URI and decides a condition on it (resources of a federated API had mcp.server "")', { timeout: 30_000 }, async () => {
  const file = writeConfig(`servers:
  everything: { url: "http://127.0.0.1:9/mcp" }
  files: { command: node, args: [server.js] }
apis:
  - name: support
    path: /support
    tools: [{ server: everything, name: echo, as: say }]
    resources: [{ server: files, uri: "file:///srv/public/**" }]
    policies:
      - acl:
          rules:
            - features: [{ type: resources, methods: [resources/read], pattern: { type: any } }]
              condition: mcp.server == "files"
`);
  const explain = (method: string, name: string) =>
    promisify(execFile)(process.execPath, [CLI, 'acl', 'explain', '--config', file, '--agent', 'anyone', '--method', method, '--name', name], { env: { ...process.env, GATEHOUSE_DATA_DIR: tempDir() } }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
  const faqRead = await explain('resources/read', 'file:///srv/public/faq.md');
  assert.equal(faqRead.code, 0, faqRead.out);
  assert.match(faqRead.out, /"file:\/\/\/srv\/public\/faq\.md" is a resource of server "files"/);
  assert.match(faqRead.out, /support: allowed by rules\[0\]/);
  const elsewhere = await explain('resources/read', 'file:///etc/passwd');
  assert.equal(elsewhere.code, 1);
  assert.match(elsewhere.out, /fits none of this virtual server's resources/);
  const say = await explain('tools/call', 'say');
  assert.match(say.out, /"say" is tool "echo" of server "everything"/);
});
