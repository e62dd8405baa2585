// The audit writer thread: owns the sink (for SQLite, the only writing connection), writes the
// batches the gateway posts, one at a time and in order, retries a failing sink for a while,
// reads spill files back, runs retention every minute, and answers reads for the dashboard so
// that no query ever runs on the gateway's request thread.
import fs from 'node:fs';
import readline from 'node:readline';
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditEvent } from './event.ts';
import { openSink, type AuditSink } from './sink.ts';
import { FAILED, SETTLED, WRITTEN, type FromWriter, type ToWriter, type WorkerInit } from './protocol.ts';
import { AnswerLookup, finishPayloads, RedactionProfiles } from './payloads.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
const shared = new BigInt64Array(init.shared);
const RETRY_FOR_MS = 30_000;
const RETENTION_EVERY_MS = 60_000;
const INGEST_BATCH = 500;

const send = (message: FromWriter) => port.postMessage(message);
const log = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => send({ type: 'log', level, msg, ...(data && { data }) });

let sink: AuditSink;
try {
  sink = await openSink(init.sink);
} catch (err) {
  send({ type: 'open-failed', message: err instanceof Error ? err.message : String(err) });
  port.close();
  process.exit(1);
}

/** Payloads are redacted here, off the gateway's request thread, before the sink sees them. */
const profiles = new RedactionProfiles();

let redactionFailures = 0;

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
      await sink.write(events);
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
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, closeDeadline === undefined ? delay : Math.max(0, closeDeadline - now))));
      delay = Math.min(delay * 2, 2000);
    }
  }
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
        await writeWithRetry(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await writeWithRetry(batch);
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
  try {
    const deleted = await sink.retain(init.retention.maxAge, init.retention.maxRecords);
    if (deleted > 0) log('info', 'audit retention deleted old records', { deleted });
  } catch (err) {
    log('warn', 'audit retention failed', { err: err instanceof Error ? err.message : String(err) });
  }
}

async function read(rid: number, op: string, args: unknown[]): Promise<void> {
  const reader = sink.reader;
  try {
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
const retention = sink.reader ? setInterval(runRetention, RETENTION_EVERY_MS) : undefined;
if (sink.reader) setTimeout(runRetention, 1000).unref();

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
      if (retention) clearInterval(retention);
      chain = chain.then(async () => {
        await retaining;
        await sink.close().catch(() => undefined);
        send({ type: 'closed' });
        port.close();
      });
      return;
  }
});

send({ type: 'ready' });
