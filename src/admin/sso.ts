// "Sign in with Gatehouse": the admin listener as an OAuth 2.1 client of the embedded
// authorization server (its built-in client, src/authserver/admin-client.ts). The sign-in page's
// button (POST /oauth/start) opens a flow: a random state and PKCE verifier kept in the store (so
// that any node of a cluster can finish it), under the digest of a cookie given to this browser
// only (HttpOnly, SameSite=Lax so that it
// comes back on the authorization server's redirect, Path=/oauth/callback). The browser signs in
// at the authorization server (its page, its lockout) and comes back to /oauth/callback, where
// the flow is taken (single use, 10 minutes), the state and `iss` compared, the code exchanged
// in-process with the verifier, and the access token verified with jose against the
// authorization server's keys (issuer, audience, type, expiry, client). The user must still be
// enabled and an admin user (admin.users, or an entry in the control store); the admin gets the same session as a password sign-in.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { jwtVerify } from 'jose';
import { InvalidGrantError, OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { Store } from '../store/store.ts';
import type { Logger } from '../log.ts';
import type { AdminSignIn } from '../authserver/admin-exchange.ts';
import { ADMIN_CLIENT_ID, ADMIN_RESOURCE } from '../authserver/admin-client.ts';
import { UserDisabledError } from '../authserver/provider.ts';
import { SIGNING_ALG } from '../authserver/keys.ts';
import { ACCESS_TOKEN_TYP } from '../authserver/tokens.ts';
import type { AdminGrant } from './admin-users.ts';
import type { AdminIdentity } from './auth.ts';

export const FLOW_COOKIE = 'gatehouse_admin_flow';
const FLOW_PATH = '/oauth/callback';
const FLOW_TTL_MS = 10 * 60_000;
/** Store key of a flow: the digest of its cookie. */
const FLOW_KEY = 'admin-flow:';

/** The authorization server as the admin listener reaches it: its admin client, and its URL for this browser. */
export interface SignInServer extends AdminSignIn {
  /** Base URL of the authorization server for a browser that reached the admin listener at `hostname`. */
  base(hostname: string): string;
}

interface Flow {
  readonly state: string;
  readonly verifier: string;
  readonly redirectUri: string;
  readonly issuer: string;
  readonly next: string;
  readonly expires: number;
}

export type SignInOutcome =
  | { ok: true; who: AdminIdentity; next: string }
  | { ok: false; status: 400 | 403; title: string; message: string; reason: string; username?: string | undefined };

export class GatehouseSignIn {
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** A new flow: where to send the browser, and the cookie that binds the flow to it. */
  async begin(server: SignInServer, hostname: string, redirectUri: string, next: string, now = Date.now()): Promise<{ location: string; cookie: string }> {
    const cookie = random();
    const verifier = random();
    const state = random();
    const base = server.base(hostname);
    const flow: Flow = { state, verifier, redirectUri, issuer: server.fixedIssuer ?? base, next, expires: now + FLOW_TTL_MS };
    await this.store.putGrant({ key: `${FLOW_KEY}${digest(cookie)}`, payload: { ...flow }, expiresAt: flow.expires });
    const url = new URL('/oauth/authorize', base);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: ADMIN_CLIENT_ID,
      redirect_uri: redirectUri,
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: ADMIN_RESOURCE,
    }).toString();
    return { location: url.href, cookie };
  }

  /** The callback: the admin it signs in, or why not (a page to show, with its status). */
  async finish(server: SignInServer, cookie: string | undefined, query: URLSearchParams, grantOf: (user: { id: string; username: string }) => Promise<AdminGrant | undefined>, now = Date.now()): Promise<SignInOutcome> {
    // Single use: taken from the store, whatever happens next this flow is over.
    const stored = cookie === undefined ? undefined : await this.store.takeGrant(`${FLOW_KEY}${digest(cookie)}`);
    const flow = stored && flowIn(stored.payload);
    if (!flow || flow.expires <= now) return refusal(400, 'Sign-in expired', 'This sign-in has expired, was already used, or was started in another browser. Start again from the sign-in page.', 'no open sign-in for this browser (expired, used, or another browser)');
    if (!sameText(query.get('state') ?? '', flow.state)) return refusal(400, 'Sign-in refused', 'The answer does not belong to the sign-in this browser started (state mismatch). Start again from the sign-in page.', 'state mismatch');
    // RFC 9207: this authorization server always names itself, so an answer without iss is not its.
    const iss = query.get('iss');
    if (iss !== flow.issuer) return refusal(400, 'Sign-in refused', 'The answer did not come from the authorization server this sign-in was sent to. Start again from the sign-in page.', `issuer ${iss === null ? 'missing' : JSON.stringify(iss.slice(0, 200))}, expected ${flow.issuer}`);
    const error = query.get('error');
    if (error !== null) {
      const denied = error === 'access_denied';
      return refusal(denied ? 403 : 400, 'Sign-in refused', denied ? 'Access was denied at the authorization server.' : `The authorization server refused: ${(query.get('error_description') ?? error).slice(0, 300)}`, `authorization server answered ${error.slice(0, 60)}`);
    }
    const code = query.get('code');
    if (!code) return refusal(400, 'Sign-in refused', 'The answer carries no authorization code. Start again from the sign-in page.', 'no code');

    let accessToken: string;
    try {
      accessToken = (await server.exchange(code, flow.verifier, flow.redirectUri)).access_token;
    } catch (caught) {
      if (caught instanceof UserDisabledError) return refusal(403, 'Account disabled', 'This account is disabled.', 'user disabled');
      if (caught instanceof InvalidGrantError) return refusal(400, 'Sign-in refused', 'The sign-in code is invalid, expired or was already used. Start again from the sign-in page.', `code refused: ${caught.message}`);
      if (caught instanceof OAuthError) return refusal(400, 'Sign-in refused', `The authorization server refused: ${caught.message}`, `token request refused: ${caught.message}`);
      throw caught;
    }
    let subject: string;
    try {
      const { payload } = await jwtVerify(accessToken, server.keys, { issuer: flow.issuer, audience: ADMIN_RESOURCE, algorithms: [SIGNING_ALG], typ: ACCESS_TOKEN_TYP, requiredClaims: ['exp', 'sub'] });
      if (payload.client_id !== ADMIN_CLIENT_ID) throw new Error(`client_id is ${String(payload.client_id)}`);
      subject = payload.sub!;
    } catch (caught) {
      return refusal(400, 'Sign-in refused', 'The token from the authorization server could not be verified.', `token not verified: ${(caught as Error).message}`);
    }
    const user = await this.store.getUser(subject);
    if (!user || user.disabled) return refusal(403, 'Account disabled', 'This account is disabled.', 'user disabled', user?.username);
    const grant = await grantOf(user);
    if (grant === undefined) return refusal(403, 'Not an admin', `You signed in as "${user.username}", who is not an admin user of this Gatehouse (admin.users, or the admin users an owner manages).`, 'not an admin user', user.username);
    return { ok: true, who: { kind: 'user', name: user.username, role: grant.role, ...(grant.tenant !== undefined && { tenant: grant.tenant }) }, next: flow.next };
  }

  /** Set-Cookie for a new flow (path: the callback only). */
  static cookie(value: string, secure: boolean): string {
    return `${FLOW_COOKIE}=${value}; Path=${FLOW_PATH}; HttpOnly; SameSite=Lax; Max-Age=${FLOW_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
  }

  static clearedCookie(): string {
    return `${FLOW_COOKIE}=; Path=${FLOW_PATH}; HttpOnly; SameSite=Lax; Max-Age=0`;
  }
}

function refusal(status: 400 | 403, title: string, message: string, reason: string, username?: string): SignInOutcome {
  return { ok: false, status, title, message, reason, username };
}

function flowIn(payload: Record<string, unknown>): Flow | undefined {
  const { state, verifier, redirectUri, issuer, next, expires } = payload;
  if (typeof state !== 'string' || typeof verifier !== 'string' || typeof redirectUri !== 'string' || typeof issuer !== 'string' || typeof next !== 'string' || typeof expires !== 'number') return undefined;
  return { state, verifier, redirectUri, issuer, next, expires };
}

function random(): string {
  return randomBytes(32).toString('base64url');
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(digest(a), 'hex');
  const y = Buffer.from(digest(b), 'hex');
  return timingSafeEqual(x, y);
}
