// Connector for Streamable HTTP upstreams: one pooled keep-alive connection set per server,
// each client request forwarded as one upstream request, the answer streamed back as it arrives.
// Gatehouse keeps no per-session state beyond a few numbers for idle reaping: the upstream
// session id travels inside the sealed downstream id.
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { GatehouseError } from '../errors.ts';
import type { SessionClaims, SessionSealer } from '../session/seal.ts';
import { sendError, sendJson } from '../http/reply.ts';
import type { Logger } from '../log.ts';
import type { CredentialContext, Exchange, PostExchange, Upstream, UpstreamCredentials, UpstreamGlobals } from './upstream.ts';
import { declaresFormElicitation } from '../mcp/client-capabilities.ts';
import { URL_ELICITATION_REQUIRED, UrlElicitationRequired, urlInputRequired, withoutUrlRound } from '../mcp/url-elicitation.ts';
import { HttpSessionTracker } from './http-sessions.ts';
import { EgressRefusedError, type EgressRule } from './egress.ts';
import { CancelledError, UpstreamHttpClient, UpstreamHttpError, relay, type Cancellable } from './http-client.ts';
import { JsonAnswer, LimitedPassThrough, SseRewriter, type DecodeLimits } from './message-rewriter.ts';
import { relaySse } from './sse-relay.ts';
import { flushHeadSoon, type PendingHead } from './head-flush.ts';
import { UnansweredRequests } from './unanswered.ts';
import { isStateless } from '../mcp/versions.ts';
import { SseInjector, type OpenStreams } from './open-streams.ts';
import { listenedKinds } from '../mcp/list-changed.ts';
import { errorResponse, isRequest } from '../mcp/jsonrpc.ts';
import { PublicListCache } from './public-list-cache.ts';
import { serveListThroughCache } from './cached-lists.ts';

export interface HttpUpstreamConfig {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly timeouts?: { readonly connect?: number | undefined; readonly response?: number | undefined } | undefined;
  /** The public list cache (2026-07-28 lists the server marks shareable); off when absent or not enabled. */
  readonly listCache?: { readonly enabled: boolean; readonly maxTtl: number; readonly maxEntries: number } | undefined;
  /** Where the server's tenant may connect (egress.ts); absent: anywhere (the default tenant). */
  readonly egress?: EgressRule | undefined;
}

/** Upstream response headers relayed to the client (others are hop-by-hop or the upstream's business). */
const RELAYED_HEADERS = ['content-type', 'cache-control', 'mcp-protocol-version', 'retry-after', 'www-authenticate'];

export class StreamableHttpUpstream implements Upstream {
  readonly kind = 'http' as const;
  private client: UpstreamHttpClient;
  private path: string;
  private extraHeaders: Record<string, string>;
  private responseTimeout: number;
  private limits: DecodeLimits;
  private readonly tracker = new HttpSessionTracker();
  /** Upstream requests behind open GET streams (cancelled by endStreams at shutdown). */
  private readonly getStreams = new Set<ExchangeHandle>();
  private listCache: PublicListCache | undefined;
  private url: string;

  constructor(
    readonly name: string,
    config: HttpUpstreamConfig,
    private globals: UpstreamGlobals,
    private readonly sealer: SessionSealer,
    private readonly log: Logger,
    private credentials?: UpstreamCredentials,
    /** Where long-lived client streams are registered, so a reload can tell them lists changed. */
    private readonly openStreams?: OpenStreams,
  ) {
    const url = new URL(config.url);
    this.url = config.url;
    this.path = url.pathname + url.search;
    this.extraHeaders = lowerCaseKeys(config.headers ?? {});
    this.responseTimeout = config.timeouts?.response ?? globals.responseTimeout;
    this.limits = decodeLimits(globals);
    this.client = new UpstreamHttpClient(url.origin, config.timeouts?.connect ?? globals.connectTimeout, config.egress);
    this.listCache = listCacheOf(config, undefined);
  }

  /** Whom a request for this caller goes out as when not the caller (its credential says; see UpstreamCredentials). */
  identityOf(context: CredentialContext): string | undefined {
    return this.credentials?.identityOf?.(context);
  }

  /** Applies a reloaded server definition; the upstream sessions stay valid. */

