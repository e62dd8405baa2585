// An HTTP+SSE (2024-11-05) MCP server as a message channel: one GET stream carries server
// messages; the server names, in its first `endpoint` event, the URL that client messages are
// POSTed to. Gatehouse bridges this to Streamable HTTP for its clients.
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Dispatcher } from 'undici';
import type { Logger } from '../log.ts';
import { SseParser } from '../mcp/sse.ts';
import { errorResponse, isRequest, validateMessage, type JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { MessageChannel } from './channel.ts';
import type { UpstreamCredentials } from './upstream.ts';

export interface SseServerConfig {
  readonly sse: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly connectTimeout: number;
  readonly responseTimeout: number;
  readonly maxEventBytes: number;
  /** The server's own credential, added to the GET and every POST. */
  readonly credentials?: UpstreamCredentials | undefined;
}

export class SseChannel implements MessageChannel {
  onmessage: ((message: JsonRpcMessage) => void) | undefined;
  onclose: ((reason: string) => void) | undefined;
  private endpoint: URL | undefined;
  private readonly abort = new AbortController();
  private closed = false;
  private body: Readable | undefined;

  constructor(
    private readonly config: SseServerConfig,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const url = new URL(this.config.sse);
    const response = await this.request(
      { origin: url.origin, path: url.pathname + url.search, method: 'GET', signal: this.abort.signal, headersTimeout: this.config.responseTimeout, bodyTimeout: 0 },
      { accept: 'text/event-stream' },
    );
    if (response.statusCode !== 200) {
      response.body.resume();
      throw new Error(`GET ${url.pathname} answered ${response.statusCode}`);
    }
    this.body = response.body;
    await new Promise<void>((resolve, reject) => {
      const decoder = new StringDecoder('utf8');
      const parser = new SseParser((event) => {
        if (event.event === 'endpoint') {
          const endpoint = new URL(event.data, url);
          if (endpoint.origin !== url.origin) {
            reject(new Error(`server named a message endpoint on another origin (${endpoint.origin})`));
            void this.close();
            return;
          }
          this.endpoint = endpoint;
          resolve();
          return;
        }
        if (event.event === undefined || event.event === 'message') this.onData(event.data);
      }, this.config.maxEventBytes);
      response.body.on('data', (chunk: Buffer) => {
        try {
          parser.push(decoder.write(chunk));
        } catch (error) {
          this.log.error({ err: (error as Error).message }, 'SSE server sent an oversized event; closing');
          void this.close();
        }
      });
      response.body.once('end', () => {
        reject(new Error('stream ended before the endpoint event'));
        this.finish('closed its stream');
      });
      response.body.once('error', (error: Error) => {
        reject(error);
        this.finish(`stream failed: ${error.message}`);
      });
    });
  }

  send(message: JsonRpcMessage): void {
    if (this.closed || !this.endpoint) throw new Error('SSE server is not connected');
    const endpoint = this.endpoint;
    const body = JSON.stringify(message);
    this.request(
      { origin: endpoint.origin, path: endpoint.pathname + endpoint.search, method: 'POST', body, headersTimeout: this.config.responseTimeout },
      { 'content-type': 'application/json' },
    )
      .then(async (response) => {
        const text = await response.body.text();
        if (response.statusCode >= 300) this.refuse(message, `the server answered ${response.statusCode}: ${text.slice(0, 200)}`);
      })
      .catch((error: Error) => this.refuse(message, error.message));
  }

  /** A request with the configured headers and credential; a 401 to the credential is retried once with a fresh one. */
  private async request(options: Omit<Dispatcher.RequestOptions, 'headers'>, headers: Record<string, string>): Promise<Dispatcher.ResponseData> {
    const credentials = this.config.credentials;
    for (let attempt = 1; ; attempt++) {
      let auth: Record<string, string> = {};
      try {
        if (credentials) auth = await credentials.headers();
      } catch {
        throw new Error('could not obtain upstream credential'); // the reason is logged where it happened
      }
      const response = await this.dispatcher.request({ ...options, headers: { ...this.config.headers, ...auth, ...headers } });
      if (response.statusCode !== 401 || !credentials) return response;
      credentials.rejected?.();
      if (attempt > 1) return response;
      response.body.resume();
    }
  }

  private refuse(message: JsonRpcMessage, reason: string): void {
    this.log.warn({ reason }, 'SSE server refused a message');
    if (isRequest(message)) this.onmessage?.(errorResponse(message.id, -32010, `Upstream refused the message: ${reason}`));
  }

  private onData(data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.log.warn('SSE server sent a non-JSON message');
      return;
    }
    const checked = validateMessage(parsed, 'keep');
    if (checked.ok) this.onmessage?.(checked.message);
    else this.log.warn({ reason: checked.reason }, 'SSE server sent an invalid JSON-RPC message');
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.body?.destroy();
    this.finish('closed');
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.(reason);
  }
}
