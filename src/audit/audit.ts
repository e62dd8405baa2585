// The audit log of a running gateway. As an ExchangeObserver it is told about every finished
// exchange, turns it into records and queues them; nothing on the request path waits for a
// write. A writer thread drains the queue in batches. The queue is bounded and its overflow
// policy explicit; every record is counted as enqueued, then written, dropped, spilled or failed.
import type { Logger } from '../log.ts';
import type { ConfigData } from '../config/schema.ts';
import type { ExchangeObserver } from '../http/listener.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import type { AuditEvent } from './event.ts';
import type { AuditFilter, AuditReader, Overview } from './reader.ts';
import type { AuditTail } from './sql-reader.ts';
import { compileAuditSettings, settingsFor, type AuditSettings } from './settings.ts';
import { eventsOf } from './exchange.ts';
import { SessionTags } from './ids.ts';
import { EventQueue } from './queue.ts';
import { SpillFile } from './spill.ts';
import { WriterClient } from './writer-client.ts';
import { finishPayloads, RedactionProfiles } from './payloads.ts';
import { auditSinkSpec, auditSpillFile } from './paths.ts';
import { loadChainNodeId, loadSigningKey } from './chain/signing-key.ts';
import type { ChainSettings } from './chain/chain-writer.ts';
import type { VerifyOptions, VerifyReport } from './chain/verify.ts';

export interface AuditCounters {
  /** Records accepted from the request path. */
  enqueued: number;
  /** Records the sink has stored. */
  written: number;
  /** Records discarded: queue overflow (drop-oldest, or block when the sink stalled), or after shutdown began. */
  dropped: number;
  /** Records written to the spill file on overflow (they are written to the sink later). */
  spilled: number;
  /** Records the sink refused for good, after retries. */
  failed: number;
  /** Records in memory, waiting or being written. */
  queueDepth: number;
  /** Whether the sink is open (false while a Postgres sink unreachable at start is retried). */
  sinkUp: boolean;
}

/** The sink as the admin API shows it. */
export interface AuditSinkStatus {
  readonly type: 'sqlite' | 'postgres' | 'jsonl';
  readonly up: boolean;
  /** While down: since when (ms since the epoch), how many attempts, and the last reason. */
  readonly downSince?: number | undefined;
  readonly attempts?: number | undefined;
  readonly error?: string | undefined;
}

/** Longest the request thread stalls on a full queue with overflow `block`. */
const BLOCK_LIMIT_MS = 5000;
/** Longest close() waits for the queue to be written. */
const FLUSH_LIMIT_MS = 15_000;

