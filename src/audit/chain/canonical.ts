// The hash of one chained audit record. What is hashed is the record's canonical form: a JSON
// object of the record's columns (HASHED, by column name) plus `node`, `chain_seq` and
// `prev_hash`, serialized by RFC 8785 (JSON Canonicalization Scheme): keys sorted by UTF-16 code
// units, no white space, strings and numbers as ECMAScript's JSON.stringify writes them. The
// `canonicalize` package is the reference; for this one flat shape (fixed keys, values that are
// strings, numbers or null) the serialization below writes the same bytes (canonical.test.ts
// compares them) at about a quarter of its cost (3 µs against 12–26 µs per record, measured):
// the keys are sorted and encoded once, not per record, and plain strings are not re-escaped. Text columns are strings or null,
// numeric columns numbers or null, whatever the database hands back (Postgres returns bigint as
// text), so the writer (from the record) and the verifier (from a row) reach the same bytes.
// The hash is SHA-256 of those UTF-8 bytes, in lowercase hex.
import { hash } from 'node:crypto';
import { COLUMNS, rowValues, type Row } from '../rows.ts';
import type { AuditEvent } from '../event.ts';

/**
 * The columns a record's hash covers: every column of the audit table but the storage order
 * (`seq`) and the chain's own. Frozen: records already written were hashed over exactly these,
 * so a column added later is outside the hash (or needs a new chain version), never added here.
 */
export const HASHED = [
  'id', 'time', 'api', 'tenant', 'agent', 'user_id', 'client', 'session', 'rpc_id', 'method', 'feature', 'target',
  'decision', 'rule', 'reason', 'status', 'upstream_status', 'error_code', 'tool_error', 'duration_ms', 'upstream_ms', 'lat_bin',
  'bytes_in', 'bytes_out', 'request', 'response', 'trace', 'server', 'original_target',
] as const;

/** Where each hashed column is in rowValues' output. */
const INDEX = HASHED.map((column) => {
  const i = (COLUMNS as readonly string[]).indexOf(column);
  if (i < 0) throw new Error(`audit column ${column} is hashed but no longer stored`);
  return i;
});

/** Columns stored as numbers (everything else is text). */
const NUMERIC = new Set<string>(['time', 'status', 'upstream_status', 'error_code', 'tool_error', 'duration_ms', 'upstream_ms', 'lat_bin', 'bytes_in', 'bytes_out']);

/** Where a record stands in its node's chain. */
export interface ChainLink {
  node: string;
  /** 1 for a chain's first record, then one more for each record the node writes. */
  seq: number;
  /** The previous record's hash; null for the first record of a chain. */
  prevHash: string | null;
}

/**
 * A text value as both stores keep it. Postgres text cannot hold NUL (the Postgres sink writes
 * the six characters `\u0000` instead) and SQLite stores a lone surrogate as U+FFFD: the
 * canonical form does the same, so a record hashes alike before and after storage.
 */
function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  let s = String(value);
  if (!ODD.test(s)) return s;
  if (s.includes('\u0000')) s = s.replace(/\u0000/g, '\\u0000');
  return SURROGATE.test(s) ? (s as unknown as WellFormed).toWellFormed() : s;
}

/** NUL or a surrogate: the only characters text() may change. */
const ODD = /[\u0000\uD800-\uDFFF]/;

/** ES2024 (Node 20 has it; the compile target's library does not declare it yet). */
interface WellFormed {
  toWellFormed(): string;
}
const SURROGATE = /[\uD800-\uDFFF]/;

function number(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** The canonical object of a record's values (in HASHED order) at a link of its chain: what is serialized. */
export function canonicalObject(values: readonly unknown[], link: ChainLink): Record<string, string | number | null> {
  const object: Record<string, string | number | null> = {};
  for (let i = 0; i < HASHED.length; i++) {
    const column = HASHED[i]!;
    object[column] = NUMERIC.has(column) ? number(values[i]) : text(values[i]);
  }
  object.node = link.node;
  object.chain_seq = link.seq;
  object.prev_hash = link.prevHash;
  return object;
}

type Field = { key: string; from: number } | { key: string; from: 'node' | 'chain_seq' | 'prev_hash' };

/** Every key of the canonical object in RFC 8785 order (UTF-16 code units: all ASCII here), with where its value comes from. */
const FIELDS: ReadonlyArray<Field & { prefix: string; numeric: boolean }> = [
  ...HASHED.map((key, i): Field => ({ key, from: i })),
  { key: 'node', from: 'node' as const },
  { key: 'chain_seq', from: 'chain_seq' as const },
  { key: 'prev_hash', from: 'prev_hash' as const },
]
  .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  .map((f, i) => ({ ...f, prefix: `${i === 0 ? '{' : ','}${JSON.stringify(f.key)}:`, numeric: NUMERIC.has(f.key) || f.key === 'chain_seq' }));

/** Characters JSON.stringify would escape (or a lone surrogate): strings without any are written as they are. */
const ESCAPED = /["\\\u0000-\u001f\uD800-\uDFFF]/;

/** A value as RFC 8785 writes it: as JSON.stringify does for strings and finite numbers (quicker for plain ones), null. */
function json(value: string | number | null): string {
  if (value === null) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('a non-finite number has no canonical JSON form');
    return String(value); // the same as JSON.stringify for finite numbers (-0 included: "0")
  }
  return ESCAPED.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** The canonical text (RFC 8785) of a record's values (in HASHED order) at a link of its chain. */
export function canonicalForm(values: readonly unknown[], link: ChainLink): string {
  let out = '';
  for (const f of FIELDS) {
    let value: string | number | null;
    if (f.from === 'node') value = link.node;
    else if (f.from === 'chain_seq') value = link.seq;
    else if (f.from === 'prev_hash') value = link.prevHash;
    else value = f.numeric ? number(values[f.from]) : text(values[f.from]);
    out += f.prefix + json(value);
  }
  return out + '}';
}

export function hashOf(values: readonly unknown[], link: ChainLink): string {
  return hash('sha256', canonicalForm(values, link), 'hex');
}

/** The hash of a record about to be written. */
export function eventHash(event: AuditEvent, link: ChainLink): string {
  const values = rowValues(event);
  return hashOf(
    INDEX.map((i) => values[i]),
    link,
  );
}

/** The hash of a stored row (as either database returns it), at the link it claims, or at another. */
export function rowHash(row: Row, link: ChainLink): string {
  return hashOf(
    HASHED.map((column) => row[column]),
    link,
  );
}
