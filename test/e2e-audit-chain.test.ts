// The tamper-evident audit log with real traffic (the SDK client calling server-everything
// through Gatehouse), in both stores: records are hash-chained per node and checkpoints signed;
// then rows are tampered with directly in the database — a field edited, one edited with its hash
// recomputed, one deleted, one inserted without a link and one at a taken seq, two swapped, a
// checkpoint's signature forged, a checkpoint deleted, the end of the chain cut — and
// `gatehouse audit verify` must name each at its position, and say an untouched log is intact.
// The CLI runs compiled (bin/gatehouse.js → dist): `npm run build` first, as `npm test` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { connectClient, runCli, startEverything, startTestGateway, tempDir, writeConfig, type RunningEverything } from './helpers/gatehouse.ts';
import { freePort, stopCli, waitForLogLines, waitUntil } from './helpers/lifecycle-procs.ts';
import { postgresRequirement } from './helpers/requirements.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { STORED_COLUMNS, eventOf, type Row } from '../src/audit/rows.ts';
import { rowHash } from '../src/audit/chain/canonical.ts';
import { openSqliteChainSource } from '../src/audit/sqlite-sink.ts';
import { openPostgresChainSource } from '../src/audit/postgres-sink.ts';
import { verifyChains, type Finding, type VerifyReport } from '../src/audit/chain/verify.ts';

/** Every record its own batch, a checkpoint every 5: positions 5, 10, 15, … end checkpoints. */
const CHAIN = { batch: { size: 1, interval: 10 }, chain: { enabled: true, checkpoint: { records: 5, interval: 60_000 } } };

/** A gateway over server-everything with this audit section; `calls` echo calls, then a clean stop (which signs the rest). */
async function traffic(everything: RunningEverything, audit: NonNullable<ConfigInput['audit']>, dataDir: string, calls: number): Promise<void> {
  const gh = await startTestGateway({ servers: { e: { url: `${everything.origin}/mcp` } }, apis: [{ name: 'e', path: '/mcp', server: 'e' }], audit }, { dataDir });
  try {
    const { client, close } = await connectClient(gh.url());
    for (let i = 0; i < calls; i++) await client.callTool({ name: 'echo', arguments: { message: `call ${i}` } });
    await close();
  } finally {
    await gh.close();
  }
}

async function verifyCli(args: string[]): Promise<{ code: number | null; out: string }> {
  const cli = runCli(['audit', 'verify', ...args]);
  const { code } = await cli.exited;
  return { code, out: cli.output() };
}

/** Runs a statement with `?` placeholders on either database. */
type Exec = (sql: string, params?: unknown[]) => Promise<Row[]>;

/** What the tampering below must be reported as: [kind, seq] (an unchained insertion has no seq). */
type Expected = Array<[Finding['kind'], number | null]>;

/**
 * Tampers with a chain of at least 30 records (node `node`, checkpoints every 5) the way someone
 * with write access to the database could, and returns what verify must find.
 */
