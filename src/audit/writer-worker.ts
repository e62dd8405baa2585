// The audit writer thread: owns the sink (for SQLite, the only writing connection), writes the
// batches the gateway posts, one at a time and in order, retries a failing sink for a while,
// reads spill files back, runs retention every minute, and answers reads for the dashboard so
// that no query ever runs on the gateway's request thread. A sink reached over the network
// (Postgres) that cannot be opened at start is retried with backoff until it can: the gateway
// serves meanwhile and sends nothing until the thread says the sink is up. With the hash chain on,
// each batch is linked here, in the order it is stored (chain/chain-writer.ts), and checkpoints
// are signed every N records or S seconds, beside a batch or alone.
import fs from 'node:fs';
import readline from 'node:readline';
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditEvent } from './event.ts';
import { openSink, type AuditSink } from './sink.ts';
import { FAILED, SETTLED, WRITTEN, type FromWriter, type ToWriter, type WorkerInit } from './protocol.ts';
import { AnswerLookup, finishPayloads, RedactionProfiles } from './payloads.ts';
import { ChainWriter, type Linked } from './chain/chain-writer.ts';
import type { Checkpoint } from './chain/checkpoint.ts';
import type { ChainSource } from './chain/chain-sql.ts';
import { verifyChains, type VerifyOptions, type VerifyReport } from './chain/verify.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
const shared = new BigInt64Array(init.shared);
const RETRY_FOR_MS = 30_000;
const RETENTION_EVERY_MS = 60_000;
const INGEST_BATCH = 500;
const OPEN_RETRY_FIRST_MS = 250;
const OPEN_RETRY_MAX_MS = 5_000;

const send = (message: FromWriter) => port.postMessage(message);
const log = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => send({ type: 'log', level, msg, ...(data && { data }) });

/** Set once the sink is open; the gateway sends no batch before it says so ('sink' up). */
let sink: AuditSink | undefined;

/** Payloads are redacted here, off the gateway's request thread, before the sink sees them. */
const profiles = new RedactionProfiles();

let redactionFailures = 0;

/** Links records into this node's chain and signs checkpoints; undefined when the chain is off. */
const chainWriter = init.chain ? new ChainWriter(init.chain) : undefined;

/** Links a batch after the chain's head (read back from the store first when unknown); undefined without a chain. */
async function linkBatch(events: readonly AuditEvent[]): Promise<Linked | undefined> {
  if (!chainWriter || !sink?.chain) return undefined;
  if (!chainWriter.resumed) await chainWriter.resume(sink.chain);
  return chainWriter.link(events, Date.now());
}

/** A checkpoint in the gateway's log too: a copy kept elsewhere shows a truncation the store alone cannot. */
function announce(checkpoint: Checkpoint | undefined): void {
  if (checkpoint) log('info', 'audit checkpoint signed', { node: checkpoint.node, from: checkpoint.fromSeq, to: checkpoint.toSeq, lastHash: checkpoint.lastHash, signature: checkpoint.signature });
}

function finishAll(events: AuditEvent[]): void {
  const answers = new AnswerLookup();
  for (const event of events) {
    if (!event.raw) continue;
    try {
      finishPayloads(event, profiles.redactor(event.raw.redaction), answers);
    } catch (err) {
      // The record is kept, its payloads are not: never stored unredacted.
      event.raw = undefined;
      event.request = undefined;
      event.response = undefined;
      if (redactionFailures++ % 1000 === 0) log('error', 'could not redact the payloads of an audit record; they were left out', { err: err instanceof Error ? err.message : String(err) });
    }
  }
}

let closeDeadline: number | undefined;
/** Wakes the backoff sleep of openWithRetry when the gateway closes. */
let wakeOpener: (() => void) | undefined;
let chain: Promise<void> = Promise.resolve();
let failing = false;

function settle(seq: number): void {
  Atomics.store(shared, SETTLED, BigInt(seq));
  Atomics.notify(shared, SETTLED);
  send({ type: 'settled', seq });
}

