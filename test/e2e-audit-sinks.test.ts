// The other audit sinks, with real traffic from the SDK client: Postgres (the real server named
// by GATEHOUSE_TEST_POSTGRES_URL, in a fresh schema dropped afterwards) and JSON lines to a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { connectClient, startEverything, startTestGateway, tempDir, type RunningEverything } from './helpers/gatehouse.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import type { AuditEvent } from '../src/audit/event.ts';
import { postgresRequirement } from './helpers/requirements.ts';

const DENY_GET_ENV = { acl: { rules: [{ name: 'echo', features: [{ type: 'tools' as const, methods: ['tools/list', 'tools/call'], pattern: { type: 'literal' as const, value: 'echo' } }] }] } };

/** Starts a gateway with the given audit section, sends a few calls (one refused) and closes it. */
async function traffic(everything: RunningEverything, audit: NonNullable<ConfigInput['audit']>, keepOpen = false) {
  const gh = await startTestGateway({ servers: { e: { url: `${everything.origin}/mcp` } }, apis: [{ name: 'e', path: '/mcp', server: 'e', policies: [DENY_GET_ENV] }], audit }, { dataDir: tempDir() });
  const { client, close } = await connectClient(gh.url());
  await client.listTools();
  await client.callTool({ name: 'echo', arguments: { message: 'to the sink' } });
  const refused = await client.callTool({ name: 'get-env', arguments: {} });
  assert.equal(refused.isError, true);
  await close();
  if (!keepOpen) await gh.close();
  return gh;
}

const postgres = postgresRequirement();
const url = postgres.url;

test('postgres sink: records, reads and overview from the real server', { skip: postgres.skip, timeout: 60_000 }, async (t) => {
  postgres.check();
  const everything = await startEverything();
  const schema = `gatehouse_audit_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    await everything.close();
  });
  const gh = await traffic(everything, { sink: { type: 'postgres', url: url!, schema } }, true);
  const records = await recordsWhen(gh.gateway, {}, (events) => events.some((e) => e.method === 'DELETE'));
  const calls = records.filter((e) => e.method === 'tools/call');
  assert.deepEqual(calls.map((e) => [e.target, e.decision, e.rule]).sort(), [
    ['echo', 'allowed', 'acl:echo'],
    ['get-env', 'denied', 'acl'],
  ]);
  const reader = gh.gateway.audit!.reader!;
  const overview = await reader.overview({ since: Date.now() - 3_600_000 }, 10_000);
  assert.equal(overview.totals.requests, records.length);
  assert.equal(overview.totals.denied, 1);
  assert.deepEqual(overview.matrix.sort((a, b) => a.tool.localeCompare(b.tool)), [
    { agent: 'anonymous', tool: 'echo', server: 'e', calls: 1, denied: 0 },
    { agent: 'anonymous', tool: 'get-env', server: 'e', calls: 1, denied: 1 },
  ]);
  assert.equal(overview.series.reduce((n, s) => n + s.requests, 0), records.length);
  assert.ok(overview.series.every((s) => s.t % 10_000 === 0), 'series points sit on bucket boundaries');
  const echo = calls.find((e) => e.target === 'echo')!;
  assert.deepEqual(await reader.get(echo.id), echo);
  await gh.close();

  // The rows are in the named schema, typed as stored.
  const { rows } = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".audit_events`);
  assert.equal(Number(rows[0]!.n), records.length);
});

test('jsonl sink: one JSON line per record, appended to a file', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const file = path.join(tempDir(), 'logs', 'audit.jsonl');
  const gh = await traffic(everything, { sink: { type: 'jsonl', path: file } });
  assert.equal(gh.gateway.audit!.reader, undefined, 'a JSON-lines sink is not read back');
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const events = lines.map((l) => JSON.parse(l) as AuditEvent);
  assert.equal(events.length, gh.gateway.audit!.counters.written);
  assert.deepEqual(events.filter((e) => e.method === 'tools/call').map((e) => [e.target, e.decision]), [
    ['echo', 'allowed'],
    ['get-env', 'denied'],
  ]);
  assert.ok(events.every((e) => typeof e.id === 'string' && e.api === 'e' && e.agent === 'anonymous'));

  // A second run appends.
  await traffic(everything, { sink: { type: 'jsonl', path: file } });
  assert.ok(readFileSync(file, 'utf8').trimEnd().split('\n').length > lines.length);
});
