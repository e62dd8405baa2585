// Who may use the admin listener: the holder of the admin token (Authorization: Bearer, or the
// sign-in form), a user of the embedded authorization server listed in admin.users (the sign-in
// form, same password check and throttle as the authorization server's; or "Sign in with
// Gatehouse", sso.ts) with the role admin.users gives it (the token: owner), or, in managed mode,
// one with an entry in the control store (/api/v1/admins), or an API token (api-tokens.ts) with the role it was made with. Nothing
// else: an agent's API key or OAuth token is never looked up here, so it can only fail.
//
// A browser signs in once and gets a session cookie: random, HttpOnly, SameSite=Strict, 12 hours.
// The session is kept in the store under the cookie's SHA-256 (whoever reads the store cannot
// use it), so every node of a cluster sharing the store knows it, a restart keeps it, and
// sign-out on any node ends it everywhere at once. Looked up on each admin request: the admin
// listener's traffic is small, and a cache would keep a signed-out session alive elsewhere. For
// the same reason an admin user's role is looked up again on each request (the user disabled or
// deleted, or their entry removed: the session ends; their role changed: it applies at once).
import type { IncomingMessage } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { Logger } from '../log.ts';
import { checkLogin } from '../authserver/users.ts';
import { LoginThrottle } from '../authserver/throttle.ts';
import { CODE_OUTCOME, hasSecondFactor, type SecondFactor } from '../authserver/second-factor.ts';
import type { AuthEvents } from '../authserver/events.ts';
import type { AdminRole } from '../store/control.ts';
import { looksLikeAdminToken, verifyAdminToken, type AdminTokenLookup } from './api-tokens.ts';
import { resolveAdminGrant, type AdminGrant, type AdminUserEntry, type StoredAdminLookup } from './admin-users.ts';

export interface AdminIdentity {
  /** token: the admin token; user: a listed user; api-token: an API token of the control store. */
  readonly kind: 'token' | 'user' | 'api-token';
  /** "admin-token", the username, or the API token's id. */
  readonly name: string;
  readonly role: AdminRole;
  /** The one tenant this identity sees and changes; undefined: the whole platform. */
  readonly tenant?: string | undefined;
}

const identities = new WeakMap<IncomingMessage, AdminIdentity>();

/** Remembers who sent a request, for handlers that scope their answers (a tenant's admin). */
export function rememberIdentity(req: IncomingMessage, who: AdminIdentity): void {
  identities.set(req, who);
}

/** The identity the admin listener found for this request, if it was remembered. */
export function identityOf(req: IncomingMessage): AdminIdentity | undefined {
  return identities.get(req);
}

/** How an identity is named in change records and audit records. */
export function actorOf(who: AdminIdentity): string {
  return who.kind === 'token' ? 'admin-token' : who.kind === 'user' ? `user:${who.name}` : `token:${who.name}`;
}

export const SESSION_COOKIE = 'gatehouse_admin';
const SESSION_TTL_MS = 12 * 60 * 60_000;
/** Store key of a session: the digest of its cookie. */
const SESSION_KEY = 'admin-session:';
/** Expired sessions (and other grants) are deleted at most this often, on a sign-in. */
const PRUNE_EVERY_MS = 10 * 60_000;
const TOKEN_ADMIN: AdminIdentity = Object.freeze({ kind: 'token', name: 'admin-token', role: 'owner' });
/** Throttle key for token attempts (the throttle counts per name and address). */
const TOKEN_LOGIN = '(admin token)';

export type LoginResult = { ok: true; who: AdminIdentity; cookie: string } | { ok: false; status: 401 | 429; message: string };

export class AdminAuth {
  private readonly tokenDigest: Buffer;
  private prunedAt = 0;
  private readonly throttle = new LoginThrottle();

  constructor(
    token: string,
    private readonly users: readonly AdminUserEntry[],
    private readonly store: Store,
    private readonly log: Logger,
    /** Users with two-factor sign-in give a code with their password. */
    private readonly secondFactor?: SecondFactor,
    /** Where a refused code is recorded (the audit log), as at the authorization server's sign-in. */
    private readonly events?: AuthEvents,
    /** Managed mode: admin users kept in the control store (read late: the control plane is attached after this). */
    private readonly stored: () => StoredAdminLookup | undefined = () => undefined,
  ) {
    this.tokenDigest = digest(token);
  }

  /** Whether admin users may sign in: some are listed in the node file, or (managed mode) may be added through the API. */
  get usersEnabled(): boolean {
    return this.users.length > 0 || this.stored() !== undefined;
  }

  /** The grant of a user of the authorization server, from the node file or the control store. */
  grantOf(user: { readonly id: string; readonly username: string }): Promise<AdminGrant | undefined> {
    return resolveAdminGrant(this.users, this.stored(), user);
  }

