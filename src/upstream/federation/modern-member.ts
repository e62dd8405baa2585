// A Streamable HTTP server that speaks 2026-07-28, as one member of a federated session: a
// message channel that looks to the federated session (federated-channel.ts) like a 2025
// server's, and speaks to the server sessionlessly, as the single-server bridge for 2025 clients
// does (src/bridge/legacy-client.ts; both send their requests through bridge/legacy-rounds.ts):
// - `initialize` is answered here from the server's `server/discover`, and what the client
//   declared in it (its capabilities and client info) is the `_meta` envelope of every request;
// - each request is a POST of its own with the envelope and the routing headers; `resultType` and
//   the cache hints are removed from the answers;
// - an `input_required` answer becomes server → client requests on this channel (the federated
//   session gives them ids of its own and sends them to the client); the client's answers become
//   the retry's `inputResponses`, until the server completes the request;
// - the server's list changes come from a `subscriptions/listen` stream (`bridge/server-listener.ts`);
// - `ping` and `logging/setLevel` (gone in 2026-07-28) are answered here, the level rides in
//   `_meta`; `resources/subscribe` opens the listen stream again with the resource in its filter;
// - the tasks extension is served as 2025's tasks, with the single-server bridge's conversion
//   (bridge/legacy-tasks.ts; modern-member-tasks.ts): `capabilities.tasks`, a task-augmented
//   `tools/call` sent with the extension declared, tasks/get, tasks/result, tasks/cancel, tasks/list.
// Nothing is kept on the server between requests: there is no upstream session to store, resume
// or lose. A server that cannot be reached ends the channel, and the session starts it again.
import { randomUUID } from 'node:crypto';
import { GatehouseError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { errorResponse, idKey, isObject, isRequest, isResponse, type JsonObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../mcp/jsonrpc.ts';
import { isStateless, isSupportedVersion } from '../../mcp/versions.ts';
import { META_SERVER_INFO } from '../../bridge/envelope.ts';
import { sendModern, type ModernTarget } from '../../bridge/modern-request.ts';
import { paramHeaders, type ParamHeader } from '../../mcp/routing-headers.ts';
import { toolHeaderBook } from '../../bridge/tool-headers.ts';
import { answerOf, gatherAnswers, legacyCapabilities, legacyResult, modernEnvelope, modernParams, requestWithInput, type Declared, type InputAnswers, type InputQuestion } from '../../bridge/legacy-rounds.ts';
import type { MessageChannel } from '../channel.ts';
import { listChangedKinds, ServerListener } from '../../bridge/server-listener.ts';
import { LEGACY_TASK_METHODS, LegacyClientTasks, offerTaskExecution, tasksAsLegacyCapability, withoutTask, withTasksExtension, type TaskContext } from '../../bridge/legacy-tasks.ts';
import { MEMBER_TASK_NODE, memberTaskIds } from './modern-member-tasks.ts';

/** The revision of the initialize answer when the federated session asked for one that is not a 2025 revision. */
const LATEST_LEGACY = '2025-11-25';
const ANONYMOUS: Declared['info'] = { name: 'gatehouse', version: '0' };

export class ModernMemberChannel implements MessageChannel {
  onmessage: ((message: JsonRpcMessage, text?: string) => void) | undefined;
  onclose: ((reason: string) => void) | undefined;
  /** A request is reported when the server's first answer to it (or a question, or a progress message) came. */
  readonly reportsAccepted = true;
  onaccepted: ((id: JsonRpcId) => void) | undefined;
  private closed = false;
  private declared: Declared = { cap: {}, info: ANONYMOUS };
  private level: string | undefined;
  /** The server's list changes and the resources subscribed on it (subscriptions/listen), once initialized. */
  private listener: ServerListener | undefined;
  /** Aborts every request in flight and the listen stream when the channel ends. */
  private readonly ending = new AbortController();
  /** Requests in flight, by id (notifications/cancelled). */
  private readonly inFlight = new Map<string, AbortController>();
  /** Questions asked of the client, waiting for its answer, by their id. */
  private readonly questions = new Map<string, (answer: JsonRpcResponse) => void>();
  private nextQuestion = 0;
  /** `x-mcp-header` declarations of the server's tools, learned from its tool lists. */
  private readonly toolHeaders = toolHeaderBook(paramHeaders);
  /** Whether the server's discover offered the tasks extension (served as 2025's tasks). */
  private runsTasks = false;
  /** The tasks started through this channel (tasks/list), and calls answered inline though asked as tasks. */
  private readonly tasks = new LegacyClientTasks(memberTaskIds, MEMBER_TASK_NODE);

  constructor(
    readonly server: string,
    /** The server's endpoint, headers and credential (modern-forward.ts sends 2026-07-28 clients' requests there as they are). */
    readonly target: ModernTarget,
    private readonly log: Logger,
  ) {}

  /** The `x-mcp-header` declarations of a tool, learned from the server's tool lists. */
  paramHeadersOf(tool: string): readonly ParamHeader[] | undefined {
    return this.toolHeaders.known(tool);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  send(message: JsonRpcMessage): void {
    if (this.closed) throw new Error('channel closed');
    if (isResponse(message)) {
      // The client's answer to a question (under this channel's id: the session mapped it back).
      if (message.id !== null) this.questions.get(idKey(message.id))?.(message);
      return;
    }
    if (!isRequest(message)) {
      if (message.method === 'notifications/initialized') this.listener?.start();
      else if (message.method === 'notifications/cancelled' && isObject(message.params)) {
        const id = message.params.requestId;
        if (typeof id === 'string' || typeof id === 'number') this.inFlight.get(idKey(id))?.abort();
      }
      // Others (roots/list_changed) have no 2026-07-28 counterpart: the envelope declares per request.
      return;
    }
    switch (message.method) {
      case 'initialize':
        return void this.initialize(message);
      case 'ping':
        return this.answer({ jsonrpc: '2.0', id: message.id, result: {} });
      case 'logging/setLevel':
        if (typeof message.params?.level === 'string') this.level = message.params.level;
        return this.answer({ jsonrpc: '2.0', id: message.id, result: {} });
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return void this.subscribe(message);
      default:
        return void this.call(message);
    }
  }

  async close(): Promise<void> {
    this.end('was closed');
  }

  /** initialize, answered from the server's `server/discover`; what the client declared is kept for the envelope. */
  private async initialize(request: JsonRpcRequest): Promise<void> {
    const params = request.params ?? {};
    const asked = params.protocolVersion;
    const version = typeof asked === 'string' && isSupportedVersion(asked) && !isStateless(asked) ? asked : LATEST_LEGACY;
    this.declared = { cap: isObject(params.capabilities) ? params.capabilities : {}, info: isObject(params.clientInfo) ? params.clientInfo : ANONYMOUS };
    let answer: JsonRpcResponse;
    try {
      const outcome = await sendModern(this.target, { id: request.id, method: 'server/discover', params: { _meta: modernEnvelope(this.declared, undefined) } }, this.ending.signal, () => undefined);
      if (!outcome) return;
      answer = outcome.response;
    } catch (error) {
      return this.answer(asErrorResponse(request.id, error));
    }
    if (answer.error || !isObject(answer.result)) return this.answer({ jsonrpc: '2.0', id: request.id, error: answer.error ?? { code: -32603, message: 'The server answered server/discover without a result' } });
    const result = answer.result;
    const capabilities = isObject(result.capabilities) ? result.capabilities : {};
    const subscribe = isObject(capabilities.resources) && capabilities.resources.subscribe === true;
    this.listener?.stop();
    this.listener = new ServerListener(this.target, listChangedKinds(capabilities), modernEnvelope(this.declared, undefined), subscribe, this.ending.signal, this.log, {
      notification: (message) => this.emit(message),
      lost: (reason) => this.end(reason),
    });
    const meta = isObject(result._meta) ? result._meta : {};
    const offered = legacyCapabilities(capabilities, { listChanged: true, subscribe });
    this.runsTasks = tasksAsLegacyCapability(offered);
    const init: JsonObject = {
      protocolVersion: version,
      capabilities: offered,
      serverInfo: isObject(meta[META_SERVER_INFO]) ? meta[META_SERVER_INFO] : { name: this.server, version: '0' },
    };
    if (typeof result.instructions === 'string') init.instructions = result.instructions;
    this.answer({ jsonrpc: '2.0', id: request.id, result: init });
  }

  /** A request: sent with the envelope, its questions asked of the client, retried with the answers. */
  private async call(request: JsonRpcRequest): Promise<void> {
    const key = idKey(request.id);
    // Aborted by a cancellation, or by the channel's end (end() aborts every request in flight).
    const controller = new AbortController();
    const signal = controller.signal;
    this.inFlight.set(key, controller);
    let accepted = false;
    const accept = () => {
      if (accepted) return;
      accepted = true;
      this.onaccepted?.(request.id);
    };
    const name = request.method === 'tools/call' && typeof request.params?.name === 'string' ? request.params.name : undefined;
    // A task-augmented call (2025): sent with the extension declared, so the server may answer with a task.
    const asTask = this.runsTasks && request.method === 'tools/call' && isObject(request.params?.task);
    try {
      if (this.runsTasks && LEGACY_TASK_METHODS.has(request.method)) {
        const served = await this.tasks.serve(this.taskContext(signal, accept), request);
        if (!served) return;
        accept();
        return this.answer(served);
      }
      const answer = await requestWithInput({
        server: this.server,
        target: this.target,
        request: {
          id: request.id,
          method: request.method,
          params: asTask ? modernParams(withoutTask(request.params), this.taskDeclared(), this.level) : modernParams(request.params, this.declared, this.level),
          paramHeaders: name === undefined ? undefined : this.toolHeaders.known(name),
        },
        signal,
        onMessage: (message) => {
          // Progress and log messages; 2026-07-28 servers make no requests of the client on a stream.
          if ('id' in message) return;
          accept();
          this.emit(message);
        },
        ask: (questions) => {
          accept();
          return this.ask(questions, signal);
        },
      });
      if (!answer) return; // cancelled: no answer, as 2025 says
      accept();
      if (answer.error || !isObject(answer.result)) return this.answer(answer);
      if (request.method === 'tools/list') {
        this.toolHeaders.learn(answer.result);
        if (this.runsTasks) offerTaskExecution(answer.result);
      }
      if (asTask) {
        const created = this.tasks.created(this.taskContext(signal, accept), answer.result);
        return this.answer(created ? { jsonrpc: '2.0', id: request.id, result: created } : errorResponse(request.id, -32603, `Upstream "${this.server}" answered with a malformed task`));
      }
      this.answer({ jsonrpc: '2.0', id: request.id, result: legacyResult(answer.result) });
    } catch (error) {
      if (this.closed) return;
      accept();
      this.answer(asErrorResponse(request.id, error));
      if (error instanceof GatehouseError && error.code === 'GH_UPSTREAM_UNAVAILABLE') this.end('could not be reached');
    } finally {
      if (this.inFlight.get(key) === controller) this.inFlight.delete(key);
    }
  }

  /** What the client declared, with the tasks extension added (the server may then answer with a task). */
  private taskDeclared(): Declared {
    return { ...this.declared, cap: withTasksExtension(this.declared.cap) };
  }

  /** The tasks conversion's view of one request on this channel: the extension declared on each request it sends. */
  private taskContext(signal: AbortSignal, accept: () => void): TaskContext {
    const declared = this.taskDeclared();
    return {
      // The federated session's seal binds the ids to the API and client session (modern-member-tasks.ts).
      api: '',
      sub: '',
      token: 'session',
      signal,
      send: async (method, params) => {
        const outcome = await sendModern(this.target, { id: `gh-${randomUUID()}`, method, params: modernParams(params, declared, this.level) }, signal, () => undefined);
        // A tasks/result may wait long for its task: its SSE head need not wait with it.
        if (outcome) accept();
        return outcome?.response;
      },
      ask: (questions) => {
        accept();
        return this.ask(questions, signal);
      },
    };
  }

  /** The server's questions, as server → client requests on this channel; their answers by input key. */
  private async ask(questions: readonly InputQuestion[], signal: AbortSignal): Promise<InputAnswers> {
    const timeout = this.target.responseTimeout;
    const keys: string[] = [];
    const waits: Array<readonly [string, Promise<JsonRpcResponse | undefined>]> = [];
    for (const { key, method, params } of questions) {
      const id = `q-${++this.nextQuestion}`;
      keys.push(idKey(id));
      waits.push([key, answerOf(timeout, signal, (deliver) => this.questions.set(idKey(id), deliver))]);
      this.emit({ jsonrpc: '2.0', id, method, ...(params !== undefined && { params }) });
    }
    try {
      return await gatherAnswers(waits, timeout, signal);
    } finally {
      for (const k of keys) this.questions.delete(k);
    }
  }

  /**
   * resources/subscribe and unsubscribe: the listen stream is opened again with the resource in
   * its filter (2026-07-28 subscribes there); subscribed once the server acknowledged it.
   */
  private async subscribe(request: JsonRpcRequest): Promise<void> {
    const uri = request.params?.uri;
    if (typeof uri !== 'string') return this.answer(errorResponse(request.id, -32602, 'Invalid params: uri must be a string'));
    if (!this.listener?.subscribes) return this.answer(errorResponse(request.id, -32601, `Method not found: server "${this.server}" offers no resource subscriptions`));
    const on = request.method === 'resources/subscribe';
    const accepted = await this.listener.subscribe(uri, on, this.target.responseTimeout);
    if (accepted) return this.answer({ jsonrpc: '2.0', id: request.id, result: {} });
    this.answer(errorResponse(request.id, -32603, `Server "${this.server}" did not accept a subscription to ${uri}`));
  }

  private answer(response: JsonRpcResponse): void {
    this.emit(response);
  }

  private emit(message: JsonRpcMessage): void {
    if (!this.closed) this.onmessage?.(message);
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ending.abort();
    for (const controller of this.inFlight.values()) controller.abort();
    this.questions.clear();
    this.inFlight.clear();
    if (reason !== 'was closed') this.log.info({ reason }, 'server (2026-07-28) lost');
    this.onclose?.(reason);
  }
}

function asErrorResponse(id: JsonRpcId, error: unknown): JsonRpcResponse {
  if (error instanceof GatehouseError) return errorResponse(id, error.rpc, error.message, { code: error.code });
  return errorResponse(id, -32603, (error as Error).message, { code: 'GH_INTERNAL' });
}
