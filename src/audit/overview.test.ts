// The overview's SQL, run on both stores that can read it back (SQLite, and Postgres when
// GATEHOUSE_TEST_POSTGRES_URL names one): which records the latency percentiles describe, and
// how tool errors are counted apart from errors and denials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { AuditEvent } from './event.ts';
import { eventId } from './ids.ts';
import type { AuditSink } from './sink.ts';
import { binValue, latencyBin } from './rows.ts';
import { openSqliteReader, openSqliteSink } from './sqlite-sink.ts';
import { openPostgresSink } from './postgres-sink.ts';

let n = 0;
function record(fields: Partial<AuditEvent> & Pick<AuditEvent, 'method' | 'durationMs'>): AuditEvent {
  n++;
  const time = Date.now() - 1000 + n;
  return {
    id: eventId(time), time, api: 'a', tenant: undefined, agent: 'alice', user: undefined, clientAddress: undefined, session: 's',
    rpcId: undefined, feature: 'tools', target: undefined, server: undefined, originalTarget: undefined, decision: 'allowed', rule: undefined, reason: undefined,
    status: 200, upstreamStatus: 200, errorCode: undefined, toolError: false, upstreamMs: undefined, bytesIn: 1, bytesOut: 1,
    request: undefined, response: undefined, trace: undefined,
    ...fields,
  };
}

const ms = (value: number) => Math.round(binValue(latencyBin(value)) * 100) / 100;

/** A session as an SDK client makes it: calls of a few ms, a GET stream open for 10 s, a slow DELETE. */
function session(): AuditEvent[] {
  const calls = [...Array(20).keys()].map((i) => record({ method: 'tools/call', rpcId: String(i + 2), target: 'echo', durationMs: 4 + (i % 5) }));
  return [
    record({ method: 'initialize', rpcId: '1', feature: 'lifecycle', durationMs: 12 }),
    record({ method: 'notifications/initialized', feature: 'notification', durationMs: 1, status: 202 }),
    record({ method: 'GET', feature: 'stream', durationMs: 10_000 }),
    ...calls,
    record({ method: '(response)', rpcId: '0', feature: 'other', durationMs: 900, status: 202 }),
    record({ method: 'DELETE', feature: 'session', durationMs: 2_100 }),
  ];
}

async function latencyOfExchangesOnly(sink: AuditSink): Promise<void> {
  await sink.write(session());
  const { totals, series } = await sink.reader!.overview({ since: Date.now() - 60_000 }, 60_000);
  assert.equal(totals.requests, 25, 'every record is counted');
  assert.equal(totals.exchanges, 21, 'initialize and the calls are the exchanges');
  assert.equal(totals.p99, ms(12), 'p99 is the slowest exchange (initialize), not the 10 s stream or the 2 s DELETE');
  assert.equal(totals.p90, ms(8));
  assert.equal(totals.p50, ms(6));
  assert.equal(series.reduce((sum, point) => sum + point.exchanges, 0), 21);
  assert.ok(series.every((point) => point.p99 <= ms(12)));
}

async function toolErrorsApart(sink: AuditSink): Promise<void> {
  await sink.write([
    record({ method: 'tools/call', rpcId: '1', target: 'get-sum', durationMs: 3 }),
    record({ method: 'tools/call', rpcId: '2', target: 'get-sum', durationMs: 3, toolError: true }),
    record({ method: 'tools/call', rpcId: '3', target: 'get-sum', durationMs: 3, errorCode: -32602 }),
    record({ method: 'tools/call', rpcId: '4', target: 'get-env', durationMs: 3, decision: 'denied', rule: 'acl' }),
    record({ method: 'tools/call', rpcId: '5', target: 'get-sum', durationMs: 3, status: 502, errorCode: -32010, decision: 'error' }),
  ]);
  const reader = sink.reader!;
  const { totals, topTools, series } = await reader.overview({ since: Date.now() - 60_000 }, 60_000);
  assert.deepEqual([totals.requests, totals.errors, totals.toolErrors, totals.denied], [5, 2, 1, 1]);
  assert.deepEqual(topTools.find((t) => t.name === 'get-sum'), { name: 'get-sum', server: null, count: 4, errors: 2, toolErrors: 1, denied: 0 });
  assert.equal(series.reduce((sum, point) => sum + point.toolErrors, 0), 1);
  const byStatus = async (status: 'ok' | 'error' | 'tool_error') => (await reader.list({ status }, { limit: 10 })).map((e) => e.rpcId).sort();
  assert.deepEqual(await byStatus('tool_error'), ['2']);
  assert.deepEqual(await byStatus('error'), ['3', '5']);
  assert.deepEqual(await byStatus('ok'), ['1', '4']);
  assert.equal((await reader.list({ status: 'tool_error' }, { limit: 1 }))[0]!.toolError, true, 'the record says so');
}

