// A Streamable HTTP server as one member of a federated session: a message channel over
// Gatehouse's own undici client (http-client.ts, one connection pool per server shared by every
// federated session), with the server's headers and its own credential on every request. Each
// message is POSTed; its answer comes as JSON or SSE and is decoded once (JSON.parse and the
// JSON-RPC shape check), its text kept so that an answer that needs no change reaches the client
// as the server wrote it. The standalone GET stream carries the server's own requests and
// notifications. Measured against the SDK's client transport (fetch, web streams, zod validation
// of every message), this is what makes a federated call cost about what a single-server one does
// (bench/README.md).
//
// A lost upstream session (404: the server restarted or expired it, or the server cannot be
// reached) ends the channel, and the federated session starts a new one for this server. A
// channel can also take over an existing upstream session (its id and revision, from the shared
// store: federation/session-store.ts), so another node, or this one after a restart, continues it.
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../../log.ts';
import { errorResponse, isRequest, isResponse, validateMessage, type JsonRpcId, type JsonRpcMessage } from '../../mcp/jsonrpc.ts';
import { nestsDeeperThan } from '../../mcp/json-depth.ts';
import { ERRORS, GatehouseError } from '../../errors.ts';
import { URL_ELICITATION_REQUIRED, UrlElicitationRequired } from '../../mcp/url-elicitation.ts';
import { SseParser } from '../../mcp/sse.ts';
import type { MessageChannel } from '../channel.ts';
import type { CallerSlot, UpstreamCredentials } from '../upstream.ts';
import type { UpstreamHttpClient, UpstreamResponse } from '../http-client.ts';

export interface HttpMemberConfig {
  /** The server's MCP endpoint. */
  readonly url: string;
  /** The connection pool to the server's origin, shared by every session of it. */
  readonly client: UpstreamHttpClient;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly credentials: UpstreamCredentials | undefined;
  /** Longest wait for the head of an answer (a JSON answer's head comes with the whole answer). */
  readonly responseTimeout: number;
  /** Largest message decoded (a JSON body, an SSE event). */
  readonly maxResponseBytes: number;
  readonly maxJsonDepth: number;
}

/** An upstream session to take over instead of initializing a new one. */
export interface HttpMemberResume {
  readonly sessionId: string;
  readonly protocolVersion: string;
}

/** Reconnections of the standalone stream in a row before the session counts as lost. */
const STREAM_RETRIES = 2;
/** Resumptions of one POST's answer stream (each after the server closed it without answering). */
const ANSWER_RESUMPTIONS = 5;
const STREAM_RETRY_MS = 200;
const DELETE_TIMEOUT_MS = 5_000;
const POST_ACCEPT = 'application/json, text/event-stream';
/** How long a closed session's standalone stream is left for the server to end. */
const STREAM_END_GRACE_MS = 1_000;
/** Wait before asking again for a standalone stream another holder of the session has. */
const STREAM_TAKEN_RETRY_MS = 5_000;

export class HttpMemberChannel implements MessageChannel {
  onmessage: ((message: JsonRpcMessage, text?: string) => void) | undefined;
  onclose: ((reason: string) => void) | undefined;
  /** Each request is reported when the head of its answer came (see channel.ts). */
  readonly reportsAccepted = true;
  onaccepted: ((id: JsonRpcId) => void) | undefined;
  /** A request the server refused with 404 (its session was gone): it was not acted on, and may be sent again on a new session. */
  unsent: JsonRpcMessage | undefined;
  /** See MessageChannel.refusal: set when a request's caller had no credential for this server. */
  refusal: Error | undefined;
  /** The upstream's session id, once initialize answered (or taken over). */
  sessionId: string | undefined;
  /** The revision this hop negotiated (the MCP-Protocol-Version header of later requests). */
  protocolVersion: string | undefined;
  private closed = false;
  private readonly path: string;
  /** Id of the initialize request, whose answer names the session and this hop's revision. */
  private initializeId: JsonRpcId | undefined;
  private stream: UpstreamResponse | undefined;
  private streamOpening = false;
  private streamFailures = 0;
  private streamTimer: NodeJS.Timeout | undefined;
  private lastEventId: string | undefined;

  constructor(
    private readonly config: HttpMemberConfig,
    private readonly log: Logger,
    private readonly resume?: HttpMemberResume,
    /**
     * Whom the requests are sent for, when the server wants each user's own token (a bridged
     * session of one principal): the credential is asked with it for every request.
     */
    private readonly caller?: CallerSlot,
  ) {
    const url = new URL(config.url);
    this.path = url.pathname + url.search;
    if (resume) {
      this.sessionId = resume.sessionId;
      this.protocolVersion = resume.protocolVersion;
    }
  }

