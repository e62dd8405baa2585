// Retention in both stored sinks: by age, then by count, oldest first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { AuditEvent } from './event.ts';
import { eventId } from './ids.ts';
import type { AuditSink } from './sink.ts';
import { openSqliteSink } from './sqlite-sink.ts';
import { openPostgresSink } from './postgres-sink.ts';
import { postgresRequirement } from '../../test/helpers/requirements.ts';

const DAY = 86_400_000;

function record(time: number, n: number): AuditEvent {
  return {
    id: eventId(time), time, api: 'a', tenant: undefined, agent: `agent-${n}`, user: undefined, clientAddress: undefined, session: undefined,
    rpcId: String(n), method: 'tools/call', feature: 'tools', target: 'echo', server: 's', originalTarget: 'echo', decision: 'allowed', rule: undefined, reason: undefined,
    status: 200, upstreamStatus: 200, errorCode: undefined, toolError: false, durationMs: n, upstreamMs: undefined, bytesIn: 1, bytesOut: 1,
    request: undefined, response: undefined, trace: undefined,
  };
}

async function retention(sink: AuditSink): Promise<void> {
  const now = Date.now();
  // 5 records 40 days old, 10 from today.
  await sink.write([...Array(5).keys()].map((n) => record(now - 40 * DAY + n, n)));
  await sink.write([...Array(10).keys()].map((n) => record(now - 1000 + n, 100 + n)));
  assert.equal(await sink.retain(30 * DAY, 1_000_000), 5, 'the old ones go');
  assert.equal(await sink.retain(30 * DAY, 4), 6, 'then all but the newest 4');
  const left = await sink.reader!.list({}, { limit: 100 });
  assert.deepEqual(left.map((e) => e.rpcId), ['109', '108', '107', '106']);
  assert.equal(await sink.retain(30 * DAY, 4), 0);
}

test('sqlite sink retention', async () => {
  const sink = openSqliteSink(path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-audit-')), 'audit.db'));
  try {
    await retention(sink);
  } finally {
    await sink.close();
  }
});

const postgres = postgresRequirement();
const url = postgres.url;
test('postgres sink retention', { skip: postgres.skip }, async () => {
  postgres.check();
  const schema = `gatehouse_audit_test_${randomBytes(6).toString('hex')}`;
  const sink = await openPostgresSink(url!, schema);
  try {
    await retention(sink);
  } finally {
    await sink.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
});
