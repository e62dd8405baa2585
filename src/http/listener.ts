// The HTTP listener: routes a path to its API, runs the MCP endpoint, turns failures into
// JSON-RPC errors, and tracks requests in flight so that shutdown can drain them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Runtime } from '../config/compile.ts';
import { normalizeApiPath } from '../config/load.ts';
import { handleMcp, type EndpointDeps, type RequestState } from './mcp-endpoint.ts';
import { sendError, sendJson } from './reply.ts';
import { ExchangeRecord, ObservedResponse } from '../observe/record.ts';
import { ConnectionGuard, isClientDisconnect, jsonRpcRefusal, timeoutOptions, type ClientLimits, type ConnectionStats } from './client-limits.ts';
import { ListenError } from './listen-error.ts';
import { createWebServer, type WebServer } from './tls-server.ts';
import { TlsReloader } from './tls-reload.ts';
import type { TlsConfig } from './tls-schema.ts';
import type { ListenerTls } from './tls.ts';
import { FORWARDED_HEADER } from '../cluster/signature.ts';

export interface ListenerDeps extends Omit<EndpointDeps, 'maxRequestBytes' | 'maxJsonDepth'> {
  runtime(): Runtime;
  /** Audit and metrics: told about every exchange on an API when present. */
  readonly observer?: ExchangeObserver | undefined;
}

export interface ExchangeObserver {
  /** Response bytes to keep for an API's audit payloads (0: metadata only). */
  captureBytes(api: string): number;
  /** Called when the record is made, before any work on the request (tracing starts its span here). */
  begin?(record: ExchangeRecord): void;
  /** Called once the response is finished or the client left. */
  complete(record: ExchangeRecord, status: number): void;
  /** Called instead of complete when the exchange was forwarded to the node that owns its session (it is observed there). */
  forwarded?(record: ExchangeRecord, status: number): void;
}

export class Listener {
  readonly server: WebServer;
  /** Keeps the certificate current when the listener serves HTTPS. */
  readonly tls: TlsReloader | undefined;
  private draining = false;
  // Requests in flight are counted, not kept in a Set: a long-lived Set churned by a new response
  // per request kept those responses (and all they reference) alive through young GCs until
  // promoted. Shutdown cuts what is left with closeAllConnections. Standalone GET streams are
  // few and long-lived, and must each be ended at shutdown: they stay in a Set.
  private inFlight = 0;
  private readonly streams = new Set<ServerResponse>();
  private idleWaiters: Array<() => void> = [];
  private depsFor: Runtime | undefined;
  private depsOfRuntime: EndpointDeps | undefined;
  /**
   * Requests that arrive after listen() and before open() wait here: the port is bound before the
   * gateway touches its store (a start that fails on a taken port must change nothing), and the
   * rest of the start runs while the port is held.
   */
  private held: Array<() => void> | undefined = [];

  /** Open and refused connections (metrics). */
  readonly connections: ConnectionStats;

  constructor(private readonly deps: ListenerDeps, maxHeaderBytes: number, limits: ClientLimits, tls?: ListenerTls) {
    let guard: ConnectionGuard | undefined;
    this.server = createWebServer(
      { maxHeaderSize: maxHeaderBytes, ...timeoutOptions(limits), ServerResponse: ObservedResponse },
      tls && { material: tls.material, handshakeTimeout: limits.headersTimeout, refusePlainHttp: (socket) => guard!.refusePlainHttp(socket) },
      (req, res) => this.handle(req, res as ObservedResponse),
    );
    this.connections = guard = new ConnectionGuard(this.server, 'MCP', limits, deps.log, jsonRpcRefusal);
    this.tls = tls && new TlsReloader(this.server as HttpsServer, tls.material, tls.source, deps.log);
  }

  /** `https` when the listener serves TLS. */
  get scheme(): 'http' | 'https' {
    return this.tls ? 'https' : 'http';
  }

  /** A config reload: new TLS file paths apply at once; turning TLS on or off takes a restart. */
  reconfigureTls(tls: TlsConfig | undefined): void {
    if (this.tls) void this.tls.reconfigure(tls);
    else if (tls) this.deps.log.warn('listen.tls was added: turning TLS on takes effect on restart; the listener keeps serving plain HTTP');
  }

  /** Binds the address; requests are held until open(). Rejects with a ListenError. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const fail = (error: unknown) => reject(new ListenError('mcp', host, port, error));
      this.server.once('error', fail);
      this.server.listen(port, host, () => {
        this.server.off('error', fail);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Starts serving, beginning with the requests that arrived since listen(). */
  open(): void {
    const held = this.held;
    this.held = undefined;
    for (const handle of held ?? []) handle();
  }

