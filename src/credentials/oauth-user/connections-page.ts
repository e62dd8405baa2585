// /-/connections: a small page where a user of the embedded authorization server signs in with
// their Gatehouse password, sees which upstream servers their account is connected to, and
// revokes a connection. No scripts. Forms carry a double-submit CSRF token (field = cookie);
// the signed-in state is a sealed cookie (user id and expiry, 15 minutes, HttpOnly,
// SameSite=Strict, path /-/, so that a connect link can ask who is signed in); sign-in failures are
// throttled as on the sign-in page. A connect link of a user of the embedded authorization server
// sends an unsigned-in browser here first (`next`), and back once signed in.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../../store/store.ts';
import type { Logger } from '../../log.ts';
import type { CredentialVault } from '../vault.ts';
import { checkLogin } from '../../authserver/users.ts';
import { LoginThrottle } from '../../authserver/throttle.ts';
import { escapeHtml } from '../../authserver/pages.ts';
import { sealJson, unsealJson } from './sealed-json.ts';
import { sendHtml } from './connect-pages.ts';
import type { UserConnections } from './connections.ts';

export const CONNECTIONS_PAGE = '/-/connections';
const CSRF_COOKIE = 'gh_connections_csrf';
const SESSION_COOKIE = 'gh_connections';
const SESSION_MS = 15 * 60_000;
const MAX_FORM_BYTES = 8 * 1024;
const PURPOSE = 'connections-page';

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

export class ConnectionsPage {
  private readonly throttle = new LoginThrottle();

  constructor(
    private readonly store: Store,
    private readonly vault: CredentialVault,
    private readonly connections: UserConnections,
    private readonly log: Logger,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
    const jar = cookies(req);
    let csrf = jar.get(CSRF_COOKIE);
    const setCookies: string[] = [];
    const flags = `HttpOnly; SameSite=Strict; Path=/-/${secure ? '; Secure' : ''}`;
    const next = nextOf(new URL(req.url ?? '/', 'http://gatehouse.invalid').searchParams.get('next'));
    if (!csrf || !/^[A-Za-z0-9_-]{43}$/.test(csrf)) {
      csrf = randomBytes(32).toString('base64url');
      setCookies.push(`${CSRF_COOKIE}=${csrf}; ${flags}`);
    }
    const userId = await this.signedIn(jar.get(SESSION_COOKIE));
    if (req.method === 'GET' || req.method === 'HEAD') {
      return this.render(res, 200, csrf, userId, undefined, setCookies, next);
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return;
    }
    const form = await readForm(req);
    if (!form) return this.render(res, 413, csrf, userId, 'The form is too large.', setCookies);
    const posted = form.get('csrf') ?? '';
    if (!jar.get(CSRF_COOKIE) || !same(posted, jar.get(CSRF_COOKIE)!)) return this.render(res, 403, csrf, undefined, 'This form expired or came from elsewhere; try again.', setCookies);
    const action = form.get('action');
    if (action === 'signin') {
      const username = (form.get('username') ?? '').slice(0, 128);
      const address = req.socket.remoteAddress ?? '';
      if (this.throttle.blockedFor(username, address) > 0) return this.render(res, 429, csrf, undefined, 'Too many failed attempts. Try again later.', setCookies);
      const user = await checkLogin(this.store, username, form.get('password') ?? '');
      if (!user) {
        this.throttle.fail(username, address);
        return this.render(res, 401, csrf, undefined, 'Wrong username or password.', setCookies);
      }
      this.throttle.succeed(username, address);
      const key = (await this.vault.key(true))!;
      setCookies.push(`${SESSION_COOKIE}=${sealJson(key.key, PURPOSE, 'session', { u: user.id, exp: Date.now() + SESSION_MS })}; ${flags}; Max-Age=${SESSION_MS / 1000}`);
      return this.seeOther(res, setCookies, nextOf(form.get('next')));
    }
    if (action === 'signout') {
      setCookies.push(`${SESSION_COOKIE}=; ${flags}; Max-Age=0`);
      return this.seeOther(res, setCookies);
    }
    if (action === 'revoke') {
      if (!userId) return this.render(res, 401, csrf, undefined, 'Sign in first.', setCookies);
      const server = form.get('server') ?? '';
      const outcome = await this.connections.revoke(userId, server);
      this.log.info({ user: userId, server, deleted: outcome.deleted }, 'user revoked an upstream connection on the connections page');
      return this.seeOther(res, setCookies);
    }
    return this.render(res, 400, csrf, userId, 'Unknown action.', setCookies);
  }

  /** The user signed in on this page in the request's browser, if any. */
  signedInUser(req: IncomingMessage): Promise<string | undefined> {
    return this.signedIn(cookies(req).get(SESSION_COOKIE));
  }

  private async signedIn(cookie: string | undefined): Promise<string | undefined> {
    if (!cookie) return undefined;
    const key = await this.vault.key();
    if (!key) return undefined;
    try {
      const session = unsealJson(key.key, PURPOSE, 'session', cookie) as { u?: unknown; exp?: unknown };
      if (typeof session.u !== 'string' || typeof session.exp !== 'number' || Date.now() > session.exp) return undefined;
      const user = await this.store.getUser(session.u);
      return user && !user.disabled ? user.id : undefined;
    } catch {
      return undefined;
    }
  }

  private seeOther(res: ServerResponse, setCookies: string[], next?: string): void {
    res.writeHead(303, { location: next ?? CONNECTIONS_PAGE, 'cache-control': 'no-store', ...(setCookies.length > 0 ? { 'set-cookie': setCookies } : {}) }).end();
  }

  private async render(res: ServerResponse, status: number, csrf: string, userId: string | undefined, error: string | undefined, setCookies: string[], next?: string): Promise<void> {
    const problem = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
    const hidden = (fields: Record<string, string>) => Object.entries(fields).map(([n, v]) => `<input type="hidden" name="${escapeHtml(n)}" value="${escapeHtml(v)}">`).join('');
    let body: string;
    if (!userId) {
      body = `<h1>Your connected servers</h1><p>Sign in with your Gatehouse account.</p>${problem}
${next ? '<p>Sign in as the user your agent acts for to connect the server.</p>' : ''}<form method="post" action="${CONNECTIONS_PAGE}">${hidden({ csrf, action: 'signin', ...(next && { next }) })}
<p><label>Username<br><input type="text" name="username" autocomplete="username" required></label></p>
<p><label>Password<br><input type="password" name="password" autocomplete="current-password" required></label></p>
<button type="submit">Sign in</button></form>`;
    } else {
      const list = await this.connections.list(userId);
      const rows = list
        .map((c) => `<tr><td>${escapeHtml(c.server)}</td><td>${c.expiresAt === undefined ? '-' : escapeHtml(new Date(c.expiresAt).toISOString())}</td><td><form method="post" action="${CONNECTIONS_PAGE}">${hidden({ csrf, action: 'revoke', server: c.server })}<button type="submit">Revoke</button></form></td></tr>`)
        .join('');
      body = `<h1>Your connected servers</h1>${problem}${list.length === 0 ? '<p>No server is connected to your account.</p>' : `<table><tr><th>Server</th><th>Token expires</th><th></th></tr>${rows}</table><p class="muted">Revoking deletes the token Gatehouse keeps and asks the server to revoke it; your agent will ask you to connect again on its next call.</p>`}
<form method="post" action="${CONNECTIONS_PAGE}">${hidden({ csrf, action: 'signout' })}<button type="submit">Sign out</button></form>`;
    }
    sendHtml(res, status, 'Connected servers', body, setCookies.length > 0 ? { 'set-cookie': setCookies } : {});
  }
}