/** Writes a batch, retrying for a while; false when it was given up. */
async function writeWithRetry(events: readonly AuditEvent[]): Promise<boolean> {
  const started = Date.now();
  let delay = 100;
  for (;;) {
    try {
      if (!sink) throw new Error('the audit sink is not open');
      // Linked on every attempt: the same head gives the same links and hashes.
      const linked = await linkBatch(events);
      await sink.write(events, linked?.checkpoint);
      if (linked) {
        chainWriter!.commit(linked, Date.now());
        announce(linked.checkpoint);
      }
      if (failing) log('info', 'audit sink writes again');
      failing = false;
      Atomics.add(shared, WRITTEN, BigInt(events.length));
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!failing) log('warn', 'audit sink write failed; retrying', { err: message });
      failing = true;
      const now = Date.now();
      if (now - started >= RETRY_FOR_MS || (closeDeadline !== undefined && now >= closeDeadline)) {
        log('error', 'audit records lost: the sink kept failing', { records: events.length, err: message });
        Atomics.add(shared, FAILED, BigInt(events.length));
        // Whether the last attempt was stored is unknown (a connection lost at commit): the
        // chain's head is read back from the store before the next batch.
        chainWriter?.invalidate();
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, closeDeadline === undefined ? delay : Math.max(0, closeDeadline - now))));
      delay = Math.min(delay * 2, 2000);
    }
  }
}

/**
 * Signs what is linked but unsigned: when the interval has passed (timer), or everything at
 * close. A failure is logged and tried again at the next tick.
 */
async function signPending(force: boolean): Promise<void> {
  if (!chainWriter || !sink?.chain) return;
  const pending = chainWriter.pending(Date.now(), force);
  if (!pending?.checkpoint) return;
  try {
    await sink.write([], pending.checkpoint);
    chainWriter.commit(pending, Date.now());
    announce(pending.checkpoint);
  } catch (err) {
    log('warn', 'could not store an audit checkpoint; trying again', { err: err instanceof Error ? err.message : String(err) });
  }
}

/** Records of a spill file already stored (read back twice after a crash) are left out: linking them again would fork the chain. */
async function unstored(events: AuditEvent[]): Promise<AuditEvent[]> {
  if (!chainWriter || !sink?.chain || events.length === 0) return events;
  const stored = await sink.chain.existing(events.map((e) => e.id));
  return stored.size === 0 ? events : events.filter((e) => !stored.has(e.id));
}

