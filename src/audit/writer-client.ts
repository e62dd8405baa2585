// The gateway's side of the audit writer thread: starts it, posts batches and spill files, reads
// the shared counters, forwards reads, and relays the thread's log lines to the gateway's logger.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.ts';
import type { AuditEvent } from './event.ts';
import { FAILED, SETTLED, SHARED_SLOTS, WRITTEN, type FromWriter, type ReadOp, type ToWriter, type WorkerInit } from './protocol.ts';

/**
 * The writer's module beside this one. Running from the TypeScript sources (tests, `--import
 * tsx`), the thread has to load the TypeScript loader itself before the module.
 */
function spawnWriter(init: WorkerInit): Worker {
  const own = import.meta.url;
  if (own.endsWith('.ts')) {
    const url = new URL('./writer-worker.ts', own).href;
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); })`;
    return new Worker(boot, { eval: true, workerData: init });
  }
  return new Worker(new URL('./writer-worker.js', own), { workerData: init });
}

export class WriterClient {
  private readonly shared: BigInt64Array;
  private seq = 0;
  private rid = 0;
  private readonly reads = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exited = false;
  private closed: Promise<void> | undefined;
  private onClosed: (() => void) | undefined;
  /** Called (on this thread's loop) when a batch or spill file is settled. */
  onSettled: () => void = () => undefined;
  /** Whether the sink is open. A network sink starts closed and opens when reachable. */
  sinkUp: boolean;
  /** Called after each attempt to open a network sink, with its outcome. */
  onSinkState: (state: { up: boolean; attempts: number; error?: string | undefined }) => void = () => undefined;

  private constructor(private readonly worker: Worker, buffer: SharedArrayBuffer, private readonly log: Logger, retryOpen: boolean) {
    this.shared = new BigInt64Array(buffer);
    this.sinkUp = !retryOpen; // a local sink is open once the thread is ready
  }

  static start(init: Omit<WorkerInit, 'shared'>, log: Logger): Promise<WriterClient> {
    const buffer = new SharedArrayBuffer(SHARED_SLOTS * 8);
    const worker = spawnWriter({ ...init, shared: buffer });
    const client = new WriterClient(worker, buffer, log, init.retryOpen);
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: FromWriter) => {
        if (message.type === 'ready') {
          ready = true;
          // Once running, the writer never keeps the process alive by itself; close() refs it
          // again to flush on shutdown.
          worker.unref();
          resolve(client);
        } else if (message.type === 'open-failed') reject(new Error(`the audit sink could not be opened: ${message.message}`));
        else client.handle(message);
      });
      worker.on('error', (err) => {
        if (!ready) reject(err);
        else log.error({ err: err.message }, 'the audit writer thread failed');
      });
      worker.on('exit', () => {
        client.exited = true;
        for (const pending of client.reads.values()) pending.reject(new Error('the audit writer has stopped'));
        client.reads.clear();
        client.onClosed?.();
        if (!ready) reject(new Error('the audit writer thread exited before it was ready'));
      });
    });
  }

  private handle(message: FromWriter): void {
    switch (message.type) {
      case 'settled':
        this.onSettled();
        return;
      case 'result': {
        const pending = this.reads.get(message.rid);
        this.reads.delete(message.rid);
        if (message.error !== undefined) pending?.reject(new Error(message.error));
        else pending?.resolve(message.value);
        return;
      }
      case 'log':
        this.log[message.level](message.data ?? {}, message.msg);
        return;
      case 'closed':
        this.onClosed?.();
        return;
      case 'sink':
        this.sinkUp = message.up;
        this.onSinkState(message);
        return;
      default:
        return;
    }
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Posts a batch; returns its sequence number. */
  write(events: AuditEvent[]): number {
    this.send({ type: 'write', seq: ++this.seq, events });
    return this.seq;
  }

  /** Tells the writer of a redaction profile; sent before any record that names it. */
  defineRedaction(id: number, fields: readonly string[]): void {
    this.send({ type: 'redaction', id, fields });
  }

  ingest(path: string): number {
    this.send({ type: 'ingest', seq: ++this.seq, path });
    return this.seq;
  }

  get settled(): number {
    return Number(Atomics.load(this.shared, SETTLED));
  }

  get written(): number {
    return Number(Atomics.load(this.shared, WRITTEN));
  }

  get failed(): number {
    return Number(Atomics.load(this.shared, FAILED));
  }

  /** Blocks this thread until batch `seq` is settled or `timeoutMs` passed; true when settled. */
  waitSettled(seq: number, timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = Atomics.load(this.shared, SETTLED);
      if (Number(current) >= seq) return true;
      const left = deadline - Date.now();
      if (left <= 0 || this.exited) return false;
      Atomics.wait(this.shared, SETTLED, current, left);
    }
  }

  read(op: ReadOp, args: unknown[]): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error('the audit writer has stopped'));
    const rid = ++this.rid;
    return new Promise((resolve, reject) => {
      this.reads.set(rid, { resolve, reject });
      this.send({ type: 'read', rid, op, args });
    });
  }

  /** Keeps the process alive while someone waits for the writer (flush, shutdown). */
  hold(): void {
    if (!this.exited) this.worker.ref();
  }

  release(): void {
    if (!this.exited && !this.closed) this.worker.unref();
  }

  /** Asks the writer to finish what it was given (until `deadline`) and stop. */
  close(deadline: number): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      this.hold();
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), Math.max(0, deadline - Date.now()) + 2000);
      this.onClosed = () => {
        clearTimeout(timer);
        resolve();
      };
      this.send({ type: 'close', deadline });
    });
    return this.closed;
  }

  private send(message: ToWriter): void {
    this.worker.postMessage(message);
  }
}