/** Two servers behind one API offer a tool named alike: top tools, the matrix and the filter tell them apart. */
async function serversApart(sink: AuditSink): Promise<void> {
  await sink.write([
    record({ method: 'tools/call', rpcId: '1', target: 'memory__read_graph', server: 'memory', originalTarget: 'read_graph', durationMs: 3 }),
    record({ method: 'tools/call', rpcId: '2', target: 'memory__read_graph', server: 'memory', originalTarget: 'read_graph', durationMs: 3 }),
    record({ method: 'tools/call', rpcId: '3', target: 'echo', server: 'everything', originalTarget: 'echo', durationMs: 3 }),
    record({ method: 'tools/call', rpcId: '4', target: 'echo', server: 'other', originalTarget: 'echo', durationMs: 3, agent: 'bob' }),
    record({ method: 'tools/list', rpcId: '5', durationMs: 3 }),
  ]);
  const reader = sink.reader!;
  const overview = await reader.overview({ since: Date.now() - 60_000 }, 60_000);
  assert.deepEqual(
    overview.topTools.map((t) => [t.name, t.server, t.count]),
    [['memory__read_graph', 'memory', 2], ['echo', 'everything', 1], ['echo', 'other', 1]],
  );
  assert.deepEqual(overview.matrix.map((m) => [m.agent, m.tool, m.server, m.calls]).sort(), [['alice', 'echo', 'everything', 1], ['alice', 'memory__read_graph', 'memory', 2], ['bob', 'echo', 'other', 1]]);
  assert.deepEqual(overview.servers, ['everything', 'memory', 'other']);
  const byServer = await reader.list({ server: 'memory' }, { limit: 10 });
  assert.deepEqual(byServer.map((e) => [e.rpcId, e.server, e.originalTarget]).sort(), [['1', 'memory', 'read_graph'], ['2', 'memory', 'read_graph']]);
  assert.equal((await reader.overview({ server: 'other' }, 60_000)).totals.requests, 1);
}

