// Per-user upstream OAuth, the whole of it for a running Gatehouse: the credential source of each
// `auth: oauth-user` server (kept across reloads while its definition is unchanged), the connect
// routes (/-/connect/<server>, /-/connect/callback, /-/oauth-client.json), and what users and
// admins do with connections: list them, revoke one (also upstream, RFC 7009), end all of a user's.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oauth from 'oauth4webapi';
import type { EgressRule } from '../../upstream/egress.ts';
import type { Store } from '../../store/store.ts';
import type { Logger } from '../../log.ts';
import type { RouteHandler } from '../../http/routes.ts';
import type { CredentialVault } from '../vault.ts';
import { UserTokenStore, type ConnectionSummary, type UserToken } from './token-store.ts';
import { ConnectTickets } from './connect-ticket.ts';
import { UpstreamAuthorizationResolver, callbackUrl, clientMetadataUrl, type OAuthUserConfig, type UpstreamAuthorization } from './upstream-as.ts';
import { OAuthUserCredentials, tokenOf } from './user-credentials.ts';
import { sendConnectError, sendConnected } from './connect-pages.ts';
import { CONNECTIONS_PAGE, ConnectionsPage } from './connections-page.ts';
import type { UpstreamAccounts } from '../../authserver/sign-in-connections.ts';
import { END_SESSION_PAGE } from '../../authserver/end-session.ts';
import type { EndSessionHooks } from '../../authserver/index.ts';

const FLOW_PREFIX = 'oauth-user-flow:';

interface ServerEntry {
  readonly definition: string;
  readonly url: string;
  readonly resolver: UpstreamAuthorizationResolver;
  readonly credentials: OAuthUserCredentials;
}

export interface RevokeOutcome {
  /** A connection was there and is gone. */
  readonly deleted: boolean;
  /** Whether the upstream's RFC 7009 endpoint took the token; undefined when not tried (none advertised, nothing to revoke). */
  readonly revokedUpstream: boolean | undefined;
}

export class UserConnections implements UpstreamAccounts {
  readonly tokens: UserTokenStore;
  readonly tickets: ConnectTickets;
  private readonly servers = new Map<string, ServerEntry>();
  private page: ConnectionsPage | undefined;
  /** The public base URL of a request; set with each config (publicUrl, trustProxy). */
  private base: (req: IncomingMessage) => string = () => {
    throw new Error('no public base URL yet');
  };

  constructor(
    private readonly store: Store,
    private readonly vault: CredentialVault,
    private readonly log: Logger,
    /** Gatehouse's base URL when there is no request (revocation from the API or CLI). */
    private readonly defaultBase: () => string,
  ) {
    this.tokens = new UserTokenStore(store, vault);
    this.tickets = new ConnectTickets(store, vault);
  }

  setPublicBase(base: (req: IncomingMessage) => string): void {
    this.base = base;
  }

  /** The credential source of a per-user server. */
  forServer(server: string, url: string, config: OAuthUserConfig, egress?: EgressRule): OAuthUserCredentials {
    const definition = JSON.stringify({ url, config, egress: egress?.key });
    const existing = this.servers.get(server);
    if (existing?.definition === definition) return existing.credentials;
    const log = this.log.child({ server });
    const resolver = new UpstreamAuthorizationResolver(server, url, config, this.store, this.vault, log, egress);
    const credentials = new OAuthUserCredentials(server, config, { tokens: this.tokens, resolver, tickets: this.tickets, publicBase: (req) => this.base(req), log });
    this.servers.set(server, { definition, url, resolver, credentials });
    return credentials;
  }

  /** Forgets servers no longer configured with oauth-user (their stored tokens stay until revoked). */
  retain(servers: ReadonlySet<string>): void {
    for (const name of this.servers.keys()) if (!servers.has(name)) this.servers.delete(name);
  }

  has(server: string): boolean {
    return this.servers.has(server);
  }

  list(userId?: string): Promise<ConnectionSummary[]> {
    return this.tokens.list(userId);
  }

  /** Of `servers`, the per-user ones connected at sign-in (`connectAtSignIn`) that this user has not connected. */
  async unconnected(userId: string, servers: readonly string[]): Promise<string[]> {
    const wanted = servers.filter((server) => this.servers.get(server)?.credentials.config.connectAtSignIn === true);
    if (wanted.length === 0) return [];
    const connected = new Set((await this.tokens.list(userId)).map((c) => c.server));
    return wanted.filter((server) => !connected.has(server));
  }

  /**
   * Sign-in's step for one server (src/authserver/sign-in-connections.ts): the browser, already
   * proven to be the user's, goes to the upstream's authorization and comes back to `returnTo`
   * whatever the outcome (a server that cannot be used now is asked for again on a call).
   */
  async begin(req: IncomingMessage, res: ServerResponse, userId: string, server: string, returnTo: string): Promise<void> {
    const base = this.base(req);
    const entry = this.servers.get(server);
    try {
      if (entry) return await this.authorize(res, entry, server, userId, base, returnTo);
    } catch (error) {
      this.log.warn({ server, user: userId, err: (error as Error).message }, 'connecting an upstream account at sign-in failed; the user is asked again on a call');
    }
    seeOther(res, `${base}${returnTo}`);
  }