  private handle(req: IncomingMessage, res: ObservedResponse): void {
    if (this.held) {
      this.held.push(() => this.handle(req, res));
      return;
    }
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path === '/-/health') {
      sendJson(res, this.draining ? 503 : 200, { status: this.draining ? 'draining' : 'ok' });
      return;
    }
    if (this.draining) {
      // Another node forwarded a request for a session held here, which ends with this node:
      // 404 makes its client initialize again elsewhere, where 503 would only be retried.
      const forwarded = req.headers[FORWARDED_HEADER] !== undefined;
      sendError(res, forwarded ? new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: the node that held it is shutting down; initialize a new session') : new GatehouseError('GH_SHUTTING_DOWN'), null);
      return;
    }
    const runtime = this.deps.runtime();
    const api = runtime.apisByPath.get(normalizeApiPath(path));
    if (!api && runtime.routes.size > 0) {
      const route = runtime.routes.match(path);
      if (route) {
        this.inFlight++;
        Promise.resolve()
          .then(() => route(req, res, path))
          .catch((error: unknown) => {
            this.logFailure(error, path);
            sendError(res, error instanceof GatehouseError ? error : new GatehouseError('GH_INTERNAL'));
          })
          .finally(() => this.settle(res, false));
        return;
      }
    }
    if (!api) {
      sendError(res, new GatehouseError('GH_NOT_FOUND', `Not Found: no MCP endpoint at ${path}`));
      return;
    }
    // A request another node forwarded (src/cluster/): served only when its signature verifies.
    if (req.headers[FORWARDED_HEADER] !== undefined) {
      const refusal = this.acceptForwarded(req);
      if (refusal) {
        sendError(res, refusal);
        return;
      }
    }
    const stream = req.method === 'GET';
    if (stream) this.streams.add(res);
    else this.inFlight++;
    const observer = this.deps.observer;
    const record = observer ? new ExchangeRecord(req, observer.captureBytes(api.name)) : undefined;
    if (record) {
      record.api = api.name;
      observer!.begin?.(record);
      res.record = record;
      // A request forwarded to the node that owns its session is observed there, not twice
      // (tracing ends its span of the forward here).
      res.on('close', () => (record.forwardedTo === undefined ? observer!.complete(record, res.statusCode) : observer!.forwarded?.(record, res.statusCode)));
    }
    const state: RequestState = { id: null, record };
    handleMcp(req, res, api, this.endpointDeps(runtime), state).then(
      () => this.settle(res, stream),
      (error: unknown) => {
        try {
          this.logFailure(error, path);
          const wire = error instanceof GatehouseError ? error : new GatehouseError('GH_INTERNAL');
          if (record) record.error = wire;
          sendError(res, wire, state.id);
        } finally {
          this.settle(res, stream);
        }
      },
    );
  }

  /** Undefined when a forwarded request is to be served; else the refusal to answer it with. */
  private acceptForwarded(req: IncomingMessage): GatehouseError | undefined {
    const cluster = this.deps.cluster;
    const verdict = cluster ? cluster.accept(req) : ({ kind: 'refused', reason: 'this node does not take part in a cluster (cluster.enabled is off)' } as const);
    if (verdict.kind === 'own') return undefined;
    if (verdict.kind === 'not-mine') return new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: the node that held it is gone; initialize a new session');
    this.deps.log.warn({ address: req.socket.remoteAddress, path: req.url, reason: verdict.reason }, 'cluster: a request with a forwarding header was refused');
    return new GatehouseError('GH_FORWARD_REFUSED', `Forbidden: the ${FORWARDED_HEADER} header is for Gatehouse nodes of one cluster, and this one does not verify: ${verdict.reason}`);
  }

  /** Refusals are answered, not logged; a client that left is logged at debug; anything else is a fault. */
  private logFailure(error: unknown, path: string): void {
    if (error instanceof GatehouseError) return;
    if (isClientDisconnect(error)) this.deps.log.debug({ path, code: (error as NodeJS.ErrnoException).code }, 'client disconnected before its request was handled');
    else this.deps.log.error({ err: error, path }, 'unexpected error while handling a request');
  }

  /** The endpoint's dependencies under a runtime, made once per config (not per request). */
  private endpointDeps(runtime: Runtime): EndpointDeps {
    if (this.depsFor !== runtime) {
      this.depsFor = runtime;
      this.depsOfRuntime = { ...this.deps, maxRequestBytes: runtime.config.limits.maxRequestBytes, maxJsonDepth: runtime.config.limits.maxJsonDepth };
    }
    return this.depsOfRuntime!;
  }

  private settle(res: ServerResponse, stream: boolean): void {
    if (stream) this.streams.delete(res);
    else if (--this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /**
   * Stops accepting, ends standalone streams (clients reconnect elsewhere), lets requests in
   * flight finish for up to `drainMs`, then closes what is left.
   */
  async drain(drainMs: number): Promise<{ drained: number; cut: number }> {
    this.draining = true;
    this.tls?.close();
    this.open(); // held requests (a start that failed) are answered 503
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const res of this.streams) res.end();
    const pending = this.inFlight;
    if (pending > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref()),
      ]);
    }
    const cut = this.inFlight;
    this.server.closeAllConnections();
    await closed;
    return { drained: pending - cut, cut };
  }
}