async function withSqlite(run: (sink: AuditSink) => Promise<void>): Promise<void> {
  const sink = openSqliteSink(path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-audit-')), 'audit.db'));
  try {
    await run(sink);
  } finally {
    await sink.close();
  }
}

const url = process.env.GATEHOUSE_TEST_POSTGRES_URL;
const noPostgres = url ? false : 'GATEHOUSE_TEST_POSTGRES_URL not set: Postgres overview test skipped';

async function withPostgres(run: (sink: AuditSink) => Promise<void>): Promise<void> {
  const schema = `gatehouse_audit_test_${randomBytes(6).toString('hex')}`;
  const sink = await openPostgresSink(url!, schema);
  try {
    await run(sink);
  } finally {
    await sink.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

test('latency percentiles describe request/response exchanges only (sqlite): a 10 s GET stream and a 2 s DELETE made p99 read their length', () => withSqlite(latencyOfExchangesOnly));
test('latency percentiles describe request/response exchanges only (postgres): a 10 s GET stream and a 2 s DELETE made p99 read their length', { skip: noPostgres }, () => withPostgres(latencyOfExchangesOnly));
test('tool results marked isError are counted as tool errors, apart from errors and denials (sqlite): they counted as successes', () => withSqlite(toolErrorsApart));
test('tool results marked isError are counted as tool errors, apart from errors and denials (postgres): they counted as successes', { skip: noPostgres }, () => withPostgres(toolErrorsApart));

test('records name the server and original name, and top tools, the matrix and the filter go by server (sqlite)', () => withSqlite(serversApart));
test('records name the server and original name, and top tools, the matrix and the filter go by server (postgres)', { skip: noPostgres }, () => withPostgres(serversApart));

test('an audit file written before tool errors and servers were recorded gains the columns when a gateway opens it, and reads as it is read-only', async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-audit-')), 'audit.db');
  // The table as the previous version created it (no tool_error), with one record.
  const old = new Database(file);
  old.exec(`CREATE TABLE audit_events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, time INTEGER NOT NULL, api TEXT NOT NULL, tenant TEXT, agent TEXT NOT NULL,
    user_id TEXT, client TEXT, session TEXT, rpc_id TEXT, method TEXT NOT NULL, feature TEXT NOT NULL, target TEXT, decision TEXT NOT NULL, rule TEXT, reason TEXT,
    status INTEGER NOT NULL, upstream_status INTEGER, error_code INTEGER, duration_ms REAL NOT NULL, upstream_ms REAL, lat_bin INTEGER NOT NULL,
    bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, request TEXT, response TEXT, trace TEXT)`);
  old.prepare(`INSERT INTO audit_events (id, time, api, agent, method, feature, decision, status, duration_ms, lat_bin, bytes_in, bytes_out) VALUES (?, ?, 'a', 'alice', 'tools/call', 'tools', 'allowed', 200, 5, 1, 1, 1)`).run(eventId(Date.now()), Date.now());
  old.close();

  const readOnly = openSqliteReader(file);
  try {
    const [before] = await readOnly.reader.list({}, { limit: 10 });
    assert.equal(before!.toolError, false);
    assert.equal((await readOnly.reader.overview({}, 60_000)).totals.toolErrors, 0);
    assert.equal((await readOnly.reader.list({ status: 'ok' }, { limit: 10 })).length, 1);
    // Nor the server columns: they read as absent, and filters and the overview still work.
    assert.equal(before!.server, undefined);
    assert.equal(before!.originalTarget, undefined);
    assert.equal((await readOnly.reader.list({ server: 'memory' }, { limit: 10 })).length, 0);
    assert.deepEqual((await readOnly.reader.overview({}, 60_000)).servers, []);
  } finally {
    readOnly.close();
  }
  await withSqliteFile(file, async (sink) => {
    await sink.write([record({ method: 'tools/call', rpcId: '9', durationMs: 2, toolError: true, server: 'memory', originalTarget: 'read_graph' })]);
    assert.deepEqual((await sink.reader!.list({ status: 'tool_error' }, { limit: 10 })).map((e) => e.rpcId), ['9']);
    assert.deepEqual((await sink.reader!.list({ server: 'memory' }, { limit: 10 })).map((e) => [e.rpcId, e.originalTarget]), [['9', 'read_graph']]);
  });
});

async function withSqliteFile(file: string, run: (sink: AuditSink) => Promise<void>): Promise<void> {
  const sink = openSqliteSink(file);
  try {
    await run(sink);
  } finally {
    await sink.close();
  }
}

test('a Postgres audit table made before tool errors and servers were recorded gains the columns when a gateway opens it', { skip: noPostgres }, async () => {
  const schema = `gatehouse_audit_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(`CREATE TABLE "${schema}".audit_events (seq bigserial PRIMARY KEY, id text COLLATE "C" NOT NULL UNIQUE, time bigint NOT NULL, api text NOT NULL,
      tenant text, agent text NOT NULL, user_id text, client text, session text, rpc_id text, method text NOT NULL, feature text NOT NULL, target text,
      decision text NOT NULL, rule text, reason text, status integer NOT NULL, upstream_status integer, error_code integer, duration_ms double precision NOT NULL,
      upstream_ms double precision, lat_bin integer NOT NULL, bytes_in bigint NOT NULL, bytes_out bigint NOT NULL, request text, response text, trace text)`);
    const sink = await openPostgresSink(url!, schema);
    try {
      await sink.write([record({ method: 'tools/call', rpcId: '7', durationMs: 2, toolError: true }), record({ method: 'tools/call', rpcId: '8', durationMs: 2, server: 'memory', originalTarget: 'read_graph' })]);
      assert.deepEqual((await sink.reader!.list({ status: 'tool_error' }, { limit: 10 })).map((e) => e.rpcId), ['7']);
      // And the server columns.
      assert.deepEqual((await sink.reader!.list({ server: 'memory' }, { limit: 10 })).map((e) => [e.rpcId, e.originalTarget]), [['8', 'read_graph']]);
    } finally {
      await sink.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
});
