// A 2025 client on a server that speaks only 2026-07-28: the connector adapter between the eras,
// the other way round from modern-client.ts. The endpoint has authenticated, decoded and run the
// request policies as for forwarded traffic; this serves what is left:
// - `initialize` is answered by Gatehouse from the server's `server/discover`; the client's
//   session is Gatehouse's own sealed id, holding what the client declared (so any node serves it);
// - every request is sent to the server with the `_meta` envelope (revision, the client's
//   capabilities and info, its log level) and the routing headers;
// - an `input_required` answer becomes server → client requests on the client's SSE stream; the
//   client's answers (POSTed as 2025 clients do) become the retry's `inputResponses`;
// - `ping` and `logging/setLevel` (removed in 2026-07-28) are answered here.
import { randomUUID } from 'node:crypto';
import { declaresFormElicitation } from '../mcp/client-capabilities.ts';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { errorResponse, idKey, isObject, isRequest, isResponse, type JsonObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import { isStateless, isSupportedVersion } from '../mcp/versions.ts';
import type { BridgedClaims, SessionClaims, SessionSealer } from '../session/seal.ts';
import type { Exchange, PostExchange } from '../upstream/upstream.ts';
import { sendJson } from '../http/reply.ts';
import { META_SERVER_INFO } from './envelope.ts';
import { answerOf, gatherAnswers, legacyCapabilities, legacyResult, modernEnvelope, modernParams, requestWithInput, type InputAnswers, type InputQuestion } from './legacy-rounds.ts';
import { sendModern, type ModernTarget } from './modern-request.ts';
import { paramHeaders } from '../mcp/routing-headers.ts';
import { listAllTools, toolHeaderBook } from './tool-headers.ts';
import { BridgeReply } from './reply.ts';
import { LegacyStandaloneStream } from './legacy-listen.ts';
import { LEGACY_TASK_METHODS, LegacyClientTasks, offerTaskExecution, tasksAsLegacyCapability, withoutTask, withTasksExtension, type TaskContext } from './legacy-tasks.ts';
import type { TaskIdSealer } from './task-ids.ts';
import type { OpenStreams } from '../upstream/open-streams.ts';

/** The revision offered to a client that asks for one Gatehouse does not speak. */
const LATEST_LEGACY = '2025-11-25';
/** Bounds of the per-node memories (log levels by session, tool header declarations). */
const MEMORY_LIMIT = 10_000;
/** Resources one session may subscribe to (each rides in the filter of every listen). */
const MAX_SUBSCRIPTIONS = 256;

export class LegacyClientBridge {
  /** `x-mcp-header` declarations of the server's tools, to send the `Mcp-Param-*` headers it checks. */
  private readonly toolHeaders = toolHeaderBook(paramHeaders);
  /** Log levels set with logging/setLevel, by session id (lost on a restart: the server's default then). */
  private readonly levels = new Map<string, string>();
  /** Questions asked on a client's stream, waiting for its answer, by session id and request id. */
  private readonly questions = new Map<string, (answer: JsonRpcResponse) => void>();
  /** Requests in flight, by session id and request id (for notifications/cancelled). */
  private readonly inFlight = new Map<string, AbortController>();
  /** Resources each session subscribed to (`resources/subscribe`), by session id: its standalone stream listens for them. */
  private readonly subscribed = new Map<string, Set<string>>();
  /** Open standalone streams, by session id. */
  private readonly streams = new Map<string, LegacyStandaloneStream>();
  /** Tasks run through the server's tasks extension for 2025 clients. */
  private readonly tasks: LegacyClientTasks;

  constructor(
    readonly server: string,
    private target: ModernTarget,
    private readonly sealer: SessionSealer,
    taskIds: TaskIdSealer,
    private readonly log: Logger,
    /**
     * This node: a session's subscriptions and log level are kept here, so in a cluster its
     * requests are forwarded here while this node lives (mcp-endpoint.ts).
     */
    private readonly nodeId?: string,
    /** Where standalone streams are registered for the list changes a reload announces (gateway.ts). */
    private readonly openStreams?: OpenStreams,
  ) {
    // Without a node id (one node), task ids Gatehouse holds itself name this process alike.
    this.tasks = new LegacyClientTasks(taskIds, nodeId ?? 'this-node');
  }

  update(target: ModernTarget): void {
    this.target = target;
    this.toolHeaders.clear();
  }

  async post(x: PostExchange): Promise<void> {
    if (x.batch) throw new GatehouseError('GH_BATCH_REJECTED', `Invalid Request: server "${this.server}" speaks only 2026-07-28; batches are not bridged to it`);
    const message = x.messages[0];
    if (message === undefined) return void x.res.writeHead(202).end();
    if (x.initialize && isRequest(message)) return await this.initialize(x, message);
    const session = x.session;
    const claims = session?.claims.br;
    if (!session || !claims) throw new GatehouseError('GH_SESSION_REQUIRED', 'Bad Request: Mcp-Session-Id header is required');
    if (isResponse(message)) {
      // A 2025 client's answer to a question Gatehouse asked on its stream.
      this.questions.get(`${session.token}\n${message.id === null ? '' : idKey(message.id)}`)?.(message);
      return void x.res.writeHead(202).end();
    }
    if (!isRequest(message)) {
      if (message.method === 'notifications/cancelled' && isObject(message.params)) {
        const id = message.params.requestId;
        if (typeof id === 'string' || typeof id === 'number') this.inFlight.get(`${session.token}\n${idKey(id)}`)?.abort();
      }
      // Other notifications (initialized, roots/list_changed) have no 2026-07-28 counterpart.
      return void x.res.writeHead(202).end();
    }
    switch (message.method) {
      case 'ping':
        return this.answer(x, { jsonrpc: '2.0', id: message.id, result: {} });
      case 'logging/setLevel': {
        const level = message.params?.level;
        if (typeof level !== 'string') return this.answer(x, errorResponse(message.id, -32602, 'Invalid params: level must be a string'));
        remember(this.levels, session.token, level);
        return this.answer(x, { jsonrpc: '2.0', id: message.id, result: {} });
      }
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const uri = message.params?.uri;
        if (typeof uri !== 'string') return this.answer(x, errorResponse(message.id, -32602, 'Invalid params: uri must be a string'));
        this.subscribe(session.token, uri, message.method === 'resources/subscribe');
        return this.answer(x, { jsonrpc: '2.0', id: message.id, result: {} });
      }
      default:
        if (LEGACY_TASK_METHODS.has(message.method)) return await this.call(x, session.token, claims, message, (ctx) => this.tasks.serve(ctx, message));
        return await this.call(x, session.token, claims, message);
    }
  }

  /** GET: the standalone stream, served by a `subscriptions/listen` of the server (legacy-listen.ts). */
  async get(x: Exchange): Promise<void> {
    const session = x.session;
    const claims = session?.claims.br;
    if (!session || !claims) throw new GatehouseError('GH_SESSION_REQUIRED', 'Bad Request: Mcp-Session-Id header is required');
    const token = session.token;
    if (this.streams.has(token)) throw new GatehouseError('GH_STREAM_CONFLICT', 'Conflict: only one standalone SSE stream is allowed per session');
    const stream = new LegacyStandaloneStream(
      x.res,
      () => [...(this.subscribed.get(token) ?? [])],
      { target: () => this.target, meta: () => modernEnvelope(claims, this.levels.get(token)), log: this.log },
      (message) => this.transformed(x, message),
    );
    this.streams.set(token, stream);
    const unregister = this.openStreams?.add(x.api, stream);
    try {
      await stream.run();
    } finally {
      unregister?.();
      if (this.streams.get(token) === stream) this.streams.delete(token);
    }
  }

  delete(x: Exchange): Promise<void> {
    if (x.session) {
      this.levels.delete(x.session.token);
      this.subscribed.delete(x.session.token);
      this.tasks.forget(x.session.token);
      this.streams.get(x.session.token)?.close();
      this.sealer.forget(x.session.token);
    }
    x.res.writeHead(200).end();
    return Promise.resolve();
  }

  /** initialize, answered from the server's `server/discover`; the session id is Gatehouse's own. */
  private async initialize(x: PostExchange, request: JsonRpcRequest): Promise<void> {
    const params = request.params ?? {};
    const asked = params.protocolVersion;
    const version = typeof asked === 'string' && isSupportedVersion(asked) && !isStateless(asked) ? asked : LATEST_LEGACY;
    const claims: BridgedClaims = { v: version, cap: isObject(params.capabilities) ? params.capabilities : {}, info: isObject(params.clientInfo) ? params.clientInfo : { name: 'unnamed-2025-client', version: '0' } };
    x.record?.upstreamStarted();
    const controller = new AbortController();
    const left = () => controller.abort();
    x.res.once('close', left);
    let outcome;
    try {
      outcome = await sendModern(this.target, { id: request.id, method: 'server/discover', params: { _meta: modernEnvelope(claims, undefined) } }, controller.signal, () => undefined);
    } finally {
      x.res.off('close', left);
      x.record?.upstreamEnded();
    }
    if (!outcome) return;
    x.record?.upstreamResponded(outcome.status);
    const discovered = outcome.response;
    if (discovered.error || !isObject(discovered.result)) {
      return this.answer(x, { jsonrpc: '2.0', id: request.id, error: discovered.error ?? { code: -32603, message: 'The server answered server/discover without a result' } });
    }
    const result = discovered.result;
    const meta = isObject(result._meta) ? result._meta : {};
    const capabilities = legacyCapabilities(isObject(result.capabilities) ? result.capabilities : {}, { listChanged: true, subscribe: true });
    // The tasks extension is 2025's tasks capability (the client asks for a task, the server decides).
    if (tasksAsLegacyCapability(capabilities)) claims.tk = 1;
    const init: JsonObject = {
      protocolVersion: version,
      capabilities,
      serverInfo: isObject(meta[META_SERVER_INFO]) ? meta[META_SERVER_INFO] : { name: this.server, version: '0' },
    };
    if (typeof result.instructions === 'string') init.instructions = result.instructions;
    const sessionClaims: SessionClaims = { api: x.api, sub: x.principal.key, kind: 'http', ...(this.nodeId !== undefined && { node: this.nodeId }), iat: Math.floor(Date.now() / 1000), br: claims };
    if (declaresFormElicitation(request)) sessionClaims.el = 1;
    const token = this.sealer.seal(sessionClaims);
    if (x.record) x.record.sessionId = token;
    const out = this.transformed(x, { jsonrpc: '2.0', id: request.id, result: init });
    sendJson(x.res, 200, out, { 'mcp-session-id': token });
  }

  /**
   * A request of the client: sent with the envelope, its questions asked on its stream, retried
   * with the answers. `serveTask`: a tasks request, served by legacy-tasks.ts instead.
   */
  private async call(x: PostExchange, token: string, claims: BridgedClaims, request: JsonRpcRequest, serveTask?: (ctx: TaskContext) => Promise<JsonRpcResponse | undefined>): Promise<void> {
    const reply = new BridgeReply(x.res, x.protocolVersion);
    const key = `${token}\n${idKey(request.id)}`;
    const controller = new AbortController();
    this.inFlight.set(key, controller);
    const left = () => {
      if (!reply.finished) controller.abort();
    };
    x.res.once('close', left);
    const name = request.method === 'tools/call' && typeof request.params?.name === 'string' ? request.params.name : undefined;
    x.record?.upstreamStarted();
    // A task-augmented call (2025): sent with the tasks extension declared, so the server may answer with a task.
    const asTask = request.method === 'tools/call' && isObject(request.params?.task);
    const taskContext = (): TaskContext => {
      const declared = { ...claims, cap: withTasksExtension(claims.cap) };
      return {
        api: x.api,
        sub: x.principal.key,
        token,
        signal: controller.signal,
        send: async (method, params) => {
          const outcome = await sendModern(this.target, { id: `gh-${randomUUID()}`, method, params: modernParams(params, declared, this.levels.get(token)), traceparent: x.record?.traceparent }, controller.signal, () => undefined);
          if (outcome) x.record?.upstreamResponded(outcome.status);
          return outcome?.response;
        },
        ask: (questions) => this.ask(x, reply, token, questions, controller.signal),
      };
    };
    try {
      if (serveTask) {
        const answer = await serveTask(taskContext());
        if (!answer) return;
        return this.final(x, reply, answer);
      }
      const declared = name === undefined ? undefined : this.toolHeaders.of(name, () => this.listTools(claims, token, controller.signal));
      const declarations = declared instanceof Promise ? await declared : declared;
      const answer = await requestWithInput({
        server: this.server,
        target: this.target,
        request: {
          id: request.id,
          method: request.method,
          params: asTask ? modernParams(withoutTask(request.params), { ...claims, cap: withTasksExtension(claims.cap) }, this.levels.get(token)) : modernParams(request.params, claims, this.levels.get(token)),
          paramHeaders: declarations,
          traceparent: x.record?.traceparent,
        },
        signal: controller.signal,
        onMessage: (message) => {
          const out = this.transformed(x, message);
          if (out) reply.event(out);
        },
        ask: (questions) => this.ask(x, reply, token, questions, controller.signal),
        onLeg: (status) => x.record?.upstreamResponded(status),
      });
      if (!answer) return; // cancelled: the client gets no answer, as 2025 says
      if (answer.error || !isObject(answer.result)) return this.final(x, reply, answer);
      if (request.method === 'tools/list') {
        this.toolHeaders.learn(answer.result);
        if (claims.tk === 1) offerTaskExecution(answer.result);
      }
      if (asTask) {
        const created = this.tasks.created(taskContext(), answer.result);
        if (!created) return this.final(x, reply, errorResponse(request.id, -32603, `Upstream "${this.server}" answered with a malformed task`));
        return this.final(x, reply, { jsonrpc: '2.0', id: request.id, result: created });
      }
      return this.final(x, reply, { jsonrpc: '2.0', id: request.id, result: legacyResult(answer.result) });
    } catch (error) {
      // Once the answer is a stream its status is sent: the failure is its last message.
      if (!reply.failedOnStream(request.id, error, x.record)) throw error;
    } finally {
      x.record?.upstreamEnded();
      x.res.off('close', left);
      if (this.inFlight.get(key) === controller) this.inFlight.delete(key);
    }
  }

  /**
   * The server's questions, asked on the client's stream as 2025 server → client requests; their
   * answers by input key. Undefined when the client left; an error when it refused, did not
   * answer in time, or a response policy dropped a question.
   */
  private async ask(x: PostExchange, reply: BridgeReply, token: string, questions: readonly InputQuestion[], signal: AbortSignal): Promise<InputAnswers> {
    const waits: Array<readonly [string, Promise<JsonRpcResponse | undefined>]> = [];
    const keys: string[] = [];
    const timeout = this.target.responseTimeout;
    for (const { key: inputKey, method, params } of questions) {
      const id: JsonRpcId = `gh-${randomUUID()}`;
      const question: JsonRpcRequest = { jsonrpc: '2.0', id, method, ...(params !== undefined && { params }) };
      const seen = this.transformed(x, question);
      if (!seen || !isRequest(seen)) {
        for (const k of keys) this.questions.delete(k);
        return { error: { code: -32603, message: `The server's ${method} request was refused by a Gatehouse policy` } };
      }
      const questionKey = `${token}\n${idKey(id)}`;
      keys.push(questionKey);
      waits.push([inputKey, answerOf(timeout, signal, (deliver) => remember(this.questions, questionKey, deliver))]);
      reply.event(seen);
    }
    try {
      return await gatherAnswers(waits, timeout, signal);
    } finally {
      for (const k of keys) this.questions.delete(k);
    }
  }

  /** Adds or removes a session's subscription; its standalone stream, if open, listens again with the new set. */
  private subscribe(token: string, uri: string, on: boolean): void {
    let uris = this.subscribed.get(token);
    if (on) {
      if (!uris) remember(this.subscribed, token, (uris = new Set()));
      if (uris.has(uri) || uris.size >= MAX_SUBSCRIPTIONS) return;
      uris.add(uri);
    } else if (!uris?.delete(uri)) return;
    this.streams.get(token)?.refilter();
  }

  /** Every tool of the server, asked on Gatehouse's own behalf with the client's envelope. */
  private listTools(claims: BridgedClaims, token: string, signal: AbortSignal): Promise<unknown[]> {
    return listAllTools(async (page) => {
      const params = modernParams(page, claims, this.levels.get(token));
      const outcome = await sendModern(this.target, { id: 'gatehouse-tools', method: 'tools/list', params }, signal, () => undefined);
      if (!outcome || outcome.response.error) throw new Error('tools/list failed');
      return outcome.response.result;
    });
  }

  private transformed<M extends JsonRpcMessage>(x: Exchange, message: M): M | undefined {
    return x.transform ? (x.transform(message) as M | undefined) : message;
  }

  private answer(x: PostExchange, response: JsonRpcResponse): void {
    new BridgeReply(x.res, x.protocolVersion).final(this.transformed(x, response) ?? errorResponse(response.id, -32603, 'The answer was withheld by a policy'));
  }

  private final(x: PostExchange, reply: BridgeReply, response: JsonRpcResponse): void {
    reply.final(this.transformed(x, response) ?? errorResponse(response.id, -32603, 'The answer was withheld by a policy'));
  }

  /** For tests and logs: how many questions wait for a client's answer. */
  get waitingQuestions(): number {
    return this.questions.size;
  }

  close(): void {
    for (const controller of this.inFlight.values()) controller.abort();
    this.log.debug({ server: this.server }, 'legacy-client bridge closed');
  }
}

/** Map.set with a bound: the oldest entry goes first. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MEMORY_LIMIT && !map.has(key)) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}
