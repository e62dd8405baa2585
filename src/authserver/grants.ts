// A user's grants: the authorizations a person gave to applications (MCP clients), listed and
// ended from the user's own page (/-/connections), the CLI, the management API and the console.
// Each grant (a token family, tokens.ts) gets an index record in the store's grant records,
// `user-grant:<userId>:<familyId>`, written when its code is exchanged, refreshed (last use,
// expiry) at each refresh, and deleted when the family ends. Its expiry is when the grant can no
// longer produce tokens: its refresh token's, else its access token's. Token verification never
// reads it. Ending a grant is `endFamily`: its access tokens go on the denylist (refused at once
// on this node, within a second on others), its refresh token is deleted, and so is the index.
import type { Store, UserRecord, OAuthGrantRecord } from '../store/store.ts';
import { normalizeApiPath } from '../config/load.ts';
import type { TokenDenylist } from './revocation.ts';
import { endFamily, grantKeys, VERIFY_TOLERANCE_MS, type GrantInfo } from './tokens.ts';
import type { AuthEventKind } from './events.ts';

/** At most this many grants of one user are listed (oldest keys first); more is not expected of a person. */
export const MAX_LISTED_GRANTS = 500;

/** A grant as every surface shows it (never a token). */
export interface UserGrant {
  /** The grant's id: the `grant_id` claim of its access tokens. */
  id: string;
  clientId: string;
  /** The client's `client_name`, when it gave one. */
  clientName: string | undefined;
  /** The API the grant is for (by its resource URL), when it still names one. */
  api: string | undefined;
  resource: string;
  scopes: string[];
  /** When the user authorized it (ms). */
  createdAt: number;
  /** When tokens were last issued for it (the code exchange, then each refresh). */
  lastUsedAt: number;
  /** When it can no longer produce tokens (its refresh token's expiry, else its access token's). */
  expiresAt: number;
  /** The external provider the user signed in with, when not a password. */
  idp: string | undefined;
}

/** Who ended a grant, for the security event. */
export interface RevokedBy {
  /** In words: "the user", "admin alice", "the CLI". */
  who: string;
  /** Where: the page, the API path, the command. */
  endpoint: string;
  address?: string | undefined;
}

export type GrantEventSink = (kind: AuthEventKind, fields: { endpoint: string; status: number; detail: string; clientId?: string | undefined; userId?: string | undefined; resource?: string | undefined; address?: string | undefined }) => void;

/** The index record of a grant, written or refreshed when tokens are issued for it. */
export async function recordGrant(store: Store, info: GrantInfo, fields: { clientName: string | undefined; accessExpiresAt: number; refreshExpiresAt: number | undefined }): Promise<void> {
  const key = grantKeys.userGrant(info.userId, info.familyId);
  const now = Date.now();
  const existing = await store.getGrant(key);
  const createdAt = typeof existing?.payload.createdAt === 'number' ? existing.payload.createdAt : (info.authTime ?? now);
  await store.putGrant({
    key,
    payload: {
      familyId: info.familyId,
      clientId: info.clientId,
      ...(fields.clientName !== undefined && { clientName: fields.clientName.slice(0, 200) }),
      scopes: [...info.scopes],
      resource: info.resource,
      createdAt,
      lastUsedAt: now,
      accessExpiresAt: fields.accessExpiresAt,
      ...(info.authTime !== undefined && { authTime: info.authTime }),
      ...(info.idp !== undefined && { idp: info.idp }),
    },
    expiresAt: Math.max(fields.accessExpiresAt, fields.refreshExpiresAt ?? 0),
  });
}

/** The API whose path a resource URL names (its path is the API's path). */
export function apiOfResource(apis: ReadonlyArray<{ name: string; path: string }>): (resource: string | undefined) => string | undefined {
  const byPath = new Map(apis.map((api) => [normalizeApiPath(api.path), api.name]));
  return (resource) => {
    if (resource === undefined) return undefined;
    try {
      return byPath.get(normalizeApiPath(new URL(resource).pathname));
    } catch {
      return undefined;
    }
  };
}

