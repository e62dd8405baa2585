// Rows of upstream_tokens and upstream_clients (auth: oauth-user), shared by both stores:
// Postgres returns bigint as strings, SQLite as numbers.
import type { UpstreamClientRecord, UpstreamTokenRecord } from './store.ts';

type Int = number | string | bigint;

export interface UpstreamTokenRow {
  user_id: string;
  server: string;
  sealed: string;
  expires_at: Int | null;
  updated_at: Int;
}

export interface UpstreamClientRow {
  server: string;
  issuer: string;
  sealed: string;
  updated_at: Int;
}

export const TOKEN_COLUMNS = 'user_id, server, sealed, expires_at, updated_at';
export const CLIENT_COLUMNS = 'server, issuer, sealed, updated_at';

function int(value: Int): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`store: ${String(value)} is not a safe integer`);
  return n;
}

export function toUpstreamToken(row: UpstreamTokenRow): UpstreamTokenRecord {
  return { userId: row.user_id, server: row.server, sealed: row.sealed, expiresAt: row.expires_at === null ? undefined : int(row.expires_at), updatedAt: int(row.updated_at) };
}

export function toUpstreamClient(row: UpstreamClientRow): UpstreamClientRecord {
  return { server: row.server, issuer: row.issuer, sealed: row.sealed, updatedAt: int(row.updated_at) };
}
