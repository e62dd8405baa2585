// Connector for Streamable HTTP upstreams: one pooled keep-alive connection set per server,
// each client request forwarded as one upstream request, the answer streamed back as it arrives.
// Gatehouse keeps no per-session state beyond a few numbers for idle reaping: the upstream
// session id travels inside the sealed downstream id.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import { Pool, errors as undiciErrors } from 'undici';
import { GatehouseError } from '../errors.ts';
import type { SessionClaims, SessionSealer } from '../session/seal.ts';
import { sendError } from '../http/reply.ts';
import type { Logger } from '../log.ts';
import type { Exchange, PostExchange, Upstream, UpstreamCredentials, UpstreamGlobals } from './upstream.ts';
import { HttpSessionTracker } from './http-sessions.ts';
import { JsonRewriter, LimitedPassThrough, LimitedSsePassThrough, SseRewriter } from './message-rewriter.ts';

export interface HttpUpstreamConfig {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly timeouts?: { readonly connect?: number | undefined; readonly response?: number | undefined } | undefined;
}

/** Upstream response headers relayed to the client (others are hop-by-hop or the upstream's business). */
const RELAYED_HEADERS = ['content-type', 'cache-control', 'mcp-protocol-version', 'retry-after', 'www-authenticate'];

export class StreamableHttpUpstream implements Upstream {
  readonly kind = 'http' as const;
  private pool: Pool;
  private origin: string;
  private path: string;
  private extraHeaders: Record<string, string>;
  private responseTimeout: number;
  private readonly tracker = new HttpSessionTracker();
  /** Upstream requests behind open GET streams (aborted by endStreams at shutdown). */
  private readonly getStreams = new Set<AbortController>();

  constructor(
    readonly name: string,
    config: HttpUpstreamConfig,
    private globals: UpstreamGlobals,
    private readonly sealer: SessionSealer,
    private readonly log: Logger,
    private credentials?: UpstreamCredentials,
  ) {
    const url = new URL(config.url);
    this.origin = url.origin;
    this.path = url.pathname + url.search;
    this.extraHeaders = lowerCaseKeys(config.headers ?? {});
    this.responseTimeout = config.timeouts?.response ?? globals.responseTimeout;
    this.pool = this.createPool(config);
  }

  private createPool(config: HttpUpstreamConfig): Pool {
    return new Pool(this.origin, {
      connect: { timeout: config.timeouts?.connect ?? this.globals.connectTimeout },
      keepAliveTimeout: 30_000,
      connections: 256,
    });
  }

  /** Applies a reloaded server definition; the upstream sessions stay valid. */
  update(config: HttpUpstreamConfig, globals: UpstreamGlobals, credentials?: UpstreamCredentials): void {
    const url = new URL(config.url);
    this.credentials = credentials;
    this.globals = globals;
    this.extraHeaders = lowerCaseKeys(config.headers ?? {});
    this.responseTimeout = config.timeouts?.response ?? globals.responseTimeout;
    this.path = url.pathname + url.search;
    if (url.origin !== this.origin) {
      const old = this.pool;
      this.origin = url.origin;
      this.pool = this.createPool(config);
      void old.close();
    }
  }

  isLive(claims: SessionClaims): boolean {
    return claims.up === undefined || !this.tracker.isEnded(claims.up);
  }

  sessionCount(): number {
    return this.tracker.size;
  }

  async post(x: PostExchange): Promise<void> {
    const body = JSON.stringify(x.batch ? x.messages : x.messages[0]);
    const headers = this.requestHeaders(x, 'application/json, text/event-stream');
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
    await this.forward(x, 'POST', headers, body);
  }

  async get(x: Exchange): Promise<void> {
    if (!x.session?.claims.up) throw new GatehouseError('GH_METHOD_NOT_ALLOWED', 'This session has no server → client stream', { allow: 'POST' });
    const headers = this.requestHeaders(x, 'text/event-stream');
    const lastEventId = x.req.headers['last-event-id'];
    if (typeof lastEventId === 'string') headers['last-event-id'] = lastEventId;
    await this.forward(x, 'GET', headers, undefined);
  }