  update(config: HttpUpstreamConfig, globals: UpstreamGlobals, credentials?: UpstreamCredentials): void {
    const url = new URL(config.url);
    this.credentials = credentials;
    this.globals = globals;
    this.limits = decodeLimits(globals);
    this.extraHeaders = lowerCaseKeys(config.headers ?? {});
    this.responseTimeout = config.timeouts?.response ?? globals.responseTimeout;
    this.path = url.pathname + url.search;
    this.url = config.url;
    this.listCache = listCacheOf(config, this.listCache);
    // A new origin (or egress rule) gets new connections; the old ones finish what they carry and close when idle.
    if (url.origin !== this.client.origin || config.egress?.key !== this.client.egress?.key) this.client = new UpstreamHttpClient(url.origin, config.timeouts?.connect ?? globals.connectTimeout, config.egress);
  }

  isLive(claims: SessionClaims): boolean {
    return claims.up === undefined || !this.tracker.isEnded(claims.up);
  }

  sessionCount(): number {
    return this.tracker.size;
  }

  post(x: PostExchange): Promise<void> {
    if (this.listCache && !x.batch && x.passthroughToken === undefined && isStateless(x.protocolVersion)) {
      const request = x.messages[0];
      const key = request && isRequest(request) ? PublicListCache.keyOf(request, x.protocolVersion) : undefined;
      if (key !== undefined && isRequest(request!)) {
        const target = { url: this.url, client: this.client, headers: this.extraHeaders, credentials: this.credentials, responseTimeout: this.responseTimeout, maxResponseBytes: this.globals.maxResponseBytes };
        return serveListThroughCache(x, request, key, this.listCache, target);
      }
    }
    // A 2026-07-28 retry after Gatehouse's own URL round (the user connected an upstream account)
    // is the plain request again; only a server with a per-user credential asks for that round.
    const body = JSON.stringify(x.batch ? x.messages : this.credentials?.perUser === true && isStateless(x.protocolVersion) ? withoutUrlRound(x.messages[0]!) : x.messages[0]);
    const headers = this.requestHeaders(x, 'application/json, text/event-stream');
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
    return this.forward(x, 'POST', headers, body);
  }

  async get(x: Exchange): Promise<void> {
    // No session at all only under auth: passthrough, where the upstream answers (e.g. its 401).
    if (x.session && !x.session.claims.up) throw new GatehouseError('GH_METHOD_NOT_ALLOWED', 'This session has no server → client stream', { allow: 'POST' });
    const headers = this.requestHeaders(x, 'text/event-stream');
    const lastEventId = x.req.headers['last-event-id'];
    if (typeof lastEventId === 'string') headers['last-event-id'] = lastEventId;
    await this.forward(x, 'GET', headers, undefined);
  }

  async delete(x: Exchange): Promise<void> {
    const up = x.session?.claims.up;
    if (x.session && !up) {
      x.res.writeHead(200).end();
      return;
    }
    // (Without a session only under auth: passthrough, where the upstream answers.)
    await this.forward(x, 'DELETE', this.requestHeaders(x, 'application/json, text/event-stream'), undefined);
    if (!up) return;
    this.tracker.end(up);
    this.sealer.forget(x.session!.token);
  }

  reap(now: number): void {
    for (const up of this.tracker.idle(now, this.globals.idleTimeout)) {
      this.tracker.end(up);
      this.log.info({ server: this.name }, 'ending idle upstream session');
      Promise.resolve(this.credentials?.headers())
        .then((auth) => this.client.request(this.path, { method: 'DELETE', headers: { ...this.extraHeaders, ...auth, 'mcp-session-id': up }, body: undefined, responseTimeout: 10_000 }))
        .then((response) => response.discard())
        .catch((error: Error) => this.log.debug({ server: this.name, err: error.message }, 'idle session DELETE failed'));
    }
  }

  endStreams(): void {
    // Standalone GET streams are piped straight through: stop their upstream side here; the
    // listener then ends the client side.
    for (const handle of this.getStreams) handle.current?.cancel();
  }

  async close(): Promise<void> {
    this.client.close();
  }