function grantOf(record: OAuthGrantRecord, apiOf: (resource: string) => string | undefined): (UserGrant & { authTime: number | undefined; accessExpiresAt: number }) | undefined {
  const p = record.payload;
  if (typeof p.familyId !== 'string' || typeof p.clientId !== 'string' || typeof p.resource !== 'string' || !Array.isArray(p.scopes)) return undefined;
  const createdAt = typeof p.createdAt === 'number' ? p.createdAt : 0;
  return {
    id: p.familyId,
    clientId: p.clientId,
    clientName: typeof p.clientName === 'string' ? p.clientName : undefined,
    api: apiOf(p.resource),
    resource: p.resource,
    scopes: p.scopes.filter((s): s is string => typeof s === 'string'),
    createdAt,
    lastUsedAt: typeof p.lastUsedAt === 'number' ? p.lastUsedAt : createdAt,
    expiresAt: record.expiresAt,
    idp: typeof p.idp === 'string' ? p.idp : undefined,
    authTime: typeof p.authTime === 'number' ? p.authTime : undefined,
    accessExpiresAt: typeof p.accessExpiresAt === 'number' ? p.accessExpiresAt : record.expiresAt,
  };
}

/** A grant id as tokens carry it (a UUID); anything else is refused before the store is asked. */
export function isGrantId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

export class UserGrants {
  constructor(
    private readonly store: Store,
    private readonly denylist: TokenDenylist,
    private readonly emit: GrantEventSink,
    private readonly apiOf: (resource: string) => string | undefined = () => undefined,
  ) {}

  /**
   * The user's live grants, newest first. Grants already ended elsewhere (on the denylist: a
   * revocation racing a refresh may leave an index record behind) and grants from before the
   * user's last password change (their refresh tokens are refused) are not shown.
   */
  async list(user: UserRecord): Promise<UserGrant[]> {
    const records = await this.store.listGrants(grantKeys.userGrants(user.id), MAX_LISTED_GRANTS);
    const grants = records.flatMap((r) => grantOf(r, this.apiOf) ?? []);
    const revoked = new Set(grants.length === 0 ? [] : await this.store.findRevocations(grants.map((g) => `grant:${g.id}`)));
    return grants
      .filter((g) => !revoked.has(`grant:${g.id}`) && !(user.passwordChangedAt !== undefined && (g.authTime ?? 0) < user.passwordChangedAt))
      .map(({ authTime: _a, accessExpiresAt: _x, ...g }) => g)
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  }

  /** Ends one of the user's grants; false when the user has no such (live) grant. */
  async revoke(user: UserRecord, grantId: string, by: RevokedBy): Promise<boolean> {
    if (!isGrantId(grantId)) return false;
    const record = await this.store.getGrant(grantKeys.userGrant(user.id, grantId));
    const grant = record && grantOf(record, this.apiOf);
    if (!grant) return false;
    await this.end(user, grant, by);
    return true;
  }

  /** Ends all the user's grants, or those of one client; the number ended. */
  async revokeAll(user: UserRecord, by: RevokedBy, clientId?: string): Promise<number> {
    let count = 0;
    for (const record of await this.store.listGrants(grantKeys.userGrants(user.id), MAX_LISTED_GRANTS)) {
      const grant = grantOf(record, this.apiOf);
      if (!grant || (clientId !== undefined && grant.clientId !== clientId)) continue;
      await this.end(user, grant, by);
      count++;
    }
    return count;
  }

  private async end(user: UserRecord, grant: UserGrant & { accessExpiresAt: number }, by: RevokedBy): Promise<void> {
    await endFamily(this.store, this.denylist, grant.id, Math.max(grant.accessExpiresAt, Date.now()) + VERIFY_TOLERANCE_MS, user.id);
    const client = grant.clientName ? `"${grant.clientName.slice(0, 100)}" (${grant.clientId})` : grant.clientId;
    this.emit('grant-revoked', {
      endpoint: by.endpoint,
      status: 200,
      clientId: grant.clientId,
      userId: user.id,
      resource: grant.resource,
      address: by.address,
      detail: `grant ${grant.id} of ${user.username} to ${client} revoked by ${by.who}: its refresh token and access tokens stop working`,
    });
  }
}