export class Audit implements ExchangeObserver {
  private settings: AuditSettings;
  /** Redaction settings by number, shared with the writer thread (which redacts payloads). */
  private readonly profiles = new RedactionProfiles();
  private readonly queue: EventQueue;
  private readonly tags = new SessionTags();
  private readonly spill: SpillFile | undefined;
  private readonly sinkDefinition: string;
  private readonly overflow: 'block' | 'drop-oldest' | 'spill';
  private readonly batchSize: number;
  private readonly interval: number;
  /** Spill files to read back before anything else (left by an earlier run). */
  private readonly spillQueue: string[] = [];
  /** The one batch or spill file the writer has now. */
  private inflight: { seq: number; count: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate = false;
  private closing: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  private enqueued = 0;
  private dropped = 0;
  private spilled = 0;
  private buildErrors = 0;
  private readonly sinkType: AuditSinkStatus['type'];
  private sinkDown: { since: number; attempts: number; error: string | undefined } | undefined;
  /** Whether a network sink's first attempt to open has ended (either way). */
  private sinkTried: boolean;
  private sinkWaiters: Array<() => void> = [];
  /** Read back records (undefined for the JSON-lines sink). */
  readonly reader: (AuditReader & AuditTail) | undefined;
  /** Checks the hash chains in the writer thread (undefined when records are not chained). */
  readonly verify: ((options: Pick<VerifyOptions, 'since' | 'node'>) => Promise<VerifyReport>) | undefined;

  private constructor(
    config: ConfigData,
    private readonly writer: WriterClient,
    spillFile: string,
    private readonly log: Logger,
  ) {
    this.settings = this.compile(config);
    this.queue = new EventQueue(config.audit.queue.size);
    this.spill = config.audit.queue.overflow === 'spill' ? new SpillFile(spillFile) : undefined;
    this.sinkDefinition = definition(config);
    this.overflow = config.audit.queue.overflow;
    this.batchSize = config.audit.batch.size;
    this.interval = config.audit.batch.interval;
    this.writer.onSettled = () => this.settled();
    this.writer.onSinkState = (state) => this.sinkState(state);
    this.sinkType = config.audit.sink.type;
    this.sinkTried = writer.sinkUp;
    this.reader = config.audit.sink.type === 'jsonl' ? undefined : readerVia(writer);
    const expect = { records: config.audit.chain.checkpoint.records, batch: config.audit.batch.size };
    this.verify = config.audit.sink.type === 'jsonl' || !config.audit.chain.enabled ? undefined : (options) => writer.read('verify', [{ ...options, expect }]) as Promise<VerifyReport>;
    for (const file of this.spill?.leftovers() ?? []) this.spillQueue.push(file);
    if (this.spillQueue.length > 0) this.pump();
  }

  /** Opens the sink in its writer thread; fails (with the reason) when the sink cannot be opened. */
  static async open(config: ConfigData, options: { configPath?: string | undefined; dataDir: string; log: Logger; env?: NodeJS.ProcessEnv }): Promise<Audit> {
    const sink = auditSinkSpec(config, options.configPath, options.dataDir);
    const chain = sink.type !== 'jsonl' && config.audit.chain.enabled ? await chainSettings(config, options.dataDir, options.env ?? process.env) : undefined;
    if (chain) options.log.info({ node: chain.node, publicKey: chain.publicKey, keySource: chain.keySource }, 'audit records are hash-chained; checkpoints are signed with this key');
    // Postgres is reached over the network and may come up after Gatehouse: its opening is
    // retried while the gateway serves. A local sink that cannot be opened fails the start.
    const writer = await WriterClient.start({ sink, retention: config.audit.retention, retryOpen: sink.type === 'postgres', chain }, options.log.child({ component: 'audit' }));
    return new Audit(config, writer, auditSpillFile(config, options.configPath, options.dataDir), options.log);
  }

  get counters(): AuditCounters {
    return {
      enqueued: this.enqueued,
      written: this.writer.written,
      dropped: this.dropped,
      spilled: this.spilled,
      failed: this.writer.failed,
      queueDepth: this.queue.length + (this.inflight?.count ?? 0),
      sinkUp: this.writer.sinkUp,
    };
  }

  get sinkStatus(): AuditSinkStatus {
    const down = this.sinkDown;
    return down ? { type: this.sinkType, up: false, downSince: down.since, attempts: down.attempts, error: down.error } : { type: this.sinkType, up: this.writer.sinkUp };
  }

  /**
   * After each attempt to open a Postgres sink: warns once when it cannot be reached (records are
   * held meanwhile, as the queue's overflow policy says), says so again when it is back, and
   * sends what was held.
   */
  private sinkState(state: { up: boolean; attempts: number; error?: string | undefined }): void {
    this.sinkTried = true;
    for (const wake of this.sinkWaiters.splice(0)) wake();
    if (!state.up) {
      if (!this.sinkDown) {
        this.sinkDown = { since: Date.now(), attempts: state.attempts, error: state.error };
        this.log.warn(
          { err: state.error, queue: { size: this.queue.capacity, overflow: this.overflow } },
          `audit sink (${this.sinkType}) unreachable: Gatehouse serves and keeps audit records in its queue (${this.queue.capacity} records, then overflow "${this.overflow}") until the sink is back; retrying`,
        );
      } else {
        this.sinkDown.attempts = state.attempts;
        this.sinkDown.error = state.error;
        this.log.debug({ err: state.error, attempts: state.attempts }, 'audit sink still unreachable');
      }
      return;
    }
    if (this.sinkDown) {
      const held = this.queue.length + (this.spill?.pending ?? 0);
      this.log.info({ attempts: state.attempts, downMs: Date.now() - this.sinkDown.since, held }, `audit sink (${this.sinkType}) reachable: writing the ${held} records held`);
      this.sinkDown = undefined;
    }
    this.pump();
  }

  /** A new config: payloads, redaction and `enabled: false` apply at once; sink, queue, batch and retention changes on restart. */
  reconfigure(config: ConfigData): void {
    this.settings = this.compile(config);
    if (definition(config) !== this.sinkDefinition) this.log.warn('audit sink, queue, batch and retention and chain changes take effect on restart');
  }

  /** Settings for a config; the writer learns of new redaction profiles before any record names one. */
  private compile(config: ConfigData): AuditSettings {
    const settings = compileAuditSettings(config, this.profiles);
    for (const [id, fields] of this.profiles.unannounced()) this.writer.defineRedaction(id, fields);
    return settings;
  }

  captureBytes(api: string): number {
    return this.settings.enabled ? settingsFor(this.settings, api).captureBytes : 0;
  }

  complete(record: ExchangeRecord, status: number): void {
    if (!this.settings.enabled) return;
    // Called from a socket 'close' listener: a throw here would end the process.
    try {
      for (const event of eventsOf(record, status, this.settings, this.tags)) this.enqueue(event);
      this.schedule();
    } catch (err) {
      if (this.buildErrors++ % 1000 === 0) this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'could not record an exchange in the audit log');
    }
  }

