// The audit table's columns (the same in SQLite and Postgres) and the mapping between records and
// rows. `lat_bin` files each record's duration into a log-scale bin (5% wide) so that percentiles
// over any range are a GROUP BY away, exact in counts and within 2.5% in value.
import type { AuditEvent, Decision } from './event.ts';

export const TABLE = 'audit_events';

/** Column names in insert order (after `seq`, which the database assigns). */
export const COLUMNS = [
  'id', 'time', 'api', 'tenant', 'agent', 'user_id', 'client', 'session', 'rpc_id', 'method', 'feature', 'target',
  'decision', 'rule', 'reason', 'status', 'upstream_status', 'error_code', 'tool_error', 'duration_ms', 'upstream_ms', 'lat_bin',
  'bytes_in', 'bytes_out', 'request', 'response', 'trace', 'server', 'original_target',
] as const;

/** The chain's columns (chain/canonical.ts), NULL for records written before chaining. */
export const CHAIN_COLUMNS = ['node', 'chain_seq', 'prev_hash', 'hash'] as const;

/** Every column a sink inserts (all but `seq`, which the database assigns). */
export const STORED_COLUMNS = [...COLUMNS, ...CHAIN_COLUMNS] as const;

export type Column = (typeof COLUMNS)[number];
export type Row = Record<string, unknown>;

const BIN_BASE = 0.01; // ms: everything faster shares bin 0
const BIN_GROWTH = Math.log(1.05);

export function latencyBin(ms: number): number {
  return ms <= BIN_BASE ? 0 : Math.ceil(Math.log(ms / BIN_BASE) / BIN_GROWTH);
}

/** The middle of a bin (geometric), ms. */
export function binValue(bin: number): number {
  return bin <= 0 ? BIN_BASE : BIN_BASE * Math.exp((bin - 0.5) * BIN_GROWTH);
}

/** Values in COLUMNS order. */
export function rowValues(e: AuditEvent): unknown[] {
  return [
    e.id, e.time, e.api, e.tenant ?? null, e.agent, e.user ?? null, e.clientAddress ?? null, e.session ?? null, e.rpcId ?? null,
    e.method, e.feature, e.target ?? null, e.decision, e.rule ?? null, e.reason ?? null, e.status, e.upstreamStatus ?? null,
    e.errorCode ?? null, e.toolError ? 1 : 0, e.durationMs, e.upstreamMs ?? null, latencyBin(e.durationMs), e.bytesIn, e.bytesOut,
    e.request ?? null, e.response ?? null, e.trace ?? null, e.server ?? null, e.originalTarget ?? null,
  ];
}

/** Values in STORED_COLUMNS order. */
export function storedValues(e: AuditEvent): unknown[] {
  const values = rowValues(e);
  const link = e.chain;
  values.push(link?.node ?? null, link?.seq ?? null, link?.prevHash ?? null, link?.hash ?? null);
  return values;
}

const text = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

/** A row as either database returns it (Postgres gives bigint columns as text). */
export function eventOf(row: Row): AuditEvent {
  return {
    id: String(row.id),
    time: Number(row.time),
    api: String(row.api),
    tenant: text(row.tenant),
    agent: String(row.agent),
    user: text(row.user_id),
    clientAddress: text(row.client),
    session: text(row.session),
    rpcId: text(row.rpc_id),
    method: String(row.method),
    feature: String(row.feature),
    target: text(row.target),
    server: text(row.server),
    originalTarget: text(row.original_target),
    decision: String(row.decision) as Decision,
    rule: text(row.rule),
    reason: text(row.reason),
    status: Number(row.status),
    upstreamStatus: num(row.upstream_status),
    errorCode: num(row.error_code),
    toolError: Number(row.tool_error) === 1,
    durationMs: Number(row.duration_ms),
    upstreamMs: num(row.upstream_ms),
    bytesIn: Number(row.bytes_in),
    bytesOut: Number(row.bytes_out),
    request: text(row.request),
    response: text(row.response),
    trace: text(row.trace),
  };
}