async function tamper(exec: Exec, node: string): Promise<{ expected: Expected; ids: Map<string, number | null> }> {
  const row = async (seq: number) => (await exec('SELECT * FROM audit_events WHERE node = ? AND chain_seq = ?', [node, seq]))[0]!;
  const insert = (r: Row) => exec(`INSERT INTO audit_events (${STORED_COLUMNS.join(', ')}) VALUES (${STORED_COLUMNS.map(() => '?').join(', ')})`, STORED_COLUMNS.map((c) => r[c] ?? null));
  const [{ last }] = (await exec('SELECT max(chain_seq) AS last FROM audit_events WHERE node = ?', [node])) as [{ last: number }];
  const end = Number(last);
  assert.ok(end >= 30, `enough records to tamper with (${end})`);
  const ids = new Map<string, number | null>();

  // Edit a field.
  ids.set(String((await row(3)).id), 3);
  await exec("UPDATE audit_events SET agent = 'mallory' WHERE node = ? AND chain_seq = 3", [node]);
  // Delete one.
  await exec('DELETE FROM audit_events WHERE node = ? AND chain_seq = 7', [node]);
  // Insert one without a link (a copy of seq 9 under a new id)…
  const unlinked = { ...(await row(9)), id: `${String((await row(9)).id)}x`, node: null, chain_seq: null, prev_hash: null, hash: null };
  await insert(unlinked);
  ids.set(unlinked.id, null);
  // …and one at seq 12's place, with seq 12's link.
  const forged = { ...(await row(12)), id: `${String((await row(12)).id)}y`, agent: 'mallory' };
  await insert(forged);
  ids.set(forged.id, 12);
  // Reorder: seq 14 and seq 17 trade places.
  await exec('UPDATE audit_events SET chain_seq = CASE chain_seq WHEN 14 THEN 17 ELSE 14 END WHERE node = ? AND chain_seq IN (14, 17)', [node]);
  // Edit a field and recompute the record's hash (the algorithm is no secret).
  const r23 = await row(23);
  const edited = { ...r23, reason: 'nothing to see' };
  await exec('UPDATE audit_events SET reason = ?, hash = ? WHERE node = ? AND chain_seq = 23', ['nothing to see', rowHash(edited, { node, seq: 23, prevHash: String(r23.prev_hash) }), node]);
  // Forge checkpoint 21–25's signature (another checkpoint's), delete checkpoint 6–10.
  await exec('UPDATE audit_checkpoints SET signature = (SELECT signature FROM audit_checkpoints WHERE node = ? AND to_seq = 20) WHERE node = ? AND to_seq = 25', [node, node]);
  await exec('DELETE FROM audit_checkpoints WHERE node = ? AND to_seq = 10', [node]);
  // Cut the end of the chain: its last two records.
  await exec('DELETE FROM audit_events WHERE node = ? AND chain_seq > ?', [node, end - 2]);

  const expected: Expected = [
    ['changed', 3],
    ['deleted', 7],
    ['inserted', null],
    ['inserted', 12],
    ['reordered', 14],
    ['reordered', 17],
    ['changed', 23],
    ['bad-signature', 21],
    ['checkpoint-gap', 6],
    ['deleted', end - 1],
  ];
  return { expected, ids };
}

function assertFindings(report: VerifyReport, expected: Expected, ids: Map<string, number | null>): void {
  const found = report.findings.map((f) => [f.kind, f.seq ?? null] as [string, number | null]);
  const order = (a: [string, number | null], b: [string, number | null]) => `${a[0]}:${a[1]}`.localeCompare(`${b[0]}:${b[1]}`);
  assert.deepEqual(found.sort(order), [...expected].sort(order), JSON.stringify(report.findings, null, 1));
  assert.equal(report.intact, false);
  // Each named record is named by its id.
  for (const [id, seq] of ids) assert.ok(report.findings.some((f) => f.id === id && (f.seq ?? null) === seq), `finding names ${id} at ${seq}`);
}

function sqliteExec(file: string): { exec: Exec; close(): void } {
  const db = new Database(file);
  return {
    exec: async (sql, params = []) => {
      const statement = db.prepare(sql);
      return statement.reader ? (statement.all(...params) as Row[]) : (statement.run(...params), []);
    },
    close: () => db.close(),
  };
}

