// One client request relayed straight to a Streamable HTTP member's upstream session, on the
// client's own HTTP exchange: the request goes out as the federation routed it (the server's own
// name), and the answer stream comes back event by event into the client's response. This is
// the federated call's fast path (federated-channel.ts `relay`): it skips the session's message
// channel (a stream object, id maps and timers per request, and a second serialization), which
// made a federated call cost about a third more than a single-server one.
//
// What the channel path gives is kept: server requests raised during the call get Gatehouse's
// ids (the client's answers reach the server that asked), list changes invalidate the lists
// (`translate`, from the federated session); an answer stream the server closed early is resumed
// with Last-Event-ID; the upstream's event ids go to the client prefixed with the member
// (`eventPrefix`), so a client whose connection broke resumes through the session's GET; a
// server silent past timeouts.response is cancelled; a client that leaves cancels the request.
// A 404 (the upstream session is gone) before anything was written is reported as not relayed:
// the member starts a new session and the request takes the channel path.
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../../log.ts';
import { ERRORS, type ErrorCode } from '../../errors.ts';
import { errorResponse, isNotification, isResponse, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest } from '../../mcp/jsonrpc.ts';
import { formatSseEvent, SseParser } from '../../mcp/sse.ts';
import { CancelledError, type UpstreamHttpClient, type UpstreamResponse } from '../http-client.ts';
import { flushHeadSoon, type PendingHead } from '../head-flush.ts';
import type { Exchange } from '../upstream.ts';

/** What a member gives a relayed request (http-member.ts). */
export interface RelayTarget {
  readonly client: UpstreamHttpClient;
  readonly path: string;
  readonly responseTimeout: number;
  readonly maxResponseBytes: number;
  readonly log: Logger;
  /** The headers of a request to the member's session (its credential included). */
  headers(accept: string, lastEventId?: string): Promise<Record<string, string>> | Record<string, string>;
  /** One message of the member decoded (undefined: dropped, and logged). */
  decode(text: string): JsonRpcMessage | undefined;
  /** The member's session is gone or the server unreachable: the member starts again. */
  lost(reason: string): void;
  /** The server refused the credential (401). */
  rejected(): void;
  /** Sends a notification on the member's session (a cancellation). */
  notify(message: JsonRpcMessage): void;
}

/** What a server message becomes for the client; undefined when it is not for this stream. */
export type Translate = (message: JsonRpcMessage) => JsonRpcMessage | undefined;

const ACCEPT = 'application/json, text/event-stream';
/** Resumptions of one answer stream (each after the server closed it without answering). */
const ANSWER_RESUMPTIONS = 5;

/** Relays `request`; false when it was not sent on (the session was gone: 404), nothing written. */
export async function relayRequest(target: RelayTarget, x: Exchange, request: JsonRpcRequest, translate: Translate, eventPrefix: string): Promise<boolean> {
  const call = new RelayedCall(target, x, request.id, translate, eventPrefix);
  return call.post(JSON.stringify(request));
}

/** Continues a relayed answer stream the client lost (its GET with Last-Event-ID); false when the server no longer has it. */
export async function resumeRelayed(target: RelayTarget, x: Exchange, upstreamEventId: string, translate: Translate, eventPrefix: string): Promise<boolean> {
  const call = new RelayedCall(target, x, undefined, translate, eventPrefix);
  return call.resume(upstreamEventId);
}

class RelayedCall {
  private readonly handle: { current?: { cancel(): void } } = {};
  private response: UpstreamResponse | undefined;
  private head: PendingHead | undefined;
  private timer: NodeJS.Timeout | undefined;
  private answered = false;
  private clientLeft = false;
  /** The upstream's last event id on this stream (resumption). */
  private eventId: string | undefined;
  private resumptions = 0;
  private settle!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(
    private readonly target: RelayTarget,
    private readonly x: Exchange,
    /** The request's id (undefined on a resumed stream: its answer is the response it carries). */
    private readonly id: JsonRpcId | undefined,
    private readonly translate: Translate,
    private readonly eventPrefix: string,
  ) {}

  async post(body: string): Promise<boolean> {
    const headers = await this.target.headers(ACCEPT);
    headers['content-type'] = 'application/json';
    this.watchClient();
    this.x.record?.upstreamStarted();
    try {
      const response = await this.send('POST', headers, body);
      if (!response) return true;
      const status = response.statusCode;
      if (status === 404) {
        response.discard();
        this.target.lost('ended the session (404)');
        return false;
      }
      if (status === 401) this.target.rejected();
      this.x.record?.upstreamResponded(status);
      const type = String(response.headers['content-type'] ?? '');
      if (status >= 200 && status < 300 && type.startsWith('text/event-stream')) this.readSse(response);
      else this.readWhole(response, status);
      await this.done;
      return true;
    } finally {
      this.unwatch();
      this.x.record?.upstreamEnded();
    }
  }