  /** Deletes a user's connection to a server and revokes its tokens upstream where the server supports RFC 7009. */
  async revoke(userId: string, server: string): Promise<RevokeOutcome> {
    const { deleted, token } = await this.tokens.delete(userId, server);
    const entry = this.servers.get(server);
    entry?.credentials.forget(userId);
    if (!deleted) return { deleted: false, revokedUpstream: undefined };
    this.log.info({ server, user: userId }, 'user\'s upstream connection revoked');
    if (!token || !entry) return { deleted, revokedUpstream: undefined };
    return { deleted, revokedUpstream: await this.revokeUpstream(entry, server, token) };
  }

  /** Ends every connection of a user (a disabled user). */
  async revokeUser(userId: string): Promise<number> {
    let count = 0;
    for (const connection of await this.tokens.list(userId)) {
      if ((await this.revoke(userId, connection.server)).deleted) count++;
    }
    return count;
  }

  private async revokeUpstream(entry: ServerEntry, server: string, token: UserToken): Promise<boolean | undefined> {
    let up: UpstreamAuthorization;
    try {
      up = await entry.resolver.resolve(this.defaultBase(), true);
    } catch (error) {
      this.log.warn({ server, err: (error as Error).message }, 'could not reach the upstream authorization server to revoke a token');
      return false;
    }
    if (!up.as.revocation_endpoint || up.as.issuer !== token.issuer) return undefined;
    // The refresh token first: revoking it ends the grant (and, at most servers, its access tokens).
    const tokens: Array<[string, string]> = token.refreshToken !== undefined ? [[token.refreshToken, 'refresh_token'], [token.accessToken, 'access_token']] : [[token.accessToken, 'access_token']];
    let accepted = false;
    for (const [value, hint] of tokens) {
      try {
        await oauth.processRevocationResponse(await oauth.revocationRequest(up.as, up.client, up.clientAuth, value, { ...up.options(), additionalParameters: { token_type_hint: hint } }));
        accepted = true;
      } catch (error) {
        // RFC 7009 §2.2.1: a server may not revoke some kinds (e.g. self-contained JWT access tokens).
        if (error instanceof oauth.ResponseBodyError && error.error === 'unsupported_token_type' && accepted) continue;
        this.log.warn({ server, tokenType: hint, err: (error as Error).message }, 'the upstream did not accept the token revocation');
        return false;
      }
    }
    return accepted;
  }

  /**
   * /-/connections: the page where users of the embedded authorization server see and revoke
   * their connections and the grants they gave to applications; and /-/end-session, where a
   * client's sign-out request ends the page's session (the authorization server's
   * /oauth/end-session sends the browser there). `auth` is the authorization server of the
   * config in force.
   */
  pageRoutes(auth: EndSessionHooks): Array<[string, RouteHandler]> {
    this.page ??= new ConnectionsPage(this.store, this.vault, this, this.log);
    const page = this.page;
    page.setAuthorizationServer(auth);
    const secure = (req: IncomingMessage) => this.base(req).startsWith('https:');
    return [
      [CONNECTIONS_PAGE, (req, res) => page.handle(req, res, secure(req))],
      [END_SESSION_PAGE, (req, res) => page.endSession(req, res, secure(req))],
    ];
  }

  /** The listener routes of the connect flow and of Gatehouse's client metadata document. */
  routes(): Array<[string, RouteHandler]> {
    return [
      ['/-/connect/*', (req, res, path) => this.serveConnect(req, res, path)],
      ['/-/oauth-client.json', (req, res) => this.serveClientMetadata(req, res)],
    ];
  }

