// Database rows and their mapping to records, shared by both backends. SQLite hands back integers
// for booleans and text for JSON; Postgres hands back booleans, parsed JSON, and strings for bigint.
import type {
  AgentRecord,
  ApiKeyRecord,
  CredentialRecord,
  NodeRecord,
  OAuthClientRecord,
  OAuthGrantRecord,
  UserRecord,
} from './store.ts';

type Int = number | string;
type Bool = number | boolean;

export interface AgentRow {
  id: string;
  name: string | null;
  labels: unknown;
  tenant: string | null;
  created_at: Int;
  disabled: Bool;
}

export interface ApiKeyRow {
  id: string;
  agent_id: string;
  hash: string;
  prefix: string;
  api: string | null;
  created_at: Int;
  expires_at: Int | null;
  revoked_at: Int | null;
  last_used_at: Int | null;
}

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: Int;
  disabled: Bool;
  password_changed_at: Int | null;
  tenant: string | null;
  totp_secret: string | null;
  totp_last_step: Int | null;
}

export interface OAuthClientRow {
  client_id: string;
  metadata: unknown;
  secret_hash: string | null;
  created_at: Int;
  used_at: Int | null;
}

export interface GrantRow {
  key: string;
  payload: unknown;
  expires_at: Int;
}

export interface CredentialRow {
  name: string;
  sealed: string;
  updated_at: Int;
}

function int(value: Int): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`store: ${String(value)} is not a safe integer`);
  return n;
}

function optInt(value: Int | null): number | undefined {
  return value === null ? undefined : int(value);
}

function opt<T>(value: T | null): T | undefined {
  return value === null ? undefined : value;
}

function jsonObject(value: unknown): Record<string, unknown> {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('store: a JSON column does not hold an object');
  }
  return parsed as Record<string, unknown>;
}

function labels(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(jsonObject(value))) out[k] = String(v);
  return out;
}

export function toAgent(r: AgentRow): AgentRecord {
  return {
    id: r.id,
    name: opt(r.name),
    labels: labels(r.labels),
    tenant: opt(r.tenant),
    createdAt: int(r.created_at),
    disabled: Boolean(r.disabled),
  };
}

export function toApiKey(r: ApiKeyRow): ApiKeyRecord {
  return {
    id: r.id,
    agentId: r.agent_id,
    hash: r.hash,
    prefix: r.prefix,
    api: opt(r.api),
    createdAt: int(r.created_at),
    expiresAt: optInt(r.expires_at),
    revokedAt: optInt(r.revoked_at),
    lastUsedAt: optInt(r.last_used_at),
  };
}

export function toUser(r: UserRow): UserRecord {
  return {
    id: r.id,
    username: r.username,
    passwordHash: r.password_hash,
    createdAt: int(r.created_at),
    disabled: Boolean(r.disabled),
    ...(r.password_changed_at !== null && { passwordChangedAt: int(r.password_changed_at) }),
    ...(r.tenant !== null && { tenant: r.tenant }),
    ...(r.totp_secret !== null && { totpSecret: r.totp_secret }),
    ...(r.totp_last_step !== null && { totpLastStep: int(r.totp_last_step) }),
  };
}

export function toOAuthClient(r: OAuthClientRow): OAuthClientRecord {
  return {
    clientId: r.client_id,
    metadata: jsonObject(r.metadata),
    secretHash: opt(r.secret_hash),
    createdAt: int(r.created_at),
    usedAt: optInt(r.used_at),
  };
}

export function toGrant(r: GrantRow): OAuthGrantRecord {
  return { key: r.key, payload: jsonObject(r.payload), expiresAt: int(r.expires_at) };
}

export function toCredential(r: CredentialRow): CredentialRecord {
  return { name: r.name, sealed: r.sealed, updatedAt: int(r.updated_at) };
}

export interface NodeRow {
  id: string;
  url: string;
  started_at: Int;
  seen_at: Int;
}

export function toNode(r: NodeRow): NodeRecord {
  return { id: r.id, url: r.url, startedAt: int(r.started_at), seenAt: int(r.seen_at) };
}

/** A grant counts as absent once its expiry time is reached. */
export function isLive(grant: OAuthGrantRecord, now: number): boolean {
  return grant.expiresAt > now;
}