test('sqlite: records written before the chain are unchained, the chain resumes across restarts, verify says intact', { timeout: 120_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  // A gateway of before the chain (chain off), then two runs with it.
  await traffic(everything, { ...CHAIN, chain: { enabled: false } }, dataDir, 3);
  await traffic(everything, CHAIN, dataDir, 8);
  await traffic(everything, CHAIN, dataDir, 8);
  const file = path.join(dataDir, 'audit.db');
  const { source, close } = openSqliteChainSource(file);
  const report = await verifyChains(source, { expect: { records: 5, batch: 1 } });
  close();
  assert.equal(report.intact, true, JSON.stringify(report.findings));
  assert.equal(report.nodes.length, 1, 'one node: the data directory keeps its id across restarts');
  const [node] = report.nodes;
  const db = new Database(file, { readonly: true });
  const { chained, unchained } = db.prepare('SELECT count(node) AS chained, count(*) - count(node) AS unchained FROM audit_events').get() as { chained: number; unchained: number };
  db.close();
  assert.ok(unchained > 0 && chained > 0);
  assert.deepEqual([node!.firstSeq, node!.lastSeq, node!.records], [1, chained, chained], 'one unbroken chain over both runs');
  assert.equal(node!.signedTo, chained, 'a clean stop signs every record');
  assert.equal(node!.node, readFileSync(path.join(dataDir, 'audit-node-id'), 'utf8').trim());
  assert.equal(report.notices.filter((n) => n.kind === 'unchained').length, 1);
  assert.match(report.notices.find((n) => n.kind === 'unchained')!.message, new RegExp(`^${unchained} records written before chaining began`));

  // The CLI: exit 0 and "intact"; with the node's own public key too; with another key, not.
  const config = path.join(dir, 'gatehouse.yaml');
  writeFileSync(config, `dataDir: data\nservers: { e: { url: "http://127.0.0.1:9/mcp" } }\napis: [{ name: e, path: /mcp, server: e }]\n`);
  const intact = await verifyCli(['-c', config]);
  assert.equal(intact.code, 0, intact.out);
  assert.match(intact.out, new RegExp(`node ${node!.node}: seq 1–${chained} \\(${chained} records\\), \\d+ checkpoints, signed up to ${chained}`));
  assert.match(intact.out, /\nintact\n$/);
  const own = await verifyCli(['-c', config, '--public-key', path.join(dataDir, 'audit-signing.key')]);
  assert.equal(own.code, 0, own.out);
  const otherKey = path.join(dir, 'other.pub');
  writeFileSync(otherKey, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }) as string);
  const other = await verifyCli(['-c', config, '--public-key', otherKey, '--json']);
  assert.equal(other.code, 1, other.out);
  const untrusted = JSON.parse(other.out) as VerifyReport;
  assert.ok(untrusted.findings.length > 0 && untrusted.findings.every((f) => f.kind === 'untrusted-key'));
  const bad = await verifyCli(['-c', config, '--since', 'yesterday-ish']);
  assert.equal(bad.code, 2);
  assert.match(bad.out, /--since.*expected a chain seq/);
});

test('sqlite: verify names each tampering at its position (node, seq, record id)', { timeout: 120_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  await traffic(everything, CHAIN, dataDir, 32);
  const original = path.join(dataDir, 'audit.db');
  const file = path.join(dir, 'tampered.db');
  copyFileSync(original, file);
  const node = readFileSync(path.join(dataDir, 'audit-node-id'), 'utf8').trim();
  const db = sqliteExec(file);
  const { expected, ids } = await tamper(db.exec, node);
  db.close();

  const { source, close } = openSqliteChainSource(file);
  const report = await verifyChains(source, { expect: { records: 5, batch: 1 } });
  close();
  assertFindings(report, expected, ids);
  assert.ok(report.findings.every((f) => f.kind === 'inserted' && f.seq === undefined ? f.node === undefined : f.node === node), 'each finding names its node');

  // The CLI says the same, one line each, and exits 1; the original file is intact.
  const cli = await verifyCli(['--file', file]);
  assert.equal(cli.code, 1, cli.out);
  for (const label of ['CHANGED', 'DELETED', 'INSERTED', 'REORDERED', 'BAD SIGNATURE', 'CHECKPOINT GAP']) assert.match(cli.out, new RegExp(`^\\s*${label}\\s`, 'm'));
  assert.match(cli.out, /seq 7 is missing, between \S+ \(seq 6\) and \S+ \(seq 8\): deleted/);
  assert.match(cli.out, /NOT INTACT: 10 findings\n$/);
  const json = await verifyCli(['--file', file, '--json']);
  assertFindings(JSON.parse(json.out) as VerifyReport, expected, ids);
  assert.equal((await verifyCli(['--file', original])).code, 0);

  // --since a seq: only what follows is checked (the tampering at 3 and 7 is before it).
  const since = await verifyCli(['--file', file, '--since', '20', '--json']);
  const later = (JSON.parse(since.out) as VerifyReport).findings.filter((f) => f.node === node);
  assert.deepEqual(later.map((f) => f.kind).sort(), ['bad-signature', 'changed', 'deleted'], since.out);
});