/** Reads a spill file back into the sink, then removes it. */
async function ingest(path: string): Promise<void> {
  let batch: AuditEvent[] = [];
  let unreadable = 0;
  try {
    const lines = readline.createInterface({ input: fs.createReadStream(path, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      try {
        batch.push(JSON.parse(line) as AuditEvent);
      } catch {
        unreadable++;
      }
      if (batch.length >= INGEST_BATCH) {
        await writeWithRetry(await unstored(batch));
        batch = [];
      }
    }
    if (batch.length > 0) await writeWithRetry(await unstored(batch));
    fs.rmSync(path, { force: true });
  } catch (err) {
    log('error', 'could not read an audit spill file back', { file: path, err: err instanceof Error ? err.message : String(err) });
  }
  if (unreadable > 0) {
    Atomics.add(shared, FAILED, BigInt(unreadable));
    log('warn', 'unreadable lines in an audit spill file were skipped', { file: path, lines: unreadable });
  }
}

async function retain(): Promise<void> {
  if (!sink) return;
  try {
    const deleted = await sink.retain(init.retention.maxAge, init.retention.maxRecords);
    if (deleted > 0) log('info', 'audit retention deleted old records', { deleted });
  } catch (err) {
    log('warn', 'audit retention failed', { err: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * Verifies the chains (the admin API's /api/audit/verify). A page at a time, yielding to the
 * thread's messages in between, so that batches keep being written during a long check.
 */
async function verifyHere(options: VerifyOptions): Promise<VerifyReport> {
  const source = sink?.chainSource;
  if (!source || !chainWriter) throw new Error('this audit log is not chained (audit.chain.enabled: false, or a jsonl sink)');
  const yielding: ChainSource = {
    ...source,
    page: async (...args) => {
      await new Promise((resolve) => setImmediate(resolve));
      return source.page(...args);
    },
  };
  return verifyChains(yielding, options);
}

async function read(rid: number, op: string, args: unknown[]): Promise<void> {
  const reader = sink?.reader;
  try {
    if (!sink) throw new Error('the audit sink is not connected yet');
    if (op === 'verify') return send({ type: 'result', rid, value: await verifyHere(args[0] as VerifyOptions) });
    if (!reader) throw new Error('this audit sink cannot be read back');
    const fn = (reader as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[op];
    if (typeof fn !== 'function') throw new Error(`unknown read ${op}`);
    send({ type: 'result', rid, value: await fn.apply(reader, args) });
  } catch (err) {
    send({ type: 'result', rid, error: err instanceof Error ? err.message : String(err) });
  }
}

// Retention runs beside the writes, not behind them: it deletes in chunks and yields in between.
let retaining: Promise<void> | undefined;
const runRetention = () => {
  if (!retaining && closeDeadline === undefined) retaining = retain().finally(() => (retaining = undefined));
};
let retention: NodeJS.Timeout | undefined;
let signing: NodeJS.Timeout | undefined;

function opened(open: AuditSink): void {
  sink = open;
  if (open.reader) {
    retention = setInterval(runRetention, RETENTION_EVERY_MS);
    setTimeout(runRetention, 1000).unref();
  }
  if (chainWriter && open.chain) {
    // Checked a few times per interval; the checkpoint waits behind the batches in hand.
    signing = setInterval(() => (chain = chain.then(() => signPending(false))), Math.max(100, Math.min(chainWriter.settings.intervalMs / 4, 5000)));
    signing.unref();
  }
}

/**
 * A network sink that cannot be opened is tried again, 250 ms, then twice as long each time up to
 * 5 s, for as long as it takes; the gateway hears of every state change (and the reason).
 */
async function openWithRetry(): Promise<void> {
  let delay = OPEN_RETRY_FIRST_MS;
  for (let attempt = 1; closeDeadline === undefined; attempt++) {
    try {
      const open = await openSink(init.sink);
      if (closeDeadline !== undefined) {
        await open.close().catch(() => undefined);
        return;
      }
      opened(open);
      send({ type: 'sink', up: true, attempts: attempt });
      return;
    } catch (err) {
      send({ type: 'sink', up: false, attempts: attempt, error: err instanceof Error ? err.message : String(err) });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      wakeOpener = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wakeOpener = undefined;
    delay = Math.min(delay * 2, OPEN_RETRY_MAX_MS);
  }
}

// A local sink (SQLite file, JSON lines) that cannot be opened is a configuration problem: start
// fails with the reason. A network sink may come up later: start goes on and the thread retries.
let opening: Promise<void> = Promise.resolve();
if (init.retryOpen) {
  opening = openWithRetry();
} else {
  try {
    opened(await openSink(init.sink));
  } catch (err) {
    send({ type: 'open-failed', message: err instanceof Error ? err.message : String(err) });
    port.close();
    process.exit(1);
  }
}

port.on('message', (message: ToWriter) => {
  switch (message.type) {
    case 'redaction':
      profiles.define(message.id, message.fields);
      return;
    case 'write':
      chain = chain.then(async () => {
        finishAll(message.events);
        await writeWithRetry(message.events);
        settle(message.seq);
      });
      return;
    case 'ingest':
      chain = chain.then(async () => {
        await ingest(message.path);
        settle(message.seq);
      });
      return;
    case 'read':
      // Reads do not wait behind writes: SQLite runs them between statements, Postgres on its pool.
      void read(message.rid, message.op, message.args);
      return;
    case 'close':
      closeDeadline = message.deadline;
      wakeOpener?.();
      if (retention) clearInterval(retention);
      if (signing) clearInterval(signing);
      chain = chain.then(async () => {
        await opening;
        await retaining;
        // A clean stop leaves no record unsigned.
        await signPending(true);
        await sink?.close().catch(() => undefined);
        send({ type: 'closed' });
        port.close();
      });
      return;
  }
});

send({ type: 'ready' });
