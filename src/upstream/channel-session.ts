// The Streamable HTTP server side of one client session whose upstream is a message channel
// (stdio child, HTTP+SSE connection). Routes each server message to the stream that waits for
// it: responses and progress to the POST that asked, other server messages to the standalone GET
// stream (or the newest open POST stream); keeps the events of streams cut short for
// Last-Event-ID resumption.
import type { ServerResponse } from 'node:http';
import { GatehouseError } from '../errors.ts';
import { errorResponse, idKey, isNotification, isRequest, isResponse, isObject, type JsonRpcId, type JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { progressTokenOf } from '../mcp/classify.ts';
import { formatSseEvent } from '../mcp/sse.ts';
import type { Logger } from '../log.ts';
import type { ResponseTransform } from '../policy/policy.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import type { MessageChannel } from './channel.ts';
import type { Exchange, PostExchange } from './upstream.ts';
import { listChangedNotification, type ListKind } from '../mcp/list-changed.ts';
import { flushHeadSoon, type PendingHead } from './head-flush.ts';
import { splitTrailingId } from '../policy/answer-memo.ts';

const REPLAY_LIMIT = 1000;
/**
 * Completed streams whose events stay for resumption, per session. A stream that completed may
 * still be asked for again: the server wrote all of it, but the connection broke before the client
 * read it all. A few are enough for that (the client resumes at once), and a few keep each answer
 * young: holding every answer long was what made the collector's work the largest cost.
 */
const RECENT_STREAMS = 2;
/** …and at most this much of their text per session (an idle session holds it until it ends). */
const RECENT_CHARS = 64 * 1024;
const BACKLOG_LIMIT = 1000;

interface ReplayEvent {
  readonly stream: string;
  readonly seq: number;
  readonly text: string;
}

class OutStream {
  res: ServerResponse | undefined;
  seq = 0;
  ended = false;
  transform: ResponseTransform | undefined;
  record: ExchangeRecord | undefined;
  /** Fires when the upstream has not answered in time (POST streams only). */
  timer: NodeJS.Timeout | undefined;
  /** The stream answers the session's initialize: a timeout there ends the session. */
  initialize = false;
  readonly waiting = new Set<string>();
  head: PendingHead | undefined;
  private headQueued = false;
  /**
   * The events sent on this stream, held while its client may ask for them again (Last-Event-ID):
   * once its response completed they join the session's few recent streams (`RECENT_STREAMS`),
   * and they are handed to the session's replay buffer when a connection of it broke first. Kept
   * per stream, they die young: a replay buffer of every event kept each answer alive long enough
   * to be promoted, and the collector's work for that cost more than anything else a channel
   * session does per request.
   */
  private events: ReplayEvent[] | undefined;
  /** Its events go to the session's replay buffer as they are sent (a connection broke, it was resumed, or a standalone stream). */
  private replayed = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly id: string,
    /** Adds an event to the session's replay buffer. */
    private readonly keep: (event: ReplayEvent) => void,
    /** Hands the events of a completed stream to the session's recent streams. */
    private readonly completed: (events: ReplayEvent[]) => void,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Records an event sent on this stream (see `events`). */
  sent(event: ReplayEvent): void {
    if (this.replayed) this.keep(event);
    else (this.events ??= []).push(event);
  }

  /** From now on every event of this stream stays for resumption, those sent so far too. */
  keepEvents(): void {
    if (this.replayed) return;
    this.replayed = true;
    if (this.events) for (const event of this.events) this.keep(event);
    this.events = undefined;
  }

  /** `afterAccepted`: the head waits for headSoon() (the channel reports when the server took the request up). */
  attach(res: ServerResponse, headers: Record<string, string>, afterAccepted = false): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...headers });
    this.res = res;
    this.headQueued = false;
    // A POST's head rides with its first event when that comes within a few ms (one write, not two).
    if (!afterAccepted) this.headSoon();
    res.once('close', () => {
      if (this.res === res) this.res = undefined;
      // Complete: its client got every event. Cut short: what it got may be asked for again.
      if (res.writableFinished) {
        if (this.events) this.completed(this.events);
        this.events = undefined;
      } else this.keepEvents();
      if (this.ended) this.resolveDone();
    });
  }

  /** Starts the head's short wait for the first event (once; a GET's head goes at once). */
  headSoon(): void {
    if (this.headQueued || this.ended || !this.res) return;
    this.headQueued = true;
    this.head = flushHeadSoon(this.res, this.id.startsWith('p'));
  }

  /** Ends the stream; `last`, an event, goes out in the same call (one socket write with the end). */
  end(last?: string): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    if (this.head) this.head.res = undefined;
    this.record?.upstreamEnded();
    if (this.res) this.res.end(last);
    else this.resolveDone();
  }

  /** Settles when the stream has ended and its client has gone, or the client left. */
  untilClosed(res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      if (res.writableFinished || res.destroyed) resolve();
      else res.once('close', () => resolve());
    });
  }
}