test('sqlite: a spill file left by a crash is chained in its order, records already stored once (regression: a re-read spill file forked the chain)', { timeout: 120_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const dataDir = path.join(tempDir(), 'data');
  const audit = { ...CHAIN, queue: { size: 10_000, overflow: 'spill' as const } };
  await traffic(everything, audit, dataDir, 3);
  const file = path.join(dataDir, 'audit.db');
  const db = new Database(file);
  const stored = db.prepare('SELECT * FROM audit_events WHERE node IS NOT NULL ORDER BY chain_seq DESC LIMIT 1').get() as Row;
  db.close();
  // What a crash leaves: the spill file, its first line a record that was already written (the
  // crash came after the sink took it), then records in an order that is not their ids' order.
  const spilled = [5, 1, 4, 2, 3].map((n) => ({ ...eventOfRow(stored), id: `${String(stored.id).slice(0, -3)}sp${n}`, rpcId: `spilled-${n}` }));
  writeFileSync(path.join(dataDir, 'audit-spill.jsonl'), [JSON.stringify(eventOfRow(stored)), ...spilled.map((e) => JSON.stringify(e))].join('\n') + '\n');
  await traffic(everything, audit, dataDir, 1);

  const check = new Database(file, { readonly: true });
  const chain = check.prepare('SELECT id, chain_seq FROM audit_events WHERE chain_seq > ? ORDER BY chain_seq LIMIT 5').all(Number(stored.chain_seq)) as Array<{ id: string; chain_seq: number }>;
  const copies = (check.prepare('SELECT count(*) AS n FROM audit_events WHERE id = ?').get(String(stored.id)) as { n: number }).n;
  check.close();
  assert.deepEqual(chain.map((r) => r.id), spilled.map((e) => e.id), 'the spill file first, in its order, right after the last stored record');
  assert.equal(copies, 1, 'the record already stored is not written (or linked) again');
  const { source, close } = openSqliteChainSource(file);
  const report = await verifyChains(source, { expect: { records: 5, batch: 1 } });
  close();
  assert.equal(report.intact, true, JSON.stringify(report.findings));
  assert.equal(report.nodes[0]!.signedTo, report.nodes[0]!.lastSeq);
});

