// Connecting upstream accounts as part of signing in. An API whose servers want each user's own
// upstream token (`auth: { type: oauth-user }`) cannot serve a user who has not connected them;
// desktop clients (and mcp-remote) treat a prompt on their first `initialize` as fatal, so the
// moment to connect is the sign-in they are already in. After the person allows the client, the
// browser goes to each such server's authorization in turn (/oauth/connect-upstream) and only
// then back to the client with its code: the code is made at the end of the chain, so it is as
// fresh as any other (codes live a minute; an upstream sign-in may take longer).
//
// The chain is a short-lived record in the store, named by a random id in the URL and bound to
// the browser that consented by an HttpOnly cookie whose digest the record keeps (as interactions
// are, interaction.ts): a chain link opened in another browser does nothing. A server whose
// authorization fails or is declined is skipped: the client still gets its code, and the person
// is asked again (the connect prompt) on the first call that needs that server.
import type { Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store, UserRecord } from '../store/store.ts';
import type { Logger } from '../log.ts';
import { randomToken, sha256 } from './clients.ts';
import { sendErrorPage } from './pages.ts';
import { readCookie, type Interaction } from './interaction.ts';

export const CONNECT_UPSTREAM = '/oauth/connect-upstream';
const COOKIE = 'gatehouse_connect_chain';
const chainKey = (id: string) => `connect-chain:${id}`;
/** How long the whole chain may take: a few upstream sign-ins. */
const CHAIN_TTL_MS = 15 * 60_000;

/** What the gateway's per-user upstream connections (src/credentials/oauth-user/) offer sign-in. */
export interface UpstreamAccounts {
  /** Of `servers`, those this user is to connect at sign-in (per-user, not connected yet), in order. */
  unconnected(userId: string, servers: readonly string[]): Promise<string[]>;
  /**
   * Sends the browser to `server`'s authorization for this user; whatever the outcome, it comes
   * back to `returnTo` (a path of this origin) once the upstream has answered.
   */
  begin(req: IncomingMessage, res: ServerResponse, userId: string, server: string, returnTo: string): Promise<void>;
}

interface ChainRecord {
  interaction: Interaction;
  userId: string;
  servers: string[];
  cookieHash: string;
}

function isChain(payload: Record<string, unknown>): payload is Record<string, unknown> & ChainRecord {
  return typeof payload.userId === 'string' && Array.isArray(payload.servers) && typeof payload.cookieHash === 'string' && typeof payload.interaction === 'object' && payload.interaction !== null;
}

export class SignInConnections {
  constructor(
    private readonly store: Store,
    private readonly accounts: UpstreamAccounts,
    /** The servers of the API a resource names (none for what is no API). */
    private readonly serversOf: (resource: string) => readonly string[],
    private readonly log: Logger,
  ) {}

  /** The servers this user will be asked to connect after allowing this authorization. */
  pending(interaction: Interaction, userId: string): Promise<string[]> {
    const servers = this.serversOf(interaction.resource);
    return servers.length === 0 ? Promise.resolve([]) : this.accounts.unconnected(userId, servers);
  }

  /** Starts the chain for an approved authorization: the browser goes to the first server. */
  async start(res: Response, interaction: Interaction, user: UserRecord, servers: readonly string[]): Promise<void> {
    const id = randomToken(24);
    const secret = randomToken(32);
    const record: ChainRecord = { interaction, userId: user.id, servers: [...servers], cookieHash: sha256(secret) };
    await this.store.putGrant({ key: chainKey(id), payload: { ...record }, expiresAt: Date.now() + CHAIN_TTL_MS });
    res.cookie(COOKIE, secret, { httpOnly: true, sameSite: 'lax', path: CONNECT_UPSTREAM, maxAge: CHAIN_TTL_MS, secure: interaction.issuer.startsWith('https:') });
    this.log.info({ client: interaction.clientId, userId: user.id, servers }, 'authorization server: the user connects upstream accounts before the client gets its code');
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, `${CONNECT_UPSTREAM}?chain=${id}`);
  }

  /**
   * GET /oauth/connect-upstream?chain=…: the next server's authorization, or, with none left, the
   * end of the chain: `finish` answers the client (its code).
   */
  async next(req: Request, res: Response, finish: (res: Response, interaction: Interaction, user: UserRecord) => Promise<void>): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    const id = typeof req.query.chain === 'string' ? req.query.chain : '';
    const grant = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await this.store.getGrant(chainKey(id)) : undefined;
    if (!grant || !isChain(grant.payload)) return sendErrorPage(res, 400, 'Request expired', 'This sign-in has expired or was already completed. Start again from your application.');
    const chain = grant.payload;
    const cookie = readCookie(req, COOKIE);
    if (cookie === undefined || sha256(cookie) !== chain.cookieHash) {
      return sendErrorPage(res, 403, 'Wrong browser', 'This sign-in was started in another browser (or its cookie has expired). Start again from your application, in this browser.');
    }
    const user = await this.store.getUser(chain.userId);
    if (!user || user.disabled) {
      await this.store.deleteGrant(chainKey(id));
      return sendErrorPage(res, 400, 'Not signed in', 'Sign in before answering. Start again from your application.');
    }
    const [server, ...rest] = chain.servers;
    if (server !== undefined) {
      await this.store.putGrant({ key: chainKey(id), payload: { ...chain, servers: rest }, expiresAt: grant.expiresAt });
      return this.accounts.begin(req, res, user.id, server, `${CONNECT_UPSTREAM}?chain=${id}`);
    }
    // Single use: the code is made once, for the browser that finishes first.
    if (!(await this.store.takeGrant(chainKey(id)))) return sendErrorPage(res, 400, 'Request expired', 'This sign-in was already completed.');
    res.clearCookie(COOKIE, { path: CONNECT_UPSTREAM });
    await finish(res, chain.interaction, user);
  }
}
