// The SDK's OAuthServerProvider over Gatehouse's store: the SDK's token and revocation handlers
// parse requests, check PKCE (S256) and call these methods; the grant logic lives here.
import type { Response } from 'express';
import { jwtVerify } from 'jose';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthClientInformationFull, OAuthTokenRevocationRequest, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { InvalidGrantError, InvalidScopeError, InvalidTargetError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { Store, UserRecord } from '../store/store.ts';
import type { ClientRegistry } from './clients.ts';
import { ACCESS_TOKEN_TYP, grantKeys, isGrantInfo, OFFLINE_ACCESS, TokenIssuer, type GrantInfo } from './tokens.ts';
import { SIGNING_ALG, type SigningKeys } from './keys.ts';
import { sameResource } from './resources.ts';
import { userMayReach } from './tenancy.ts';

import type { TokenDenylist } from './revocation.ts';
import type { AuthEvents } from './events.ts';
import { recordGrant } from './grants.ts';
import { ADMIN_RESOURCE } from './admin-client.ts';

export const CODE_TTL_MS = 60_000;
const TOKEN = '/oauth/token';
const REVOKE = '/oauth/revoke';
/** How long a used code is remembered, to spot a replay. */
const USED_CODE_MEMORY_MS = 10 * 60_000;
/** Why a grant whose user and API are of different tenants is refused (says nothing of the API's tenant). */
const WRONG_TENANT_GRANT = 'the user does not belong to the tenant of this API (any more): sign in again with an account of that tenant';

/** The grant's user was disabled (or deleted) after signing in: its code or refresh token is refused. */
export class UserDisabledError extends InvalidGrantError {}

export interface CodePayload extends GrantInfo {
  codeChallenge: string;
  redirectUri: string;
}

/**
 * Starts the sign-in and consent interaction for a validated authorization request. `audience`
 * is the resource URL exactly as the resource server compares it (a parsed URL may differ in case
 * or a trailing slash).
 */
export type BeginInteraction = (client: OAuthClientInformationFull, params: AuthorizationParams & { audience: string }, res: Response) => Promise<void>;

export class GatehouseProvider implements OAuthServerProvider {
  constructor(
    private readonly store: Store,
    private readonly clients: ClientRegistry,
    private readonly tokens: TokenIssuer,
    private readonly keys: () => Promise<SigningKeys>,
    private readonly begin: BeginInteraction,
    private readonly denylist: TokenDenylist,
    private readonly events: AuthEvents,
    /** The tenant of the API a resource names (tenancy.ts); undefined for what is no API. */
    private readonly tenantOf: (resource: string) => string | undefined = () => undefined,
  ) {}

  get clientsStore(): ClientRegistry {
    return this.clients;
  }

  /** The SDK's entry point; Gatehouse's own authorization endpoint (authorize.ts) calls `begin` directly. */
  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    if (!params.resource) throw new InvalidTargetError('resource is required');
    return this.begin(client, { ...params, audience: params.resource.href }, res);
  }

  /** Read without consuming: the code is consumed by exchangeAuthorizationCode after PKCE passes. */
  async challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    const grant = await this.store.getGrant(grantKeys.code(code));
    if (!grant || grant.payload.clientId !== client.client_id) {
      await this.noticeReplay(code, client.client_id);
      throw new InvalidGrantError('the authorization code is invalid, expired or already used');
    }
    return String(grant.payload.codeChallenge);
  }

  async exchangeAuthorizationCode(client: OAuthClientInformationFull, code: string, _verifier?: string, redirectUri?: string, resource?: URL): Promise<OAuthTokens> {
    const grant = await this.store.takeGrant(grantKeys.code(code));
    const payload = grant?.payload as (Record<string, unknown> & Partial<CodePayload>) | undefined;
    if (!payload || !isGrantInfo(payload) || payload.clientId !== client.client_id) {
      await this.noticeReplay(code, client.client_id);
      throw new InvalidGrantError('the authorization code is invalid, expired or already used');
    }
    await this.store.putGrant({ key: grantKeys.usedCode(code), payload: { familyId: payload.familyId, userId: payload.userId, resource: payload.resource }, expiresAt: Date.now() + USED_CODE_MEMORY_MS });
    if (redirectUri !== undefined && redirectUri !== payload.redirectUri) throw new InvalidGrantError('redirect_uri differs from the authorization request');
    if (resource !== undefined && !sameResource(resource.href, payload.resource)) {
      throw new InvalidTargetError('resource differs from the authorization request');
    }
    const info = grantInfo(payload);
    const user = await this.store.getUser(info.userId);
    if (!user || user.disabled) throw new UserDisabledError('the user of this grant is disabled or gone');
    if (beforePasswordChange(info, user)) throw new InvalidGrantError('the user\'s password changed since this authorization');
    if (!userMayReach(user, this.tenantOf(info.resource))) throw new InvalidGrantError(WRONG_TENANT_GRANT);
    // The client completed an authorization: it no longer expires as an unused registration.
    await this.store.markOAuthClientUsed(client.client_id, Date.now());
    const tokens = await this.tokens.respond(info, info.scopes, 'new');
    await this.index(client, info, tokens.refresh_token === undefined ? undefined : Date.now() + this.tokens.ttl.refreshMs);
    this.events.emit('tokens-issued', { endpoint: TOKEN, status: 200, clientId: info.clientId, userId: info.userId, resource: info.resource, detail: `tokens issued for an authorization (scope: ${tokens.scope ?? ''})` });
    return tokens;
  }

  async exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    const key = grantKeys.refresh(refreshToken);
    const rotate = client.token_endpoint_auth_method === 'none';
    // Public clients get a new refresh token each time and the old one dies; confidential
    // clients (which authenticate) keep theirs.
    const grant = rotate ? await this.store.takeGrant(key) : await this.store.getGrant(key);
    if (!grant || !isGrantInfo(grant.payload)) {
      const used = await this.store.getGrant(grantKeys.usedRefresh(refreshToken));
      if (used && typeof used.payload.familyId === 'string') {
        const resource = typeof used.payload.resource === 'string' ? used.payload.resource : undefined;
        const userId = typeof used.payload.userId === 'string' ? used.payload.userId : undefined;
        await this.tokens.revokeFamily(used.payload.familyId, userId);
        this.events.emit('refresh-token-reused', { endpoint: TOKEN, status: 400, clientId: client.client_id, userId, resource, detail: 'a rotated refresh token was presented again (stolen, or a client bug); its grant was revoked' });
      }
      throw new InvalidGrantError('the refresh token is invalid, expired or already used');
    }
    const info = grantInfo(grant.payload);
    if (info.clientId !== client.client_id) throw new InvalidGrantError('the refresh token was issued to another client');
    if (rotate) await this.store.putGrant({ key: grantKeys.usedRefresh(refreshToken), payload: { familyId: info.familyId, userId: info.userId, resource: info.resource }, expiresAt: grant.expiresAt });
    const user = await this.store.getUser(info.userId);
    if (!user || user.disabled) {
      await this.tokens.revokeFamily(info.familyId, info.userId);
      throw new InvalidGrantError('the user of this grant is disabled or gone');
    }
    if (beforePasswordChange(info, user)) {
      await this.tokens.revokeFamily(info.familyId, info.userId);
      throw new InvalidGrantError('the user\'s password changed since this grant was made: sign in again');
    }
    // The user or the API moved to another tenant since: the grant ends (tenancy.ts).
    if (!userMayReach(user, this.tenantOf(info.resource))) {
      await this.tokens.revokeFamily(info.familyId, info.userId);
      throw new InvalidGrantError(WRONG_TENANT_GRANT);
    }
    if (resource !== undefined && !sameResource(resource.href, info.resource)) {
      throw new InvalidTargetError('resource differs from the one this grant is for');
    }
    const requested = scopes?.filter((s) => s !== '') ?? info.scopes;
    const extra = requested.filter((s) => !info.scopes.includes(s));
    if (extra.length > 0) throw new InvalidScopeError(`scope ${extra.join(' ')} was not granted`);
    const accessScopes = requested.filter((s) => s !== OFFLINE_ACCESS || info.scopes.includes(OFFLINE_ACCESS));
    const tokens = await this.tokens.respond(info, accessScopes, rotate ? await this.tokens.refreshToken(info) : refreshToken);
    await this.index(client, info, rotate ? Date.now() + this.tokens.ttl.refreshMs : grant.expiresAt);
    this.events.emit('token-refreshed', { endpoint: TOKEN, status: 200, clientId: info.clientId, userId: info.userId, resource: info.resource, detail: `access token refreshed${rotate ? ' (refresh token rotated)' : ''}` });
    return tokens;
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const payload = await this.ownAccessToken(token);
    if (!payload || (await this.denylist.refusal(payload)) !== undefined) throw new InvalidTokenError('invalid access token');
    return {
      token,
      clientId: String(payload.client_id),
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
      ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
      ...(typeof payload.aud === 'string' ? { resource: new URL(payload.aud) } : {}),
      extra: { sub: payload.sub, iss: payload.iss },
    };
  }

  /**
   * RFC 7009. A refresh token ends its grant: it and the access tokens of that grant stop
   * working (§2.1: SHOULD). An access token is put on the denylist until it expires. A token of
   * another client, an unknown or an expired one: nothing to do, and the answer is the same (200).
   */
  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    const grant = await this.store.getGrant(grantKeys.refresh(request.token));
    if (grant) {
      if (grant.payload.clientId !== client.client_id || !isGrantInfo(grant.payload)) return;
      await this.tokens.revokeFamily(grant.payload.familyId, grant.payload.userId);
      await this.store.deleteGrant(grantKeys.refresh(request.token));
      const { userId, resource } = grant.payload;
      this.events.emit('token-revoked', { endpoint: REVOKE, status: 200, clientId: client.client_id, userId, resource, detail: 'refresh token revoked: its grant ended, with its access tokens' });
      return;
    }
    const access = await this.ownAccessToken(request.token);
    if (!access || access.client_id !== client.client_id || typeof access.jti !== 'string' || typeof access.exp !== 'number') return;
    await this.denylist.revokeAccessToken(access.jti, access.exp * 1000);
    const resource = typeof access.aud === 'string' ? access.aud : undefined;
    this.events.emit('token-revoked', { endpoint: REVOKE, status: 200, clientId: client.client_id, userId: access.sub, resource, detail: 'access token revoked' });
  }

  /**
   * The user's index of grants (grants.ts): written at the code exchange, refreshed at each
   * refresh. The admin listener's built-in client is not an application the user authorized.
   */
  private async index(client: OAuthClientInformationFull, info: GrantInfo, refreshExpiresAt: number | undefined): Promise<void> {
    if (info.resource === ADMIN_RESOURCE) return;
    await recordGrant(this.store, info, { clientName: client.client_name, accessExpiresAt: Date.now() + this.tokens.ttl.accessMs, refreshExpiresAt });
  }

  /** The claims of a valid (signed, typed, unexpired) access token of this server, else undefined. */
  private async ownAccessToken(token: string): Promise<Record<string, unknown> & { exp?: number; jti?: string; sub?: string } | undefined> {
    const { verify } = await this.keys();
    try {
      return (await jwtVerify(token, verify, { algorithms: [SIGNING_ALG], typ: ACCESS_TOKEN_TYP, requiredClaims: ['exp', 'jti'] })).payload;
    } catch {
      return undefined;
    }
  }

  /** A code presented again after use: revoke what the first use produced. */
  private async noticeReplay(code: string, clientId: string): Promise<void> {
    const used = await this.store.getGrant(grantKeys.usedCode(code));
    if (!used || typeof used.payload.familyId !== 'string') return;
    const userId = typeof used.payload.userId === 'string' ? used.payload.userId : undefined;
    await this.tokens.revokeFamily(used.payload.familyId, userId);
    const resource = typeof used.payload.resource === 'string' ? used.payload.resource : undefined;
    this.events.emit('code-replayed', { endpoint: TOKEN, status: 400, clientId, userId, resource, detail: 'an authorization code was presented again (intercepted, or a client bug); the tokens it produced were revoked' });
  }
}

function grantInfo(payload: GrantInfo): GrantInfo {
  const { clientId, userId, username, scopes, resource, issuer, familyId, authTime, idp, groups } = payload;
  return {
    clientId,
    userId,
    username,
    scopes: [...scopes],
    resource,
    issuer,
    familyId,
    ...(typeof authTime === 'number' && { authTime }),
    ...(typeof idp === 'string' && { idp }),
    ...(Array.isArray(groups) && { groups: groups.filter((g): g is string => typeof g === 'string') }),
  };
}

/**
 * Whether a grant predates the user's last password change or reset: the person who signed in
 * then may not be the one who holds the account now. A grant without a sign-in time (made
 * before it was recorded) predates any change.
 */
function beforePasswordChange(info: GrantInfo, user: UserRecord): boolean {
  return user.passwordChangedAt !== undefined && (info.authTime ?? 0) < user.passwordChangedAt;
}

