// A 2026-07-28 client on a 2025 server (stdio, HTTP+SSE, or Streamable HTTP of a 2025 revision):
// the connector adapter between the eras. The endpoint has authenticated, decoded, checked the
// routing headers and run the request policies, exactly as for forwarded traffic; this serves what
// is left. Requests go to the principal's bridged session (session-pool.ts); `server/discover` is
// answered from the server's initialize; the server's requests during a call become an
// `input_required` answer with a sealed request state, and the retry's `inputResponses` their
// answers; `subscriptions/listen` becomes `resources/subscribe` and the server's notifications.
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { errorResponse, idKey, isObject, isRequest, type JsonObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import type { MessageChannel } from '../upstream/channel.ts';
import type { CredentialContext, PostExchange } from '../upstream/upstream.ts';
import { envelopeProblem, legacyParams, readEnvelope, type Envelope } from './envelope.ts';
import { discoverResult, modernResult } from './results.ts';
import type { Call, LegacySession } from './legacy-session.ts';
import { SessionPool, type PoolLimits, type SessionChannelFactory } from './session-pool.ts';
import { URL_ELICITATION_REQUIRED, UrlElicitationRequired, urlInputRequired, withoutUrlRound } from '../mcp/url-elicitation.ts';
import type { RequestStateSealer } from './request-state.ts';
import { BridgeReply } from './reply.ts';
import { serveListen } from './listen.ts';
import { toolHeaderBook } from './tool-headers.ts';
import { checkedParamHeaders, checkParamHeaders } from '../mcp/routing-headers.ts';
import { asksTaskStatus, BridgedTasks, declaresTasks, sessionToolLister, missingTasksCapability, offersToolTasks, TASK_METHODS } from './modern-tasks.ts';
import type { TaskIdSealer } from './task-ids.ts';
import type { OpenStreams } from '../upstream/open-streams.ts';

/**
 * Methods 2026-07-28 removed: answered as unknown (HTTP 404, -32601), never forwarded. `tasks/result`
 * and `tasks/list` are not part of the tasks extension (SEP-2663) that replaced 2025's tasks.
 */
const REMOVED: ReadonlySet<string> = new Set(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'tasks/result', 'tasks/list']);

export class ModernClientBridge {
  readonly pool: SessionPool;
  /** Calls a client exchange waits on, by API, principal and client id (for notifications/cancelled). */
  private readonly waiting = new Map<string, { session: LegacySession; call: Call }>();
  /** Open listen streams, by the same key: cancelled by notifications/cancelled. */
  readonly listens = new Map<string, () => void>();
  /** The `x-mcp-header` declarations of the server's tools, to check clients' `Mcp-Param-*` headers. */
  private readonly toolHeaders = toolHeaderBook(checkedParamHeaders);
  /** Tasks of the server run for 2026-07-28 clients (the tasks extension). */
  private readonly tasks: BridgedTasks;

  constructor(
    readonly server: string,
    factory: SessionChannelFactory,
    limits: PoolLimits,
    private readonly states: RequestStateSealer,
    taskIds: TaskIdSealer,
    private readonly nodeId: string,
    private readonly log: Logger,
    /** Where listen streams are registered for the list changes a reload announces (gateway.ts). */
    readonly openStreams?: OpenStreams,
  ) {
    this.pool = new SessionPool(server, factory, limits, log);
    this.tasks = new BridgedTasks(taskIds, nodeId, log);
  }

  update(factory: SessionChannelFactory, limits: PoolLimits): void {
    this.pool.update(factory, limits);
    this.toolHeaders.clear();
    this.tasks.support.clear();
  }

