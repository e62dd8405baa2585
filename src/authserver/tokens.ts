// Issuing tokens. Access tokens are JWTs (RFC 9068: `typ: at+jwt`, ES256) whose `aud` is the
// resource the client asked for (RFC 8707); `grant_id` names the authorization they come from.
// Refresh tokens are opaque; only their SHA-256 digest is stored. Each authorization starts a
// family (a grant): a refresh token presented twice (after rotation) or an authorization code
// presented twice ends it (OAuth 2.1 §4.3.1, RFC 6749 §4.1.2): its live refresh token is deleted
// and its access tokens are put on the denylist (./revocation.ts).
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Store } from '../store/store.ts';
import { randomToken, sha256 } from './clients.ts';
import { SIGNING_ALG, type SigningKeys } from './keys.ts';
import type { TokenDenylist } from './revocation.ts';

/** The JWT type of access tokens (RFC 9068 §2.1); the resource server requires it. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Clock skew the resource server allows on exp (src/auth/oauth2.ts): a grant's denylist entry outlives it. */
export const VERIFY_TOLERANCE_MS = 60_000;

/** What an authorization grants; carried by codes and refresh tokens. */
export interface GrantInfo {
  clientId: string;
  userId: string;
  username: string;
  scopes: string[];
  resource: string;
  issuer: string;
  familyId: string;
  /** When the user signed in for this grant (ms); absent in grants made before it was recorded. */
  authTime?: number | undefined;
  /** The external provider the user signed in with (external/), absent for a password. */
  idp?: string | undefined;
  /** The groups that provider gave the user at that sign-in (its `groupsClaim`). */
  groups?: string[] | undefined;
}

export const OFFLINE_ACCESS = 'offline_access';
export const REFRESH_PREFIX = 'ghr_';

export const grantKeys = {
  code: (code: string) => `code:${sha256(code)}`,
  usedCode: (code: string) => `used-code:${sha256(code)}`,
  refresh: (token: string) => `refresh:${sha256(token)}`,
  refreshByHash: (hash: string) => `refresh:${hash}`,
  usedRefresh: (token: string) => `used-refresh:${sha256(token)}`,
  family: (id: string) => `family:${id}`,
  interaction: (id: string) => `interaction:${id}`,
  state: (clientId: string, state: string) => `state:${sha256(`${clientId}\n${state}`)}`,
  /** The index of a user's grants (grants.ts). */
  userGrant: (userId: string, familyId: string) => `user-grant:${userId}:${familyId}`,
  userGrants: (userId: string) => `user-grant:${userId}:`,
};

export interface TokenTtls {
  accessMs: number;
  refreshMs: number;
}

export class TokenIssuer {
  constructor(
    private readonly store: Store,
    private readonly keys: () => Promise<SigningKeys>,
    readonly ttl: TokenTtls,
    private readonly denylist: TokenDenylist,
  ) {}

  newFamilyId(): string {
    return randomUUID();
  }

  async accessToken(grant: GrantInfo, scopes: readonly string[]): Promise<string> {
    const { signer } = await this.keys();
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      client_id: grant.clientId,
      scope: scopes.join(' '),
      preferred_username: grant.username,
      grant_id: grant.familyId,
      ...(grant.idp !== undefined && { idp: grant.idp }),
      ...(grant.groups !== undefined && { groups: grant.groups }),
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, kid: signer.kid, typ: ACCESS_TOKEN_TYP })
      .setIssuer(grant.issuer)
      .setSubject(grant.userId)
      .setAudience(grant.resource)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + Math.floor(this.ttl.accessMs / 1000))
      .setJti(randomToken(16))
      .sign(signer.key);
  }

  /** A new refresh token for the grant, recorded as its family's live one. */
  async refreshToken(grant: GrantInfo): Promise<string> {
    const token = REFRESH_PREFIX + randomToken();
    const expiresAt = Date.now() + this.ttl.refreshMs;
    await this.store.putGrant({ key: grantKeys.refresh(token), payload: { ...grant }, expiresAt });
    await this.store.putGrant({ key: grantKeys.family(grant.familyId), payload: { refresh: sha256(token) }, expiresAt });
    return token;
  }

  /** The token response: access token, plus a refresh token when offline_access was granted. */
  async respond(grant: GrantInfo, scopes: readonly string[], refreshToken: string | 'new' | undefined): Promise<OAuthTokens> {
    const refresh = refreshToken === 'new' ? (grant.scopes.includes(OFFLINE_ACCESS) ? await this.refreshToken(grant) : undefined) : refreshToken;
    return {
      access_token: await this.accessToken(grant, scopes),
      token_type: 'Bearer',
      expires_in: Math.floor(this.ttl.accessMs / 1000),
      scope: scopes.join(' '),
      ...(refresh === undefined ? {} : { refresh_token: refresh }),
    };
  }

  /**
   * Ends a family: its live refresh token stops working, and so do the access tokens it
   * produced; the user's index of grants (grants.ts) forgets it when the user is known.
   */
  async revokeFamily(familyId: string, userId?: string): Promise<void> {
    await endFamily(this.store, this.denylist, familyId, Date.now() + this.ttl.accessMs + VERIFY_TOLERANCE_MS, userId);
  }
}

/** Ends a family: denylisted until `until` (ms, past its access tokens' expiry), refresh token and index record deleted. */
export async function endFamily(store: Store, denylist: TokenDenylist, familyId: string, until: number, userId: string | undefined): Promise<void> {
  await denylist.revokeGrant(familyId, until);
  const family = await store.takeGrant(grantKeys.family(familyId));
  const hash = family?.payload.refresh;
  if (typeof hash === 'string') await store.deleteGrant(grantKeys.refreshByHash(hash));
  if (userId !== undefined) await store.deleteGrant(grantKeys.userGrant(userId, familyId));
}

export function isGrantInfo(payload: Record<string, unknown>): payload is Record<string, unknown> & GrantInfo {
  return (
    typeof payload.clientId === 'string' &&
    typeof payload.userId === 'string' &&
    typeof payload.username === 'string' &&
    Array.isArray(payload.scopes) &&
    typeof payload.resource === 'string' &&
    typeof payload.issuer === 'string' &&
    typeof payload.familyId === 'string'
  );
}