  private requestHeaders(x: Exchange, accept: string): Record<string, string> {
    const headers: Record<string, string> = { ...this.extraHeaders, accept };
    if (x.versionHeader) headers['mcp-protocol-version'] = x.versionHeader;
    const up = x.session?.claims.up;
    if (up) headers['mcp-session-id'] = up;
    if (isStateless(x.protocolVersion)) copyRoutingHeaders(x.req.headers, headers);
    // With tracing on, the upstream continues Gatehouse's span; otherwise the client's context passes through.
    const traceparent = x.record?.traceparent ?? x.req.headers.traceparent;
    if (typeof traceparent === 'string') headers.traceparent = traceparent;
    return headers;
  }

  private async forward(x: Exchange | PostExchange, method: 'POST' | 'GET' | 'DELETE', headers: Record<string, string>, body: string | undefined): Promise<void> {
    // Every field from the start: one object shape for every exchange (see exchangeOf in mcp-endpoint.ts).
    const handle: ExchangeHandle = { current: undefined, head: undefined, sse: false, unanswered: undefined, injector: undefined, unregister: undefined };
    let clientLeft = false;
    const onClose = () => {
      if (x.res.writableFinished) return;
      clientLeft = true;
      handle.current?.cancel();
    };
    x.res.once('close', onClose);
    // Writes racing a client that left (or a stream ended at shutdown) fail here; the cancel
    // above stops the upstream side, so there is nothing else to do with them.
    x.res.on('error', ignore);
    if (method === 'GET') this.getStreams.add(handle);
    const up = x.session?.claims.up;
    if (up) this.tracker.streamOpened(up);
    x.record?.upstreamStarted();
    // A 401 to Gatehouse's own credential (not a passthrough token) is retried once with a fresh
    // one (a token can expire in flight); a second 401 is Gatehouse's problem, not the agent's.
    const own = x.passthroughToken === undefined ? this.credentials : undefined;
    // Only a server with a credential needs to know whom the request is for (no allocation otherwise).
    const context = this.credentials ? credentialContext(x) : undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.credentials) Object.assign(headers, await this.credentials.headers(context));
        if (x.passthroughToken !== undefined) headers.authorization = `Bearer ${x.passthroughToken}`;
        const response = await this.client.request(this.path, { method, headers, body, responseTimeout: this.responseTimeout }, handle);
        const status = response.statusCode;
        if (status === 401 && own) {
          own.rejected?.(context);
          response.discard();
          if (attempt > 1) throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${this.name}" refused Gatehouse's credential for it`);
          continue;
        }
        let sink: Writable | SsePassThrough;
        try {
          sink = this.startResponse(x, status, response.headers, handle);
        } catch (error) {
          response.destroy();
          throw error;
        }
        if (handle.injector && this.openStreams) {
          handle.unregister = this.openStreams.add(x.api, handle.injector);
          x.log.debug({ api: x.api, server: this.name, stream: method === 'GET' ? 'standalone' : 'subscriptions/listen' }, 'client stream open for reload notices');
        }
        if (sink instanceof SsePassThrough) await relaySse(response, x.res, this.globals.maxResponseBytes, sink.unanswered, handle.injector?.eventsWritten);
        else await relay(response, sink, x.res);
        break;
      }
    } catch (error) {
      if (!clientLeft && !(error instanceof CancelledError)) this.fail(x, error, handle);
    } finally {
      x.res.off('close', onClose);
      x.record?.upstreamEnded();
      if (method === 'GET') this.getStreams.delete(handle);
      handle.unregister?.();
      if (handle.head) handle.head.res = undefined;
      if (up) this.tracker.streamClosed(up);
    }
  }

  /** Decides the response head and where the body goes; writes the head unless the body's writer must (JSON). */
  private startResponse(x: Exchange | PostExchange, status: number, upstream: IncomingHttpHeaders, handle: ExchangeHandle): Writable | SsePassThrough {
    x.record?.upstreamResponded(status);
    const out: OutgoingHttpHeaders = {};
    for (const name of RELAYED_HEADERS) {
      const value = upstream[name];
      if (value !== undefined) out[name] = value;
    }
    if (status === 401) {
      this.credentials?.rejected?.(credentialContext(x));
      const challenge = out['www-authenticate'];
      if (typeof challenge === 'string' && x.rewriteChallenge) out['www-authenticate'] = x.rewriteChallenge(challenge);
    }
    const upstreamSession = upstream['mcp-session-id'];
    const isInit = 'initialize' in x && x.initialize;
    if (isInit && status >= 200 && status < 300) {
      const up = typeof upstreamSession === 'string' ? upstreamSession : undefined;
      const claims: SessionClaims = { api: x.api, sub: x.principal.key, kind: 'http', iat: Math.floor(Date.now() / 1000) };
      if ('messages' in x && declaresFormElicitation(x.messages[0])) claims.el = 1;
      if (up) {
        claims.up = up;
        this.tracker.touch(up);
      }
      const token = this.sealer.seal(claims);
      out['mcp-session-id'] = token;
      // The initialize exchange's record belongs to the session it opens (audit tags it so).
      if (x.record) x.record.sessionId = token;
    } else if (status === 404 && x.session?.claims.up) {
      this.tracker.end(x.session.claims.up);
      this.sealer.forget(x.session.token);
    }
    const contentType = String(upstream['content-type'] ?? '');
    const isSse = contentType.startsWith('text/event-stream');
    const length = upstream['content-length'];
    const max = this.globals.maxResponseBytes;
    if (!isSse && length !== undefined && Number(length) > max) {
      throw new GatehouseError('GH_UPSTREAM_RESPONSE_TOO_LARGE', `Upstream response of ${length} bytes exceeds limits.maxResponseBytes (${max})`);
    }
    const transform = status < 300 ? x.transform : undefined;
    // A JSON answer is one bounded message: its head is written with the whole body (rewritten
    // or not), so that a body cut short is answered with an error instead (see JsonAnswer).
    if (contentType.startsWith('application/json')) return new JsonAnswer(x.res, { status, headers: out }, transform, this.limits);
    if (isSse) {
      out['x-accel-buffering'] = 'no';
      x.res.writeHead(status, out);
      handle.head = flushHeadSoon(x.res, x.req.method === 'POST');
      const requests = 'messages' in x ? new UnansweredRequests(x.messages) : undefined;
      handle.unanswered = requests === undefined || requests.done ? undefined : requests;
      handle.sse = true;
      if (status < 300 && this.openStreams) handle.injector = longLivedStream(x);
      return transform ? new SseRewriter(x.res, transform, this.limits, handle.unanswered, handle.injector?.eventsWritten) : new SsePassThrough(handle.unanswered);
    }
    if (length !== undefined) out['content-length'] = length;
    x.res.writeHead(status, out);
    return length === undefined ? new LimitedPassThrough(x.res, max) : x.res;
  }

  private fail(x: Exchange, error: unknown, handle: ExchangeHandle): void {
    const post = 'messages' in x ? (x as PostExchange) : undefined;
    if (error instanceof UrlElicitationRequired && !x.res.headersSent && post && !post.batch) {
      // The user must connect their upstream account first: an ordinary JSON-RPC answer (MCP -32042).
      if (x.record) x.record.error = new GatehouseError('GH_UPSTREAM_UNAVAILABLE', error.message);
      // A 2026-07-28 client gets it as a multi round-trip request (input_required), answered by its retry.
      if (isStateless(post.protocolVersion)) return sendJson(x.res, 200, urlInputRequired(idOf(post.messages[0]), error));
      return sendJson(x.res, 200, errorResponse(idOf(post.messages[0]), URL_ELICITATION_REQUIRED, error.message, error.data()));
    }
    const wire = toWireError(this.name, error);
    if (x.record) x.record.error = wire;
    if (wire.code === 'GH_UPSTREAM_RESPONSE_TOO_LARGE' || wire.status >= 500) {
      x.log.warn({ server: this.name, code: wire.code, err: (error as Error).message }, 'upstream request failed');
    }
    if (x.res.headersSent) {
      // An answer already complete (e.g. ended with an error event) is left to flush. An SSE
      // answer cut short answers each request still waiting with an error and ends cleanly; a
      // body of another kind can only be cut.
      if (x.res.writableEnded) return;
      if (handle.sse) x.res.end(handle.unanswered?.errorEvents(wire.code, wire.message));
      else x.res.destroy();
      return;
    }
    if (post?.batch) {
      // Each request of a batch gets its own error.
      const errors = post.messages.filter(isRequest).map((m) => errorResponse(m.id, wire.rpc, wire.message, { code: wire.code }));
      if (errors.length > 0) return sendJson(x.res, wire.status, errors, wire.headers ?? {});
    }
    sendError(x.res, wire, post && !post.batch ? idOf(post.messages[0]) : null);
  }
}