  async post(x: PostExchange): Promise<void> {
    const sent = x.messages[0];
    if (sent === undefined) return void x.res.writeHead(202).end();
    // The retry of a connect prompt (below) is the plain request again: Gatehouse's round stays here.
    const message = withoutUrlRound(sent);
    if (!isRequest(message)) {
      if ('method' in message && message.method === 'notifications/cancelled') this.cancelled(x, message.params);
      // Other notifications (and responses, which 2026-07-28 clients do not send) need no server.
      x.res.writeHead(202).end();
      return;
    }
    x.record?.upstreamStarted();
    try {
      if (REMOVED.has(message.method)) return this.answer(x, errorResponse(message.id, -32601, `Method not found: ${message.method} is not part of protocol revision 2026-07-28`));
      const problem = envelopeProblem(message.params);
      if (problem !== undefined) throw new GatehouseError('GH_INVALID_PARAMS', `Invalid params: ${problem}`);
      const envelope = readEnvelope(message.params);
      // The revision rides in the header and in _meta; a 2026-07-28 server refuses them apart.
      if (envelope.protocolVersion !== x.versionHeader) {
        throw new GatehouseError('GH_HEADER_MISMATCH', `Bad Request: MCP-Protocol-Version "${x.versionHeader}" does not match _meta's protocol version "${envelope.protocolVersion}"`);
      }
      if (message.method === 'server/discover') {
        const session = await this.session(x, envelope);
        return this.answer(x, { jsonrpc: '2.0', id: message.id, result: discoverResult(session.init!) });
      }
      if (message.method === 'subscriptions/listen') {
        // Task status notifications are asked for with the extension declared (SEP-2663); the
        // acknowledgement then names none of the tasks: status notifications are optional there,
        // and Gatehouse does not push them (docs/protocol-eras.md, "Tasks across the eras").
        if (asksTaskStatus(message) && !declaresTasks(envelope)) return this.answer(x, missingTasksCapability(message, 'task status notifications need the tasks extension declared'));
        const session = await this.session(x, envelope);
        return await serveListen(this, x, session, message);
      }
      if (TASK_METHODS.has(message.method)) {
        const answer = await this.tasks.serve(x.api, x.principal.key, message, envelope, (id) => this.pool.byIdLive(id), (m) => this.transformed(x, m), this.pool.responseTimeout);
        return this.answer(x, answer);
      }
      const resumed = this.resume(x, message);
      if (resumed) return await this.drive(x, resumed.session, resumed.call, message);
      const acquired = this.session(x, envelope);
      // A live session is returned as it is, and a log level that did not change costs no promise.
      const session = acquired instanceof Promise ? await acquired : acquired;
      let asTask = false;
      if (message.method === 'tools/call') {
        await this.checkParamHeaders(x, session, message);
        const task = await this.taskMode(session, message, envelope);
        if (task === 'refuse') return this.answer(x, missingTasksCapability(message, 'the tool runs only as a task'));
        asTask = task === 'task';
      }
      const leveled = session.setLogLevel(envelope.logLevel, this.pool.responseTimeout);
      if (leveled) await leveled;
      const params = legacyParams(message.params);
      // The 2025 task request: no ttl of the client's (2026-07-28 has none), the server's default.
      const call = session.call(message, asTask ? { ...params, task: {} } : params);
      call.taskAugmented = asTask;
      return await this.drive(x, session, call, message);
    } catch (error) {
      // The user has not connected their account at the server yet: a multi round-trip request
      // whose input request is the connect link, answered by the client's retry.
      if (!(error instanceof UrlElicitationRequired) || x.res.headersSent) throw error;
      if (x.record) x.record.error = new GatehouseError('GH_UPSTREAM_UNAVAILABLE', error.message);
      return this.answer(x, urlInputRequired(message.id, error));
    } finally {
      x.record?.upstreamEnded();
    }
  }

  /** The client's `Mcp-Param-*` headers against the arguments of its call (400, -32020 when they disagree). */
  private async checkParamHeaders(x: PostExchange, session: LegacySession, request: JsonRpcRequest): Promise<void> {
    const name = request.params?.name;
    if (typeof name !== 'string') return;
    const found = this.toolHeaders.of(name, () => session.listTools(this.pool.responseTimeout));
    const declarations = found instanceof Promise ? await found : found;
    if (declarations.length > 0) checkParamHeaders(declarations, request.params?.arguments, x.req.headers);
  }

  /**
   * Whether a call runs as a task: when the server runs the tool as one (`execution.taskSupport`
   * required or optional, and the server's tasks capability covers tools/call) and the client
   * declared the extension on this request. A tool that runs only as a task cannot be called by a
   * client that did not: -32021, as SEP-2663 says.
   */
  private async taskMode(session: LegacySession, request: JsonRpcRequest, envelope: Envelope): Promise<'plain' | 'task' | 'refuse'> {
    const name = request.params?.name;
    if (typeof name !== 'string' || !offersToolTasks(session.init?.capabilities ?? {})) return 'plain';
    const found = this.tasks.support.of(name, sessionToolLister(session, this.pool.responseTimeout));
    const support = found instanceof Promise ? await found : found;
    if (support === 'forbidden') return 'plain';
    if (declaresTasks(envelope)) return 'task';
    return support === 'required' ? 'refuse' : 'plain';
  }

  private session(x: PostExchange, envelope: Envelope): LegacySession | Promise<LegacySession> {
    const method = isRequest(x.messages[0]!) ? x.messages[0].method : undefined;
    return this.pool.acquire(x.api, x.principal.key, envelope.capabilities, envelope.clientInfo, { principal: x.principal, req: x.req, method });
  }

