// The `audit` section of the config (top level) and its per-API override. Defaults: on, SQLite
// file <dataDir>/audit.db, metadata only.
import { z } from 'zod';
import { Duration, Size } from '../config/units.ts';

const FieldNames = z
  .array(z.string().min(1))
  .meta({ description: 'Field names whose values are replaced by "[REDACTED]" wherever they occur in recorded payloads (case-insensitive). Fields that look like secrets (password, token, secret, apiKey, authorization, …) and secret-looking values (bearer tokens, API keys, JWTs) are always redacted.' });

const AuditSink = z
  .union([
    z.strictObject({
      type: z.literal('sqlite'),
      file: z.string().optional().meta({ description: 'Database file (default: <dataDir>/audit.db, apart from the store).' }),
    }),
    z.strictObject({
      type: z.literal('postgres'),
      url: z.string().meta({ description: 'postgres:// URL (use ${env:NAME}).' }),
      schema: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'expected a plain identifier (letters, digits, _; at most 63)')
        .optional()
        .meta({ description: 'Schema holding the audit table, created if absent (default: the connection\'s search_path).' }),
    }),
    z.strictObject({
      type: z.literal('jsonl'),
      path: z.string().min(1).meta({ description: 'File to append JSON lines to, or "-" for standard output (beside Gatehouse\'s own logs).' }),
    }),
  ])
  .meta({ description: 'Where records go: `sqlite` (embedded, default), `postgres`, or `jsonl` (for log shippers; not readable by `gatehouse logs` or the dashboard).' });

export const AuditSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Record every MCP exchange. Turning it off on a reload stops recording at once; turning it on, and changes of sink, queue, batch and retention, take effect on restart.' }),
    sink: AuditSink.default({ type: 'sqlite' }),
    queue: z
      .strictObject({
        size: z.number().int().min(1).default(10_000).meta({ description: 'Records held in memory waiting for the writer.' }),
        overflow: z
          .enum(['block', 'drop-oldest', 'spill'])
          .default('drop-oldest')
          .meta({ description: 'When the queue is full: `drop-oldest` discards the oldest waiting record (counted); `block` stalls the gateway until the writer has room (drops, counted, only if the sink fails for 5 s); `spill` appends to `spillFile` and writes it later.' }),
        spillFile: z.string().optional().meta({ description: 'File for `spill` (default: <dataDir>/audit-spill.jsonl).' }),
      })
      .default({ size: 10_000, overflow: 'drop-oldest' })
      .meta({ description: 'The in-memory queue between the request path and the writer.' }),
    batch: z
      .strictObject({
        size: z.number().int().min(1).max(5000).default(500).meta({ description: 'Most records per write.' }),
        interval: Duration.default(200).meta({ description: 'Longest a record waits before its batch is written.' }),
      })
      .default({ size: 500, interval: 200 })
      .meta({ description: 'Batched writes.' }),
    retention: z
      .strictObject({
        maxAge: Duration.default(30 * 86_400_000).meta({ description: 'Records older than this are deleted (sqlite, postgres).' }),
        maxRecords: z.number().int().min(1).default(1_000_000).meta({ description: 'Only the newest this many records are kept (sqlite, postgres).' }),
      })
      .default({ maxAge: 30 * 86_400_000, maxRecords: 1_000_000 })
      .meta({ description: 'Deletion of old records, run by the writer every minute.' }),
    chain: z
      .strictObject({
        enabled: z.boolean().default(true).meta({ description: 'Chain each node\'s records by hash (each record carries the previous one\'s SHA-256) and sign checkpoints with Ed25519, so that `gatehouse audit verify` finds changed, deleted, inserted and reordered records (sqlite, postgres).' }),
        checkpoint: z
          .strictObject({
            records: z.number().int().min(1).default(1000).meta({ description: 'Sign a checkpoint once this many records are unsigned.' }),
            interval: Duration.default(60_000).meta({ description: '…or once the oldest unsigned record is this old. Records after the last checkpoint can be removed without trace: this bounds how many.' }),
          })
          .default({ records: 1000, interval: 60_000 })
          .meta({ description: 'How often the writer signs its chain (key: GATEHOUSE_AUDIT_SIGNING_KEY, or <dataDir>/audit-signing.key made on first start).' }),
      })
      .default({ enabled: true, checkpoint: { records: 1000, interval: 60_000 } })
      .meta({ description: 'Tamper evidence: hash chain and signed checkpoints (docs/audit.md). Takes effect on restart.' }),
    payloads: z.boolean().default(false).meta({ description: 'Also record request params and response bodies (redacted, capped at maxPayloadBytes). Per-API `audit.payloads` overrides.' }),
    maxPayloadBytes: Size.default(8 * 1024).meta({ description: 'Largest request or response payload kept per record; longer ones are cut.' }),
    redact: FieldNames.default([]),
  })
  .meta({ description: 'The audit log: one record per JSON-RPC exchange, written off the request path.' });

export const ApiAuditSchema = z
  .strictObject({
    payloads: z.boolean().optional().meta({ description: 'Record payloads for this API (default: audit.payloads).' }),
    redact: FieldNames.optional().meta({ description: 'More field names to redact for this API, added to audit.redact.' }),
  })
  .meta({ description: 'Per-API audit settings.' });

export type AuditConfig = z.output<typeof AuditSchema>;
export type AuditSinkConfig = AuditConfig['sink'];
export type ApiAuditConfig = z.output<typeof ApiAuditSchema>;

/** Every default filled in: what a config without an `audit` section gets. */
export const AUDIT_DEFAULT: AuditConfig = AuditSchema.parse({});