test('a gateway killed (SIGKILL) leaves an unsigned tail; the next start resumes the chain and signs from where the last checkpoint ended', { timeout: 120_000 }, async (t) => {
  const everything = await startEverything();
  const port = await freePort();
  const dataDir = tempDir();
  const file = writeConfig(
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      `dataDir: ${JSON.stringify(dataDir)}`,
      'servers:',
      `  e: { url: ${JSON.stringify(`${everything.origin}/mcp`)} }`,
      'apis: [{ name: e, path: /mcp, server: e }]',
      'audit: { batch: { size: 1, interval: 10ms }, chain: { checkpoint: { records: 5, interval: 1h } } }',
      '',
    ].join('\n'),
  );
  const cli = runCli(['start', '--config', file]);
  t.after(async () => {
    await stopCli(cli);
    await everything.close();
  });
  await waitForLogLines(cli, (l) => l.msg === 'gatehouse listening', 'Gatehouse listens');
  const { client, close } = await connectClient(`http://127.0.0.1:${port}/mcp`);
  for (let i = 0; i < 7; i++) await client.callTool({ name: 'echo', arguments: { message: `before the crash ${i}` } });
  const auditFile = path.join(dataDir, 'audit.db');
  const calls = () => {
    const db = new Database(auditFile, { readonly: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM audit_events WHERE method = 'tools/call'").get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  await waitUntil(() => calls() === 7, 'the calls are written');
  cli.child.kill('SIGKILL');
  await cli.exited;
  await close().catch(() => undefined);

  const verify = async () => {
    const { source, close: done } = openSqliteChainSource(auditFile);
    try {
      return await verifyChains(source, { expect: { records: 5, batch: 1 } });
    } finally {
      done();
    }
  };
  const crashed = await verify();
  assert.equal(crashed.intact, true, JSON.stringify(crashed.findings));
  const tail = crashed.notices.find((n) => n.kind === 'unsigned-tail');
  assert.ok(tail && tail.toSeq === crashed.nodes[0]!.lastSeq && tail.seq === crashed.nodes[0]!.signedTo + 1, JSON.stringify(crashed));

  await traffic(everything, CHAIN, dataDir, 2);
  const resumed = await verify();
  assert.equal(resumed.intact, true, JSON.stringify(resumed.findings));
  assert.equal(resumed.nodes.length, 1);
  assert.equal(resumed.nodes[0]!.firstSeq, 1);
  assert.equal(resumed.nodes[0]!.signedTo, resumed.nodes[0]!.lastSeq, 'the tail the crash left is signed by the next start');
  assert.ok(resumed.nodes[0]!.lastSeq! > crashed.nodes[0]!.lastSeq!);
  assert.deepEqual(resumed.notices, []);
});

/** A stored row back as the record the gateway spills (its chain fields dropped). */
function eventOfRow(row: Row): Record<string, unknown> {
  const e = eventOf(row) as unknown as Record<string, unknown>;
  delete e.chain;
  return e;
}

const postgres = postgresRequirement();

test('postgres: verify names each tampering at its position', { skip: postgres.skip, timeout: 120_000 }, async (t) => {
  postgres.check();
  const url = postgres.url!;
  const everything = await startEverything();
  const schema = `gatehouse_chain_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    await everything.close();
  });
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  const sink = { type: 'postgres' as const, url, schema };
  await traffic(everything, { ...CHAIN, sink }, dataDir, 32);
  const config = path.join(dir, 'gatehouse.yaml');
  writeFileSync(config, `dataDir: data\nservers: { e: { url: "http://127.0.0.1:9/mcp" } }\napis: [{ name: e, path: /mcp, server: e }]\naudit: { sink: { type: postgres, url: "\${env:AUDIT_DB_URL}", schema: ${schema} } }\n`);
  const env = { AUDIT_DB_URL: url };
  const run = async (args: string[]) => {
    const cli = runCli(['audit', 'verify', '-c', config, ...args], env);
    const { code } = await cli.exited;
    return { code, out: cli.output() };
  };
  const intact = await run([]);
  assert.equal(intact.code, 0, intact.out);
  assert.match(intact.out, /\nintact\n$/);

  const node = readFileSync(path.join(dataDir, 'audit-node-id'), 'utf8').trim();
  await admin.query(`SET search_path TO "${schema}"`);
  const exec: Exec = async (sql, params = []) => {
    let n = 0;
    return (await admin.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as Row[];
  };
  const { expected, ids } = await tamper(exec, node);
  const tampered = await run(['--json']);
  assert.equal(tampered.code, 1, tampered.out);
  assertFindings(JSON.parse(tampered.out) as VerifyReport, expected, ids);
});

test('postgres: two nodes writing to one table at once keep a chain each, and verify tells them apart', { skip: postgres.skip, timeout: 120_000 }, async (t) => {
  postgres.check();
  const url = postgres.url!;
  const everything = await startEverything();
  const schema = `gatehouse_chain_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    await everything.close();
  });
  const sink = { type: 'postgres' as const, url, schema };
  const dirs = [path.join(tempDir(), 'a'), path.join(tempDir(), 'b')];
  // The first creates the table; then both write together, their batches interleaved in the table.
  await traffic(everything, { ...CHAIN, sink }, dirs[0]!, 1);
  await Promise.all(dirs.map((dir) => traffic(everything, { ...CHAIN, sink }, dir, 12)));
  const [a, b] = dirs.map((dir) => readFileSync(path.join(dir, 'audit-node-id'), 'utf8').trim());
  const { source, close } = await openPostgresChainSource(url, schema);
  try {
    const report = await verifyChains(source, { expect: { records: 5, batch: 1 } });
    assert.equal(report.intact, true, JSON.stringify(report.findings));
    assert.deepEqual(report.nodes.map((n) => n.node).sort(), [a, b].sort());
    for (const n of report.nodes) assert.deepEqual([n.firstSeq, n.signedTo], [1, n.lastSeq]);
    // Tampering with one node's chain is that node's finding only.
    await admin.query(`UPDATE "${schema}".audit_events SET decision = 'denied' WHERE node = $1 AND chain_seq = 4`, [b]);
    const after = await verifyChains(source, { node: undefined });
    assert.deepEqual(after.findings.map((f) => [f.kind, f.node, f.seq]), [['changed', b, 4]]);
    const onlyA = await verifyChains(source, { node: a });
    assert.equal(onlyA.intact, true);
    assert.deepEqual(onlyA.nodes.map((n) => n.node), [a]);
  } finally {
    await close();
  }
});

