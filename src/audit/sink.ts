// Where audit records are written. Sinks run in the writer thread (audit/writer-worker.ts); the
// ones that store records (SQLite, Postgres) can also read them back.
import type { AuditEvent } from './event.ts';
import type { AuditReader } from './reader.ts';
import type { AuditTail } from './sql-reader.ts';
import type { ChainStore } from './chain/chain-writer.ts';
import type { Checkpoint } from './chain/checkpoint.ts';
import type { ChainSource } from './chain/chain-sql.ts';

export interface AuditSink {
  /** Writes a batch and the checkpoint signed over it, if any, all or nothing. */
  write(events: readonly AuditEvent[], checkpoint?: Checkpoint | undefined): Promise<void>;
  /** The hash chain's reads (sinks that can be read back); undefined: records are not chained. */
  readonly chain?: ChainStore | undefined;
  /** The chains as the verifier reads them (`/api/audit/verify`). */
  readonly chainSource?: ChainSource | undefined;
  /** Deletes records older than maxAge and beyond the newest maxRecords; returns how many. */
  retain(maxAge: number, maxRecords: number): Promise<number>;
  readonly reader: (AuditReader & AuditTail) | undefined;
  close(): Promise<void>;
}

/** A sink as the writer thread opens it: file paths already resolved. */
export type SinkSpec = { type: 'sqlite'; file: string } | { type: 'postgres'; url: string; schema?: string | undefined } | { type: 'jsonl'; path: string };

export async function openSink(spec: SinkSpec): Promise<AuditSink> {
  switch (spec.type) {
    case 'sqlite': {
      const { openSqliteSink } = await import('./sqlite-sink.ts');
      return openSqliteSink(spec.file);
    }
    case 'postgres': {
      const { openPostgresSink } = await import('./postgres-sink.ts');
      return openPostgresSink(spec.url, spec.schema);
    }
    case 'jsonl': {
      const { openJsonlSink } = await import('./jsonl-sink.ts');
      return openJsonlSink(spec.path);
    }
  }
}