/**
 * A server message as the client gets it: through the exchange's response policies, as text.
 * When the channel passed the message's own text and the policies left it as it was, that text is
 * relayed (no re-serialization); an answer the policies rewrote before for this principal gets
 * the remembered rewrite (the answer memo, as on the Streamable HTTP path).
 */
function serialize(transform: ResponseTransform | undefined, message: JsonRpcMessage, text: string | undefined): string | undefined {
  if (!transform) return text ?? JSON.stringify(message);
  const memo = text === undefined ? undefined : transform.memo;
  let split = memo === undefined ? undefined : splitTrailingId(text!);
  if (split !== undefined && !memo!.ids.has(idKey(split.id))) split = undefined;
  if (split !== undefined) {
    const body = memo!.answers.lookup(memo!.principal, split.body);
    if (body !== undefined) return body === split.body ? text : body + split.suffix;
  }
  const out = transform(message);
  if (out === undefined) return undefined;
  const serialized = out === message && text !== undefined ? text : JSON.stringify(out);
  if (split !== undefined && isResponse(message) && isResponse(out)) memo!.answers.remember(memo!.principal, split, serialized);
  return serialized;
}

/** The request id a map key stands for (the inverse of idKey). */
function idOfKey(key: string): JsonRpcId {
  return key.startsWith('n:') ? Number(key.slice(2)) : key.slice(2);
}

export class ChannelSession {
  lastActivity = Date.now();
  closed = false;
  /** Called once when the session ends (its registration for reload notifications is dropped). */
  onEnded: (() => void) | undefined;
  private readonly pending = new Map<string, OutStream>();
  private readonly progress = new Map<string, OutStream>();
  private readonly progressOf = new Map<string, string>();
  private readonly open = new Set<OutStream>();
  private standalone: OutStream | undefined;
  private readonly backlog: string[] = [];
  private readonly replay: ReplayEvent[] = [];
  private readonly recent: Array<{ readonly events: ReplayEvent[]; readonly chars: number }> = [];
  private recentChars = 0;
  private streamCount = 0;
  private transform: ResponseTransform | undefined;

  constructor(
    readonly channelId: string,
    readonly token: string,
    /** Read by its connector for channels that know more (a federated session's names). */
    readonly channel: MessageChannel,
    private readonly server: string,
    private readonly log: Logger,
    /** timeouts.response of the server (read per request, so that a reload applies). */
    private readonly responseTimeout: () => number,
  ) {
    channel.onmessage = (message, text) => this.deliver(message, text);
    if (channel.reportsAccepted) channel.onaccepted = (id) => this.pending.get(idKey(id))?.headSoon();
  }

  /** Whether requests are still waiting for answers or a stream is open (not idle then). */
  get busy(): boolean {
    return this.pending.size > 0 || this.open.size > 0;
  }

  async post(x: PostExchange): Promise<void> {
    this.lastActivity = Date.now();
    if (this.closed) throw new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: the upstream process has exited');
    this.transform = x.transform;
    const requests = x.messages.filter(isRequest);
    for (const request of requests) {
      if (this.pending.has(idKey(request.id))) {
        throw new GatehouseError('GH_INVALID_REQUEST', `A request with id ${JSON.stringify(request.id)} is already in flight on this session`);
      }
    }
    if (requests.length === 0) {
      for (const message of x.messages) this.send(message);
      x.res.writeHead(202).end();
      return;
    }
    const stream = new OutStream(`p${++this.streamCount}`, this.keep, this.completed);
    stream.transform = x.transform;
    stream.record = x.record;
    x.record?.upstreamStarted();
    for (const request of requests) {
      const key = idKey(request.id);
      stream.waiting.add(key);
      this.pending.set(key, stream);
      const token = progressTokenOf(request);
      if (token !== undefined) {
        const tokenKey = idKey(token);
        this.progress.set(tokenKey, stream);
        this.progressOf.set(key, tokenKey);
      }
    }
    this.open.add(stream);
    stream.initialize = x.initialize;
    stream.attach(x.res, x.initialize ? { 'mcp-session-id': this.token } : {}, this.channel.reportsAccepted === true);
    const timeout = this.responseTimeout();
    stream.timer = setTimeout(() => this.timedOut(stream, timeout), timeout);
    for (const message of x.messages) this.send(message);
    await stream.untilClosed(x.res);
  }

