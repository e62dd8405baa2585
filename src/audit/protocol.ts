// Messages between the gateway's thread and the audit writer thread, and the shared counters.
// The counters live in shared memory so that the gateway can read them, and wait on them
// (overflow `block`), while its own event loop is stalled.
import type { AuditEvent } from './event.ts';
import type { SinkSpec } from './sink.ts';
import type { ChainSettings } from './chain/chain-writer.ts';

export interface WorkerInit {
  sink: SinkSpec;
  /** Retry opening the sink until it opens (network sinks) instead of failing the start. */
  retryOpen: boolean;
  retention: { maxAge: number; maxRecords: number };
  /** Hash-chain the records (sinks that can be read back); undefined: no chain. */
  chain?: ChainSettings | undefined;
  /** BigInt64Array slots: see SETTLED, WRITTEN, FAILED. */
  shared: SharedArrayBuffer;
}

/** Sequence number of the last batch or spill file the writer is done with (written or given up). */
export const SETTLED = 0;
/** Records written to the sink, in total. */
export const WRITTEN = 1;
/** Records the sink refused for good (after retries), in total. */
export const FAILED = 2;
export const SHARED_SLOTS = 3;

export type ReadOp = 'list' | 'get' | 'overview' | 'latestSeq' | 'after' | 'verify';

export type ToWriter =
  | { type: 'write'; seq: number; events: AuditEvent[] }
  /** A redaction profile that records written from now on may name (payloads.ts). */
  | { type: 'redaction'; id: number; fields: readonly string[] }
  | { type: 'ingest'; seq: number; path: string }
  | { type: 'read'; rid: number; op: ReadOp; args: unknown[] }
  | { type: 'close'; deadline: number };

export type FromWriter =
  | { type: 'ready' }
  | { type: 'open-failed'; message: string }
  | { type: 'settled'; seq: number }
  /** Whether the sink is open (retryOpen sinks): after each attempt to open it. */
  | { type: 'sink'; up: boolean; attempts: number; error?: string }
  | { type: 'result'; rid: number; value?: unknown; error?: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; data?: Record<string, unknown> }
  | { type: 'closed' };
