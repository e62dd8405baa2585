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
import { openSqliteChainSource, openSqliteSink } from './sqlite-sink.ts';
import { openPostgresChainSource, openPostgresSink } from './postgres-sink.ts';
import { generateKeyPairSync } from 'node:crypto';
import { ChainWriter } from './chain/chain-writer.ts';
import type { ChainSource } from './chain/chain-sql.ts';
import { verifyChains } from './chain/verify.ts';
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

/**
 * With the hash chain, retention removes the oldest records of a chain and never one in its
 * middle: a record stored late with an early time (a long GET stream's) waits for those stored
 * before it. What is left verifies, its start reported as pruned, not as deleted.
 */
async function chainedRetention(sink: AuditSink, open: () => Promise<{ source: ChainSource; close(): unknown }>): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const chain = new ChainWriter({
    node: 'n1',
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    records: 4,
    intervalMs: 60_000,
  });
  await chain.resume(sink.chain!);
  const write = async (events: AuditEvent[]) => {
    const linked = chain.link(events, Date.now());
    await sink.write(events, linked.checkpoint);
    chain.commit(linked, Date.now());
  };
  const now = Date.now();
  await write([...Array(5).keys()].map((n) => record(now - 40 * DAY + n, n))); // seq 1–5, old
  await write([...Array(3).keys()].map((n) => record(now - 1000 + n, 10 + n))); // 6–8, new
  await write([record(now - 40 * DAY + 9, 20), record(now - 500, 21), record(now - 400, 22)]); // 9: an old stream's record, stored late
  assert.equal(await sink.retain(30 * DAY, 1_000_000), 5, 'seq 1–5 go; seq 9 waits for 6–8');
  const verify = async () => {
    const { source, close } = await open();
    try {
      return await verifyChains(source);
    } finally {
      await close();
    }
  };
  let report = await verify();
  assert.equal(report.intact, true, JSON.stringify(report.findings));
  assert.deepEqual(report.notices.map((n) => [n.kind, n.seq, n.toSeq]), [['pruned', 1, 5]]);
  assert.equal(await sink.retain(30 * DAY, 2), 4, 'then all but the newest 2');
  report = await verify();
  assert.equal(report.intact, true, JSON.stringify(report.findings));
  assert.deepEqual(report.notices.map((n) => [n.kind, n.seq, n.toSeq]), [['pruned', 1, 9]]);
  assert.deepEqual([report.nodes[0]!.firstSeq, report.nodes[0]!.lastSeq, report.nodes[0]!.signedTo], [10, 11, 11]);
}

test('sqlite sink retention', async () => {
  const sink = openSqliteSink(path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-audit-')), 'audit.db'));
  try {
    await retention(sink);
  } finally {
    await sink.close();
  }
});

test('sqlite sink retention with the hash chain: a prefix of each chain, verified intact', async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-audit-')), 'audit.db');
  const sink = openSqliteSink(file);
  try {
    await chainedRetention(sink, async () => openSqliteChainSource(file));
  } finally {
    await sink.close();
  }
});

const postgres = postgresRequirement();
const url = postgres.url;

test('postgres sink retention with the hash chain: a prefix of each chain, verified intact', { skip: postgres.skip }, async () => {
  postgres.check();
  const schema = `gatehouse_audit_test_${randomBytes(6).toString('hex')}`;
  const sink = await openPostgresSink(url!, schema);
  try {
    await chainedRetention(sink, () => openPostgresChainSource(url!, schema));
  } finally {
    await sink.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
});
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
