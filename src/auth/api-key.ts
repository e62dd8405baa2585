// api-key: agents present a key (Authorization: Bearer, or a configured header). Only its SHA-256
// digest is looked up, through the store's index: no secret is compared in our code, so the
// time taken says nothing about how close a guess was.
//
// A key that authenticated is remembered by its digest, with the principal built for it, so a
// busy agent costs a hash and a map lookup rather than two queries and a new principal per
// request (the same principal object also lets the ACL remember its decisions). The memory is
// only trusted while the store says nothing changed: SQLite tells exactly (any commit by another
// process, e.g. `gatehouse keys revoke`, or a write through this one), so a revocation holds
// from the next request; Postgres cannot tell cheaply, so there a remembered key is asked again
// after a second, the longest another node waits to be heeded (as for tokens).
import { hash, randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { Principal } from './principal.ts';
import { ABSENT, bearerToken, type AuthContext, type AuthOutcome, type AuthPlan } from './plan.ts';
import { invalidToken } from './challenge.ts';
import { RefusedCredential } from './refusal.ts';
import type { ConfigKey } from './agents-sync.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';

export const MAX_KEY_LENGTH = 8192;

export function digestKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** How long a remembered key is trusted when the store cannot say whether it changed. */
export const KEY_CACHE_MS = 1000;
/** Remembered keys per plan; past this the memory starts again (keys are few, agents reuse them). */
const KEY_CACHE_ENTRIES = 10_000;

interface KnownKey {
  readonly principal: Principal;
  readonly keyId: string;
  readonly api: string | undefined;
  readonly expiresAt: number | undefined;
  /** The store's agentsVersion() when read, or undefined: then `readAt` bounds its trust. */
  readonly version: number | undefined;
  readonly readAt: number;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A new key: `gh_` and 40 base62 characters (≈238 bits), drawn without modulo bias. */
export function generateApiKey(length = 40): string {
  let out = 'gh_';
  while (out.length < length + 3) {
    for (const byte of randomBytes(64)) {
      if (byte < 248 && out.length < length + 3) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** What lists show to recognise a key: its first characters, never enough to use it. */
export function keyPrefix(key: string): string {
  return key.slice(0, key.startsWith('gh_') ? 8 : 4);
}

export interface ApiKeyPlanOptions {
  /** Extra header (lower-case) that may carry the key, besides Authorization: Bearer. */
  readonly header?: string | undefined;
  /** A later plan also reads bearer tokens: an unknown bearer token is left to it. */
  readonly yieldUnknownBearer: boolean;
  /** Keys declared in the config file, by key id: the file is authoritative for their api and expiry. */
  readonly configKeys: ReadonlyMap<string, ConfigKey>;
  /** The API's tenant once tenants are declared: keys of other tenants' agents are unknown here. */
  readonly tenant?: string | undefined;
}

/** How often a key's last-used time is written (a write per request would be I/O on the hot path). */
const TOUCH_EVERY_MS = 60_000;

export function apiKeyPlan(store: Store, options: ApiKeyPlanOptions, log: Logger): AuthPlan {
  const touched = new Map<string, number>();
  const touch = (id: string, now: number) => {
    if ((touched.get(id) ?? 0) > now - TOUCH_EVERY_MS) return;
    touched.set(id, now);
    store.touchApiKey(id, now).catch((err: Error) => log.warn({ keyId: id, err: err.message }, 'could not record API key use'));
  };

  const known = new Map<string, KnownKey>();
  /** A remembered key, if it is still to be trusted and valid for this API now. */
  const remembered = (digest: string, api: string, now: number): Principal | undefined => {
    const entry = known.get(digest);
    if (entry === undefined) return undefined;
    const fresh = entry.version === undefined ? now - entry.readAt < KEY_CACHE_MS : entry.version === store.agentsVersion();
    // Anything else (stale, expired, another API) is decided again from the store, with its reason.
    if (!fresh || (entry.expiresAt !== undefined && entry.expiresAt <= now) || (entry.api !== undefined && entry.api !== api)) return undefined;
    touch(entry.keyId, now);
    return entry.principal;
  };

  return {
    type: 'api-key',
    challenge: () => 'Bearer realm="gatehouse"',
    async authenticate(ctx: AuthContext): Promise<AuthOutcome> {
      const fromHeader = options.header === undefined ? undefined : headerKey(ctx, options.header);
      const key = fromHeader ?? bearerToken(ctx.req, MAX_KEY_LENGTH);
      if (key === undefined) return ABSENT;
      const digest = digestKey(key);
      const cached = remembered(digest, ctx.api, Date.now());
      if (cached) return { principal: cached };
      // Read before the lookup: a change made while it runs makes the entry stale, not wrong.
      const version = store.agentsVersion();
      const readAt = Date.now();
      const record = await store.findApiKeyByHash(digest);
      if (!record) {
        if (fromHeader === undefined && options.yieldUnknownBearer) return ABSENT;
        log.debug({ api: ctx.api, plan: 'api-key' }, 'authentication refused: unknown API key');
        return { error: invalidToken('unknown API key') };
      }
      // A known key refused is worth an operator's attention; it is named by its id, never by
      // itself, and the refusal says whose it is (the audit record names the agent).
      const refuse = (reason: string): AuthOutcome => {
        log.info({ api: ctx.api, plan: 'api-key', keyId: record.id, agent: record.agentId, reason }, 'authentication refused');
        return { error: new RefusedCredential(invalidToken(reason), { agent: record.agentId, keyId: record.id }) };
      };
      const agent = await store.getAgent(record.agentId);
      if (options.tenant !== undefined && agent !== undefined && (agent.tenant ?? DEFAULT_TENANT) !== options.tenant) {
        // Another tenant's key: refused exactly as an unknown one, before anything (revoked,
        // expired, whose) could tell it apart, so that a tenant learns nothing of the others.
        if (fromHeader === undefined && options.yieldUnknownBearer) return ABSENT;
        log.debug({ api: ctx.api, plan: 'api-key' }, 'authentication refused: unknown API key');
        return { error: invalidToken('unknown API key') };
      }
      const now = Date.now();
      let { api, expiresAt } = record;
      if (record.id.startsWith('cfg_')) {
        const declared = options.configKeys.get(record.id);
        if (!declared || declared.agentId !== record.agentId) return refuse('API key revoked');
        ({ api, expiresAt } = declared);
      }
      if (record.revokedAt !== undefined) return refuse('API key revoked');
      if (expiresAt !== undefined && expiresAt <= now) return refuse('API key expired');
      if (api !== undefined && api !== ctx.api) return refuse('API key is not valid for this API');
      if (!agent || agent.disabled) return refuse('agent disabled');
      touch(record.id, now);
      const principal: Principal = Object.freeze({
        kind: 'agent',
        id: agent.id,
        key: `agent:${agent.id}`,
        plan: 'api-key',
        labels: agent.labels,
        ...(agent.name !== undefined && { name: agent.name }),
        ...(agent.tenant !== undefined && { tenant: agent.tenant }),
      });
      if (known.size >= KEY_CACHE_ENTRIES) known.clear();
      known.set(digest, { principal, keyId: record.id, api, expiresAt, version, readAt });
      return { principal };
    },
  };
}

function headerKey(ctx: AuthContext, header: string): string | undefined {
  const value = ctx.req.headers[header];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  if (value.length > MAX_KEY_LENGTH) throw invalidToken(`credential longer than ${MAX_KEY_LENGTH} characters`);
  return value.trim();
}