  private serveClientMetadata(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const base = this.base(req);
    const body = JSON.stringify({
      client_id: clientMetadataUrl(base),
      client_name: 'Gatehouse',
      client_uri: base,
      redirect_uris: [callbackUrl(base)],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'max-age=300', 'access-control-allow-origin': '*' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private async serveConnect(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const base = this.base(req);
    const url = new URL(req.url ?? '/', base);
    const rest = path.slice('/-/connect/'.length);
    try {
      if (rest === 'callback') return await this.callback(res, url);
      let server: string;
      try {
        server = decodeURIComponent(rest);
      } catch {
        return sendConnectError(res, 400, 'Invalid link', 'This connect link is malformed.');
      }
      return await this.start(req, res, server, url, base);
    } catch (error) {
      this.log.warn({ path: '/-/connect', err: (error as Error).message }, 'connecting an upstream account failed');
      if (!res.headersSent) sendConnectError(res, 502, 'Could not connect', `The upstream authorization server could not be used: ${(error as Error).message}`);
    }
  }

  /** /-/connect/<server>?ticket=…: redeems the ticket and sends the browser to the upstream's authorization endpoint. */
  private async start(req: IncomingMessage, res: ServerResponse, server: string, url: URL, base: string): Promise<void> {
    const entry = this.servers.get(server);
    const ticket = url.searchParams.get('ticket');
    if (!entry || !ticket) return sendConnectError(res, 400, 'Invalid link', 'This connect link is incomplete or names no server that Gatehouse connects per user.');
    // A user of the embedded authorization server proves who opens the link: otherwise whoever
    // got hold of it would connect their own upstream account to this user.
    // (The page is served, and its users are the store's, when the embedded authorization server is on.)
    const named = this.page && (await this.tickets.userOf(ticket, server));
    if (this.page && named !== undefined && (await this.store.getUser(named)) !== undefined) {
      const signedIn = await this.page.signedInUser(req);
      if (signedIn === undefined) {
        res.writeHead(303, { location: `${CONNECTIONS_PAGE}?next=${encodeURIComponent(url.pathname + url.search)}`, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
        return;
      }
      if (signedIn !== named) return sendConnectError(res, 403, 'Another account', 'This link was issued to another Gatehouse user. Sign out on /-/connections and sign in as the user your agent acts for.');
    }
    const redeemed = await this.tickets.redeem(ticket, server);
    if (!redeemed.ok) return sendConnectError(res, 400, 'Invalid link', redeemed.reason);
    await this.authorize(res, entry, server, redeemed.userId, base, undefined);
  }

  /** Sends the browser to the upstream's authorization endpoint for this user (PKCE, state, resource). */
  private async authorize(res: ServerResponse, entry: ServerEntry, server: string, userId: string, base: string, returnTo: string | undefined): Promise<void> {
    const up = await entry.resolver.resolve(base);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    await this.store.putGrant({
      key: FLOW_PREFIX + digest(state),
      payload: { userId, server, verifier, base, ...(returnTo !== undefined && { returnTo }) },
      expiresAt: Date.now() + entry.credentials.config.connectTtl,
    });
    const target = new URL(up.as.authorization_endpoint!);
    target.searchParams.set('response_type', 'code');
    target.searchParams.set('client_id', up.client.client_id);
    target.searchParams.set('redirect_uri', up.redirectUri);
    target.searchParams.set('state', state);
    target.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    target.searchParams.set('code_challenge_method', 'S256');
    target.searchParams.set('resource', up.resource);
    if (up.scopes.length > 0) target.searchParams.set('scope', up.scopes.join(' '));
    this.log.info({ server, user: userId, atSignIn: returnTo !== undefined }, 'user sent to the upstream authorization server');
    res.writeHead(302, { location: target.href, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
  }

  /** /-/connect/callback?code&state[&iss]: the flow is taken (single use), the code exchanged, the token sealed. */
  private async callback(res: ServerResponse, url: URL): Promise<void> {
    const state = url.searchParams.get('state');
    if (!state) return sendConnectError(res, 400, 'Invalid answer', 'The authorization server\'s answer carries no state.');
    const flow = await this.store.takeGrant(FLOW_PREFIX + digest(state));
    if (!flow) return sendConnectError(res, 400, 'Invalid answer', 'This answer is unknown, expired or was already used; retry the call in your agent for a new link.');
    const { userId, server, verifier, base, returnTo } = flow.payload as { userId: string; server: string; verifier: string; base: string; returnTo?: string };
    // At sign-in the chain goes on whatever happened here: the page would stop it.
    const done = returnTo === undefined ? undefined : () => seeOther(res, `${base}${returnTo}`);
    const entry = this.servers.get(server);
    if (!entry) return done ? done() : sendConnectError(res, 400, 'Invalid answer', `Server "${server}" is no longer connected per user.`);
    const up = await entry.resolver.resolve(base);
    let params: URLSearchParams;
    try {
      // Checks state, the RFC 9207 `iss` where the server offers it, and turns an error answer into a throw.
      params = oauth.validateAuthResponse(up.as, up.client, url.searchParams, state);
    } catch (error) {
      const reason = error instanceof oauth.AuthorizationResponseError ? `${error.error}${error.error_description ? `: ${error.error_description}` : ''}` : (error as Error).message;
      this.log.info({ server, user: userId, reason }, 'upstream authorization refused or invalid');
      return done ? done() : sendConnectError(res, 400, 'Not connected', `The authorization at "${server}" did not complete (${reason}).`);
    }
    const started = Date.now();
    let token: UserToken;
    try {
      const response = await oauth.authorizationCodeGrantRequest(up.as, up.client, up.clientAuth, params, up.redirectUri, verifier, { ...up.options(), additionalParameters: { resource: up.resource } });
      token = tokenOf(await oauth.processAuthorizationCodeResponse(up.as, up.client, response), up.as.issuer, started);
    } catch (error) {
      const reason = error instanceof oauth.ResponseBodyError ? error.error : (error as Error).message;
      this.log.warn({ server, user: userId, reason }, 'upstream token request failed');
      return done ? done() : sendConnectError(res, 502, 'Not connected', `"${server}" did not give a token (${reason}).`);
    }
    await this.tokens.put(userId, server, token);
    entry.credentials.forget(userId);
    this.log.info({ server, user: userId, atSignIn: done !== undefined }, 'user connected an upstream account');
    if (done) return done();
    sendConnected(res, server);
  }
}

/** Back to sign-in's chain (sign-in-connections.ts), never cached, nothing sent on as a Referer. */
function seeOther(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