  /**
   * The channel of the session this request will be served on, opened now if need be (a federated
   * API's policies place names and URIs with its tables); undefined for what the bridge will
   * refuse or not forward, and when the session cannot be opened (the bridge says why later, after
   * the policies, as for any request).
   */
  async channelFor(api: string, sub: string, message: JsonRpcMessage, caller?: CredentialContext): Promise<MessageChannel | undefined> {
    if (!isRequest(message) || REMOVED.has(message.method) || envelopeProblem(message.params) !== undefined) return undefined;
    const envelope = readEnvelope(message.params);
    try {
      return (await this.pool.acquire(api, sub, envelope.capabilities, envelope.clientInfo, caller)).channel;
    } catch {
      return undefined;
    }
  }

  sessionCount(): number {
    return this.pool.size;
  }

  reap(now: number): void {
    this.pool.reap(now);
  }

  close(): Promise<void> {
    for (const close of this.listens.values()) close();
    return this.pool.close();
  }

  key(x: PostExchange, id: unknown): string {
    return `${x.api}\n${x.principal.key}\n${typeof id === 'string' || typeof id === 'number' ? idKey(id) : ''}`;
  }

  /** A server → client message through the response policies; undefined when one dropped it. */
  transformed(x: PostExchange, message: JsonRpcMessage): JsonRpcMessage | undefined {
    return x.transform ? x.transform(message) : message;
  }

  /** Writes a whole answer (through the response policies) as JSON. */
  private answer(x: PostExchange, response: JsonRpcResponse): void {
    const out = (this.transformed(x, response) as JsonRpcResponse | undefined) ?? errorResponse(response.id, -32603, 'The answer was withheld by a policy');
    x.record?.upstreamResponded(200);
    new BridgeReply(x.res, x.protocolVersion).final(out);
  }

  /**
   * The node whose bridged session holds the call a retry's request state names, when that is
   * another node and the state is valid for this API and principal and not expired (the endpoint
   * forwards the retry there); undefined otherwise (served here, as any request).
   */
  stateOwner(api: string, sub: string, message: JsonRpcMessage): string | undefined {
    if (!isRequest(message)) return undefined;
    const taskOwner = this.tasks.owner(api, sub, message);
    if (taskOwner !== undefined) return taskOwner;
    const state = message.params?.requestState;
    if (typeof state !== 'string') return undefined;
    const claims = this.states.unseal(state);
    if (!claims || claims.api !== api || claims.sub !== sub || claims.node === this.nodeId || claims.exp < Date.now()) return undefined;
    return claims.node;
  }

  /**
   * A retry that carries a request state: the call it names, still waiting on this node, with
   * the client's answers delivered. Undefined for a first leg, or when the call is gone (expired,
   * another node, a restart): the request then runs afresh and the server asks again.
   */
  private resume(x: PostExchange, request: JsonRpcRequest): { session: LegacySession; call: Call } | undefined {
    const params = request.params;
    const state = params?.requestState;
    if (state === undefined) return undefined;
    const claims = typeof state === 'string' ? this.states.unseal(state) : undefined;
    if (!claims || claims.api !== x.api || claims.sub !== x.principal.key) {
      throw new GatehouseError('GH_INPUT_STATE_INVALID', 'Invalid params: requestState was not issued by this gateway for this agent; call again without it');
    }
    if (claims.node !== this.nodeId || claims.exp < Date.now()) return undefined;
    const session = this.pool.byIdLive(claims.s);
    const call = session?.calls.get(claims.c);
    if (!session || !call || call.done) return undefined;
    if (call.request.method !== request.method) {
      throw new GatehouseError('GH_INPUT_STATE_INVALID', `Invalid params: requestState belongs to a ${call.request.method} request, not ${request.method}`);
    }
    clearTimeout(call.parkedTimer);
    call.parkedTimer = undefined;
    session.answer(call, isObject(params?.inputResponses) ? params.inputResponses : {});
    return { session, call };
  }