  async resume(upstreamEventId: string): Promise<boolean> {
    this.watchClient();
    try {
      const response = await this.send('GET', await this.target.headers('text/event-stream', upstreamEventId), undefined);
      if (!response) return this.clientLeft;
      const type = String(response.headers['content-type'] ?? '');
      if (response.statusCode !== 200 || !type.startsWith('text/event-stream')) {
        response.discard();
        return false;
      }
      this.eventId = upstreamEventId;
      this.readSse(response);
      await this.done;
      return true;
    } finally {
      this.unwatch();
    }
  }

  /** The request sent; undefined when it failed (the client was answered) or the client left. */
  private async send(method: 'POST' | 'GET', headers: Record<string, string>, body: string | undefined): Promise<UpstreamResponse | undefined> {
    try {
      const response = await this.target.client.request(this.target.path, { method, headers, body, responseTimeout: this.target.responseTimeout }, this.handle);
      if (this.clientLeft) {
        response.destroy();
        return undefined;
      }
      this.response = response;
      return response;
    } catch (error) {
      if (!this.clientLeft && !(error instanceof CancelledError)) {
        this.target.lost(`could not be reached (${(error as Error).message})`);
        this.fail('GH_UPSTREAM_EXITED', `could not be reached (${(error as Error).message})`);
      }
      return undefined;
    }
  }

  private readSse(response: UpstreamResponse): void {
    if (!this.x.res.headersSent) {
      this.x.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
      this.head = flushHeadSoon(this.x.res, this.id !== undefined);
    }
    this.armTimer();
    const parser = new SseParser((event) => {
      if (event.id !== undefined) this.eventId = event.id;
      if (event.data !== '' && !this.answered) this.receive(event.data, event.id);
    }, this.target.maxResponseBytes);
    const decoder = new StringDecoder('utf8');
    response.consume({
      data: (chunk) => parser.push(decoder.write(chunk)),
      end: () => {
        parser.push(decoder.end());
        if (this.answered || this.clientLeft) return this.settle();
        if (this.eventId !== undefined && this.resumptions < ANSWER_RESUMPTIONS) {
          this.resumptions++;
          void this.resumeUpstream(this.eventId);
          return;
        }
        this.target.lost('closed an answer stream before answering');
        this.fail('GH_UPSTREAM_EXITED', 'closed an answer stream before answering');
      },
      error: (error) => {
        if (this.answered || this.clientLeft) return this.settle();
        this.target.lost(`could not be reached (${error.message})`);
        this.fail('GH_UPSTREAM_EXITED', `could not be reached (${error.message})`);
      },
    });
  }

  /** The server closed the stream before answering (SSE polling): the rest is asked for with the last event id. */
  private async resumeUpstream(eventId: string): Promise<void> {
    const response = await this.send('GET', await this.target.headers('text/event-stream', eventId), undefined);
    if (!response) return this.settle();
    const type = String(response.headers['content-type'] ?? '');
    if (response.statusCode === 404) {
      response.discard();
      this.target.lost('ended the session (404)');
      return this.fail('GH_UPSTREAM_EXITED', 'ended the session (404) before answering');
    }
    if (response.statusCode !== 200 || !type.startsWith('text/event-stream')) {
      response.discard();
      return this.fail('GH_UPSTREAM_BAD_RESPONSE', `answered the resumption of its answer with HTTP ${response.statusCode}`);
    }
    this.readSse(response);
  }

  /** A JSON answer, or a refusal (the server's own JSON-RPC error when it wrote one). */
  private readWhole(response: UpstreamResponse, status: number): void {
    const chunks: Buffer[] = [];
    let size = 0;
    response.consume({
      data: (chunk) => {
        size += chunk.length;
        if (size > this.target.maxResponseBytes) {
          response.destroy(new Error(`answer larger than limits.maxResponseBytes (${this.target.maxResponseBytes})`));
          this.fail('GH_UPSTREAM_BAD_RESPONSE', `sent an answer larger than limits.maxResponseBytes (${this.target.maxResponseBytes})`);
          return;
        }
        chunks.push(chunk);
      },
      end: () => {
        const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
        const message = text === '' ? undefined : this.target.decode(text);
        if (message && isResponse(message) && message.id === this.id) this.receive(text, undefined, message);
        if (!this.answered) this.fail('GH_UPSTREAM_BAD_RESPONSE', status >= 200 && status < 300 ? `answered ${status} without a JSON-RPC message` : `answered HTTP ${status}`);
        this.settle();
      },
      error: (error) => {
        if (this.clientLeft) return this.settle();
        this.target.lost(`could not be reached (${error.message})`);
        this.fail('GH_UPSTREAM_EXITED', `could not be reached (${error.message})`);
      },
    });
  }