  /** Whether this channel took over an existing upstream session (no initialize on it). */
  get resumed(): boolean {
    return this.resume !== undefined;
  }

  async start(): Promise<void> {
    // A new session starts with the first POST (initialize); a session taken over gets its
    // standalone stream back now, which also tells whether the server still knows the session
    // (404: the channel ends at once, and the member is initialized anew before any request).
    if (this.resume) await this.openStream();
  }

  send(message: JsonRpcMessage): void {
    if (this.closed) throw new Error('channel closed');
    if (isRequest(message) && message.method === 'initialize') this.initializeId = message.id;
    void this.post(message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const sessionId = this.sessionId;
    // The standalone stream is left to the server, which ends it when the session is deleted: its
    // connection then goes back to the pool, where the next session's stream finds it, instead of
    // being closed here and opened again there. (Nothing it still carries is read: closed.)
    const stream = sessionId === undefined ? undefined : this.stream;
    this.stream = undefined;
    this.end('was closed');
    if (sessionId === undefined) return;
    // Ends the upstream session (DELETE) so that the server frees it.
    try {
      const response = await this.config.client.request(this.path, { method: 'DELETE', headers: await this.headers(undefined), body: undefined, responseTimeout: DELETE_TIMEOUT_MS });
      response.discard();
    } catch {
      // The server is gone: nothing to free.
    }
    // A stream the server did not end with its session is cut after a moment.
    if (stream && !stream.done) setTimeout(() => stream.destroy(), STREAM_END_GRACE_MS).unref();
  }

  /** Closes this channel without ending the upstream session (it lives on in the store for another node). */
  async detach(): Promise<void> {
    this.end('was detached');
  }

  /** `forRequest`: a client's request rides on it, whose answer may be a connect prompt (else none is made). */
  private async headers(accept: string | undefined, lastEventId?: string, forRequest = false): Promise<Record<string, string>> {
    const headers = this.plainHeaders(accept, lastEventId);
    if (this.config.credentials) {
      const caller = this.caller?.current;
      Object.assign(headers, await this.config.credentials.headers(caller && !forRequest ? { ...caller, prompt: false } : caller));
    }
    return headers;
  }

  /** The headers of a request but the credential's. */
  private plainHeaders(accept: string | undefined, lastEventId?: string): Record<string, string> {
    const headers: Record<string, string> = { ...this.config.headers };
    if (accept !== undefined) headers.accept = accept;
    if (this.sessionId !== undefined) headers['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion !== undefined) headers['mcp-protocol-version'] = this.protocolVersion;
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    return headers;
  }

  private async post(message: JsonRpcMessage): Promise<void> {
    let response: UpstreamResponse;
    try {
      // Without a credential, no wait for one (a POST per message: one promise fewer each).
      const headers = this.config.credentials ? await this.headers(POST_ACCEPT, undefined, isRequest(message)) : this.plainHeaders(POST_ACCEPT);
      headers['content-type'] = 'application/json';
      response = await this.config.client.request(this.path, { method: 'POST', headers, body: JSON.stringify(message), responseTimeout: this.config.responseTimeout });
    } catch (error) {
      if (this.caller && this.refuse(message, error)) return;
      this.lost(`could not be reached (${(error as Error).message})`);
      return;
    }
    if (this.closed) {
      response.destroy();
      return;
    }
    const status = response.statusCode;
    if (status === 401) this.config.credentials?.rejected?.(this.caller?.current);
    if (status === 404 && this.sessionId !== undefined) {
      response.discard();
      if (isRequest(message)) this.unsent ??= message;
      this.lost('ended the session (404)');
      return;
    }
    if (status === 202) {
      response.discard();
      if (!isRequest(message) && !isResponse(message) && message.method === 'notifications/initialized') void this.openStream();
      return;
    }
    const type = response.headers['content-type'] ?? '';
    const request = isRequest(message) ? message : undefined;
    if (request !== undefined) this.onaccepted?.(request.id);
    if (request !== undefined && request.id === this.initializeId && status >= 200 && status < 300) {
      const id = response.headers['mcp-session-id'];
      if (typeof id === 'string' && id !== '') this.sessionId = id;
    }
    if (status >= 200 && status < 300 && typeof type === 'string' && type.startsWith('text/event-stream')) {
      this.readSse(response, request);
      return;
    }
    const body = await this.readBody(response).catch((error: Error) => error);
    if (this.closed) return;
    if (body instanceof Error) {
      this.lost(`could not be reached (${body.message})`);
      return;
    }
    if (status >= 200 && status < 300) {
      if (body !== '' && this.receive(body)) return;
      if (request) this.answerError(request.id, `answered ${status} without a JSON-RPC message`);
      return;
    }
    // Refused: the server's own JSON-RPC error when it wrote one, else an error for the request.
    if (body !== '' && this.receive(body, request?.id)) return;
    if (request) this.answerError(request.id, `answered HTTP ${status}`);
  }

  /**
   * A request its caller has no credential for (no upstream token yet, no user): answered with
   * the reason as a JSON-RPC error (-32042 with the connect link, or Gatehouse's refusal), and the
   * session lives on for when the caller has one. False for any other failure.
   */
  private refuse(message: JsonRpcMessage, error: unknown): boolean {
    if (!(error instanceof UrlElicitationRequired) && !(error instanceof GatehouseError)) return false;
    if (!isRequest(message)) return true; // a notification for nobody: nothing to answer
    this.refusal = error;
    const answer =
      error instanceof UrlElicitationRequired
        ? errorResponse(message.id, URL_ELICITATION_REQUIRED, error.message, error.data())
        : errorResponse(message.id, error.rpc, error.message, { code: error.code });
    this.onmessage?.(answer);
    return true;
  }

  /** Decodes one message and passes it on; false when the text is no JSON-RPC message. */
  private receive(text: string, expectedId?: JsonRpcId): JsonRpcMessage | false {
    const deep = nestsDeeperThan(text, this.config.maxJsonDepth);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.log.warn('upstream message dropped: not JSON');
      return false;
    }
    if (deep) {
      const id = (parsed as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' && typeof id !== 'number') return false;
      return this.answerError(id, `sent an answer nested deeper than limits.maxJsonDepth (${this.config.maxJsonDepth})`);
    }
    const checked = validateMessage(parsed, 'keep');
    if (!checked.ok) {
      this.log.warn({ problem: checked.reason }, 'upstream message dropped');
      return false;
    }
    const message = checked.message;
    if (expectedId !== undefined && !(isResponse(message) && message.id === expectedId)) return false;
    if (isResponse(message) && this.initializeId !== undefined && message.id === this.initializeId) {
      this.initializeId = undefined;
      const version = (message.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
      if (typeof version === 'string') this.protocolVersion = version;
    }
    // The text goes along only when it is exactly this message (validateMessage keeps the object).
    this.onmessage?.(message, text);
    return message;
  }

  private answerError(id: JsonRpcId, problem: string): JsonRpcMessage {
    const error = ERRORS.GH_UPSTREAM_BAD_RESPONSE;
    const message = errorResponse(id, error.rpc, `Upstream ${problem}`, { code: 'GH_UPSTREAM_BAD_RESPONSE' });
    this.onmessage?.(message);
    return message;
  }

  private readBody(response: UpstreamResponse): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.consume({
        data: (chunk) => {
          size += chunk.length;
          if (size > this.config.maxResponseBytes) {
            response.destroy(new Error(`answer larger than limits.maxResponseBytes (${this.config.maxResponseBytes})`));
            reject(new Error('answer too large'));
            return;
          }
          chunks.push(chunk);
        },
        end: () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
        error: reject,
      });
    });
  }