  /** Waits for the call's events and answers the client's exchange with them. */
  private async drive(x: PostExchange, session: LegacySession, call: Call, request: JsonRpcRequest): Promise<void> {
    const reply = new BridgeReply(x.res, x.protocolVersion);
    const key = this.key(x, request.id);
    this.waiting.set(key, { session, call });
    const left = () => {
      if (!reply.finished) session.cancel(call, 'the client left');
    };
    // `on`, not `once` (which wraps the listener): this runs for every request.
    x.res.on('close', left);
    const timeout = this.pool.responseTimeout;
    try {
      for (;;) {
        const next = call.next(timeout);
        const event = next instanceof Promise ? await next : next;
        if (reply.gone && !reply.finished) return;
        if (event === undefined) {
          session.cancel(call, `no answer within ${timeout} ms`);
          x.record && (x.record.error = new GatehouseError('GH_UPSTREAM_TIMEOUT'));
          return reply.final(errorFor(request, new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream "${this.server}" did not answer within ${timeout} ms`)));
        }
        switch (event.kind) {
          case 'notification': {
            const out = this.transformed(x, event.message);
            if (out) reply.event(out);
            continue;
          }
          case 'ended':
            if (reply.finished) return;
            return reply.final(errorFor(request, new GatehouseError('GH_UPSTREAM_EXITED', `Upstream "${this.server}" ended: ${event.reason}`)));
          case 'answer': {
            x.record?.upstreamResponded(200);
            if (request.method === 'tools/list') {
              this.toolHeaders.learn(event.response.result);
              this.tasks.support.learn(event.response.result);
            }
            const prompt = connectPrompt(event.response);
            if (prompt !== undefined) {
              if (x.record) x.record.error = new GatehouseError('GH_UPSTREAM_UNAVAILABLE', prompt.message);
              return reply.final(urlInputRequired(request.id, prompt));
            }
            const result = event.response.result;
            // A task-augmented call answers with the task (CreateTaskResult), in 2026-07-28 shape.
            const created = call.taskAugmented && isObject(result) && isObject(result.task) ? this.tasks.created(x.api, x.principal.key, session, result.task) : undefined;
            const response: JsonRpcResponse = event.response.error
              ? { jsonrpc: '2.0', id: request.id, error: event.response.error }
              : { jsonrpc: '2.0', id: request.id, result: modernResult(request.method, created ?? result, session.init?.serverInfo) };
            return reply.final((this.transformed(x, response) as JsonRpcResponse | undefined) ?? errorResponse(request.id, -32603, 'The answer was withheld by a policy'));
          }
          case 'input': {
            const inputRequests: JsonObject = {};
            for (const [requestKey, asked] of event.requests) {
              const seen = this.transformed(x, asked);
              if (!seen || !isRequest(seen)) {
                // A policy refused this question (say, sampling for this agent): the server hears no.
                session.refuse(call, requestKey, 'refused by a Gatehouse policy');
                continue;
              }
              inputRequests[requestKey] = seen.params === undefined ? { method: seen.method } : { method: seen.method, params: seen.params };
            }
            if (Object.keys(inputRequests).length === 0) continue;
            call.parkedTimer = setTimeout(() => session.cancel(call, 'the client did not retry with its answers in time'), timeout);
            call.parkedTimer.unref();
            const requestState = this.states.seal({ api: x.api, sub: x.principal.key, node: this.nodeId, s: session.id, c: call.id, exp: Date.now() + timeout });
            x.record?.upstreamResponded(200);
            return reply.final({ jsonrpc: '2.0', id: request.id, result: modernResult(request.method, { resultType: 'input_required', inputRequests, requestState }, session.init?.serverInfo) });
          }
        }
      }
    } finally {
      x.res.off('close', left);
      if (this.waiting.get(key)?.call === call) this.waiting.delete(key);
    }
  }

  private cancelled(x: PostExchange, params: JsonObject | undefined): void {
    const key = this.key(x, params?.requestId);
    const listen = this.listens.get(key);
    if (listen) return listen();
    const waiting = this.waiting.get(key);
    if (waiting) waiting.session.cancel(waiting.call, typeof params?.reason === 'string' ? params.reason : 'cancelled by the client');
  }
}

/**
 * A 2025 URL elicitation required error (-32042) as a multi round-trip request: Gatehouse's own
 * connect prompt on a session already open (the user's token was revoked or its refresh refused
 * since), or the server's own (2025-11-25 servers ask for URL visits this way). Either way the
 * request is to be sent again once the person has been to the URL, which is what the client's
 * retry does. Undefined for any other answer.
 */
function connectPrompt(response: JsonRpcResponse): UrlElicitationRequired | undefined {
  const error = response.error;
  if (error?.code !== URL_ELICITATION_REQUIRED || !isObject(error.data) || !Array.isArray(error.data.elicitations)) return undefined;
  const elicitations = error.data.elicitations.filter(isObject);
  if (elicitations.length === 0 || !elicitations.every((e) => e.mode === 'url' && typeof e.url === 'string' && typeof e.elicitationId === 'string' && typeof e.message === 'string')) return undefined;
  return new UrlElicitationRequired(error.message, elicitations.map((e) => ({ mode: 'url', elicitationId: String(e.elicitationId), url: String(e.url), message: String(e.message) })));
}

function errorFor(request: JsonRpcRequest, error: GatehouseError): JsonRpcResponse {
  return errorResponse(request.id, error.rpc, error.message, { code: error.code });
}