  /**
   * The admin behind a request, or undefined. A wrong Authorization header is not rescued by a
   * cookie. `tokens` looks API tokens up (managed mode); without it only the admin token counts.
   */
  async identify(req: IncomingMessage, tokens?: AdminTokenLookup, now = Date.now()): Promise<AdminIdentity | undefined> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
      if (!match) return undefined;
      if (this.isToken(match[1]!)) return TOKEN_ADMIN;
      if (!tokens || !looksLikeAdminToken(match[1]!)) return undefined;
      const record = await verifyAdminToken(match[1]!, tokens, now);
      return record && { kind: 'api-token', name: record.id, role: record.role, ...(record.tenant !== undefined && { tenant: record.tenant }) };
    }
    const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (cookie === undefined) return undefined;
    const session = await this.store.getGrant(sessionKey(cookie));
    if (!session || session.expiresAt <= now) return undefined;
    const who = identityIn(session.payload);
    if (who?.kind !== 'user') return who;
    // The user's role as it is now (a stored entry may have changed since the sign-in).
    const user = await this.store.getUserByName(who.name);
    const grant = user && !user.disabled ? await this.grantOf(user) : undefined;
    return grant && { kind: 'user', name: who.name, role: grant.role, ...(grant.tenant !== undefined && { tenant: grant.tenant }) };
  }

  /** Sign-in with the token, or with a listed user's name and password. */
  async login(form: URLSearchParams, address: string): Promise<LoginResult> {
    const username = form.get('username') ?? '';
    const byUser = username !== '';
    const throttleName = byUser ? username : TOKEN_LOGIN;
    const wait = this.throttle.blockedFor(throttleName, address);
    if (wait > 0) {
      this.log.warn({ username: byUser ? username.slice(0, 64) : undefined, address }, 'admin: sign-in throttled after repeated failures');
      return { ok: false, status: 429, message: `Too many failed attempts. Try again in ${Math.ceil(wait / 60_000)} minutes.` };
    }
    let who: AdminIdentity | undefined;
    if (byUser) {
      const password = form.get('password') ?? '';
      // Users not listed are checked all the same, so that the answer takes as long.
      const user = await checkLogin(this.store, username, password);
      const grant = user ? await this.grantOf(user) : undefined;
      // A user with two-factor sign-in gives the code in the same form; a wrong one is a failed sign-in.
      const second = user && grant && hasSecondFactor(user) ? ((await this.secondFactor?.check(user, form.get('code') ?? '')) ?? 'unavailable') : 'ok';
      if (second !== 'ok') {
        const detail = `admin sign-in of ${user!.username} refused: the second-factor code was ${CODE_OUTCOME[second]}`;
        if (this.events) this.events.emit('second-factor-refused', { endpoint: '/login', status: 401, userId: user!.id, address, detail });
        else this.log.warn({ username: user!.username, address, outcome: second }, 'admin: sign-in refused, the second-factor code was wrong, used before or could not be checked');
      }
      if (user && grant && second === 'ok') who = { kind: 'user', name: user.username, role: grant.role, ...(grant.tenant !== undefined && { tenant: grant.tenant }) };
    } else if (this.isToken(form.get('token') ?? '')) {
      who = TOKEN_ADMIN;
    }
    if (!who) {
      this.throttle.fail(throttleName, address);
      this.log.info({ username: byUser ? username.slice(0, 64) : undefined, address }, 'admin: sign-in refused');
      return { ok: false, status: 401, message: byUser ? 'Unknown user, wrong password or code, or not an admin user.' : 'That is not the admin token.' };
    }
    this.throttle.succeed(throttleName, address);
    this.log.info({ admin: who.name, address }, 'admin: signed in');
    return { ok: true, who, cookie: await this.openSession(who) };
  }

  /** A session for an admin who signed in elsewhere (through the authorization server, sso.ts). */
  signedIn(who: AdminIdentity, address: string, method: string): Promise<string> {
    this.log.info({ admin: who.name, role: who.role, method, address }, 'admin: signed in');
    return this.openSession(who);
  }

  async logout(req: IncomingMessage): Promise<void> {
    const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (cookie !== undefined) await this.store.deleteGrant(sessionKey(cookie));
  }

  private async openSession(who: AdminIdentity, now = Date.now()): Promise<string> {
    if (now - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = now;
      await this.store.pruneGrants(now).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'admin: could not delete expired sessions'));
    }
    const cookie = randomBytes(32).toString('base64url');
    const stored: AdminIdentity = { kind: who.kind, name: who.name, role: who.role, ...(who.tenant !== undefined && { tenant: who.tenant }) };
    await this.store.putGrant({ key: sessionKey(cookie), payload: { who: stored }, expiresAt: now + SESSION_TTL_MS });
    return cookie;
  }

  private isToken(candidate: string): boolean {
    // Digests have the same length whatever was sent: a constant-time comparison without a length leak.
    return timingSafeEqual(digest(candidate), this.tokenDigest);
  }
}

/** Set-Cookie value for a new session (Secure when the browser reached us over https through a proxy). */
export function sessionCookie(value: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

function sessionKey(cookie: string): string {
  return `${SESSION_KEY}${digest(cookie).toString('hex')}`;
}

const ROLES: ReadonlySet<string> = new Set<AdminRole>(['owner', 'admin', 'viewer']);

/** The identity a stored session holds; undefined for anything else under that key. */
function identityIn(payload: Record<string, unknown>): AdminIdentity | undefined {
  const who = payload.who as Record<string, unknown> | undefined;
  if (typeof who !== 'object' || who === null) return undefined;
  const { kind, name, role, tenant } = who;
  if ((kind !== 'token' && kind !== 'user' && kind !== 'api-token') || typeof name !== 'string' || typeof role !== 'string' || !ROLES.has(role)) return undefined;
  if (tenant !== undefined && typeof tenant !== 'string') return undefined;
  return { kind, name, role: role as AdminRole, ...(tenant !== undefined && { tenant }) };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