  /**
   * Reads an SSE answer to a POST. A stream that ends before answering its request, after an
   * event id, is resumed with a GET carrying that id (2025-11-25 SSE polling: the server may
   * close the stream after a priming event and replay the answer there); one that ends so with
   * no id to resume from means the session is gone.
   */
  private readSse(response: UpstreamResponse, request: { id: JsonRpcId } | undefined, resumptions = 0): void {
    let answered = request === undefined;
    // This stream's own last event id: ids name a stream, so the standalone stream keeps its own.
    let eventId: string | undefined;
    const parser = new SseParser((event) => {
      if (event.id !== undefined) eventId = event.id;
      if (event.data === '' || this.closed) return;
      const message = this.receive(event.data);
      if (message && !answered && isResponse(message) && message.id === request!.id) answered = true;
    }, this.config.maxResponseBytes);
    const decoder = new StringDecoder('utf8');
    response.consume({
      data: (chunk) => parser.push(decoder.write(chunk)),
      end: () => {
        parser.push(decoder.end());
        if (answered || this.closed) return;
        if (eventId !== undefined && request !== undefined && resumptions < ANSWER_RESUMPTIONS) void this.resumeAnswer(eventId, request, resumptions + 1);
        else this.lost('closed an answer stream before answering');
      },
      error: (error) => {
        if (!this.closed) this.lost(`could not be reached (${error.message})`);
      },
    });
  }

