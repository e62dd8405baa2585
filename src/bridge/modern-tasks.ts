// Tasks for a 2026-07-28 client of a 2025-11-25 server. In 2025-11-25 tasks are part of the core
// protocol: the client asks for one (`params.task` on `tools/call`), gets `{task}` back, polls
// `tasks/get`, fetches the answer with `tasks/result` (which blocks, and carries the server's
// questions as server → client requests), lists with `tasks/list`, cancels with `tasks/cancel`. In
// 2026-07-28 they are the `io.modelcontextprotocol/tasks` extension (SEP-2663): the server decides,
// for a client that declared the extension on the request, to answer `resultType: "task"` with the
// task's fields flat (`ttlMs`, `pollIntervalMs`); `tasks/get` carries the result, the error or the
// questions (`inputRequests`) inline; `tasks/update` answers the questions; no `tasks/result`, no
// `tasks/list`. Gatehouse plays the 2026-07-28 server: it augments a call of a tool the server runs
// as a task, hands out a sealed task id (task-ids.ts: only the principal that started the task can
// reach it), and holds one `tasks/result` of its own per task on the bridged session, which keeps
// the session open while the task runs and collects its questions and its final answer.
import type { Logger } from '../log.ts';
import { errorResponse, isObject, isRequest, type JsonObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import type { Envelope } from './envelope.ts';
import { RELATED_TASK, type Call, type LegacySession } from './legacy-session.ts';
import { modernResult, offersToolTasks, TASKS_EXTENSION } from './results.ts';
import { MAX_UPSTREAM_ID, MEMBER_TASK_SESSION, type TaskIdSealer } from './task-ids.ts';
import { listAllTools, ToolBook } from './tool-headers.ts';

export { offersToolTasks, TASKS_EXTENSION };
/** The extension's methods, served here. `tasks/result` and `tasks/list` are not part of it. */
export const TASK_METHODS: ReadonlySet<string> = new Set(['tasks/get', 'tasks/update', 'tasks/cancel']);

/** How long Gatehouse waits on a task with no ttl (or a longer one) before it gives it up. */
const MAX_WATCH_MS = 24 * 60 * 60 * 1000;
/** How long a finished task's answer is kept on the node for `tasks/get` (the server keeps it for its ttl too). */
const KEEP_FINISHED_MS = 10 * 60 * 1000;
const TERMINAL: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

export type TaskSupport = 'required' | 'optional' | 'forbidden';


/** Whether a 2026-07-28 request declared the tasks extension in its `_meta` capabilities. */
export function declaresTasks(envelope: Envelope): boolean {
  const extensions = envelope.capabilities.extensions;
  return isObject(extensions) && isObject(extensions[TASKS_EXTENSION]);
}

/** A `subscriptions/listen` that asks for task status notifications (`notifications.taskIds`). */
export function asksTaskStatus(request: JsonRpcRequest): boolean {
  const notifications = isObject(request.params) ? request.params.notifications : undefined;
  return isObject(notifications) && Array.isArray(notifications.taskIds) && notifications.taskIds.length > 0;
}

/** -32021: the extension is needed for this request (SEP-2663, "Capability Negotiation"). */
export function missingTasksCapability(request: JsonRpcRequest, why: string): JsonRpcResponse {
  return errorResponse(request.id, -32021, `Missing required client capability: ${why}`, { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
}

/** The answer for a task that does not exist, is not this principal's, or is gone: all alike. */
function taskNotFound(request: JsonRpcRequest): JsonRpcResponse {
  return errorResponse(request.id, -32602, 'Failed to retrieve task: Task not found');
}

/** A 2025 `Task` as the 2026-07-28 extension names its members, under the id the client knows. */
export function modernTask(task: JsonObject, taskId: string): JsonObject {
  const out: JsonObject = {
    taskId,
    status: task.status,
    createdAt: task.createdAt,
    lastUpdatedAt: task.lastUpdatedAt ?? task.createdAt,
    ttlMs: typeof task.ttl === 'number' ? task.ttl : null,
  };
  if (typeof task.statusMessage === 'string') out.statusMessage = task.statusMessage;
  if (typeof task.pollInterval === 'number') out.pollIntervalMs = task.pollInterval;
  return out;
}

/** Gatehouse's `tasks/result` for one task, and what it learned. */
interface Watch {
  readonly call: Call;
  /** The server's answer to `tasks/result`: the task's result or its error. */
  final: JsonRpcResponse | undefined;
  readonly finished: Promise<void>;
  /** The task as last seen (2025 shape), for answering once its session is gone. */
  task: JsonObject;
  /** The server's identity, for the result's `_meta` once its session is gone. */
  readonly serverInfo: JsonObject | undefined;
}

/** `execution.taskSupport` of the server's tools, learned from its lists (2026-07-28 clients never see it). */
export function taskSupportBook(): ToolBook<TaskSupport> {
  return new ToolBook((tool) => {
    const support = isObject(tool.execution) ? tool.execution.taskSupport : undefined;
    return support === 'required' || support === 'optional' ? support : 'forbidden';
  }, 'forbidden');
}

/** Every page of the server's tool list, asked on a bridged session. */
export function sessionToolLister(session: LegacySession, timeoutMs: number): () => Promise<unknown[]> {
  return () =>
    listAllTools(async (params) => {
      const answer = await session.ask('tools/list', params, timeoutMs);
      if (answer.error) throw new Error(answer.error.message);
      return answer.result;
    });
}

export class BridgedTasks {
  readonly support = taskSupportBook();
  /** By bridged session id and the server's task id. */
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly sealer: TaskIdSealer,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {}

  /**
   * The server created a task for a call Gatehouse augmented: the client gets its 2026-07-28
   * handle, and Gatehouse starts waiting for the task's answer on the session.
   */
  created(api: string, sub: string, session: LegacySession, task: JsonObject): JsonObject | undefined {
    if (typeof task.taskId !== 'string' || task.taskId.length > MAX_UPSTREAM_ID) return undefined;
    const taskId = this.sealer.seal(api, sub, { node: this.nodeId, s: session.id, t: task.taskId });
    this.watch(session, { ...task, taskId: task.taskId }, typeof task.ttl === 'number' ? task.ttl : undefined);
    return { resultType: 'task', ...modernTask(task, taskId) };
  }

  /** The node holding the task a `tasks/*` request names, when that is another node (a cluster forwards it there). */
  owner(api: string, sub: string, request: JsonRpcRequest): string | undefined {
    if (!TASK_METHODS.has(request.method)) return undefined;
    const taskId = request.params?.taskId;
    const claims = typeof taskId === 'string' ? this.sealer.unseal(api, sub, taskId) : undefined;
    // A 2026-07-28 member's own task is reached from any node (federation/modern-forward.ts).
    return claims && claims.node !== this.nodeId && !claims.s.startsWith(MEMBER_TASK_SESSION) ? claims.node : undefined;
  }

  /**
   * `tasks/get`, `tasks/update` or `tasks/cancel`. `session` finds a live bridged session by id;
   * `transform` passes a server message through the response policies (undefined: dropped).
   */
  async serve(
    api: string,
    sub: string,
    request: JsonRpcRequest,
    envelope: Envelope,
    session: (id: string) => LegacySession | undefined,
    transform: (message: JsonRpcMessage) => JsonRpcMessage | undefined,
    timeoutMs: number,
  ): Promise<JsonRpcResponse> {
    if (!declaresTasks(envelope)) return missingTasksCapability(request, `${request.method} needs the ${TASKS_EXTENSION} extension declared in _meta's client capabilities`);
    const taskId = request.params?.taskId;
    if (typeof taskId !== 'string') return errorResponse(request.id, -32602, 'Invalid params: taskId must be a string');
    const claims = this.sealer.unseal(api, sub, taskId);
    if (!claims || claims.node !== this.nodeId) return taskNotFound(request);
    const upstreamId = claims.t;
    const held = session(claims.s);
    const watch = this.watches.get(`${claims.s}\n${upstreamId}`);
    // The session was reaped after the task ended: its answer is still kept here for a while.
    if (!held) return watch?.final !== undefined ? this.finished(request, taskId, watch, watch.final) : taskNotFound(request);
    switch (request.method) {
      case 'tasks/update': {
        const responses = request.params?.inputResponses;
        if (!isObject(responses)) return errorResponse(request.id, -32602, 'Invalid params: inputResponses must be an object');
        // Answers to questions no longer asked are ignored, as SEP-2663 says a server should.
        if (watch && !watch.call.done) held.answer(watch.call, responses);
        return { jsonrpc: '2.0', id: request.id, result: { resultType: 'complete' } };
      }
      case 'tasks/cancel': {
        const answer = await held.ask('tasks/cancel', { taskId: upstreamId }, timeoutMs).catch((error: Error) => errorResponse(null, -32603, error.message));
        if (answer.error) {
          // A 2025 server refuses to cancel a task that has ended; the extension acknowledges it
          // (cancelling is idempotent, -32602 is for unknown tasks only).
          const known = await held.ask('tasks/get', { taskId: upstreamId }, timeoutMs).catch(() => undefined);
          const status = known && isObject(known.result) ? known.result.status : undefined;
          if (typeof status !== 'string' || !TERMINAL.has(status)) return { jsonrpc: '2.0', id: request.id, error: answer.error };
        }
        return { jsonrpc: '2.0', id: request.id, result: { resultType: 'complete' } };
      }
      default:
        return this.get(request, taskId, upstreamId, held, watch, transform, timeoutMs);
    }
  }

  private async get(
    request: JsonRpcRequest,
    taskId: string,
    upstreamId: string,
    session: LegacySession,
    watch: Watch | undefined,
    transform: (message: JsonRpcMessage) => JsonRpcMessage | undefined,
    timeoutMs: number,
  ): Promise<JsonRpcResponse> {
    const answer = await session.ask('tasks/get', { taskId: upstreamId }, timeoutMs).catch((error: Error) => errorResponse(null, -32603, error.message));
    if (answer.error) return { jsonrpc: '2.0', id: request.id, error: answer.error };
    if (!isObject(answer.result)) return errorResponse(request.id, -32603, 'The server answered tasks/get without a task');
    if (watch) watch.task = answer.result;
    const task = modernTask(answer.result, taskId);
    if (task.status === 'completed' || task.status === 'failed') {
      const final = await this.finalOf(session, upstreamId, watch, timeoutMs);
      if (final === undefined) task.status = 'working'; // the answer is on its way: the next poll has it
      else if (final.error) {
        // 2026-07-28: `failed` is a JSON-RPC error; a tool's own error is a completed result.
        task.status = 'failed';
        task.error = final.error as unknown as JsonObject;
      } else {
        task.status = 'completed';
        task.result = modernResult('tools/call', withoutRelatedTask(final.result), session.init?.serverInfo);
      }
    } else if (task.status === 'cancelled') {
      // A cancelled task may never answer Gatehouse's tasks/result: stop holding the session for it.
      if (watch && !watch.call.done) session.cancel(watch.call, 'the task was cancelled');
    } else if (!TERMINAL.has(String(task.status))) {
      const inputRequests = this.questions(session, watch, transform);
      if (inputRequests) {
        task.status = 'input_required';
        task.inputRequests = inputRequests;
      } else if (task.status === 'input_required') {
        // The server's questions come on Gatehouse's tasks/result; until they are there, nothing can be asked.
        task.status = 'working';
      }
    }
    return { jsonrpc: '2.0', id: request.id, result: { resultType: 'complete', ...task } };
  }

  /**
   * A request for a finished task whose bridged session is gone: `tasks/get` gets the answer
   * Gatehouse's own `tasks/result` collected; updating or cancelling a finished task changes
   * nothing (both are acknowledged, as the extension says of a task that has ended).
   */
  private finished(request: JsonRpcRequest, taskId: string, watch: Watch, final: JsonRpcResponse): JsonRpcResponse {
    if (request.method !== 'tasks/get') return { jsonrpc: '2.0', id: request.id, result: { resultType: 'complete' } };
    const task = modernTask(watch.task, taskId);
    if (final.error) {
      task.status = 'failed';
      task.error = final.error as unknown as JsonObject;
    } else {
      task.status = 'completed';
      task.result = modernResult('tools/call', withoutRelatedTask(final.result), watch.serverInfo);
    }
    return { jsonrpc: '2.0', id: request.id, result: { resultType: 'complete', ...task } };
  }

  /** The task's questions waiting for the client, through the response policies (one dropped is refused to the server). */
  private questions(session: LegacySession, watch: Watch | undefined, transform: (message: JsonRpcMessage) => JsonRpcMessage | undefined): JsonObject | undefined {
    if (!watch || watch.call.asked.size === 0) return undefined;
    const out: JsonObject = {};
    for (const [key, asked] of [...watch.call.asked]) {
      const seen = transform(asked);
      if (!seen || !isRequest(seen)) {
        session.refuse(watch.call, key, 'refused by a Gatehouse policy');
        continue;
      }
      out[key] = seen.params === undefined ? { method: seen.method } : { method: seen.method, params: withoutRelatedTask(seen.params) };
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }

  /** The answer of a finished task: from Gatehouse's own `tasks/result`, or asked again when that is gone. */
  private async finalOf(session: LegacySession, upstreamId: string, watch: Watch | undefined, timeoutMs: number): Promise<JsonRpcResponse | undefined> {
    if (watch) {
      if (watch.final === undefined) await Promise.race([watch.finished, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
      return watch.final;
    }
    return session.ask('tasks/result', { taskId: upstreamId }, timeoutMs).catch(() => undefined);
  }

  /**
   * Gatehouse's `tasks/result` for a task it created: a call of the bridged session (so the session
   * is not reaped while the task runs) to which the server's questions about the task are routed.
   */
  private watch(session: LegacySession, created: JsonObject & { taskId: string }, ttl: number | undefined): void {
    const upstreamId = created.taskId;
    const key = `${session.id}\n${upstreamId}`;
    const request: JsonRpcRequest = { jsonrpc: '2.0', id: `gh-task-${upstreamId}`, method: 'tasks/result', params: { taskId: upstreamId } };
    const call = session.call(request, { taskId: upstreamId });
    call.background = true;
    let done!: () => void;
    const watch: Watch = { call, final: undefined, finished: new Promise<void>((resolve) => (done = resolve)), task: created, serverInfo: session.init?.serverInfo };
    this.watches.set(key, watch);
    const deadline = Date.now() + Math.min(ttl ?? MAX_WATCH_MS, MAX_WATCH_MS);
    void (async () => {
      for (;;) {
        const left = deadline - Date.now();
        const next = left > 0 ? call.next(left) : undefined;
        const event = next instanceof Promise ? await next : next;
        if (event === undefined) {
          session.cancel(call, 'the task outlived its time to live');
          watch.final = errorResponse(null, -32603, 'The task outlived its time to live');
          break;
        }
        if (event.kind === 'answer') {
          watch.final = event.response;
          // As the server would say of it now (a tasks/get after the session is gone has no server to ask).
          watch.task = { ...watch.task, status: event.response.error ? 'failed' : 'completed', lastUpdatedAt: new Date().toISOString() };
          break;
        }
        if (event.kind === 'ended') {
          watch.final = errorResponse(null, -32603, `The upstream session ended: ${event.reason}`);
          break;
        }
        // Questions wait in call.asked for the next tasks/get; notifications of a task have no stream to go to.
      }
      done();
      this.log.debug({ task: upstreamId, failed: watch.final?.error !== undefined }, 'bridged task finished');
      setTimeout(() => {
        if (this.watches.get(key) === watch) this.watches.delete(key);
      }, KEEP_FINISHED_MS).unref();
    })();
  }
}

/** A 2025 message's `_meta` without the related-task key (2026-07-28 names the task by the request instead). */
function withoutRelatedTask(value: unknown): JsonObject {
  const out: JsonObject = isObject(value) ? { ...value } : {};
  if (isObject(out._meta) && RELATED_TASK in out._meta) {
    const { [RELATED_TASK]: _task, ...rest } = out._meta;
    if (Object.keys(rest).length === 0) delete out._meta;
    else out._meta = rest;
  }
  return out;
}