  async get(x: Exchange): Promise<void> {
    this.lastActivity = Date.now();
    if (this.closed) throw new GatehouseError('GH_SESSION_NOT_FOUND');
    this.transform = x.transform;
    const lastEventId = x.req.headers['last-event-id'];
    if (typeof lastEventId === 'string' && lastEventId !== '') {
      const resumed = this.resume(lastEventId, x.res);
      if (resumed) return resumed;
    }
    if (this.standalone?.res) throw new GatehouseError('GH_STREAM_CONFLICT', 'Conflict: only one standalone SSE stream is allowed per session');
    const stream = this.standalone ?? new OutStream(`g${++this.streamCount}`, this.keep, this.completed);
    stream.keepEvents(); // a standalone stream's events stay for resumption as they are sent
    this.standalone = stream;
    this.open.add(stream);
    stream.attach(x.res, {});
    x.res.once('close', () => this.open.delete(stream));
    for (const text of this.backlog.splice(0)) this.write(stream, text);
    await stream.untilClosed(x.res);
  }

  /** Replays what a stream sent after `lastEventId` and re-attaches it if it is still live. */
  private resume(lastEventId: string, res: ServerResponse): Promise<void> | undefined {
    const dot = lastEventId.lastIndexOf('.');
    if (dot === -1) return undefined;
    const streamId = lastEventId.slice(0, dot);
    const seq = Number(lastEventId.slice(dot + 1));
    if (!Number.isInteger(seq)) return undefined;
    const live = [...this.open, ...(this.standalone ? [this.standalone] : [])].find((s) => s.id === streamId);
    live?.keepEvents(); // a resumed stream's events stay for resumption from now on
    const missed = this.replay.filter((e) => e.stream === streamId && e.seq > seq);
    if (missed.length === 0 && !live) {
      const recent = this.recent.find((r) => r.events[0]?.stream === streamId);
      if (recent) for (const event of recent.events) if (event.seq > seq) missed.push(event);
    }
    if (!live && missed.length === 0) return undefined;
    const stream = live ?? new OutStream(streamId, this.keep, this.completed);
    if (stream.res) stream.res.end(); // a newer connection takes over the stream
    stream.attach(res, {});
    this.open.add(stream);
    for (const event of missed) res.write(formatSseEvent(event.text, { event: 'message', id: `${streamId}.${event.seq}` }));
    if (!live || stream.ended) stream.end();
    res.once('close', () => {
      if (stream !== this.standalone && stream.waiting.size === 0) this.open.delete(stream);
      if (stream === this.standalone) this.open.delete(stream);
    });
    return stream.untilClosed(res);
  }

  /** Server → client. Responses and progress go through the transform of the exchange they belong to. */
  private deliver(message: JsonRpcMessage, text?: string): void {
    if (isResponse(message)) {
      if (message.id === null) return;
      const key = idKey(message.id);
      const stream = this.pending.get(key);
      if (!stream) {
        this.log.debug({ id: message.id }, 'response for no pending request dropped');
        return;
      }
      // An answer to the client counts as activity; server messages nobody asked for do not
      // (a chatty server must not keep a session whose client has gone).
      this.lastActivity = Date.now();
      this.forget(key);
      const out = serialize(stream.transform, message, text);
      stream.waiting.delete(key);
      if (stream.waiting.size > 0) {
        if (out !== undefined) this.write(stream, out);
        return;
      }
      // The last answer of a stream goes out with the stream's end: one socket write. (Not with
      // cork/write/end/uncork: on Node 22 that loses the event when the head was already sent.)
      this.open.delete(stream);
      stream.end(out === undefined ? undefined : this.event(stream, out));
      return;
    }
    if (isNotification(message) && message.method === 'notifications/progress' && isObject(message.params)) {
      const token = message.params.progressToken;
      const stream = typeof token === 'string' || typeof token === 'number' ? this.progress.get(idKey(token)) : undefined;
      if (stream && !stream.ended) {
        // Progress shows the upstream is working on it: the wait starts again (as the SDK's resetTimeoutOnProgress).
        stream.timer?.refresh();
        const out = serialize(stream.transform, message, text);
        if (out !== undefined) this.write(stream, out);
        return;
      }
    }
    const out = serialize(this.transform, message, text);
    if (out !== undefined) this.route(out);
    // A question a policy kept from the client: the server hears no at once, not at its timeout.
    else if (isRequest(message)) this.channel.send(errorResponse(message.id, -32603, 'The request was refused by a Gatehouse policy'));
  }

  /** Gatehouse's own notice that lists may have changed (a reload): delivered like a server notification. */
  listChanged(kinds: readonly ListKind[]): void {
    if (this.closed) return;
    for (const kind of kinds) this.route(JSON.stringify(listChangedNotification(kind)));
  }

