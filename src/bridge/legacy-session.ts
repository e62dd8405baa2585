// One upstream session of a 2025 server (a stdio child, an HTTP+SSE connection or a Streamable
// HTTP session) opened by Gatehouse on behalf of 2026-07-28 clients of one principal that declared
// the same capabilities. It initializes the server with those capabilities, gives each forwarded
// request an id of its own, and turns what the server sends during a call into events of that call:
// its answer, its progress and log messages, and the requests it makes of the client (elicitation,
// sampling, roots) — which the front answers as `input_required`. Other notifications go to the
// session's listeners (`subscriptions/listen` streams).
import type { Logger } from '../log.ts';
import { errorResponse, idKey, isNotification, isObject, isRequest, isResponse, type JsonObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import type { MessageChannel } from '../upstream/channel.ts';
import type { LegacyInit } from './results.ts';
import { listAllTools } from './tool-headers.ts';

/** The revision Gatehouse speaks to a 2025 server on a client's behalf. */
export const LEGACY_VERSION = '2025-11-25';
/** Server → client requests a 2026-07-28 client answers through `input_required`. */
/** `_meta` key of a 2025 message that belongs to a task. */
export const RELATED_TASK = 'io.modelcontextprotocol/related-task';
export const INPUT_METHODS: ReadonlySet<string> = new Set(['elicitation/create', 'sampling/createMessage', 'roots/list']);

export type CallEvent =
  | { readonly kind: 'answer'; readonly response: JsonRpcResponse }
  | { readonly kind: 'notification'; readonly message: JsonRpcMessage }
  /** Requests of the server waiting for the client's answers, by key (`inputRequests`). */
  | { readonly kind: 'input'; readonly requests: ReadonlyMap<string, JsonRpcRequest> }
  | { readonly kind: 'ended'; readonly reason: string };

/** One client request forwarded to the server, from its first leg to its answer. */
export class Call {
  private readonly events: CallEvent[] = [];
  private wake: (() => void) | undefined;
  /** Server requests sent to the client and not answered yet, by key. */
  readonly asked = new Map<string, JsonRpcRequest>();
  /** Set while no client exchange waits (the client was told input_required and should retry). */
  parkedTimer: NodeJS.Timeout | undefined;
  done = false;
  /**
   * Gatehouse's own `tasks/result` for a task it created (modern-tasks.ts): not a client's request,
   * so the server's log messages and its untagged requests are not taken for it.
   */
  background = false;
  /** A client's tools/call sent to the server as a task (its answer is the task). */
  taskAugmented = false;

  constructor(
    readonly id: number,
    readonly upstreamId: number,
    readonly request: JsonRpcRequest,
    readonly progressToken: string | undefined,
  ) {}

  push(event: CallEvent): void {
    this.events.push(event);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /**
   * The next event; consecutive server requests come as one `input` event. Returned as it is when
   * one is queued, else a promise (undefined on timeout): one promise and one timer per wait.
   */
  next(timeoutMs: number): CallEvent | Promise<CallEvent | undefined> {
    if (this.events.length > 0) return this.take();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve(this.take());
      };
    });
  }

  private take(): CallEvent {
    const first = this.events.shift()!;
    if (first.kind !== 'input') return first;
    const requests = new Map(first.requests);
    while (this.events[0]?.kind === 'input') for (const [key, request] of (this.events.shift() as Extract<CallEvent, { kind: 'input' }>).requests) requests.set(key, request);
    return { kind: 'input', requests };
  }
}

export type SessionListener = (message: JsonRpcMessage) => void;

export class LegacySession {
  init: LegacyInit | undefined;
  lastActivity = Date.now();
  closed = false;
  /** Replaced in its pool (what it serves changed): closed once idle. */
  retired = false;
  /** Called once when the session ends. */
  onclose: ((reason: string) => void) | undefined;
  readonly calls = new Map<number, Call>();
  readonly listeners = new Set<SessionListener>();
  private readonly byUpstreamId = new Map<number, Call>();
  private readonly internal = new Map<number, (answer: JsonRpcResponse) => void>();
  private readonly subscribed = new Map<string, number>();
  private nextUpstreamId = 0;
  private nextCallId = 0;
  private logLevel: string | undefined;
  private readonly endWaiters: Array<() => void> = [];

  constructor(
    readonly id: string,
    /** Pool key: API, principal and declared capabilities. */
    readonly key: string,
    /** The principal's binding key (request states are bound to it). */
    readonly sub: string,
    /** Read by the endpoint for a federated API: the channel's name tables place what policies judge. */
    readonly channel: MessageChannel,
    private readonly log: Logger,
  ) {
    channel.onmessage = (message) => this.received(message);
    channel.onclose = (reason) => this.ended(reason);
  }

  /** Requests in flight, calls waiting for the client's answers, or listen streams: not idle. */
  get busy(): boolean {
    return this.calls.size > 0 || this.listeners.size > 0 || this.internal.size > 0;
  }

