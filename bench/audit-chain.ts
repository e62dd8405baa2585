// What the hash chain costs the audit log: records per second through the whole writer pipeline
// (the writer thread with its real sink: hand-over, linking and hashing, checkpoint signing,
// insert with its indexes) with the chain on and off, in paired rounds that alternate (a busy
// machine slows both sides of a pair alike), each into a fresh table. Batches of 500 (the
// default) are handed over one at a time, as the gateway does, as fast as they are taken. Also
// the writer-side step alone (link: canonical form + SHA-256 per record) in µs per record.
//   node --import tsx bench/audit-chain.ts [records per round, default 50000] [pairs, default 5]
// With GATEHOUSE_BENCH_POSTGRES_URL set, the Postgres sink too (a fresh schema per round, dropped after).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import pg from 'pg';
import { WriterClient } from '../src/audit/writer-client.ts';
import type { SinkSpec } from '../src/audit/sink.ts';
import type { AuditEvent } from '../src/audit/event.ts';
import { eventId } from '../src/audit/ids.ts';
import { ChainWriter, type ChainSettings } from '../src/audit/chain/chain-writer.ts';

const RECORDS = Number(process.argv[2] ?? 50_000);
const PAIRS = Number(process.argv[3] ?? 5);
const BATCH = 500;
const POSTGRES = process.env.GATEHOUSE_BENCH_POSTGRES_URL;

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const CHAIN: ChainSettings = {
  node: 'bench',
  privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  records: 1000,
  intervalMs: 60_000,
};

/** A metadata-only tools/call record, as the default audit settings write it. */
function record(n: number): AuditEvent {
  const time = Date.now();
  return {
    id: eventId(time), time, api: 'tools', tenant: undefined, agent: `agent-${n % 7}`, user: undefined, clientAddress: '127.0.0.1',
    session: 'AbCdEfGhIjKl', rpcId: String(n), method: 'tools/call', feature: 'tools', target: 'echo', server: 'everything', originalTarget: 'echo',
    decision: 'allowed', rule: 'acl:all', reason: undefined, status: 200, upstreamStatus: 200, errorCode: undefined, toolError: false,
    durationMs: 1.234 + (n % 100) / 7, upstreamMs: 0.8, bytesIn: 120, bytesOut: 340, request: undefined, response: undefined,
    trace: '[{"policy":"acl","method":"tools/call","name":"echo","allowed":true,"rule":"all"}]',
  };
}

const log = pino({ level: 'warn' });

interface Round {
  /** Records per second, wall clock. */
  rate: number;
  /** CPU time of this process (both threads; Postgres's own is not counted), µs per record. */
  cpu: number;
}

/** One round: RECORDS records through a fresh writer and sink. */
async function round(sink: SinkSpec, chained: boolean): Promise<Round> {
  const writer = await WriterClient.start({ sink, retryOpen: false, retention: { maxAge: 365 * 86_400_000, maxRecords: 100_000_000 }, chain: chained ? CHAIN : undefined }, log);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < RECORDS; sent += BATCH) {
    const events = Array.from({ length: Math.min(BATCH, RECORDS - sent) }, (_, i) => record(sent + i));
    if (!writer.waitSettled(writer.write(events), 60_000)) throw new Error('the writer did not take a batch within 60 s');
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  if (writer.written !== RECORDS) throw new Error(`wrote ${writer.written} of ${RECORDS}`);
  await writer.close(Date.now() + 10_000);
  return { rate: RECORDS / seconds, cpu: (used.user + used.system) / RECORDS };
}

async function sqliteRound(chained: boolean): Promise<Round> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-chain-'));
  try {
    return await round({ type: 'sqlite', file: path.join(dir, 'audit.db') }, chained);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresRound(chained: boolean): Promise<Round> {
  const schema = `gatehouse_bench_${randomBytes(5).toString('hex')}`;
  try {
    return await round({ type: 'postgres', url: POSTGRES!, schema }, chained);
  } finally {
    const admin = new pg.Client({ connectionString: POSTGRES });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function pairs(name: string, run: (chained: boolean) => Promise<Round>): Promise<void> {
  await run(false); // warm-up: module loading, file system, connections
  const off: Round[] = [];
  const on: Round[] = [];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    // Alternate which side goes first.
    let a: Round;
    let b: Round;
    if (i % 2 === 0) {
      a = await run(false);
      b = await run(true);
    } else {
      b = await run(true);
      a = await run(false);
    }
    off.push(a);
    on.push(b);
    ratios.push(b.rate / a.rate);
    cpuRatios.push(b.cpu / a.cpu);
    console.log(`${name} pair ${i + 1}: without chain ${fmt(a.rate)}/s (${a.cpu.toFixed(1)} µs CPU/record), with ${fmt(b.rate)}/s (${b.cpu.toFixed(1)} µs) — ratio ${(b.rate / a.rate).toFixed(3)}`);
  }
  const m = (rounds: Round[], k: keyof Round) => median(rounds.map((r) => r[k]));
  console.log(
    `${name}: median without ${fmt(m(off, 'rate'))} records/s (${m(off, 'cpu').toFixed(1)} µs CPU/record), with ${fmt(m(on, 'rate'))} records/s (${m(on, 'cpu').toFixed(1)} µs); ` +
      `median ratio of records/s with/without ${median(ratios).toFixed(3)}, of CPU per record ${median(cpuRatios).toFixed(3)} (${PAIRS} pairs of ${fmt(RECORDS)} records)`,
  );
}

/** The writer's chain step alone: link (canonical form + SHA-256) per record, and one checkpoint signature. */
const EMPTY = { head: async () => undefined, signedTo: async () => 0, existing: async () => new Set<string>() };

async function linkCost(): Promise<void> {
  const writer = new ChainWriter({ ...CHAIN, records: Number.MAX_SAFE_INTEGER });
  await writer.resume(EMPTY);
  const events = Array.from({ length: 20_000 }, (_, i) => record(i));
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const started = process.hrtime.bigint();
    const linked = writer.link(events, Date.now());
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e3 / events.length);
    writer.commit(linked, Date.now());
  }
  const signer = new ChainWriter({ ...CHAIN, records: 1 });
  await signer.resume(EMPTY);
  let sign = Infinity;
  for (let r = 0; r < 200; r++) {
    const started = process.hrtime.bigint();
    const linked = signer.link([record(r)], Date.now());
    sign = Math.min(sign, Number(process.hrtime.bigint() - started) / 1e3);
    signer.commit(linked, Date.now());
  }
  console.log(`link: ${best.toFixed(2)} µs per record (canonical form + SHA-256, best of 5 × 20,000); a record with its checkpoint signed: ${sign.toFixed(0)} µs`);
}

console.log(`Node ${process.version}, ${RECORDS} records per round, batches of ${BATCH}, checkpoint every ${CHAIN.records} records`);
await linkCost();
await pairs('sqlite', sqliteRound);
if (POSTGRES) await pairs('postgres', postgresRound);
