// The admin listener: a second HTTP listener (127.0.0.1, the port after the MCP one: 8081 by default) for operators, apart
// from the agents' listener. It serves /-/health, /metrics (Prometheus), the sign-in form, and the
// dashboard with its API (mount.ts). Every request passes the Host/Origin checks of the main
// listener; everything except health, sign-in and (when metrics.public) /metrics needs admin
// authentication (auth.ts). Agents' credentials mean nothing here.
import { SecondFactor } from '../authserver/second-factor.ts';
import { CredentialVault } from '../credentials/vault.ts';
import { credentialsKeySource } from '../credentials/key.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { ConfigData } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../log.ts';
import type { AuditReader } from '../audit/reader.ts';
import type { AuditSinkStatus } from '../audit/audit.ts';
import type { AuditEvent } from '../audit/event.ts';
import { auditEventOfAuth } from '../audit/auth-events.ts';
import { AuthEvents } from '../authserver/events.ts';
import type { Routes } from '../http/routes.ts';
import { GatehouseError } from '../errors.ts';
import { sendJson } from '../http/reply.ts';
import { checkHostAndOrigin, compileOriginPolicy, headerCount, isLoopbackHost, readBody, type OriginPolicy } from '../http/guards.ts';
import type { GatewayMetrics } from '../metrics/registry.ts';
import { defaultAdminPort, type AdminConfig } from './schema.ts';
import { ListenError } from '../http/listen-error.ts';
import { loadAdminToken, type AdminToken } from './token.ts';
import { AdminAuth, clearedCookie, cookieValue, rememberIdentity, sessionCookie } from './auth.ts';
import { FLOW_COOKIE, GatehouseSignIn, type SignInServer } from './sso.ts';
import { ADMIN_CALLBACK_PATH } from '../authserver/admin-client.ts';
import { authorizationServerEnabled } from '../authserver/index.ts';
import type { AdminTokenLookup } from './api-tokens.ts';
import type { StoredAdminLookup } from './admin-users.ts';
import { continuePage, loginPage, sendHtml, signInRefusedPage } from './pages.ts';
import { dashboardRoutes } from './mount.ts';
import type { AuditVerify } from './api/index.ts';
import { API_PREFIX, type ManagementHandler } from '../control/api.ts';
import { ConnectionGuard, isClientDisconnect, timeoutOptions, type ClientLimits, type ConnectionStats } from '../http/client-limits.ts';
import { APPROVALS_API, approvalLink, approvalsApi } from './approvals.ts';
import type { SharedApprovals } from '../policy/approval/shared.ts';
import { APPROVAL_LINK_PATH } from '../policy/approval/links.ts';
import { TOOLS_API, toolPinsApi, type ToolPinsHost } from './tool-pins.ts';
import { createWebServer, type WebServer } from '../http/tls-server.ts';
import { TlsReloader } from '../http/tls-reload.ts';
import type { ListenerTls } from '../http/tls.ts';

/** What the admin listener needs of the running gateway. */
export interface AdminHost {
  readonly config: ConfigData;
  readonly store: Store;
  readonly log: Logger;
  sessionCounts(): Record<string, number>;
  readonly audit?: { readonly reader: AuditReader | undefined; readonly sinkStatus?: AuditSinkStatus; readonly verify?: AuditVerify | undefined; record?(event: AuditEvent): void } | undefined;
  /** Managed mode: the management API under /api/v1/ (src/control). */
  readonly control?: { readonly handle: ManagementHandler; readonly served: number | undefined; readonly adminTokens: AdminTokenLookup; readonly adminUsers?: StoredAdminLookup } | undefined;
  /** Several nodes (src/cluster/): this node's id and how many live nodes it knows. */
  readonly cluster?: { readonly nodeId: string; readonly registry: { readonly size: number } } | undefined;
  /** The embedded authorization server's admin client, when it is on and has one ("Sign in with Gatehouse", sso.ts). */
  adminSignIn?(): SignInServer | undefined;
  /** Tool calls held by approval policies (src/policy/approval/). */
  readonly approvalQueue?: SharedApprovals | undefined;
  /** Pinned tool definitions (src/policy/pinning/): an approval through the admin API applies here at once. */
  readonly pinning?: ToolPinsHost['pinning'] | undefined;
}

const MAX_FORM_BYTES = 8 * 1024;
const REALM = 'Bearer realm="gatehouse-admin"';

/**
 * The admin listener's address, bound before the gateway touches its data (see Gateway.start):
 * `disabled`, `skipped` (its default port was taken: Gatehouse runs without it), or `bound`, with
 * requests held until the admin server is attached.
 */