  /** Starts the channel and initializes the server with the client's capabilities. */
  async start(capabilities: JsonObject, clientInfo: JsonObject, timeoutMs: number): Promise<void> {
    await this.channel.start();
    const answer = await this.request('initialize', { protocolVersion: LEGACY_VERSION, capabilities: legacyCapabilities(capabilities), clientInfo }, timeoutMs);
    if (answer.error) throw new Error(`initialize was refused: ${answer.error.message}`);
    const result = isObject(answer.result) ? answer.result : {};
    this.init = {
      protocolVersion: typeof result.protocolVersion === 'string' ? result.protocolVersion : LEGACY_VERSION,
      capabilities: isObject(result.capabilities) ? result.capabilities : {},
      serverInfo: isObject(result.serverInfo) ? result.serverInfo : undefined,
      instructions: typeof result.instructions === 'string' ? result.instructions : undefined,
    };
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  /** Forwards a client request; its events come through the returned call. */
  call(request: JsonRpcRequest, params: JsonObject | undefined): Call {
    this.lastActivity = Date.now();
    const upstreamId = ++this.nextUpstreamId;
    const meta = params?._meta;
    const token = isObject(meta) && (typeof meta.progressToken === 'string' || typeof meta.progressToken === 'number') ? meta.progressToken : undefined;
    const call = new Call(++this.nextCallId, upstreamId, request, token === undefined ? undefined : String(token));
    this.calls.set(call.id, call);
    this.byUpstreamId.set(upstreamId, call);
    const message: JsonRpcRequest = params === undefined ? { jsonrpc: '2.0', id: upstreamId, method: request.method } : { jsonrpc: '2.0', id: upstreamId, method: request.method, params };
    if (!this.send(message)) call.push({ kind: 'ended', reason: 'the upstream session has ended' });
    return call;
  }

  /** The client answered some of the server's requests (a retry's `inputResponses`). */
  answer(call: Call, responses: JsonObject): void {
    this.lastActivity = Date.now();
    for (const [key, request] of [...call.asked]) {
      if (!(key in responses)) continue;
      call.asked.delete(key);
      const result = responses[key];
      this.send({ jsonrpc: '2.0', id: request.id, result: isObject(result) ? stripResultType(result) : {} });
    }
    // Questions the retry left unanswered are asked again.
    if (call.asked.size > 0) call.push({ kind: 'input', requests: new Map(call.asked) });
  }

  /** The client gave up on a call (it left, or its time ran out): the server is told, and stops waiting for answers. */
  cancel(call: Call, reason: string): void {
    if (call.done) return;
    this.finish(call);
    for (const request of call.asked.values()) this.send(errorResponse(request.id, -32603, `The client did not answer: ${reason}`));
    call.asked.clear();
    this.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: call.upstreamId, reason } });
    call.push({ kind: 'ended', reason });
  }

  /** One server request is answered with an error (a policy refused to ask the client). */
  refuse(call: Call, key: string, reason: string): void {
    const request = call.asked.get(key);
    if (!request) return;
    call.asked.delete(key);
    this.send(errorResponse(request.id, -32603, reason));
  }

  /**
   * Sets the server's log level when a request asks for another one (2026-07-28 carries it per
   * request). Undefined when there is nothing to do (nearly always): no promise to wait on.
   */
  setLogLevel(level: string | undefined, timeoutMs: number): Promise<void> | undefined {
    if (level === undefined || level === this.logLevel || !isObject(this.init?.capabilities.logging)) return undefined;
    this.logLevel = level;
    return this.request('logging/setLevel', { level }, timeoutMs).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Subscribes to a resource unless a listener of this session already did; false when the server refused. */
  async subscribe(uri: string, timeoutMs: number): Promise<boolean> {
    const count = this.subscribed.get(uri) ?? 0;
    this.subscribed.set(uri, count + 1);
    if (count > 0) return true;
    const answer = await this.request('resources/subscribe', { uri }, timeoutMs).catch((error: Error) => errorResponse(null, -32603, error.message));
    if (answer.error) {
      this.subscribed.delete(uri);
      return false;
    }
    return true;
  }

  unsubscribe(uri: string, timeoutMs: number): void {
    const count = this.subscribed.get(uri) ?? 0;
    if (count > 1) this.subscribed.set(uri, count - 1);
    else if (count === 1) {
      this.subscribed.delete(uri);
      void this.request('resources/unsubscribe', { uri }, timeoutMs).catch(() => undefined);
    }
  }

  /** Every tool of the server (its `tools/list` pages), asked on Gatehouse's own behalf. */
  listTools(timeoutMs: number): Promise<readonly unknown[]> {
    return listAllTools(async (params) => {
      const answer = await this.request('tools/list', params, timeoutMs);
      if (answer.error) throw new Error(`tools/list was refused: ${answer.error.message}`);
      return answer.result;
    });
  }

  /** Runs once when the session ends (at once when it has). */
  onEndedOnce(wake: () => void): void {
    if (this.closed) wake();
    else this.endWaiters.push(wake);
  }

  finish(call: Call): void {
    call.done = true;
    clearTimeout(call.parkedTimer);
    this.calls.delete(call.id);
    this.byUpstreamId.delete(call.upstreamId);
  }

  async close(): Promise<void> {
    await this.channel.close().catch(() => undefined);
    this.ended('was closed');
  }

  /** A request of Gatehouse's own on the session (tasks/get, tasks/cancel for a client's task): its answer, whatever it is. */
  ask(method: string, params: JsonObject, timeoutMs: number): Promise<JsonRpcResponse> {
    this.lastActivity = Date.now();
    return this.request(method, params, timeoutMs);
  }

  private request(method: string, params: JsonObject, timeoutMs: number): Promise<JsonRpcResponse> {
    const id = ++this.nextUpstreamId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.internal.delete(id);
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.internal.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      if (!this.send({ jsonrpc: '2.0', id, method, params })) {
        clearTimeout(timer);
        this.internal.delete(id);
        reject(new Error('the upstream session has ended'));
      }
    });
  }

  private send(message: JsonRpcMessage): boolean {
    if (this.closed) return false;
    try {
      this.channel.send(message);
      return true;
    } catch {
      return false;
    }
  }

  private received(message: JsonRpcMessage): void {
    if (isResponse(message)) {
      const id = typeof message.id === 'number' ? message.id : Number.NaN;
      const internal = this.internal.get(id);
      if (internal) {
        this.internal.delete(id);
        internal(message);
        return;
      }
      const call = this.byUpstreamId.get(id);
      if (!call) return; // a call the client gave up on
      this.lastActivity = Date.now();
      this.finish(call);
      call.push({ kind: 'answer', response: message });
      return;
    }
    if (isRequest(message)) {
      if (message.method === 'ping') {
        this.send({ jsonrpc: '2.0', id: message.id, result: {} });
        return;
      }
      const call = INPUT_METHODS.has(message.method) ? this.callAsking(message) : undefined;
      if (!call) {
        // Nothing to ask: a 2026-07-28 client is only reachable during one of its requests.
        this.send(errorResponse(message.id, -32601, `Gatehouse cannot forward ${message.method} outside a client request`));
        return;
      }
      const key = idKey(message.id);
      call.asked.set(key, message);
      call.push({ kind: 'input', requests: new Map([[key, message]]) });
      return;
    }
    if (!isNotification(message)) return;
    if (message.method === 'notifications/progress') {
      const token = isObject(message.params) ? message.params.progressToken : undefined;
      for (const call of this.calls.values()) if (call.progressToken !== undefined && call.progressToken === String(token)) return call.push({ kind: 'notification', message });
      return;
    }
    if (message.method === 'notifications/message') {
      // Log messages belong to the request that caused them; with one request in flight, that is it.
      const waiting = [...this.calls.values()].filter((c) => c.asked.size === 0 && !c.background);
      if (waiting.length === 1) waiting[0]!.push({ kind: 'notification', message });
      return;
    }
    for (const listener of this.listeners) listener(message);
  }

  /**
   * The call a server request belongs to. 2025 transports do not say, but a server asks only
   * while handling a request: with one in flight, that one; with several, the oldest (a
   * client that runs concurrent calls which all ask may see a question under the wrong call).
   * A question about a task says so (`_meta["io.modelcontextprotocol/related-task"]`, and comes
   * on the task's `tasks/result`): it belongs to Gatehouse's `tasks/result` for that task.
   */
  private callAsking(request: JsonRpcRequest): Call | undefined {
    const meta = request.params?._meta;
    const related = isObject(meta) && isObject(meta[RELATED_TASK]) ? meta[RELATED_TASK].taskId : undefined;
    if (typeof related === 'string') {
      for (const call of this.calls.values()) if (call.background && !call.done && call.request.params?.taskId === related) return call;
    }
    for (const call of this.calls.values()) if (!call.done && !call.background) return call;
    return undefined;
  }

  private ended(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const call of [...this.calls.values()]) {
      this.finish(call);
      call.push({ kind: 'ended', reason });
    }
    for (const [id, resolve] of this.internal) resolve(errorResponse(id, -32603, `the upstream session ${reason}`));
    this.internal.clear();
    this.log.info({ reason }, 'bridged upstream session ended');
    this.onclose?.(reason);
    for (const wake of this.endWaiters.splice(0)) wake();
  }
}

/** 2026-07-28 client capabilities as a 2025 server reads them (roots changes are not announced in 2026-07-28). */
function legacyCapabilities(capabilities: JsonObject): JsonObject {
  const out: JsonObject = { ...capabilities };
  if (isObject(out.roots)) out.roots = {};
  return out;
}

/** An input response as a 2025 result: 2026-07-28's `resultType` is not part of it. */
function stripResultType(result: JsonObject): JsonObject {
  if (!('resultType' in result)) return result;
  const { resultType: _modern, ...rest } = result;
  return rest;
}

export type { JsonRpcId };
