// API tokens of the admin listener, for automation: `ght_<id>.<secret>`, shown once when made;
// the control store keeps the id, a role (owner, admin, viewer), an optional expiry and the
// SHA-256 of the secret. Revoked or expired tokens stop working at once on every node (each
// request looks its token up: admin traffic is light). Managed mode only: the tokens live in the
// control store.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AdminRole, AdminTokenRecord } from '../store/control.ts';

const PREFIX = 'ght_';
const FORMAT = /^ght_([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

export type AdminTokenLookup = (id: string) => Promise<AdminTokenRecord | undefined>;

export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new token and the record to store (without the secret). */
export function newAdminToken(fields: { name: string; role: AdminRole; createdBy: string; expiresAt: number | undefined; tenant?: string | undefined }, now = Date.now()): { token: string; record: AdminTokenRecord } {
  const id = randomBytes(12).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { token: `${PREFIX}${id}.${secret}`, record: { id, ...fields, digest: secretDigest(secret), createdAt: now, revokedAt: undefined } };
}

/** Whether a bearer value has the shape of an API token (others are not looked up). */
export function looksLikeAdminToken(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** The live token a bearer value is, or undefined (malformed, unknown, wrong secret, revoked, expired). */
export async function verifyAdminToken(value: string, lookup: AdminTokenLookup, now = Date.now()): Promise<AdminTokenRecord | undefined> {
  const match = FORMAT.exec(value);
  if (!match) return undefined;
  const record = await lookup(match[1]!);
  if (!record) return undefined;
  const sent = Buffer.from(secretDigest(match[2]!), 'hex');
  const kept = Buffer.from(record.digest, 'hex');
  if (sent.length !== kept.length || !timingSafeEqual(sent, kept)) return undefined;
  if (record.revokedAt !== undefined || (record.expiresAt !== undefined && record.expiresAt <= now)) return undefined;
  return record;
}