  /** One server message: translated for the client and written, the answer with the end. */
  private receive(text: string, upstreamEventId: string | undefined, decoded?: JsonRpcMessage): void {
    const message = decoded ?? this.target.decode(text);
    if (!message) return;
    const translated = this.translate(message);
    if (translated === undefined) return;
    const final = isResponse(translated) && (this.id === undefined || translated.id === this.id);
    if (!final && isNotification(translated) && translated.method === 'notifications/progress') this.timer?.refresh();
    const transform = this.x.transform;
    const out = transform ? transform(translated) : translated;
    const serialized = out === undefined ? undefined : out === message ? text : JSON.stringify(out);
    if (final) {
      this.answered = true;
      clearTimeout(this.timer);
      if (this.response && !this.response.done) this.response.discard();
      this.finish(serialized ?? JSON.stringify(errorResponse(translated.id, -32603, 'The answer was withheld by a policy')), upstreamEventId);
      this.settle();
      return;
    }
    if (serialized !== undefined) this.write(serialized, upstreamEventId);
  }

  private write(serialized: string, upstreamEventId: string | undefined): void {
    if (this.x.res.writableEnded) return;
    this.x.res.write(formatSseEvent(serialized, { event: 'message', id: upstreamEventId === undefined ? undefined : this.eventPrefix + upstreamEventId }));
  }

  /** Ends the client's response with its last message (a JSON answer when nothing was written yet). */
  private finish(serialized: string, upstreamEventId: string | undefined): void {
    const res = this.x.res;
    if (res.writableEnded) return;
    if (this.head) this.head.res = undefined;
    if (!res.headersSent) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(serialized)) });
      res.end(serialized);
      return;
    }
    // One socket write with the end (see channel-session.ts on Node 22 and cork).
    res.end(formatSseEvent(serialized, { event: 'message', id: upstreamEventId === undefined ? undefined : this.eventPrefix + upstreamEventId }));
  }

  /** The request failed: its client gets a JSON-RPC error for it (a resumed stream just ends). */
  private fail(code: ErrorCode, problem: string): void {
    if (this.answered) return;
    this.answered = true;
    clearTimeout(this.timer);
    this.response?.destroy();
    if (this.id === undefined) {
      // A resumed stream: it just ends (nothing written yet: its GET is answered as not resumed).
      if (this.x.res.headersSent) this.x.res.end();
      return this.settle();
    }
    const message = errorResponse(this.id, ERRORS[code].rpc, `Upstream ${problem}`, { code });
    const out = (this.x.transform ? this.x.transform(message) : message) ?? message;
    this.finish(JSON.stringify(out), undefined);
    this.settle();
  }

  /** timeouts.response: a server silent that long is asked to stop (progress restarts the wait). */
  private armTimer(): void {
    if (this.id === undefined || this.timer !== undefined || this.target.responseTimeout <= 0) return;
    const timeout = this.target.responseTimeout;
    this.timer = setTimeout(() => {
      if (this.answered) return;
      this.target.log.warn({ id: this.id, timeoutMs: timeout }, 'upstream did not answer in time: request cancelled');
      this.cancelUpstream('The gateway stopped waiting (timeouts.response)');
      this.fail('GH_UPSTREAM_TIMEOUT', `did not answer within ${timeout} ms (timeouts.response); the request was cancelled`);
    }, timeout);
  }

  private cancelUpstream(reason: string): void {
    if (this.id !== undefined) this.target.notify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: this.id, reason } });
  }

  private readonly onClose = (): void => {
    if (this.x.res.writableFinished || this.answered) return;
    // The client left. With event ids it may come back for the rest (its GET with Last-Event-ID
    // reaches the server's own event store); without, nobody will read the answer: the server
    // is told to stop.
    this.clientLeft = true;
    clearTimeout(this.timer);
    this.handle.current?.cancel();
    this.response?.destroy();
    if (this.eventId === undefined) this.cancelUpstream('The client went away');
    this.settle();
  };

  private watchClient(): void {
    this.x.res.once('close', this.onClose);
    this.x.res.on('error', ignore);
  }

  private unwatch(): void {
    this.x.res.off('close', this.onClose);
    clearTimeout(this.timer);
  }
}

function ignore(): void {}