test('admin API: GET /api/audit/verify checks the running gateway\'s chains (in its writer thread) and names a record changed under it', { timeout: 120_000 }, async (t) => {
  const everything = await startEverything();
  const dataDir = path.join(tempDir(), 'data');
  const token = 'audit-chain-admin-token-0123456789';
  const gh = await startTestGateway(
    { servers: { e: { url: `${everything.origin}/mcp` } }, apis: [{ name: 'e', path: '/mcp', server: 'e' }], audit: CHAIN, admin: { token } },
    { dataDir },
  );
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const { client, close } = await connectClient(gh.url());
  for (let i = 0; i < 6; i++) await client.callTool({ name: 'echo', arguments: { message: `live ${i}` } });
  await close();
  await gh.gateway.audit!.flush();
  const admin = gh.gateway.admin!.url.replace(/\/$/, '');
  const get = async (query: string, auth = token) => {
    const response = await fetch(`${admin}/api/audit/verify${query}`, { headers: { authorization: `Bearer ${auth}` } });
    return { status: response.status, body: (await response.json()) as VerifyReport & { error?: string } };
  };
  const intact = await get('');
  assert.equal(intact.status, 200, JSON.stringify(intact.body));
  assert.equal(intact.body.intact, true, JSON.stringify(intact.body.findings));
  const node = readFileSync(path.join(dataDir, 'audit-node-id'), 'utf8').trim();
  assert.deepEqual(intact.body.nodes.map((n) => [n.node, n.firstSeq]), [[node, 1]]);

  // Someone edits a record in the live file.
  const db = new Database(path.join(dataDir, 'audit.db'));
  const { id } = db.prepare('SELECT id FROM audit_events WHERE node = ? AND chain_seq = 4').get(node) as { id: string };
  db.prepare("UPDATE audit_events SET decision = 'denied' WHERE node = ? AND chain_seq = 4").run(node);
  db.close();
  const tampered = await get('');
  assert.equal(tampered.status, 200);
  assert.deepEqual(tampered.body.findings.map((f) => [f.kind, f.node, f.seq, f.id]), [['changed', node, 4, id]]);
  assert.equal((await get('?sinceSeq=5')).body.intact, true, 'from seq 5 on it is intact');
  assert.equal((await get('?since=1h')).body.intact, false);
  const bad = await get('?sinceSeq=soon');
  assert.equal(bad.status, 400);
  assert.match(bad.body.error!, /sinceSeq must be a chain seq/);
  assert.equal((await get('', 'wrong-token')).status, 401);
});

test('a GATEHOUSE_AUDIT_SIGNING_KEY that is not an Ed25519 key stops the start with one line naming it (it printed a stack trace)', { timeout: 60_000 }, async () => {
  const file = writeConfig('listen: { host: 127.0.0.1, port: 0 }\nservers: { e: { url: "http://127.0.0.1:9/mcp" } }\napis: [{ name: e, path: /mcp, server: e }]\n');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  for (const [value, expected] of [
    ['notakey', /expected an Ed25519 private key, PEM or base64 of PKCS#8 DER/],
    [rsa, /expected an Ed25519 key, got rsa/],
  ] as const) {
    const cli = runCli(['start', '--config', file], { GATEHOUSE_AUDIT_SIGNING_KEY: value });
    const { code } = await cli.exited;
    assert.equal(code, 1);
    const out = cli.output().trim();
    assert.match(out, /^gatehouse start: the audit signing key: GATEHOUSE_AUDIT_SIGNING_KEY: /);
    assert.match(out, expected);
    assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');
  }
});