  async delete(x: Exchange): Promise<void> {
    const up = x.session?.claims.up;
    if (!up) {
      x.res.writeHead(200).end();
      return;
    }
    await this.forward(x, 'DELETE', this.requestHeaders(x, 'application/json, text/event-stream'), undefined);
    this.tracker.end(up);
    this.sealer.forget(x.session!.token);
  }

  reap(now: number): void {
    for (const up of this.tracker.idle(now, this.globals.idleTimeout)) {
      this.tracker.end(up);
      this.log.info({ server: this.name }, 'ending idle upstream session');
      Promise.resolve(this.credentials?.headers())
        .then((auth) => this.pool.request({ path: this.path, method: 'DELETE', headers: { ...this.extraHeaders, ...auth, 'mcp-session-id': up }, headersTimeout: 10_000 }))
        .then((r) => r.body.resume())
        .catch((error: Error) => this.log.debug({ server: this.name, err: error.message }, 'idle session DELETE failed'));
    }
  }

  endStreams(): void {
    // Standalone GET streams are piped straight through: stop their upstream side here (or
    // pool.close() would wait on them forever); the listener then ends the client side.
    for (const controller of this.getStreams) controller.abort();
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => undefined);
  }

  private requestHeaders(x: Exchange, accept: string): Record<string, string> {
    const headers: Record<string, string> = { ...this.extraHeaders, accept };
    if (x.versionHeader) headers['mcp-protocol-version'] = x.versionHeader;
    const up = x.session?.claims.up;
    if (up) headers['mcp-session-id'] = up;
    const method = x.req.headers['mcp-method'];
    if (typeof method === 'string') headers['mcp-method'] = method;
    const name = x.req.headers['mcp-name'];
    if (typeof name === 'string') headers['mcp-name'] = name;
    // 2026-07-28 (SEP-2243): tool arguments marked `x-mcp-header` are mirrored in Mcp-Param-*
    // headers, which the server checks against the body; they must reach it.
    for (const [header, value] of Object.entries(x.req.headers)) {
      if (header.startsWith('mcp-param-') && typeof value === 'string') headers[header] = value;
    }
    // With tracing on, the upstream continues Gatehouse's span; otherwise the client's context passes through.
    const traceparent = x.record?.traceparent ?? x.req.headers.traceparent;
    if (typeof traceparent === 'string') headers.traceparent = traceparent;
    return headers;
  }

  private async forward(x: Exchange | PostExchange, method: 'POST' | 'GET' | 'DELETE', headers: Record<string, string>, body: string | undefined): Promise<void> {
    const controller = new AbortController();
    if (method === 'GET') this.getStreams.add(controller);
    const onClose = () => {
      if (!x.res.writableFinished) controller.abort();
    };
    x.res.once('close', onClose);
    // Writes racing a client that left (or a stream ended at shutdown) fail here; the abort
    // above stops the upstream side, so there is nothing else to do with them.
    x.res.on('error', ignore);
    const up = x.session?.claims.up;
    if (up) this.tracker.streamOpened(up);
    x.record?.upstreamStarted();
    // A 401 to Gatehouse's own credential (not a passthrough token) is retried once with a fresh
    // one (a token can expire in flight); a second 401 is Gatehouse's problem, not the agent's.
    const own = x.passthroughToken === undefined ? this.credentials : undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.credentials) Object.assign(headers, await this.credentials.headers());
        if (x.passthroughToken !== undefined) headers.authorization = `Bearer ${x.passthroughToken}`;
        let retry = false;
        await this.pool.stream(
          { path: this.path, method, headers, body, signal: controller.signal, headersTimeout: this.responseTimeout, bodyTimeout: 0 },
          ({ statusCode, headers: upstreamHeaders }) => {
            if (statusCode !== 401 || !own) return this.startResponse(x, statusCode, upstreamHeaders);
            own.rejected?.();
            if (attempt > 1) throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${this.name}" refused Gatehouse's credential for it`);
            retry = true;
            return discard();
          },
        );
        if (!retry) break;
      }
    } catch (error) {
      this.fail(x, error);
    } finally {
      x.res.off('close', onClose);
      x.record?.upstreamEnded();
      this.getStreams.delete(controller);
      if (up) this.tracker.streamClosed(up);
    }
  }

  /** Writes the response head and returns where the body goes. */
  private startResponse(x: Exchange | PostExchange, status: number, upstream: IncomingHttpHeaders): Writable {
    x.record?.upstreamResponded(status);
    const out: OutgoingHttpHeaders = {};
    for (const name of RELAYED_HEADERS) {
      const value = upstream[name];
      if (value !== undefined) out[name] = value;
    }
    if (status === 401) {
      this.credentials?.rejected?.();
      const challenge = out['www-authenticate'];
      if (typeof challenge === 'string' && x.rewriteChallenge) out['www-authenticate'] = x.rewriteChallenge(challenge);
    }
    const upstreamSession = upstream['mcp-session-id'];
    const isInit = 'initialize' in x && x.initialize;
    if (isInit && status >= 200 && status < 300) {
      const up = typeof upstreamSession === 'string' ? upstreamSession : undefined;
      const claims: SessionClaims = { api: x.api, sub: x.principal.key, kind: 'http', iat: Math.floor(Date.now() / 1000) };
      if (up) {
        claims.up = up;
        this.tracker.touch(up);
      }
      out['mcp-session-id'] = this.sealer.seal(claims);
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
    if (isSse) out['x-accel-buffering'] = 'no';
    if (x.transform && status < 300 && (isSse || contentType.startsWith('application/json'))) {
      x.res.writeHead(status, out);
      if (isSse) x.res.flushHeaders();
      return isSse ? new SseRewriter(x.res, x.transform, max) : new JsonRewriter(x.res, x.transform, max);
    }
    if (length !== undefined) out['content-length'] = length;
    x.res.writeHead(status, out);
    if (isSse) {
      x.res.flushHeaders();
      const requestId = 'messages' in x && !x.batch ? idOf(x.messages[0]) : null;
      return new LimitedSsePassThrough(x.res, max, requestId);
    }
    return length === undefined ? new LimitedPassThrough(x.res, max) : x.res;
  }

  private fail(x: Exchange, error: unknown): void {
    if (error instanceof undiciErrors.RequestAbortedError || (error as Error).name === 'AbortError') return; // client left
    const wire = toWireError(this.name, error);
    if (x.record) x.record.error = wire;
    if (wire.code === 'GH_UPSTREAM_RESPONSE_TOO_LARGE' || wire.status >= 500) {
      x.log.warn({ server: this.name, code: wire.code, err: (error as Error).message }, 'upstream request failed');
    }
    if (x.res.headersSent) {
      // An answer already complete (e.g. ended with an error event) is left to flush.
      if (!x.res.writableEnded) x.res.destroy();
      return;
    }
    const id = 'messages' in x && !(x as PostExchange).batch ? idOf((x as PostExchange).messages[0]) : null;
    sendError(x.res, wire, id);
  }
}

function ignore(): void {}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

function idOf(message: unknown): string | number | null {
  if (message && typeof message === 'object' && 'id' in message) {
    const id = (message as { id: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}

function toWireError(server: string, error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  if (error instanceof RangeError) return new GatehouseError('GH_UPSTREAM_RESPONSE_TOO_LARGE', error.message);
  const code = (error as { code?: string }).code ?? '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream "${server}" did not accept the connection in time`);
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream "${server}" did not answer in time`);
  if (code === 'UND_ERR_BODY_TIMEOUT') return new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream "${server}" stopped sending`);
  return new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${server}" is unavailable (${code || (error as Error).message})`);
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) out[key.toLowerCase()] = value;
  return out;
}
