// `auth: { type: oauth-user }`: the credential of one upstream server, chosen per request from
// the caller. An agent acting for a user sends that user's token; one acting for no user is
// refused or served by the configured service user. A user without a token gets a connect link
// (URL-mode elicitation). Tokens are kept in memory after the first read, refreshed before they
// expire (one refresh per user shared by concurrent calls, in the background while the current
// token still serves), and dropped on a 401 so the retry refreshes. Never logged.
import * as oauth from 'oauth4webapi';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../log.ts';
import type { Principal } from '../../auth/principal.ts';
import type { CredentialContext, UpstreamCredentials } from '../../upstream/upstream.ts';
import { GatehouseError } from '../../errors.ts';
import { UrlElicitationRequired } from '../../mcp/url-elicitation.ts';
import { credentialUnavailable } from '../failure.ts';
import type { UserToken, UserTokenStore } from './token-store.ts';
import type { OAuthUserConfig, UpstreamAuthorizationResolver } from './upstream-as.ts';
import type { ConnectTickets } from './connect-ticket.ts';

interface Cached {
  readonly token: UserToken;
  readonly headers: Readonly<Record<string, string>>;
  /** Start a background refresh from here on. */
  readonly refreshAt: number;
  /** Do not send it from here on. */
  readonly useUntil: number;
  /** When it was read from the store: re-read after RECHECK_MS (a revocation by another node or the CLI). */
  readonly readAt: number;
}

/** How long a token is used from memory before the store is read again (in the background). */
const RECHECK_MS = 30_000;

export interface OAuthUserDeps {
  readonly tokens: UserTokenStore;
  readonly resolver: UpstreamAuthorizationResolver;
  readonly tickets: ConnectTickets;
  /** Gatehouse's public base URL for a request (the connect link is absolute). */
  readonly publicBase: (req: IncomingMessage) => string;
  readonly log: Logger;
}

/** The user a principal's calls to a per-user server are made for. */
export function userOf(principal: Principal, config: OAuthUserConfig): string | undefined {
  if (principal.user?.id) return principal.user.id;
  return config.anonymous === 'service' ? config.serviceUser : undefined;
}

export class OAuthUserCredentials implements UpstreamCredentials {
  readonly perUser = true;
  private readonly cache = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<Cached | undefined>>();
  /** Users whose token the upstream refused: the next load refreshes (or asks again). */
  private readonly refused = new Set<string>();
  /** Refreshes done (a metric of sorts; tests read it). */
  refreshes = 0;

  constructor(
    readonly server: string,
    readonly config: OAuthUserConfig,
    private readonly deps: OAuthUserDeps,
  ) {}

  async headers(context?: CredentialContext): Promise<Record<string, string>> {
    if (!context) {
      // A request that acts for nobody (idle-session cleanup, a route that does not carry its
      // caller): no user's token may go out on it.
      throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${this.server}" is called with each user's own token, and this request carries no caller`);
    }
    const user = userOf(context.principal, this.config);
    if (user === undefined) {
      throw new GatehouseError('GH_UPSTREAM_USER_REQUIRED', `Server "${this.server}" is called with each user's own account, and this agent acts for no user; sign in as a user (OAuth or JWT)`);
    }
    const now = Date.now();
    const cached = this.cache.get(user);
    if (cached && !this.refused.has(user) && now < cached.useUntil) {
      const refreshDue = now >= cached.refreshAt && cached.token.refreshToken !== undefined;
      if (refreshDue || now - cached.readAt >= RECHECK_MS) this.load(user, context.req).catch(() => undefined); // logged in load(); the current token still serves
      return cached.headers;
    }
    const loaded = await this.load(user, context.req);
    if (loaded) return loaded.headers;
    if (context.prompt === false) throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${this.server}": user "${user}" has no connection to it (any more)`);
    throw await this.prompt(context, user);
  }

  rejected(context?: CredentialContext): void {
    const user = context && userOf(context.principal, this.config);
    if (user !== undefined) this.refused.add(user);
  }

  /** Forgets what is cached for a user (after a new connection or a revocation). */
  forget(userId: string): void {
    this.cache.delete(userId);
    this.refused.delete(userId);
  }

  /** One load per user at a time: concurrent calls share it (and so one refresh). */
  private load(user: string, req: IncomingMessage): Promise<Cached | undefined> {
    let pending = this.loading.get(user);
    if (!pending) {
      pending = this.read(user, req).finally(() => this.loading.delete(user));
      this.loading.set(user, pending);
    }
    return pending;
  }