  /** Records an event that is not an exchange (the authorization server's security events). */
  record(event: AuditEvent): void {
    if (!this.settings.enabled) return;
    this.enqueue(event);
    this.schedule();
  }

  private enqueue(event: AuditEvent): void {
    this.enqueued++;
    if (this.closing && !this.writer.alive) {
      this.dropped++;
      return;
    }
    if (!this.queue.full) {
      this.queue.push(event);
      return;
    }
    if (this.spill) {
      try {
        // The spill file holds records at rest: their payloads are redacted first, here.
        if (event.raw) finishPayloads(event, this.profiles.redactor(event.raw.redaction));
        this.spill.append(event);
        this.spilled++;
      } catch (err) {
        this.dropped++;
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'could not spill an audit record; dropped');
      }
      return;
    }
    if (this.overflow === 'block' && this.makeRoom()) {
      this.queue.push(event);
      return;
    }
    this.queue.dropOldest();
    this.dropped++;
    this.queue.push(event);
  }

  /**
   * Overflow `block`: stalls this thread until the writer has taken a batch, so the gateway
   * slows to the sink's pace. Gives up (and drops) only when the writer is stuck.
   */
  private makeRoom(): boolean {
    if (!this.writer.sinkUp) return false; // nothing can be written: stalling the gateway would not help
    const deadline = Date.now() + BLOCK_LIMIT_MS;
    while (this.queue.full) {
      if (this.inflight) {
        if (!this.writer.waitSettled(this.inflight.seq, deadline - Date.now())) return false;
        this.inflight = undefined;
      }
      this.send();
    }
    return true;
  }

  private schedule(): void {
    if (this.inflight) return; // settled() sends the next batch
    if (this.queue.length >= this.batchSize) {
      if (!this.immediate) {
        this.immediate = true;
        setImmediate(() => {
          this.immediate = false;
          this.pump();
        });
      }
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.interval);
      this.timer.unref();
    }
  }

  /** Hands the writer its next piece of work, if it has none. */
  private pump(): void {
    if (this.inflight || !this.writer.sinkUp) return;
    if (this.queue.length > 0) return this.send();
    const file = this.spillQueue.shift() ?? this.spill?.handOver();
    if (file !== undefined) this.inflight = { seq: this.writer.ingest(file), count: 0 };
    else for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private send(): void {
    const events = this.queue.take(this.batchSize);
    if (events.length === 0) return;
    this.inflight = { seq: this.writer.write(events), count: events.length };
  }

  private settled(): void {
    if (this.inflight && this.writer.settled >= this.inflight.seq) this.inflight = undefined;
    if (this.inflight) return;
    // A full batch goes at once; a partial one waits for the interval, unless someone waits for a flush.
    if (this.queue.length >= this.batchSize || this.closing || this.idleWaiters.length > 0) this.pump();
    else if (this.queue.length > 0) this.schedule();
    else this.pump();
  }

  /** Resolves when everything queued so far (and spilled) has been handed to the sink and settled. */
  flush(): Promise<void> {
    this.writer.hold();
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(() => {
        if (!this.closing) this.writer.release();
        resolve();
      });
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.pump();
    });
  }

  /** At shutdown, overflow `spill` keeps what the sink could not take in the spill file: the next start writes it. */
  private keepUnwritten(): void {
    if (!this.spill || this.queue.length === 0) return;
    const events = this.queue.take(this.queue.length);
    let kept = 0;
    try {
      for (const event of events) {
        this.spill.append(event);
        kept++;
      }
    } catch (err) {
      this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'could not spill the audit records left at shutdown');
    }
    this.spilled += kept;
    this.dropped += events.length - kept;
    if (kept > 0) this.log.warn({ records: kept, file: this.spill.file }, 'audit records not written at shutdown were kept in the spill file; the next start writes them');
  }

  /** Resolves when the sink's first attempt to open has ended, or at `deadline`. */
  private sinkOutcome(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.sinkWaiters.push(done);
    });
  }

  /** Writes what is queued (up to 15 s), then stops the writer. Call after the listener drained. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.writer.hold();
      // Exchanges that ended with the listener report on the next turns of the loop.
      await new Promise((resolve) => setImmediate(resolve));
      const deadline = Date.now() + FLUSH_LIMIT_MS;
      // A sink still on its first attempt to open (Postgres connecting and migrating) may be up in
      // a moment: the records queued meanwhile are written once it is, not dropped.
      if (!this.sinkTried) await this.sinkOutcome(deadline);
      // With the sink unreachable there is nothing to wait for.
      if (this.writer.sinkUp) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_LIMIT_MS)))]);
        clearTimeout(timer);
      }
      this.keepUnwritten();
      this.spill?.close();
      await this.writer.close(deadline);
      const left = this.queue.length;
      if (left > 0) {
        this.dropped += left;
        this.queue.take(left);
        this.log.warn({ records: left }, 'audit records not written at shutdown were dropped (the sink was unreachable or slow; overflow "spill" keeps them for the next start)');
      }
      const counters = this.counters;
      this.log.info({ audit: counters }, 'audit log closed');
    })();
    return this.closing;
  }
}

function definition(config: ConfigData): string {
  const { sink, queue, batch, retention, chain } = config.audit;
  return JSON.stringify({ sink, queue, batch, retention, chain });
}

/** The chain's node id and signing key (read or made in the data directory), for the writer thread. */
async function chainSettings(config: ConfigData, dataDir: string, env: NodeJS.ProcessEnv): Promise<ChainSettings & { keySource: string }> {
  const key = await loadSigningKey(dataDir, env);
  return {
    node: await loadChainNodeId(dataDir),
    privateKeyPem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    publicKey: key.publicKey,
    keySource: key.source,
    records: config.audit.chain.checkpoint.records,
    intervalMs: config.audit.chain.checkpoint.interval,
  };
}

function readerVia(writer: WriterClient): AuditReader & AuditTail {
  return {
    list: (filter: AuditFilter, options: { limit: number; before?: string }) => writer.read('list', [filter, options]) as Promise<AuditEvent[]>,
    get: (id: string) => writer.read('get', [id]) as Promise<AuditEvent | undefined>,
    overview: (filter: AuditFilter, bucketMs: number) => writer.read('overview', [filter, bucketMs]) as Promise<Overview>,
    latestSeq: () => writer.read('latestSeq', []) as Promise<number>,
    after: (filter: AuditFilter, seq: number, limit: number) => writer.read('after', [filter, seq, limit]) as Promise<{ events: AuditEvent[]; seq: number }>,
  };
}
