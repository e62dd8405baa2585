// The HTTP client side of the Streamable HTTP connector: keep-alive connections to one upstream
// origin over node:http (its native parser and socket writes are what a bare reverse proxy uses,
// and cost less per request than a WASM-parsing client), with connect and response timeouts, a
// way to cancel, and one retry when a kept-alive connection turns out to be closed.
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Writable } from 'node:stream';
import { PoolSweeper, type Waiting } from './pool-sweeper.ts';

export type UpstreamFailure = 'connect-timeout' | 'response-timeout' | 'closed-mid-body';

/** A failure of the exchange itself (as opposed to a refused connection, reported by its code). */
export class UpstreamHttpError extends Error {
  constructor(readonly failure: UpstreamFailure, message: string) {
    super(message);
    this.name = 'UpstreamHttpError';
  }
}

/** Thrown (and ignored by callers) when the exchange was cancelled: the client left, or shutdown. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export interface UpstreamRequest {
  readonly method: 'POST' | 'GET' | 'DELETE';
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** Milliseconds to wait for the response head (0: no limit). */
  readonly responseTimeout: number;
}

/** One exchange in flight: cancel() stops it at any point (a no-op once it is over). */
export interface Cancellable {
  cancel(): void;
}

export class UpstreamHttpClient {
  private readonly agent: http.Agent;
  private readonly sweeper: PoolSweeper;
  private readonly transport: typeof http | typeof https;
  private readonly hostname: string;
  private readonly port: number;

  constructor(readonly origin: string, private readonly connectTimeout: number) {
    const url = new URL(origin);
    const secure = url.protocol === 'https:';
    this.transport = secure ? https : http;
    // No `timeout` here: idle connections are closed by the sweeper (pool-sweeper.ts), which
    // needs no timer per request.
    const options = { keepAlive: true, maxSockets: 256, scheduling: 'lifo' as const };
    this.agent = secure ? new https.Agent(options) : new http.Agent(options);
    this.sweeper = new PoolSweeper(this.agent, (request) => request.destroy(new UpstreamHttpError('response-timeout', 'response timeout')));
    this.hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = Number(url.port) || (secure ? 443 : 80);
  }

  /**
   * Sends a request and resolves with the response head (its body still to be read), or rejects
   * with the network error, an UpstreamHttpError (timeouts) or CancelledError.
   */
  request(path: string, request: UpstreamRequest, handle?: { current?: Cancellable }): Promise<IncomingMessage> {
    return this.attempt(path, request, handle, true);
  }

  /** Closes every connection (after the listener drained: nothing should be in flight). */
  close(): void {
    this.sweeper.close();
    this.agent.destroy();
  }

  private attempt(path: string, request: UpstreamRequest, handle: { current?: Cancellable } | undefined, mayRetry: boolean): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let waiting: Waiting | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      const clear = () => {
        if (waiting) this.sweeper.done(waiting);
        if (connectTimer) clearTimeout(connectTimer);
      };
      const req: ClientRequest = this.transport.request({
        hostname: this.hostname,
        port: this.port,
        path,
        method: request.method,
        headers: request.headers,
        agent: this.agent,
      });
      if (handle) handle.current = { cancel: () => req.destroy(new CancelledError()) };
      // `on`, not `once`, for events a request emits once (or whose later ones are to be ignored):
      // `once` costs a wrapper per listener, and this runs for every request.
      req.on('response', (response) => {
        settled = true;
        clear();
        this.sweeper.heardFrom(response.headers);
        resolve(response);
      });
      req.on('error', (error: Error & { code?: string }) => {
        clear();
        if (settled) return; // the response stream reports its own end (see relay)
        settled = true;
        // A kept-alive connection the upstream closed as we reused it: nothing was processed.
        if (mayRetry && req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          resolve(this.attempt(path, request, handle, false));
          return;
        }
        reject(error);
      });
      if (this.connectTimeout > 0) {
        req.on('socket', (socket) => {
          if (!socket.connecting) return;
          connectTimer = setTimeout(() => req.destroy(new UpstreamHttpError('connect-timeout', 'connect timeout')), this.connectTimeout);
          // `once`: the socket outlives this request (keep-alive).
          socket.once('connect', () => clearTimeout(connectTimer));
        });
      }
      if (request.responseTimeout > 0) waiting = this.sweeper.wait(req, request.responseTimeout);
      req.end(request.body);
    });
  }
}

/** How a relay ends, shared by every relay: settled once, whichever end comes first. */
export interface RelayOutcome {
  readonly done: boolean;
  succeed(): void;
  fail(error: Error): void;
}

/**
 * Settles a relay of `response` into `res`: it fails when the client's response errs or closes
 * before its end (CancelledError: the client left), or when the upstream errs or closes before the
 * end of its body (UpstreamHttpError 'closed-mid-body'); a failure also stops the upstream side.
 */
export function relayOutcome(response: IncomingMessage, res: ServerResponse, resolve: () => void, reject: (error: Error) => void): RelayOutcome {
  // `done` is a plain field, not a getter over a closure variable. With an accessor in this
  // per-request literal, young GCs kept every request's objects alive until they were promoted
  // (measured with --trace-gc-nvp), which cost more CPU than anything else Gatehouse does per
  // request. V8 keeps accessors in hidden classes, which live in old space.
  const outcome = {
    done: false,
    succeed() {
      if (outcome.done) return;
      outcome.done = true;
      resolve();
    },
    fail(error: Error) {
      if (outcome.done) return;
      outcome.done = true;
      response.destroy();
      reject(error);
    },
  };
  // `on`, not `once`: these objects live as long as the exchange, and outcome settles only once.
  res.on('error', outcome.fail);
  res.on('close', () => {
    if (!res.writableFinished) outcome.fail(new CancelledError());
  });
  response.on('error', outcome.fail);
  response.on('close', () => {
    if (!response.complete) outcome.fail(new UpstreamHttpError('closed-mid-body', 'the upstream closed the response before its end'));
  });
  return outcome;
}

/**
 * Copies a response body into `sink` (the client's response, or a rewriter writing into it) with
 * backpressure, and settles when the sink has finished (resolve) or either side failed or the
 * client left (reject; see relayOutcome).
 */
export function relay(response: IncomingMessage, sink: Writable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const outcome = relayOutcome(response, res, resolve, reject);
    response.on('data', (chunk: Buffer) => {
      if (!outcome.done && !sink.write(chunk)) response.pause();
    });
    sink.on('drain', () => response.resume());
    response.on('end', () => {
      if (!outcome.done) sink.end();
    });
    sink.on('finish', outcome.succeed);
    if (sink !== res) sink.on('error', outcome.fail);
  });
}

export type { IncomingHttpHeaders };