function ignore(): void {}

/**
 * 2026-07-28 requests name their method and item in Mcp-Method and Mcp-Name, and (SEP-2243) tool
 * arguments marked `x-mcp-header` are mirrored in Mcp-Param-* headers, which the server checks
 * against the body: they must reach it. Earlier revisions have none of them.
 */
function copyRoutingHeaders(incoming: IncomingHttpHeaders, headers: Record<string, string>): void {
  const method = incoming['mcp-method'];
  if (typeof method === 'string') headers['mcp-method'] = method;
  const name = incoming['mcp-name'];
  if (typeof name === 'string') headers['mcp-name'] = name;
  for (const header in incoming) {
    if (!header.startsWith('mcp-param-')) continue;
    const value = incoming[header];
    if (typeof value === 'string') headers[header] = value;
  }
}

/** One exchange's upstream request (to cancel it) and, for an SSE answer, its head and its requests not yet answered. */
interface ExchangeHandle {
  current: Cancellable | undefined;
  /** The SSE head waiting to be flushed, if any. */
  head: PendingHead | undefined;
  sse: boolean;
  unanswered: UnansweredRequests | undefined;
  /** A long-lived stream (GET, subscriptions/listen) Gatehouse can add notifications to, and its registration. */
  injector: SseInjector | undefined;
  unregister: (() => void) | undefined;
}

