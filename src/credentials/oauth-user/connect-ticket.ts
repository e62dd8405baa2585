// The link a user follows to connect an upstream account: /-/connect/<server>?ticket=<sealed>.
// The ticket is sealed (AES-256-GCM under the credentials key) and names the user, the server,
// the request that needed it and an expiry; it is single use through a grant in the store taken
// when the link is opened (any node can redeem it, none twice).
import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/store.ts';
import type { CredentialVault } from '../vault.ts';
import { sealJson, unsealJson } from './sealed-json.ts';

const PURPOSE = 'connect-ticket';
const GRANT_PREFIX = 'oauth-user-ticket:';

interface TicketClaims {
  /** Gatehouse user id. */
  readonly u: string;
  /** Server name. */
  readonly s: string;
  /** Ticket id: the elicitation id, and the single-use grant's key. */
  readonly id: string;
  /** Expiry, ms. */
  readonly exp: number;
  /** The JSON-RPC method of the request that needed the connection (shown on the page). */
  readonly m?: string | undefined;
}

export interface IssuedTicket {
  readonly id: string;
  readonly url: string;
}

export type Redeemed = { ok: true; userId: string; server: string; method: string | undefined } | { ok: false; reason: string };

export class ConnectTickets {
  constructor(
    private readonly store: Store,
    private readonly vault: CredentialVault,
  ) {}

  async issue(base: string, userId: string, server: string, ttlMs: number, method: string | undefined): Promise<IssuedTicket> {
    const key = (await this.vault.key(true))!;
    const id = randomBytes(16).toString('base64url');
    const exp = Date.now() + ttlMs;
    await this.store.putGrant({ key: GRANT_PREFIX + id, payload: { userId, server }, expiresAt: exp });
    const claims: TicketClaims = { u: userId, s: server, id, exp, m: method };
    const ticket = sealJson(key.key, PURPOSE, server, claims);
    return { id, url: `${base}/-/connect/${encodeURIComponent(server)}?ticket=${encodeURIComponent(ticket)}` };
  }

  /** The user a ticket for `server` names, without using it up (undefined when it does not open). */
  async userOf(ticket: string, server: string): Promise<string | undefined> {
    const key = await this.vault.key();
    if (!key) return undefined;
    try {
      const claims = unsealJson(key.key, PURPOSE, server, ticket) as TicketClaims;
      return typeof claims.u === 'string' && claims.s === server ? claims.u : undefined;
    } catch {
      return undefined;
    }
  }

  /** Checks and uses up a ticket for `server`; a reason otherwise (for a 400 page). */
  async redeem(ticket: string, server: string): Promise<Redeemed> {
    const key = await this.vault.key();
    if (!key) return { ok: false, reason: 'this link was not issued here' };
    let claims: TicketClaims;
    try {
      claims = unsealJson(key.key, PURPOSE, server, ticket) as TicketClaims;
    } catch {
      return { ok: false, reason: 'this link is not valid for this server' };
    }
    if (typeof claims.u !== 'string' || typeof claims.id !== 'string' || typeof claims.exp !== 'number' || claims.s !== server) return { ok: false, reason: 'this link is not valid for this server' };
    if (Date.now() > claims.exp) return { ok: false, reason: 'this link has expired; retry the call in your agent for a new one' };
    const grant = await this.store.takeGrant(GRANT_PREFIX + claims.id);
    if (!grant) return { ok: false, reason: 'this link was already used; retry the call in your agent for a new one' };
    return { ok: true, userId: claims.u, server, method: typeof claims.m === 'string' ? claims.m : undefined };
  }
}
