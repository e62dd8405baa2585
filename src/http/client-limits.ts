// What a listener allows its clients, below the HTTP request handler: how long a client may take
// to send headers and a body, how long an idle keep-alive connection stays, how many connections
// are open at once, and how Node's own refusals (malformed request, headers too large, timeout)
// are answered. Used by the MCP listener and the admin listener.
import { readFileSync } from 'node:fs';
import type { ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { GatehouseError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import { errorResponse } from '../mcp/jsonrpc.ts';
import type { WebServer } from './tls-server.ts';

export interface ClientLimits {
  /** Longest a client may take to send a request's headers (from its first byte, or from connecting). */
  readonly headersTimeout: number;
  /** Longest a client may take to send a whole request, headers and body. */
  readonly requestTimeout: number;
  /** Longest a keep-alive connection may stay idle between requests. */
  readonly idleTimeout: number;
  /** Most connections open at once; more are refused before a byte is read. */
  readonly maxConnections: number;
}

/**
 * The node:http options that enforce the timeouts. Node checks header and request deadlines on
 * an interval (30 s unless set), so the interval follows the shortest deadline. The request
 * deadline ends when the request has been received: answers that stream for long (SSE) are not
 * cut by it, and a connection carrying an answer is never idle.
 */
export function timeoutOptions(limits: ClientLimits): Pick<ServerOptions, 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'connectionsCheckingInterval'> {
  const shortest = Math.min(limits.headersTimeout, limits.requestTimeout);
  return {
    // Node refuses headersTimeout > requestTimeout; the config schema refuses it with a message first.
    headersTimeout: Math.min(limits.headersTimeout, limits.requestTimeout),
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.idleTimeout,
    connectionsCheckingInterval: Math.max(25, Math.min(5_000, Math.floor(shortest / 4))),
  };
}

/** Errors that mean the client went away (reset, closed, aborted): not a fault of Gatehouse. */
const DISCONNECT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/** Whether an error is a client disconnect (logged at debug), not a failure of Gatehouse. */
export function isClientDisconnect(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && DISCONNECT_CODES.has(code);
}

/** How Node's parser errors are answered: the catalogue code for each. */
function refusalFor(code: string | undefined): ErrorCode {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'GH_HEADERS_TOO_LARGE';
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 'GH_PAYLOAD_TOO_LARGE';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'GH_REQUEST_TIMEOUT';
    default:
      return 'GH_BAD_HTTP_REQUEST';
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Content Too Large', 431: 'Request Header Fields Too Large' };

/** The body of a refusal: a JSON-RPC error (MCP listener) or the admin listener's `{error}`. */
export type RefusalBody = (error: GatehouseError) => unknown;

export const jsonRpcRefusal: RefusalBody = (error) => errorResponse(null, error.rpc, error.message, { code: error.code });

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  GH_HEADERS_TOO_LARGE: 'Request Header Fields Too Large: the request headers exceed the limit',
  GH_REQUEST_TIMEOUT: 'Request Timeout: the request was not received in time (timeouts.clientHeaders / timeouts.clientRequest)',
  GH_BAD_HTTP_REQUEST: 'Bad Request: the HTTP request is malformed',
  GH_PAYLOAD_TOO_LARGE: 'Request chunk extensions too large',
};

/** Counters of one listener's connections, read by metrics at scrape time. */
export interface ConnectionStats {
  /** Connections open now. */
  readonly open: number;
  /** Connections accepted, in total. */
  readonly accepted: number;
  /** Connections refused at the cap, in total. */
  readonly refused: number;
}

const RECLAIM_EVERY_MS = 100;
const REFUSAL_LOG_EVERY_MS = 60_000;

/**
 * Caps a server's connections and answers its client errors. At the cap, idle keep-alive
 * connections are closed first (a client reopens one when it needs it, as it does after the idle
 * timeout); a connection beyond the cap while every connection is busy (a request or stream in
 * flight, or headers still arriving) is refused: closed at once, before a byte is read, so that
 * refusing costs nothing and file descriptors stay for upstreams, stdio pipes and the store.
 */
export class ConnectionGuard implements ConnectionStats {
  open = 0;
  accepted = 0;
  refused = 0;
  private lastReclaim = 0;
  private lastRefusalLog = 0;
  private refusedSinceLog = 0;

  constructor(
    private readonly server: WebServer,
    private readonly name: string,
    private readonly limits: ClientLimits,
    private readonly log: Logger,
    private readonly body: RefusalBody,
  ) {
    server.maxConnections = limits.maxConnections;
    server.on('connection', (socket: Socket) => {
      this.open++;
      this.accepted++;
      socket.once('close', () => this.open--);
      if (this.open >= limits.maxConnections) this.reclaim();
    });
    server.on('drop', () => this.onDrop());
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => this.onClientError(error, socket));
    // TLS handshakes that fail (an untrusted client certificate, no common version, a timeout).
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      this.log.debug({ listener: this.name, code: error.code, err: error.message }, 'TLS handshake failed');
      socket.destroy();
    });
  }

  /** Answers plain HTTP sent to a TLS port (before any TLS), then closes the connection. */
  refusePlainHttp(socket: Socket): void {
    this.log.debug({ listener: this.name }, 'plain HTTP request on the TLS port refused');
    this.answer(socket, new GatehouseError('GH_BAD_HTTP_REQUEST', 'Bad Request: this port serves HTTPS only: use an https:// URL'));
  }

  /** Closes idle keep-alive connections, at most every 100 ms (it walks every connection). */
  private reclaim(): void {
    const now = Date.now();
    if (now - this.lastReclaim < RECLAIM_EVERY_MS) return;
    this.lastReclaim = now;
    this.server.closeIdleConnections();
  }

  private onDrop(): void {
    this.refused++;
    this.refusedSinceLog++;
    this.reclaim();
    const now = Date.now();
    if (now - this.lastRefusalLog >= REFUSAL_LOG_EVERY_MS) {
      this.log.warn(
        { listener: this.name, maxConnections: this.limits.maxConnections, refused: this.refusedSinceLog },
        `${this.name} listener at its connection cap: new connections refused (every open connection is busy); raise the cap (and the open-file limit) if this is legitimate load`,
      );
      this.lastRefusalLog = now;
      this.refusedSinceLog = 0;
    }
  }

  /**
   * Node's parser refused the request, or a deadline passed. Answered like any refusal (status,
   * JSON body with the catalogue code) when the socket can still carry it and no answer has
   * started on it; a client that has gone is only logged, at debug.
   */
  private onClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    // The answer in progress on this connection, if any (node:http keeps it on the socket).
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (isClientDisconnect(error)) {
      this.log.debug({ listener: this.name, code: error.code }, 'client disconnected');
      socket.destroy();
      return;
    }
    const refusal = new GatehouseError(refusalFor(error.code), MESSAGES[refusalFor(error.code)]);
    this.log.debug({ listener: this.name, code: error.code, answered: refusal.status }, 'client request refused by the HTTP parser or a deadline');
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    this.answer(socket, refusal);
  }

  /** Writes a refusal on a connection that has no answer in progress, and closes it. */
  private answer(socket: Socket, refusal: GatehouseError): void {
    const text = JSON.stringify(this.body(refusal));
    socket.end(
      `HTTP/1.1 ${refusal.status} ${REASONS[refusal.status] ?? 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
    );
    // The client may not read; the socket must not outlive the answer by much.
    socket.setTimeout(1_000, () => socket.destroy());
  }
}

/**
 * The soft limit on open files of this process (Linux: /proc/self/limits), or undefined where it
 * cannot be read.
 */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  try {
    const line = read()
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined) return undefined;
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const n = Number(soft);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Open-file limit assumed where it cannot be read (a common default). */
const ASSUMED_FILE_LIMIT = 1024;

/**
 * The default connection cap of the MCP listener: half the open-file limit, so that the other
 * half stays for upstream connections, stdio children's pipes, the store, the audit log and the
 * admin listener. Never below 64.
 */
export function defaultMaxConnections(fileLimit: number | undefined): number {
  return Math.max(64, Math.floor(Math.min(fileLimit ?? ASSUMED_FILE_LIMIT, 2 ** 31 - 1) / 2));
}