  private async read(user: string, req: IncomingMessage): Promise<Cached | undefined> {
    const refused = this.refused.has(user);
    const before = this.cache.get(user);
    let token: UserToken | undefined;
    try {
      token = await this.deps.tokens.get(user, this.server);
    } catch (error) {
      this.deps.log.warn({ server: this.server, user, err: (error as Error).message }, 'could not read the user\'s upstream token');
      throw credentialUnavailable(this.server);
    }
    if (!token) {
      this.forget(user);
      return undefined;
    }
    const now = Date.now();
    // Another node (or the store) may already hold a newer token than the one refused or aging here.
    const newer = before !== undefined && before.token.accessToken !== token.accessToken;
    const timing = cacheTiming(token, this.config.refreshBefore);
    const due = refused ? !newer : now >= timing.refreshAt;
    if (due) {
      if (token.refreshToken === undefined) {
        if (refused || now >= timing.useUntil) {
          await this.drop(user, 'the upstream token expired or was refused and there is no refresh token');
          return undefined;
        }
      } else {
        const refreshed = await this.refresh(user, token, refused || now >= timing.useUntil, req);
        if (refreshed === undefined) return undefined;
        token = refreshed;
      }
    }
    const next = cached(token, this.config.refreshBefore);
    this.cache.set(user, next);
    this.refused.delete(user);
    return next;
  }

  /** A new token from the refresh token; undefined when the grant is gone (the user must connect again). */
  private async refresh(user: string, token: UserToken, needed: boolean, req: IncomingMessage): Promise<UserToken | undefined> {
    const log = this.deps.log;
    const started = Date.now();
    try {
      const up = await this.deps.resolver.resolve(this.deps.publicBase(req), true);
      const response = await oauth.refreshTokenGrantRequest(up.as, up.client, up.clientAuth, token.refreshToken!, { ...up.options(), additionalParameters: { resource: up.resource } });
      const answer = await oauth.processRefreshTokenResponse(up.as, up.client, response);
      const next = tokenOf(answer, up.as.issuer, started, token.refreshToken);
      await this.deps.tokens.put(user, this.server, next);
      this.refreshes++;
      log.debug({ server: this.server, user, expiresIn: answer.expires_in }, 'refreshed a user\'s upstream token');
      return next;
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && (error.error === 'invalid_grant' || error.error === 'invalid_token')) {
        // Another node may have refreshed first (a rotated refresh token is then spent): its token wins.
        const stored = await this.deps.tokens.get(user, this.server).catch(() => undefined);
        if (stored && stored.refreshToken !== token.refreshToken) return stored;
        await this.drop(user, `the upstream refused the refresh token (${error.error})`);
        return undefined;
      }
      log.warn({ server: this.server, user, err: (error as Error).message }, 'could not refresh a user\'s upstream token');
      if (!needed) return token; // still valid for a while: try again on a later call
      throw credentialUnavailable(this.server);
    }
  }

  private async drop(user: string, why: string): Promise<void> {
    this.deps.log.info({ server: this.server, user }, `user's upstream connection ended: ${why}`);
    this.forget(user);
    await this.deps.tokens.delete(user, this.server).catch(() => undefined); // a later load sees the same and tries again
  }

  private async prompt(context: CredentialContext, user: string): Promise<Error> {
    if (context.principal.user?.id === undefined) {
      return new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${this.server}": the service user "${user}" has not connected it yet (gatehouse connections connect ${this.server} --user ${user})`);
    }
    const base = this.deps.publicBase(context.req);
    const ticket = await this.deps.tickets.issue(base, user, this.server, this.config.connectTtl, context.method);
    this.deps.log.info({ server: this.server, user, elicitationId: ticket.id }, 'user has no upstream connection yet: sent a connect link');
    const message = `Connect your account at "${this.server}" to continue: open ${ticket.url} , then retry.`;
    return new UrlElicitationRequired(message, [{ mode: 'url', elicitationId: ticket.id, url: ticket.url, message: `Sign in at "${this.server}" so that Gatehouse can call it for you.` }]);
  }
}

/** The token of a token endpoint answer; the old refresh token is kept when none is given (no rotation). */
export function tokenOf(answer: oauth.TokenEndpointResponse, issuer: string, startedAt: number, previousRefresh?: string): UserToken {
  if (!/^[\x21-\x7e]+$/.test(answer.access_token)) throw new Error('the access token is not a header-safe string');
  return {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token ?? previousRefresh,
    // Counted from before the request was sent, so the token is never thought younger than it is.
    expiresAt: answer.expires_in === undefined ? undefined : startedAt + answer.expires_in * 1000,
    scope: answer.scope,
    issuer,
    obtainedAt: startedAt,
  };
}

/** Longest a token without an expiry is used before it is refreshed (a 401 ends it sooner). */
const DEFAULT_LIFETIME_MS = 3_600_000;

function cacheTiming(token: UserToken, refreshBefore: number): { refreshAt: number; useUntil: number } {
  const obtained = token.obtainedAt ?? Date.now();
  const expires = token.expiresAt ?? obtained + DEFAULT_LIFETIME_MS;
  const lifetime = Math.max(0, expires - obtained);
  // A short-lived token is refreshed half-way, not `refreshBefore` ahead (which may be its whole life).
  return { refreshAt: expires - Math.min(refreshBefore, lifetime / 2), useUntil: expires - Math.min(5_000, lifetime / 10) };
}

function cached(token: UserToken, refreshBefore: number): Cached {
  return { token, headers: Object.freeze({ authorization: `Bearer ${token.accessToken}` }), readAt: Date.now(), ...cacheTiming(token, refreshBefore) };
}