  /** Asks for the rest of a POST's answer stream (GET with Last-Event-ID) and reads it. */
  private async resumeAnswer(eventId: string, request: { id: JsonRpcId }, resumptions: number): Promise<void> {
    let response: UpstreamResponse;
    try {
      response = await this.config.client.request(this.path, { method: 'GET', headers: await this.headers('text/event-stream', eventId), body: undefined, responseTimeout: this.config.responseTimeout });
    } catch (error) {
      if (!this.closed) this.answerError(request.id, `could not be reached to resume its answer (${(error as Error).message})`);
      return;
    }
    if (this.closed) {
      response.destroy();
      return;
    }
    const type = response.headers['content-type'];
    if (response.statusCode === 404) {
      response.discard();
      this.lost('ended the session (404)');
      return;
    }
    if (response.statusCode !== 200 || typeof type !== 'string' || !type.startsWith('text/event-stream')) {
      response.discard();
      this.answerError(request.id, `answered the resumption of its answer with HTTP ${response.statusCode}`);
      return;
    }
    this.readSse(response, request, resumptions);
  }

  /** Opens the standalone GET stream (server requests and notifications), once per session. */
  private async openStream(): Promise<void> {
    if (this.closed || this.sessionId === undefined || this.stream || this.streamOpening) return;
    this.streamOpening = true;
    let response: UpstreamResponse;
    try {
      response = await this.config.client.request(this.path, { method: 'GET', headers: await this.headers('text/event-stream', this.lastEventId), body: undefined, responseTimeout: this.config.responseTimeout });
    } catch (error) {
      this.streamOpening = false;
      this.streamFailed(`could not be reached (${(error as Error).message})`);
      return;
    } finally {
      this.streamOpening = false;
    }
    if (this.closed) {
      response.destroy();
      return;
    }
    const type = response.headers['content-type'];
    if (response.statusCode === 405) {
      response.discard(); // the server offers no standalone stream
      return;
    }
    if (response.statusCode === 404) {
      response.discard();
      this.lost('ended the session (404)');
      return;
    }
    if (response.statusCode === 409) {
      // Another holder of this session (the node that had it before) has the one standalone
      // stream a session may have: asked for again later; the session itself is fine.
      response.discard();
      clearTimeout(this.streamTimer);
      this.streamTimer = setTimeout(() => void this.openStream(), STREAM_TAKEN_RETRY_MS);
      this.streamTimer.unref();
      return;
    }
    if (response.statusCode !== 200 || typeof type !== 'string' || !type.startsWith('text/event-stream')) {
      response.discard();
      this.streamFailed(`answered the stream with HTTP ${response.statusCode}`);
      return;
    }
    this.stream = response;
    this.streamFailures = 0;
    const parser = new SseParser((event) => {
      if (event.id !== undefined) this.lastEventId = event.id;
      if (event.data !== '' && !this.closed) this.receive(event.data);
    }, this.config.maxResponseBytes);
    const decoder = new StringDecoder('utf8');
    response.consume({
      data: (chunk) => parser.push(decoder.write(chunk)),
      end: () => {
        this.stream = undefined;
        this.streamFailed('closed the stream');
      },
      error: (error) => {
        this.stream = undefined;
        this.streamFailed(error.message);
      },
    });
  }

  /** The standalone stream dropped or could not open: opened again twice, then the session counts as lost. */
  private streamFailed(reason: string): void {
    if (this.closed) return;
    if (++this.streamFailures > STREAM_RETRIES) {
      this.lost(`could not be reached (the SSE stream: ${reason})`);
      return;
    }
    clearTimeout(this.streamTimer);
    this.streamTimer = setTimeout(() => void this.openStream(), STREAM_RETRY_MS * 2 ** (this.streamFailures - 1));
    this.streamTimer.unref();
  }

  private lost(reason: string): void {
    if (this.closed) return;
    this.log.info({ reason }, 'upstream session lost');
    this.end(reason);
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.streamTimer);
    this.stream?.destroy();
    this.stream = undefined;
    this.onclose?.(reason);
  }
}