export type AdminBinding =
  | { readonly kind: 'disabled' }
  | { readonly kind: 'skipped'; readonly host: string; readonly port: number }
  | {
      readonly kind: 'bound';
      readonly server: WebServer;
      readonly port: number;
      readonly connections: ConnectionGuard;
      /** Keeps the certificate current when admin.tls is set. */
      readonly tls: TlsReloader | undefined;
      serve(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
    };

export class AdminServer {
  private readonly auth: AdminAuth;
  private readonly gatehouseSignIn: GatehouseSignIn;
  private readonly origin: OriginPolicy;
  private readonly routes: Routes;
  private readonly started: AdminConfig;
  private readonly server: WebServer;
  readonly port: number;
  /** Open and refused connections (metrics). */
  readonly connections: ConnectionStats;

  private constructor(
    private readonly host: AdminHost,
    private readonly metrics: GatewayMetrics | undefined,
    readonly token: AdminToken,
    private readonly binding: Extract<AdminBinding, { kind: 'bound' }>,
    dataDir: string,
  ) {
    this.server = binding.server;
    this.port = binding.port;
    this.connections = binding.connections;
    const config = host.config;
    this.started = config.admin;
    const secondFactor = new SecondFactor(host.store, new CredentialVault(host.store, credentialsKeySource(dataDir)));
    const adminLog = host.log.child({ component: 'admin' });
    const record = host.audit?.record;
    const events = new AuthEvents(adminLog, record && ((event) => record.call(host.audit, auditEventOfAuth(event))), () => undefined, 'admin');
    this.auth = new AdminAuth(token.token, config.admin.users, host.store, adminLog, secondFactor, events, () => host.control?.adminUsers);
    this.gatehouseSignIn = new GatehouseSignIn(host.store, host.log.child({ component: 'admin' }));
    this.origin = compileOriginPolicy(config.admin.host, { allowedHosts: config.admin.allowedHosts, allowedOrigins: config.admin.allowedOrigins });
    this.routes = dashboardRoutes({ config: () => host.config, sessionCounts: () => host.sessionCounts(), reader: () => host.audit?.reader, auditSink: () => host.audit?.sinkStatus, verifyAudit: () => host.audit?.verify, log: host.log });
  }

  /**
   * Binds the admin listener's address, or says why there is none: disabled, or its default port
   * is taken (a port set in the config must be free: then this rejects with a ListenError).
   * Requests wait until start() attaches the server.
   */
  static async bind(config: ConfigData, log: Logger, tls?: ListenerTls): Promise<AdminBinding> {
    const { admin, listen } = config;
    if (!admin.enabled) return { kind: 'disabled' };
    const explicit = admin.port !== undefined;
    const port = admin.port ?? defaultAdminPort(listen.port);
    let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
    const held: Array<[IncomingMessage, ServerResponse]> = [];
    const limits = adminClientLimits(config);
    let guard: ConnectionGuard | undefined;
    const server = createWebServer(
      { maxHeaderSize: 16 * 1024, ...timeoutOptions(limits) },
      tls && { material: tls.material, handshakeTimeout: limits.headersTimeout, refusePlainHttp: (socket) => guard!.refusePlainHttp(socket) },
      (req, res) => (handler ? handler(req, res) : held.push([req, res])),
    );
    guard = new ConnectionGuard(server, 'admin', limits, log, (error) => ({ error: error.message, code: error.code }));
    try {
      const bound = await listenOn(server, port, admin.host);
      return {
        kind: 'bound',
        server,
        port: bound,
        connections: guard,
        tls: tls && new TlsReloader(server as HttpsServer, tls.material, tls.source, log),
        serve: (attached) => {
          handler = attached;
          for (const [req, res] of held.splice(0)) attached(req, res);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && !explicit) return { kind: 'skipped', host: admin.host, port };
      throw new ListenError('admin', admin.host, port, error);
    }
  }

  /** Releases a binding that start() will not take (the gateway's start failed). */
  static async release(binding: AdminBinding): Promise<void> {
    if (binding.kind !== 'bound') return;
    binding.tls?.close();
    binding.serve((_req, res) => sendJson(res, 503, { error: 'Gatehouse is not running' }));
    await new Promise<void>((resolve) => {
      binding.server.close(() => resolve());
      binding.server.closeAllConnections();
    });
  }

  /** Attaches the admin server to its binding; undefined when there is none (said in the log). */
  static async start(host: AdminHost, metrics: GatewayMetrics | undefined, dataDir: string, binding: AdminBinding): Promise<AdminServer | undefined> {
    const { admin } = host.config;
    if (binding.kind === 'disabled') return undefined;
    if (binding.kind === 'skipped') {
      host.log.warn({ host: binding.host, port: binding.port }, `admin listener not started: port ${binding.port} is in use (set admin.port to another port, or admin.enabled: false)`);
      return undefined;
    }
    const token = await loadAdminToken(admin.token, dataDir);
    const server = new AdminServer(host, metrics, token, binding, dataDir);
    binding.serve((req, res) => {
      server.handle(req, res).catch((error: unknown) => server.fail(res, error));
    });
    if (!isLoopbackHost(admin.host) && !binding.tls) host.log.warn({ host: admin.host }, 'the admin listener accepts connections from other machines over plain HTTP: set admin.tls (or put a TLS reverse proxy in front) and admin.allowedHosts');
    if (admin.users.length > 0 && admin.publicUrl === undefined && !isLoopbackHost(admin.host) && authorizationServerEnabled(host.config)) {
      host.log.warn({ host: admin.host }, 'admin: "Sign in with Gatehouse" is off: the admin listener is not on loopback, so set admin.publicUrl (the URL browsers use for it) to have its callback');
    }
    if (token.exposed) host.log.warn({ file: token.source }, 'the admin token file is readable by group or others: chmod 600 it');
    host.log.info({ host: admin.host, port: server.port, tls: binding.tls !== undefined, token: token.source, tokenId: token.id, users: admin.users.length }, 'admin listening');
    return server;
  }

  /** Base URL of the admin listener (the dashboard). */
  get url(): string {
    const host = this.started.host;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `${this.binding.tls ? 'https' : 'http'}://${shown}:${this.port}/`;
  }

  /** Address, token and users are fixed at start; new TLS file paths apply at once. */
  reload(config: ConfigData): void {
    const { tls, ...rest } = config.admin;
    const { tls: startedTls, ...startedRest } = this.started;
    if (JSON.stringify(rest) !== JSON.stringify(startedRest)) this.host.log.warn('admin listener changes take effect on restart; keeping the current one');
    if (this.binding.tls) void this.binding.tls.reconfigure(tls);
    else if (tls && !startedTls) this.host.log.warn('admin.tls was added: turning TLS on takes effect on restart; the admin listener keeps serving plain HTTP');
  }

  /** Reads the TLS files again (SIGHUP). */
  checkTls(): Promise<boolean> | undefined {
    return this.binding.tls?.check();
  }

  close(): Promise<void> {
    this.binding.tls?.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    checkHostAndOrigin(req, this.origin);
    // Node hands over the first of two Authorization headers; which one counts must not be a guess.
    if (headerCount(req, 'authorization') > 1) throw new GatehouseError('GH_BAD_HEADER', 'Bad Request: the Authorization header must be sent once');
    switch (path) {
      case '/-/health':
        // In managed mode, the deployed version this node serves: a balancer or an operator sees
        // which nodes of a cluster have caught up (null: nothing deployed yet).
        // In a cluster, this node's id (sealed in the sessions it owns) and the live nodes it knows.
        return sendJson(res, 200, { ...(this.host.control ? { status: 'ok', mode: 'managed', configVersion: this.host.control.served ?? null } : { status: 'ok', mode: 'file' }), ...(this.host.cluster && { cluster: { node: this.host.cluster.nodeId, nodes: this.host.cluster.registry.size } }) }, { 'cache-control': 'no-store' });
      case '/login':
        return this.login(req, res, url);
      case '/logout':
        return this.logout(req, res);
      case '/oauth/start':
        return this.startSignIn(req, res);
      case ADMIN_CALLBACK_PATH:
        return this.finishSignIn(req, res, url);
      case '/metrics':
        return this.serveMetrics(req, res, url);
    }
    // The approval webhook's signed links: the signature is the authority, not a sign-in.
    if (this.host.approvalQueue && path.startsWith(APPROVAL_LINK_PATH)) return approvalLink(this.host.approvalQueue, req, res, path, url);
    const who = await this.auth.identify(req, this.host.control?.adminTokens);
    if (!who) return this.refuse(req, res, url);
    rememberIdentity(req, who);
    if (this.host.approvalQueue && (path === APPROVALS_API || path.startsWith(`${APPROVALS_API}/`))) return approvalsApi(this.host.approvalQueue, req, res, path);
    if (this.host.pinning && (path === TOOLS_API || path.startsWith(`${TOOLS_API}/`))) return toolPinsApi({ config: this.host.config, store: this.host.store, log: this.host.log, pinning: this.host.pinning, audit: this.host.audit }, req, res, path);
    if (path === '/api/v1' || path.startsWith(API_PREFIX)) {
      const control = this.host.control;
      if (!control) return sendJson(res, 404, { error: 'The management API runs in managed mode only (gatehouse start --managed); this Gatehouse runs from a configuration file' }, { 'cache-control': 'no-store' });
      return control.handle(req, res, path, who);
    }
    const route = this.routes.match(path);
    if (!route) return sendJson(res, 404, { error: `Not Found: ${path}` });
    await route(req, res, path);
  }

  private async serveMetrics(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
    if (!this.metrics) return sendJson(res, 404, { error: 'Metrics are off (metrics.enabled: false)' });
    if (!this.host.config.metrics.public) {
      const who = await this.auth.identify(req, this.host.control?.adminTokens);
      if (!who) return this.refuse(req, res, url);
      // Every tenant's figures are in it: the platform's to read.
      if (who.tenant !== undefined) return sendJson(res, 404, { error: 'Not Found: /metrics' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'Method Not Allowed' }, { allow: 'GET, HEAD' });
    const text = await this.metrics.text();
    res.writeHead(200, { 'content-type': this.metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  /** Browsers asking for a page are sent to the sign-in form; everything else gets 401. */
  private refuse(req: IncomingMessage, res: ServerResponse, url: string): void {
    if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
      res.writeHead(303, { location: `/login?next=${encodeURIComponent(url)}`, 'cache-control': 'no-store' }).end();
      return;
    }
    sendJson(res, 401, { error: 'Admin authentication required: send Authorization: Bearer <admin token>, or sign in at /login' }, { 'www-authenticate': REALM, 'cache-control': 'no-store' });
  }

  private async login(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
    const users = this.auth.usersEnabled;
    // The sign-in button's form posts here and is redirected to the authorization server: a
    // form-action that allowed 'self' only would stop that redirect in the browser.
    const server = users ? this.host.adminSignIn?.() : undefined;
    const page = (status: number, options: { next: string; error?: string; username?: string | undefined }) => {
      const gatehouse = server !== undefined;
      const formAction = gatehouse ? `'self' ${new URL(server.base(requestHostname(req))).origin}` : "'self'";
      sendHtml(res, status, 'Sign in', loginPage({ users, gatehouse, ...options }), {
        'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
      });
    };
    if (req.method === 'GET' || req.method === 'HEAD') {
      return page(200, { next: safeNext(new URL(url, 'http://admin.invalid').searchParams.get('next')) });
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'Method Not Allowed' }, { allow: 'GET, POST' });
    this.checkFormPost(req);
    const form = new URLSearchParams((await readBody(req, MAX_FORM_BYTES)).toString('utf8'));
    const next = safeNext(form.get('next'));
    const result = await this.auth.login(form, req.socket.remoteAddress ?? '');
    if (!result.ok) return page(result.status, { next, error: result.message, username: form.get('username') ?? undefined });
    res.writeHead(303, { location: next, 'set-cookie': sessionCookie(result.cookie, this.secure(req)), 'cache-control': 'no-store' }).end();
  }

  /** "Sign in with Gatehouse" (sso.ts): a POST from the sign-in page opens a flow and sends the browser to the authorization server. */
  private async startSignIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'Method Not Allowed: start a sign-in with a POST from the sign-in page' }, { allow: 'POST' });
    this.checkFormPost(req);
    const form = new URLSearchParams((await readBody(req, MAX_FORM_BYTES)).toString('utf8'));
    const server = this.auth.usersEnabled ? this.host.adminSignIn?.() : undefined;
    if (!server) return sendHtml(res, 404, 'Not available', signInRefusedPage('Not available', 'Signing in through the authorization server is not available here (it needs the embedded authorization server, admin.users, and an admin listener on loopback or with admin.publicUrl).'));
    const secure = this.secure(req);
    const redirectUri = this.started.publicUrl !== undefined ? `${this.started.publicUrl.replace(/\/+$/, '')}${ADMIN_CALLBACK_PATH}` : `${secure ? 'https' : 'http'}://${req.headers.host ?? ''}${ADMIN_CALLBACK_PATH}`;
    const flow = await this.gatehouseSignIn.begin(server, requestHostname(req), redirectUri, safeNext(form.get('next')));
    res.writeHead(303, { location: flow.location, 'set-cookie': GatehouseSignIn.cookie(flow.cookie, secure), 'cache-control': 'no-store' }).end();
  }

  /** The authorization server's answer: a session, or a page saying why not. */
  private async finishSignIn(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'Method Not Allowed' }, { allow: 'GET' });
    const address = req.socket.remoteAddress ?? '';
    const server = this.auth.usersEnabled ? this.host.adminSignIn?.() : undefined;
    const cleared = GatehouseSignIn.clearedCookie();
    if (!server) return sendHtml(res, 404, 'Not available', signInRefusedPage('Not available', 'Signing in through the authorization server is not available here.'), { 'set-cookie': cleared });
    const query = new URL(url, 'http://admin.invalid').searchParams;
    const outcome = await this.gatehouseSignIn.finish(server, cookieValue(req.headers.cookie, FLOW_COOKIE), query, (user) => this.auth.grantOf(user));
    if (!outcome.ok) {
      this.host.log.info({ component: 'admin', username: outcome.username, reason: outcome.reason, address }, 'admin: sign-in through the authorization server refused');
      return sendHtml(res, outcome.status, outcome.title, signInRefusedPage(outcome.title, outcome.message), { 'set-cookie': cleared });
    }
    const session = await this.auth.signedIn(outcome.who, address, 'authorization server');
    // A page, not a redirect: after a redirect chain that began on another site (the
    // authorization server on another host), the browser would not send the SameSite=Strict
    // session cookie to the next page; a navigation started by this page sends it.
    sendHtml(res, 200, 'Signed in', continuePage(outcome.next), { 'set-cookie': [sessionCookie(session, this.secure(req)), cleared] });
  }

  private async logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'Method Not Allowed: sign out with a POST' }, { allow: 'POST' });
    this.checkFormPost(req);
    await this.auth.logout(req);
    res.writeHead(303, { location: '/login', 'set-cookie': clearedCookie(), 'cache-control': 'no-store' }).end();
  }

  /**
   * Sign-in and sign-out change the browser's session: only from our own pages. The cookie is
   * SameSite=Strict already; the Origin (sent by browsers on every POST) must be this listener's
   * own or an allowed one, and fetch metadata must not say another site.
   */
  private checkFormPost(req: IncomingMessage): void {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new GatehouseError('GH_FORBIDDEN_ORIGIN', 'Forbidden: sign-in is accepted from the admin pages only');
    const origin = req.headers.origin;
    if (origin === undefined) return; // not a browser: nothing ambient to abuse
    const host = req.headers.host ?? '';
    const own = origin === `http://${host}` || origin === `https://${host}`;
    const allowed = this.started.allowedOrigins?.some((o) => o.replace(/\/$/, '').toLowerCase() === origin.toLowerCase()) ?? false;
    if (!own && !allowed) throw new GatehouseError('GH_FORBIDDEN_ORIGIN', `Forbidden: sign-in from origin "${origin}" is not accepted`);
  }

  /** The cookie is marked Secure when the browser used https: this listener's TLS, or a trusted proxy's word. */
  private secure(req: IncomingMessage): boolean {
    if ((req.socket as TLSSocket | undefined)?.encrypted === true) return true;
    return this.host.config.trustProxy && req.headers['x-forwarded-proto'] === 'https';
  }

  private fail(res: ServerResponse, error: unknown): void {
    const known = error instanceof GatehouseError ? error : undefined;
    if (!known && isClientDisconnect(error)) this.host.log.debug({ code: (error as NodeJS.ErrnoException).code }, 'admin listener: client disconnected');
    else if (!known) this.host.log.error({ err: error }, 'admin listener: unexpected error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, known?.status ?? 500, { error: known?.message ?? 'internal error; see the Gatehouse log' }, known?.headers ?? {});
  }
}

/** The host name the browser used (the Host header, checked by the listener's Host policy), without the port. */
function requestHostname(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
}

/** A redirect target after sign-in: a path on this listener only (never another host). */
function safeNext(next: string | null): string {
  // One leading slash, then visible ASCII only: no other host ("//x", "/\\x"), no header injection.
  return next && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/';
}

function listenOn(server: WebServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** The admin listener's client timeouts (the MCP listener's) and its own connection cap. */
function adminClientLimits(config: ConfigData): ClientLimits {
  return {
    headersTimeout: config.timeouts.clientHeaders,
    requestTimeout: config.timeouts.clientRequest,
    idleTimeout: config.timeouts.clientIdle,
    maxConnections: config.admin.maxConnections,
  };
}
