// /-/connections: a small page where a user of the embedded authorization server signs in with
// their Gatehouse password (and code, with two-factor sign-in on), sees which upstream servers
// their account is connected to, and revokes a connection; and manages their account: changes
// their password, turns two-factor sign-in (TOTP) on or off. No scripts. Forms carry a double-submit CSRF token (field = cookie);
// the signed-in state is a sealed cookie (user id and expiry, 15 minutes, HttpOnly,
// SameSite=Strict, path /-/, so that a connect link can ask who is signed in); sign-in failures are
// throttled as on the sign-in page, and so are wrong current passwords and codes. A session
// from before the user's last password change no longer counts (as the authorization server's
// grants from before it do not). A connect link of a user of the embedded authorization server
// sends an unsigned-in browser here first (`next`), and back once signed in.
// The page also lists the grants the user gave to applications (MCP clients) at the embedded
// authorization server, each with a Revoke button (src/authserver/grants.ts); and
// /-/end-session is where a client's sign-out request (RP-initiated logout, /oauth/end-session)
// lands: a confirmation, then the session ends, in every browser (a per-user "sessions ended at"
// record refuses sealed sessions made before it, as the page's own Sign out does), and, if
// ticked, the client's grants too.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store, UserRecord } from '../../store/store.ts';
import type { Logger } from '../../log.ts';
import type { CredentialVault } from '../vault.ts';
import { checkLogin, setPassword, UserInputError } from '../../authserver/users.ts';
import { CODE_OUTCOME, hasSecondFactor, SecondFactor, type CodeCheck, type Enrolment } from '../../authserver/second-factor.ts';
import { LoginThrottle } from '../../authserver/throttle.ts';
import { escapeHtml } from '../../authserver/pages.ts';
import { sealJson, unsealJson } from './sealed-json.ts';
import { sendHtml as sendConnectHtml } from './connect-pages.ts';
import type { UserConnections } from './connections.ts';
import type { EndSessionHooks } from '../../authserver/index.ts';
import { END_SESSION_PAGE, endSessionParams, type EndSessionParams } from '../../authserver/end-session.ts';
import { withParams } from '../../authserver/redirects.ts';
import type { UserGrant } from '../../authserver/grants.ts';

/**
 * The pages' HTML. Referrer-Policy same-origin, not the connect pages' no-referrer: under
 * no-referrer a browser sends `Origin: null` with the page's own form posts, which the listener's
 * Origin check refuses (403), so no form of the page worked in a browser.
 */
function sendHtml(res: ServerResponse, status: number, title: string, body: string, extraHeaders: Record<string, string | string[]> = {}): void {
  sendConnectHtml(res, status, title, body, { ...extraHeaders, 'referrer-policy': 'same-origin' });
}

