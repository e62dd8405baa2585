// A Streamable HTTP server as one member of a federated session: a message channel over the
// SDK's client transport (POSTs answered with JSON or SSE, the standalone GET stream, resumption),
// with the server's headers and its own credential on every request. A lost upstream session
// (404: the server restarted or expired it, or the server cannot be reached) ends the channel,
// and the federated session starts a new one for this server.
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log.ts';
import { isRequest, isResponse, type JsonRpcMessage } from '../../mcp/jsonrpc.ts';
import type { MessageChannel } from '../channel.ts';
import type { UpstreamCredentials } from '../upstream.ts';

export interface HttpMemberConfig {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly credentials: UpstreamCredentials | undefined;
  /** Longest wait for the head of an answer (a JSON answer's head comes with the whole answer). */
  readonly responseTimeout: number;
}

export class HttpMemberChannel implements MessageChannel {
  onmessage: ((message: JsonRpcMessage) => void) | undefined;
  onclose: ((reason: string) => void) | undefined;
  private readonly transport: StreamableHTTPClientTransport;
  private closed = false;
  /** A request the server refused with 404 (its session was gone): it was not acted on, and may be sent again on a new session. */
  unsent: JsonRpcMessage | undefined;
  /** Id of the initialize request, whose answer names the protocol revision of this hop. */
  private initializeId: string | number | undefined;

  constructor(
    private readonly config: HttpMemberConfig,
    private readonly log: Logger,
  ) {
    this.transport = new StreamableHTTPClientTransport(new URL(config.url), {
      fetch: (url, init) => this.fetch(url, init),
      // A dropped standalone stream is opened again twice, then the session counts as lost.
      reconnectionOptions: { initialReconnectionDelay: 200, maxReconnectionDelay: 2000, reconnectionDelayGrowFactor: 2, maxRetries: 2 },
    });
    this.transport.onmessage = (message) => this.received(message as JsonRpcMessage);
    this.transport.onerror = (error) => this.failed(error);
    this.transport.onclose = () => this.end('the connection was closed');
  }

  /** The upstream's session id (for logs and tests). */
  get sessionId(): string | undefined {
    return this.transport.sessionId;
  }

  async start(): Promise<void> {
    await this.transport.start();
  }

  send(message: JsonRpcMessage): void {
    if (this.closed) throw new Error('channel closed');
    if (isRequest(message) && message.method === 'initialize') this.initializeId = message.id;
    this.transport.send(message as JSONRPCMessage).catch((error: unknown) => {
      if (error instanceof StreamableHTTPError && error.code === 404 && isRequest(message)) this.unsent ??= message;
      this.failed(error);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Ends the upstream session (DELETE) so that the server frees it, then the transport.
    await this.transport.terminateSession().catch(() => undefined);
    await this.transport.close().catch(() => undefined);
    this.end('was closed');
  }

  private received(message: JsonRpcMessage): void {
    if (isResponse(message) && this.initializeId !== undefined && message.id === this.initializeId) {
      this.initializeId = undefined;
      const version = (message.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
      if (typeof version === 'string') this.transport.setProtocolVersion(version);
    }
    this.onmessage?.(message);
  }

  private failed(error: unknown): void {
    if (this.closed) return;
    const status = error instanceof StreamableHTTPError ? error.code : undefined;
    const text = error instanceof Error ? error.message : String(error);
    // A message the transport could not parse is not a lost session.
    if (status === undefined && !/fetch failed|SSE stream|reconnect|ECONNREFUSED|terminated|socket/i.test(text)) {
      this.log.warn({ err: text }, 'upstream message dropped');
      return;
    }
    this.log.info({ status, err: text }, 'upstream session lost');
    void this.transport.close().catch(() => undefined);
    this.end(status === 404 ? 'ended the session (404)' : `could not be reached (${text})`);
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.(reason);
  }

  private async fetch(url: string | URL, init: RequestInit | undefined): Promise<Response> {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(this.config.headers ?? {})) headers.set(name, value);
    if (this.config.credentials) for (const [name, value] of Object.entries(await this.config.credentials.headers())) headers.set(name, value);
    let timer: NodeJS.Timeout | undefined;
    const response = await Promise.race([
      fetch(url, { ...init, headers }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`fetch failed: no answer within ${this.config.responseTimeout} ms`)), this.config.responseTimeout);
      }),
    ]).finally(() => clearTimeout(timer));
    if (response.status === 401) this.config.credentials?.rejected?.();
    return response;
  }
}