/** The standalone GET stream of a session, or a 2026-07-28 `subscriptions/listen` stream; else undefined. */
function longLivedStream(x: Exchange | PostExchange): SseInjector | undefined {
  if (x.req.method === 'GET') return new SseInjector(x.res);
  if (!isStateless(x.protocolVersion)) return undefined; // a POST's stream ends with its answer
  const first = 'messages' in x && x.messages.length === 1 ? x.messages[0] : undefined;
  if (first && isRequest(first) && first.method === 'subscriptions/listen') {
    return new SseInjector(x.res, { id: first.id, kinds: listenedKinds(first.params) });
  }
  return undefined;
}

/** An SSE body relayed untouched (sse-relay.ts), and the requests it has yet to answer. */
class SsePassThrough {
  constructor(readonly unanswered: UnansweredRequests | undefined) {}
}

function decodeLimits(globals: UpstreamGlobals): DecodeLimits {
  return { maxBytes: globals.maxResponseBytes, maxJsonDepth: globals.maxJsonDepth };
}

function idOf(message: unknown): string | number | null {
  if (message && typeof message === 'object' && 'id' in message) {
    const id = (message as { id: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}

/** Who the upstream request is for (per-user credentials choose the user's token by it). */
function credentialContext(x: Exchange | PostExchange): CredentialContext {
  const first = 'messages' in x ? x.messages[0] : undefined;
  const method = first && 'method' in first && typeof first.method === 'string' ? first.method : undefined;
  return { principal: x.principal, req: x.req, method };
}

function toWireError(server: string, error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  if (error instanceof UrlElicitationRequired) return new GatehouseError('GH_UPSTREAM_UNAVAILABLE', error.message);
  if (error instanceof RangeError) return new GatehouseError('GH_UPSTREAM_RESPONSE_TOO_LARGE', error.message);
  if (error instanceof UpstreamHttpError) {
    if (error.failure === 'connect-timeout') return new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream "${server}" did not accept the connection in time`);
    if (error.failure === 'response-timeout') return new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream "${server}" did not answer in time`);
    return new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${server}" closed its response before the end`);
  }
  if (error instanceof EgressRefusedError) return new GatehouseError('GH_EGRESS_REFUSED', `Upstream "${server}" may not be reached: ${error.message}`);
  const code = (error as { code?: string }).code ?? '';
  return new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${server}" is unavailable (${code || (error as Error).message})`);
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) out[key.toLowerCase()] = value;
  return out;
}

/** The cache a (re)loaded definition asks for: the running one kept (with new limits) while enabled. */
function listCacheOf(config: HttpUpstreamConfig, running: PublicListCache | undefined): PublicListCache | undefined {
  const wanted = config.listCache;
  if (!wanted?.enabled) return undefined;
  const limits = { maxTtl: wanted.maxTtl, maxEntries: wanted.maxEntries };
  if (running) {
    running.limits = limits;
    return running;
  }
  return new PublicListCache(limits);
}