export const CONNECTIONS_PAGE = '/-/connections';
const CSRF_COOKIE = 'gh_connections_csrf';
const SESSION_COOKIE = 'gh_connections';
const SESSION_MS = 15 * 60_000;
const MAX_FORM_BYTES = 8 * 1024;
const PURPOSE = 'connections-page';
/** When the user's page sessions were ended (end-session): sessions made before are refused. */
const sessionsEndedKey = (userId: string) => `sessions-ended:${userId}`;

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** Where to go after signing in: only a connect link of this Gatehouse (a path, never another site). */
function nextOf(value: string | null | undefined): string | undefined {
  return typeof value === 'string' && value.startsWith('/-/connect/') && !value.includes('\\') && value.length <= 4096 ? value : undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** What a signed-in page shows besides the list: a message, a pending TOTP enrolment. */
interface Shown {
  error?: string | undefined;
  notice?: string | undefined;
  enrolment?: Enrolment | undefined;
}

export class ConnectionsPage {
  private readonly throttle = new LoginThrottle();
  private readonly secondFactor: SecondFactor;
  private auth: EndSessionHooks | undefined;

  constructor(
    private readonly store: Store,
    private readonly vault: CredentialVault,
    private readonly connections: UserConnections,
    private readonly log: Logger,
  ) {
    this.secondFactor = new SecondFactor(store, vault);
  }

  /** The authorization server of the config in force (its grants, clients and events). */
  setAuthorizationServer(auth: EndSessionHooks): void {
    this.auth = auth;
  }

  /** The request's cookies, its CSRF token (a new one is set when it has none) and the cookie flags. */
  private prelude(req: IncomingMessage, secure: boolean): { jar: Map<string, string>; csrf: string; setCookies: string[]; flags: string } {
    const jar = cookies(req);
    let csrf = jar.get(CSRF_COOKIE);
    const setCookies: string[] = [];
    const flags = `HttpOnly; SameSite=Strict; Path=/-/${secure ? '; Secure' : ''}`;
    if (!csrf || !/^[A-Za-z0-9_-]{43}$/.test(csrf)) {
      csrf = randomBytes(32).toString('base64url');
      setCookies.push(`${CSRF_COOKIE}=${csrf}; ${flags}`);
    }
    return { jar, csrf, setCookies, flags };
  }

  async handle(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
    const { jar, csrf, setCookies, flags } = this.prelude(req, secure);
    const next = nextOf(new URL(req.url ?? '/', 'http://gatehouse.invalid').searchParams.get('next'));
    const user = await this.signedIn(jar.get(SESSION_COOKIE));
    const userId = user?.id;
    if (req.method === 'GET' || req.method === 'HEAD') {
      return this.render(res, 200, csrf, user, user ? { enrolment: await this.secondFactor.pending(user).catch(() => undefined) } : undefined, setCookies, next);
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return;
    }
    const form = await readForm(req);
    if (!form) return this.render(res, 413, csrf, user, { error: 'The form is too large.' }, setCookies);
    const posted = form.get('csrf') ?? '';
    if (!jar.get(CSRF_COOKIE) || !same(posted, jar.get(CSRF_COOKIE)!)) return this.render(res, 403, csrf, undefined, { error: 'This form expired or came from elsewhere; try again.' }, setCookies);
    const action = form.get('action');
    if (action === 'signin') {
      const username = (form.get('username') ?? '').slice(0, 128);
      const address = req.socket.remoteAddress ?? '';
      if (this.throttle.blockedFor(username, address) > 0) return this.render(res, 429, csrf, undefined, { error: 'Too many failed attempts. Try again later.' }, setCookies);
      const found = await checkLogin(this.store, username, form.get('password') ?? '');
      // With two-factor sign-in on, the code is part of the same form; the answer to a wrong
      // one is the same as to a wrong password.
      const outcome = found && hasSecondFactor(found) ? await this.secondFactor.check(found, form.get('code') ?? '') : 'ok';
      if (!found || outcome !== 'ok') {
        this.throttle.fail(username, address);
        if (found) this.refusedCode(found, address, outcome as Exclude<CodeCheck, 'ok'>, 'sign-in');
        else this.log.info({ username: username.slice(0, 64), address }, 'connections page: failed sign-in');
        return this.render(res, 401, csrf, undefined, { error: 'Wrong username, password or code.' }, setCookies);
      }
      this.throttle.succeed(username, address);
      setCookies.push(await this.sessionCookie(found.id, Date.now(), flags));
      return this.seeOther(res, setCookies, nextOf(form.get('next')));
    }
    if (action === 'signout') {
      // Over on the server too, as at /-/end-session: a copy of the cookie no longer signs in.
      if (user) await this.endSessions(user.id);
      setCookies.push(`${SESSION_COOKIE}=; ${flags}; Max-Age=0`);
      return this.seeOther(res, setCookies);
    }
    if (!user || !userId) return this.render(res, 401, csrf, undefined, { error: 'Sign in first.' }, setCookies);
    if (action === 'password' || action === 'totp-off' || action === 'totp-confirm') {
      return this.account(req, res, action, form, user, csrf, setCookies, flags);
    }
    if (action === 'totp-start') {
      if (hasSecondFactor(user)) return this.render(res, 409, csrf, user, { error: 'Two-factor sign-in is already on. Turn it off first to set up another app.' }, setCookies);
      return this.render(res, 200, csrf, user, { enrolment: await this.secondFactor.begin(user) }, setCookies);
    }
    if (action === 'revoke') {
      const server = form.get('server') ?? '';
      const outcome = await this.connections.revoke(userId, server);
      this.log.info({ user: userId, server, deleted: outcome.deleted }, 'user revoked an upstream connection on the connections page');
      return this.seeOther(res, setCookies);
    }
    if (action === 'revoke-grant') {
      const grant = form.get('grant') ?? '';
      const revoked = this.auth ? await this.auth.grants.revoke(user, grant, { who: 'the user on /-/connections', endpoint: CONNECTIONS_PAGE, address: req.socket.remoteAddress }) : false;
      if (!revoked) return this.render(res, 404, csrf, user, { error: 'That authorization is not there any more (already revoked, or expired).' }, setCookies);
      return this.render(res, 200, csrf, user, { notice: 'Access revoked: that application\'s tokens no longer work, and it will ask you to authorize it again.' }, setCookies);
    }
    return this.render(res, 400, csrf, user, { error: 'Unknown action.' }, setCookies);
  }

  /**
   * /-/end-session: a client's sign-out request (from /oauth/end-session). GET shows what will
   * happen and asks to confirm (a CSRF-checked form, no scripts); POST ends the session: the
   * cookie is cleared and sessions made before now are refused for that user everywhere; with
   * the box ticked, the named client's grants for that user end. Then back to the client, only
   * at a post_logout_redirect_uri it registered (exactly), with its state; else a page.
   */
  async endSession(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
    const { jar, csrf, setCookies, flags } = this.prelude(req, secure);
    const headers = (extra: Record<string, string> = {}) => ({ ...(setCookies.length > 0 ? { 'set-cookie': setCookies } : {}), ...extra });
    const fail = (status: number, title: string, message: string) => sendHtml(res, status, title, `<h1>${escapeHtml(title)}</h1><p class="error" role="alert">${escapeHtml(message)}</p>`, headers());
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return;
    }
    const auth = this.auth;
    if (!auth) return fail(404, 'Not found', 'There is nothing here.');
    let form: URLSearchParams | undefined;
    if (req.method === 'POST') {
      form = await readForm(req);
      if (!form) return fail(413, 'Sign-out refused', 'The form is too large.');
      const posted = form.get('csrf') ?? '';
      if (!jar.get(CSRF_COOKIE) || !same(posted, jar.get(CSRF_COOKIE)!)) return fail(403, 'Sign-out refused', 'This form expired or came from elsewhere. Start again from your application.');
    }
    const source = form ?? new URL(req.url ?? '/', 'http://gatehouse.invalid').searchParams;
    const params = endSessionParams((name) => {
      const all = source.getAll(name);
      return all.length > 1 ? all : all[0];
    });
    if ('error' in params) return fail(400, 'Invalid sign-out request', params.error);
    const request = await this.endSessionRequest(auth, params);
    if ('error' in request) return fail(400, 'Invalid sign-out request', request.error);
    const user = await this.signedIn(jar.get(SESSION_COOKIE));
    if (!form) return this.endSessionPage(res, csrf, params, request, user, headers());
    // Confirmed.
    const address = req.socket.remoteAddress;
    let ended = 0;
    if (user) {
      await this.endSessions(user.id);
      if (request.clientId !== undefined && form.get('end_grants') === '1') {
        ended = await auth.grants.revokeAll(user, { who: 'the user, signing out (end-session)', endpoint: END_SESSION_PAGE, address }, request.clientId);
      }
    }
    setCookies.push(`${SESSION_COOKIE}=; ${flags}; Max-Age=0`);
    const client = request.clientId === undefined ? undefined : request.clientName ? `"${request.clientName.slice(0, 100)}" (${request.clientId})` : request.clientId;
    auth.emit('session-ended', {
      endpoint: END_SESSION_PAGE,
      status: 200,
      clientId: request.clientId,
      userId: user?.id,
      address,
      detail: `${user ? `${user.username} signed out of Gatehouse` : 'a browser without a Gatehouse session signed out'}${client ? ` at the request of ${client}` : ''}${ended > 0 ? `; ${ended} grant(s) of that client ended` : ''}${request.redirect ? '; sent back to its post_logout_redirect_uri' : ''}`,
    });
    if (request.redirect) {
      res.writeHead(303, headers({ location: withParams(request.redirect, { state: params.state }), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })).end();
      return;
    }
    const what = ended > 0 ? `<p class="notice" role="status">${escapeHtml(request.clientName ?? request.clientId ?? '')}'s access to your account ended.</p>` : '';
    const notKnown = !user && request.clientId !== undefined && form.get('end_grants') === '1' ? '<p class="muted">You were not signed in to Gatehouse in this browser, so no application\'s access was changed. To revoke one, sign in at <a href="/-/connections">your connections</a>.</p>' : '';
    sendHtml(res, 200, 'Signed out', `<h1>You are signed out</h1>${what}${notKnown}<p>You can close this window.</p>`, headers());
  }

  /** The request's client and the post-logout redirect to follow (registered exactly), or why it is refused. */
  private async endSessionRequest(auth: EndSessionHooks, params: EndSessionParams): Promise<{ clientId?: string; clientName?: string | undefined; redirect?: string; unregistered?: string } | { error: string }> {
    if (params.client_id === undefined) return params.post_logout_redirect_uri === undefined ? {} : { unregistered: params.post_logout_redirect_uri };
    const client = await auth.client(params.client_id);
    if ('error' in client) return { error: `client_id: ${client.error}` };
    const out = { clientId: params.client_id, clientName: client.name };
    const uri = params.post_logout_redirect_uri;
    if (uri === undefined) return out;
    return client.postLogoutRedirectUris.includes(uri) ? { ...out, redirect: uri } : { ...out, unregistered: uri };
  }

  private endSessionPage(res: ServerResponse, csrf: string, params: EndSessionParams, request: { clientId?: string; clientName?: string | undefined; redirect?: string; unregistered?: string }, user: UserRecord | undefined, headers: Record<string, string | string[]>): void {
    const fields = { csrf, ...params };
    const hidden = Object.entries(fields).map(([n, v]) => `<input type="hidden" name="${escapeHtml(n)}" value="${escapeHtml(v ?? '')}">`).join('');
    const name = request.clientId === undefined ? undefined : escapeHtml(request.clientName ?? request.clientId);
    const who = user ? `<p>You are signed in to Gatehouse as <b>${escapeHtml(user.username)}</b>.</p>` : '';
    const asked = name ? `<p><b>${name}</b> <span class="muted">(${escapeHtml(request.clientId!)})</span> asks you to sign out of Gatehouse.</p>` : '<p>Sign out of Gatehouse?</p>';
    const box = name
      ? `<p><label><input type="checkbox" name="end_grants" value="1" checked> Also end ${name}'s access to your account: its tokens stop working, and it will ask you to authorize it again.</label>${user ? '' : '<br><span class="muted">This applies if you are signed in to Gatehouse in this browser.</span>'}</p>`
      : '';
    const back = request.redirect
      ? `<p class="muted">Afterwards you go back to <code>${escapeHtml(request.redirect)}</code>.</p>`
      : request.unregistered
        ? `<p class="error" role="alert">The address <code>${escapeHtml(request.unregistered)}</code> is not registered for ${name ?? 'this request'} as a place to return to after signing out: you will not be sent there.</p>`
        : '';
    // A form post's redirect is held to form-action: let it reach the registered return address.
    const target = request.redirect ? formTarget(request.redirect) : undefined;
    sendHtml(
      res,
      200,
      'Sign out',
      `<h1>Sign out</h1>${asked}${who}<form method="post" action="${END_SESSION_PAGE}">${hidden}${box}${back}<button type="submit">Sign out</button> <a href="${CONNECTIONS_PAGE}">Cancel</a></form>`,
      { ...headers, ...(target ? { 'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self' ${target}` } : {}) },
    );
  }

  /** A refused second-factor code, in the audit log as at the authorization server's sign-in (logged when no authorization server is on). */
  private refusedCode(user: UserRecord, address: string, outcome: Exclude<CodeCheck, 'ok'>, what: string): void {
    const detail = `${what} of ${user.username} on ${CONNECTIONS_PAGE} refused: the second-factor code was ${CODE_OUTCOME[outcome]}`;
    if (this.auth) this.auth.emit('second-factor-refused', { endpoint: CONNECTIONS_PAGE, status: 401, userId: user.id, address, detail });
    else this.log.warn({ user: user.id, address, outcome }, `connections page: ${detail}`);
  }

  /**
   * A change to the signed-in user's account: a new password (given the current one), or
   * two-factor sign-in confirmed or turned off (given a code). Wrong passwords and codes count
   * as failed sign-ins.
   */
  private async account(req: IncomingMessage, res: ServerResponse, action: string, form: URLSearchParams, user: UserRecord, csrf: string, setCookies: string[], flags: string): Promise<void> {
    const address = req.socket.remoteAddress ?? '';
    if (this.throttle.blockedFor(user.username, address) > 0) return this.render(res, 429, csrf, user, { error: 'Too many failed attempts. Try again later.' }, setCookies);
    const refuse = async (status: number, error: string, shown: Shown = {}) => {
      if (status === 401) {
        this.throttle.fail(user.username, address);
        this.log.warn({ user: user.id, address, action }, 'connections page: an account change was refused (wrong current password or code)');
      }
      return this.render(res, status, csrf, user, { error, ...shown }, setCookies);
    };
    if (action === 'password') {
      const current = await checkLogin(this.store, user.username, form.get('current') ?? '');
      if (!current || current.id !== user.id) return refuse(401, 'Your current password is wrong.');
      const next = form.get('password') ?? '';
      if (next !== (form.get('confirm') ?? '')) return refuse(400, 'The two new passwords are not the same.');
      const at = Date.now();
      try {
        await setPassword(this.store, user.username, next, at);
      } catch (error) {
        if (error instanceof UserInputError) return refuse(400, `New password: ${error.message}.`);
        throw error;
      }
      this.throttle.succeed(user.username, address);
      this.log.info({ user: user.id }, 'connections page: user changed their password; earlier sign-ins and refresh tokens no longer work');
      // Sessions from before the change end, this browser's included: it gets a new one.
      setCookies.push(await this.sessionCookie(user.id, at, flags));
      return this.render(res, 200, csrf, { ...user, passwordChangedAt: at }, { notice: 'Password changed. Applications you had signed in to will ask you to sign in again.' }, setCookies);
    }
    const code = form.get('code') ?? '';
    if (action === 'totp-confirm') {
      const enrolment = await this.secondFactor.pending(user);
      if (!enrolment) return refuse(400, 'No set-up is under way (or it took longer than 10 minutes). Start again.');
      if (!(await this.secondFactor.confirm(user, code))) return refuse(401, 'That code is not right. Check the time on your device, and type the code your app shows now.', { enrolment });
      this.throttle.succeed(user.username, address);
      this.log.info({ user: user.id }, 'connections page: user turned on two-factor sign-in');
      return this.render(res, 200, csrf, (await this.store.getUser(user.id)) ?? user, { notice: 'Two-factor sign-in is on. From now on, sign in with your password and a code from your app.' }, setCookies);
    }
    // totp-off
    if (!hasSecondFactor(user)) return this.render(res, 409, csrf, user, { error: 'Two-factor sign-in is not on.' }, setCookies);
    const outcome = await this.secondFactor.check(user, code);
    if (outcome !== 'ok') this.refusedCode(user, address, outcome, 'turning two-factor sign-in off');
    if (outcome !== 'ok') return refuse(outcome === 'unavailable' ? 503 : 401, outcome === 'replayed' ? 'That code was already used. Wait for the next one.' : 'That code is not right.');
    this.throttle.succeed(user.username, address);
    await this.secondFactor.disable(user.username);
    this.log.info({ user: user.id }, 'connections page: user turned off two-factor sign-in');
    const { totpSecret: _secret, totpLastStep: _step, ...without } = user;
    return this.render(res, 200, csrf, without, { notice: 'Two-factor sign-in is off.' }, setCookies);
  }

  /** Ends the user's page sessions made until now, in every browser (the cookies are sealed, not stored). */
  private async endSessions(userId: string): Promise<void> {
    const at = Date.now();
    await this.store.putGrant({ key: sessionsEndedKey(userId), payload: { at }, expiresAt: at + SESSION_MS });
  }

  private async sessionCookie(userId: string, at: number, flags: string): Promise<string> {
    const key = (await this.vault.key(true))!;
    return `${SESSION_COOKIE}=${sealJson(key.key, PURPOSE, 'session', { u: userId, at, exp: at + SESSION_MS })}; ${flags}; Max-Age=${SESSION_MS / 1000}`;
  }

  /** The user signed in on this page in the request's browser, if any. */
  async signedInUser(req: IncomingMessage): Promise<string | undefined> {
    return (await this.signedIn(cookies(req).get(SESSION_COOKIE)))?.id;
  }

  private async signedIn(cookie: string | undefined): Promise<UserRecord | undefined> {
    if (!cookie) return undefined;
    const key = await this.vault.key();
    if (!key) return undefined;
    try {
      const session = unsealJson(key.key, PURPOSE, 'session', cookie) as { u?: unknown; at?: unknown; exp?: unknown };
      if (typeof session.u !== 'string' || typeof session.exp !== 'number' || Date.now() > session.exp) return undefined;
      const user = await this.store.getUser(session.u);
      // A session from before a password change (or reset) is over.
      const at = typeof session.at === 'number' ? session.at : 0;
      if (!user || user.disabled || (user.passwordChangedAt !== undefined && at < user.passwordChangedAt)) return undefined;
      // A session from before a sign-out (the page's, or at /-/end-session) is over too.
      const ended = await this.store.getGrant(sessionsEndedKey(user.id));
      return ended && typeof ended.payload.at === 'number' && at < ended.payload.at ? undefined : user;
    } catch {
      return undefined;
    }
  }

  private seeOther(res: ServerResponse, setCookies: string[], next?: string): void {
    res.writeHead(303, { location: next ?? CONNECTIONS_PAGE, 'cache-control': 'no-store', ...(setCookies.length > 0 ? { 'set-cookie': setCookies } : {}) }).end();
  }

  private async render(res: ServerResponse, status: number, csrf: string, user: UserRecord | undefined, shown: Shown | undefined, setCookies: string[], next?: string): Promise<void> {
    const userId = user?.id;
    const problem = (shown?.error ? `<p class="error" role="alert">${escapeHtml(shown.error)}</p>` : '') + (shown?.notice ? `<p class="notice" role="status">${escapeHtml(shown.notice)}</p>` : '');
    const hidden = (fields: Record<string, string>) => Object.entries(fields).map(([n, v]) => `<input type="hidden" name="${escapeHtml(n)}" value="${escapeHtml(v)}">`).join('');
    let body: string;
    if (!userId) {
      body = `<h1>Your connected servers</h1><p>Sign in with your Gatehouse account.</p>${problem}
${next ? '<p>Sign in as the user your agent acts for to connect the server.</p>' : ''}<form method="post" action="${CONNECTIONS_PAGE}">${hidden({ csrf, action: 'signin', ...(next && { next }) })}
<p><label>Username<br><input type="text" name="username" autocomplete="username" required></label></p>
<p><label>Password<br><input type="password" name="password" autocomplete="current-password" required></label></p>
<p><label>Code from your authenticator app<br><input type="text" name="code" inputmode="numeric" autocomplete="one-time-code"></label><br><span class="muted">Only if you turned on two-factor sign-in.</span></p>
<button type="submit">Sign in</button></form>`;
    } else {
      const list = await this.connections.list(userId);
      const rows = list
        .map((c) => `<tr><td>${escapeHtml(c.server)}</td><td>${c.expiresAt === undefined ? '-' : escapeHtml(new Date(c.expiresAt).toISOString())}</td><td><form method="post" action="${CONNECTIONS_PAGE}">${hidden({ csrf, action: 'revoke', server: c.server })}<button type="submit">Revoke</button></form></td></tr>`)
        .join('');
      body = `<h1>Your connected servers</h1>${problem}${list.length === 0 ? '<p>No server is connected to your account.</p>' : `<table><tr><th>Server</th><th>Token expires</th><th></th></tr>${rows}</table><p class="muted">Revoking deletes the token Gatehouse keeps and asks the server to revoke it; your agent will ask you to connect again on its next call.</p>`}
${await this.grantsSection(user, csrf, hidden)}
${user ? this.accountSection(user, csrf, shown?.enrolment, hidden) : ''}
<form method="post" action="${CONNECTIONS_PAGE}">${hidden({ csrf, action: 'signout' })}<button type="submit">Sign out</button></form>`;
    }
    sendHtml(res, status, 'Connected servers', body, setCookies.length > 0 ? { 'set-cookie': setCookies } : {});
  }

  /** "Applications you authorized": the user's grants at the embedded authorization server, each with Revoke. */
  private async grantsSection(user: UserRecord | undefined, csrf: string, hidden: (fields: Record<string, string>) => string): Promise<string> {
    if (!user || !this.auth) return '';
    const grants: UserGrant[] = await this.auth.grants.list(user);
    const day = (ms: number) => escapeHtml(new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const rows = grants
      .map(
        (g) =>
          `<tr class="grant"><td>${escapeHtml(g.clientName ?? g.clientId)}${g.clientName ? `<br><span class="muted">${escapeHtml(g.clientId)}</span>` : ''}</td><td>${escapeHtml(g.api ?? g.resource)}</td><td>${escapeHtml(g.scopes.join(' ') || '-')}</td><td>${day(g.createdAt)}</td><td>${day(g.lastUsedAt)}</td><td><form method="post" action="${CONNECTIONS_PAGE}">${hidden({ csrf, action: 'revoke-grant', grant: g.id })}<button type="submit">Revoke</button></form></td></tr>`,
      )
      .join('');
    return `<h2>Applications you authorized</h2>${
      grants.length === 0
        ? '<p>No application has access to your account.</p>'
        : `<table><tr><th>Application</th><th>API</th><th>Scopes</th><th>Authorized</th><th>Last used</th><th></th></tr>${rows}</table><p class="muted">Revoking ends that authorization at once: the application's tokens stop working, and it must ask you again.</p>`
    }`;
  }

  /** The account forms: two-factor sign-in (on, being set up, or off) and the password change. */
  private accountSection(user: UserRecord, csrf: string, enrolment: Enrolment | undefined, hidden: (fields: Record<string, string>) => string): string {
    const form = (action: string, inner: string) => `<form method="post" action="${CONNECTIONS_PAGE}">${hidden({ csrf, action })}${inner}</form>`;
    const codeField = '<p><label>Code from your authenticator app<br><input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required></label></p>';
    let totp: string;
    if (hasSecondFactor(user)) {
      totp = `<p>Two-factor sign-in is <b>on</b>.</p>${form('totp-off', `${codeField}<button type="submit">Turn off two-factor sign-in</button>`)}`;
    } else if (enrolment) {
      // The SVG comes from the QR library, drawn from the URI alone: no markup of anyone's making.
      totp = `<p>Add this account to your authenticator app: scan the code, open the link on your phone, or type the secret in by hand. Then type the code the app shows, to turn two-factor sign-in on. The secret is shown only while you set it up.</p>
<div class="totp-qr" role="img" aria-label="QR code of the link below">${enrolment.qrSvg}</div>
<p>Link: <code class="totp-uri">${escapeHtml(enrolment.uri)}</code></p><p>Secret: <code class="totp-secret">${escapeHtml(enrolment.secret)}</code></p>${form('totp-confirm', `${codeField}<button type="submit">Turn on</button>`)}`;
    } else {
      totp = `<p>Two-factor sign-in is <b>off</b>. With it on, signing in takes a code from an authenticator app besides your password.</p>${form('totp-start', '<button type="submit">Set up two-factor sign-in</button>')}`;
    }
    const password = form(
      'password',
      `<p><label>Current password<br><input type="password" name="current" autocomplete="current-password" required></label></p>
<p><label>New password (at least 8 characters)<br><input type="password" name="password" autocomplete="new-password" required minlength="8"></label></p>
<p><label>New password again<br><input type="password" name="confirm" autocomplete="new-password" required minlength="8"></label></p>
<button type="submit">Change password</button><br><span class="muted">Applications you signed in to will ask you to sign in again.</span>`,
    );
    return `<h2>Two-factor sign-in</h2>${totp}<h2>Password</h2>${password}`;
  }
}

/** The CSP source that lets a form post's redirect reach a URL: its origin, or its scheme (a native app's). */
function formTarget(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.origin;
    return /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) ? url.protocol : undefined;
  } catch {
    return undefined;
  }
}