  /** Server requests and unrelated notifications: the standalone stream, else the newest open POST stream. */
  private route(text: string): void {
    if (this.standalone?.res && !this.standalone.ended) {
      this.write(this.standalone, text);
      return;
    }
    let newest: OutStream | undefined;
    for (const stream of this.open) if (stream.res && !stream.ended && stream.id.startsWith('p')) newest = stream;
    if (newest) {
      this.write(newest, text);
      return;
    }
    if (this.backlog.length >= BACKLOG_LIMIT) {
      this.backlog.shift();
      this.log.warn({ server: this.server }, 'no client stream open: oldest queued server message dropped');
    }
    this.backlog.push(text);
  }

  private write(stream: OutStream, text: string): void {
    stream.res?.write(this.event(stream, text));
  }

  /** The next SSE event of a stream, kept for Last-Event-ID resumption. */
  private event(stream: OutStream, text: string): string {
    const seq = ++stream.seq;
    stream.sent({ stream: stream.id, seq, text });
    return formatSseEvent(text, { event: 'message', id: `${stream.id}.${seq}` });
  }

  /** The events of the session's last completed streams (see RECENT_STREAMS). */
  private readonly completed = (events: ReplayEvent[]): void => {
    let chars = 0;
    for (const event of events) chars += event.text.length;
    if (chars > RECENT_CHARS) return;
    this.recent.push({ events, chars });
    this.recentChars += chars;
    while (this.recent.length > RECENT_STREAMS || this.recentChars > RECENT_CHARS) this.recentChars -= this.recent.shift()!.chars;
  };

  /** The session's replay buffer: events of streams whose connection broke (see OutStream.events). */
  private readonly keep = (event: ReplayEvent): void => {
    if (this.replay.length >= REPLAY_LIMIT) this.replay.shift();
    this.replay.push(event);
  };

  private send(message: JsonRpcMessage): void {
    try {
      this.channel.send(message);
    } catch {
      throw new GatehouseError('GH_UPSTREAM_EXITED', `Upstream "${this.server}" is not running`);
    }
  }

  /** A request no longer waits: its id and progress token are released. */
  private forget(key: string): void {
    this.pending.delete(key);
    const tokenKey = this.progressOf.get(key);
    if (tokenKey !== undefined) {
      this.progress.delete(tokenKey);
      this.progressOf.delete(key);
    }
  }

  /**
   * timeouts.response passed without an answer (or progress): each request still waiting on the
   * stream gets GH_UPSTREAM_TIMEOUT, and the server is told to stop with notifications/cancelled.
   * The session is then no longer busy, so the idle reaper can end it; a session whose initialize
   * went unanswered is ended at once.
   */
  private timedOut(stream: OutStream, timeout: number): void {
    if (stream.ended || stream.waiting.size === 0) return;
    const error = new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream "${this.server}" did not answer within ${timeout} ms (timeouts.response); the request was cancelled`);
    if (stream.record) stream.record.error = error; // counted as an upstream error (metrics, audit)
    const ids: JsonRpcId[] = [];
    for (const key of stream.waiting) {
      const id = idOfKey(key);
      ids.push(id);
      this.forget(key);
      this.write(stream, JSON.stringify(errorResponse(id, error.rpc, error.message, { code: error.code })));
      if (stream.initialize) continue; // initialize must not be cancelled: the session is ended below
      try {
        this.channel.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'The gateway stopped waiting (timeouts.response)' } });
      } catch {
        // The channel is gone: onChannelClosed answers the rest.
      }
    }
    stream.waiting.clear();
    this.open.delete(stream);
    stream.end();
    this.log.warn({ server: this.server, ids, timeoutMs: timeout }, 'upstream did not answer in time: request cancelled');
    if (stream.initialize) void this.channel.close();
  }

  /** The channel ended: answer every waiting request with an error and end every stream. */
  onChannelClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const code = new GatehouseError('GH_UPSTREAM_EXITED');
    for (const [key, stream] of this.pending) {
      const id = idOfKey(key);
      if (stream.record) stream.record.error = code; // counted as an upstream error (metrics, audit)
      this.write(stream, JSON.stringify(errorResponse(id, code.rpc, `Upstream "${this.server}" ${reason}`, { code: code.code })));
    }
    this.pending.clear();
    for (const stream of this.open) stream.end();
    this.standalone?.end();
    this.open.clear();
    this.onEnded?.();
    this.onEnded = undefined;
  }

  endStandalone(): void {
    this.standalone?.end();
    this.standalone = undefined;
  }

  async close(): Promise<void> {
    await this.channel.close();
    this.onChannelClosed('was closed');
  }

  /** Ends the session on this node, leaving what the channel stored for another node. */
  async detach(): Promise<void> {
    await (this.channel.detach ? this.channel.detach() : this.channel.close());
    this.onChannelClosed('was detached');
  }
}
