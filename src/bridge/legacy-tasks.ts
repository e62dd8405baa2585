// Tasks for a 2025-11-25 client of a server that speaks only 2026-07-28 (the reverse of
// modern-tasks.ts). The client asks for a task (`params.task` on `tools/call`); Gatehouse sends the
// call with the tasks extension declared in `_meta`, and the server decides: `resultType: "task"`
// becomes the 2025 `{task}` (its id sealed to the agent: the server sees every agent as Gatehouse,
// so the seal is what keeps one agent from another's tasks), a plain result becomes a finished
// task Gatehouse holds itself (the client asked for a task and must get one). `tasks/get` and
// `tasks/cancel` are the extension's; `tasks/result` is Gatehouse polling `tasks/get` until the
// task ends, asking the client the task's questions on the request's stream and sending the
// answers with `tasks/update`; `tasks/list` lists the tasks the session started on this node.
import { randomUUID } from 'node:crypto';
import { errorResponse, isObject, type JsonObject, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import { RELATED_TASK } from './legacy-session.ts';
import type { InputAnswers, InputQuestion } from './legacy-rounds.ts';
import { legacyResult } from './legacy-rounds.ts';
import { TASKS_EXTENSION } from './results.ts';
import { MAX_UPSTREAM_ID, type TaskIdClaims } from './task-ids.ts';

/** The 2025 tasks requests, served by LegacyClientTasks over the server's tasks extension. */
export const LEGACY_TASK_METHODS: ReadonlySet<string> = new Set(['tasks/get', 'tasks/result', 'tasks/cancel', 'tasks/list']);

/** Tasks one session's tasks/list shows (the newest). */
const LIST_LIMIT = 100;
/** Sessions whose tasks are remembered on this node, and finished tasks Gatehouse holds itself. */
const MEMORY_LIMIT = 10_000;
/** How long a tasks/result waits for a task with no ttl of its own. */
const MAX_RESULT_WAIT_MS = 60 * 60 * 1000;
const POLL_MIN_MS = 50;
const POLL_MAX_MS = 5000;
/** The `s` claim of a task Gatehouse holds itself (the server answered the call inline). */
export const LOCAL_TASK = 'local';
const LOCAL = LOCAL_TASK;

/**
 * How the ids a 2025 client sees are made from the server's: sealed to the agent for a client of
 * one server (task-ids.ts), written plainly for a federated session, whose own seal binds every id
 * to the client session (federation/modern-member-tasks.ts).
 */
export interface TaskIdCodec {
  seal(api: string, sub: string, claims: TaskIdClaims): string;
  /** The claims, or undefined for an id this codec did not make (answered as no task). */
  unseal(api: string, sub: string, taskId: string): TaskIdClaims | undefined;
}

/** What the tasks requests of one client request need of the bridge. */
export interface TaskContext {
  readonly api: string;
  readonly sub: string;
  /** The client's session. */
  readonly token: string;
  readonly signal: AbortSignal;
  /** One request to the server with the envelope, the extension declared; undefined when cancelled. */
  send(method: string, params: JsonObject): Promise<JsonRpcResponse | undefined>;
  /** Asks the client the server's questions on the request's stream. */
  ask(questions: readonly InputQuestion[]): Promise<InputAnswers>;
}

/** The 2025 capability for what the extension offers: tools/call as tasks, listed and cancelled by Gatehouse (a fresh object: policies may change what they are given). */
export function legacyTasksCapability(): JsonObject {
  return { list: {}, cancel: {}, requests: { tools: { call: {} } } };
}

/** Whether a 2026-07-28 server's capabilities offer the tasks extension. */
export function offersTasksExtension(capabilities: JsonObject): boolean {
  return isObject(capabilities.extensions) && isObject(capabilities.extensions[TASKS_EXTENSION]);
}

/** A client's declared capabilities with the tasks extension added (the server may then answer with a task). */
export function withTasksExtension(capabilities: Record<string, unknown>): Record<string, unknown> {
  const extensions = isObject(capabilities.extensions) ? capabilities.extensions : {};
  return { ...capabilities, extensions: { ...extensions, [TASKS_EXTENSION]: {} } };
}

/**
 * A 2026-07-28 server's capabilities (2025 shape) with the tasks extension made 2025's tasks
 * capability (the client asks for a task, the server decides); true when it offered it.
 */
export function tasksAsLegacyCapability(capabilities: JsonObject): boolean {
  if (!offersTasksExtension(capabilities) || !isObject(capabilities.extensions)) return false;
  const { [TASKS_EXTENSION]: _tasks, ...others } = capabilities.extensions;
  if (Object.keys(others).length > 0) capabilities.extensions = others;
  else delete capabilities.extensions;
  capabilities.tasks = legacyTasksCapability();
  return true;
}

/** A tools/call's params without the 2025 task request (2026-07-28 has none: the server decides). */
export function withoutTask(params: JsonObject | undefined): JsonObject | undefined {
  if (!params || !('task' in params)) return params;
  const { task: _task, ...rest } = params;
  return rest;
}

/**
 * Tools of a server with the tasks extension, as 2025 clients read them: each may be run as a task
 * (2025 clients ask for one only for a tool whose `execution.taskSupport` allows it; in
 * 2026-07-28 the server decides for any call).
 */
export function offerTaskExecution(result: JsonObject): void {
  if (!Array.isArray(result.tools)) return;
  for (const tool of result.tools) if (isObject(tool) && tool.execution === undefined) tool.execution = { taskSupport: 'optional' };
}

/** A 2026-07-28 task (flat, `ttlMs`, `pollIntervalMs`) as a 2025 `Task`, under the id the client knows. */
export function legacyTask(task: JsonObject, taskId: string): JsonObject {
  const out: JsonObject = {
    taskId,
    status: task.status,
    ttl: typeof task.ttlMs === 'number' ? task.ttlMs : null,
    createdAt: task.createdAt,
    lastUpdatedAt: task.lastUpdatedAt ?? task.createdAt,
  };
  if (typeof task.statusMessage === 'string') out.statusMessage = task.statusMessage;
  if (typeof task.pollIntervalMs === 'number') out.pollInterval = task.pollIntervalMs;
  return out;
}

export class LegacyClientTasks {
  /** Sealed ids of the tasks each session started through this node, by session. */
  private readonly bySession = new Map<string, string[]>();
  /** Calls the server answered inline although the client asked for a task, by Gatehouse's id. */
  private readonly local = new Map<string, { readonly task: JsonObject; readonly result: JsonObject }>();

  constructor(
    private readonly sealer: TaskIdCodec,
    private readonly nodeId: string,
  ) {}

  /** The 2025 answer to a task-augmented call: the server's task, or a finished one holding its inline result. */
  created(ctx: TaskContext, result: JsonObject): JsonObject | undefined {
    if (result.resultType === 'task') {
      if (typeof result.taskId !== 'string' || result.taskId.length > MAX_UPSTREAM_ID) return undefined;
      const taskId = this.remember(ctx, '', result.taskId);
      return { task: legacyTask(result, taskId) };
    }
    const id = randomUUID();
    const at = new Date().toISOString();
    const task: JsonObject = { status: 'completed', createdAt: at, lastUpdatedAt: at, ttl: null };
    bounded(this.local, id, { task, result: legacyResult(result) });
    const taskId = this.remember(ctx, LOCAL, id);
    return { task: { taskId, ...task } };
  }

  /** `tasks/get`, `tasks/result`, `tasks/cancel` or `tasks/list`; undefined when the client cancelled it. */
  async serve(ctx: TaskContext, request: JsonRpcRequest): Promise<JsonRpcResponse | undefined> {
    const ok = (result: JsonObject): JsonRpcResponse => ({ jsonrpc: '2.0', id: request.id, result });
    if (request.method === 'tasks/list') return ok({ tasks: await this.list(ctx) });
    const taskId = request.params?.taskId;
    if (typeof taskId !== 'string') return errorResponse(request.id, -32602, 'Invalid params: taskId must be a string');
    const claims = this.sealer.unseal(ctx.api, ctx.sub, taskId);
    // Another agent's task, a forged id, or one Gatehouse held on another node: as for no task at all.
    if (!claims || (claims.s === LOCAL && (claims.node !== this.nodeId || !this.local.has(claims.t)))) return errorResponse(request.id, -32602, 'Failed to retrieve task: Task not found');
    if (claims.s === LOCAL) {
      const held = this.local.get(claims.t)!;
      if (request.method === 'tasks/result') return ok(related(held.result, taskId));
      if (request.method === 'tasks/cancel') return errorResponse(request.id, -32602, 'Cannot cancel task: it has already completed');
      return ok({ taskId, ...held.task });
    }
    switch (request.method) {
      case 'tasks/get': {
        const got = await ctx.send('tasks/get', { taskId: claims.t });
        if (!got) return undefined;
        return isObject(got.result) && !got.error ? ok(legacyTask(got.result, taskId)) : { jsonrpc: '2.0', id: request.id, error: got.error ?? { code: -32603, message: 'The server answered tasks/get without a task' } };
      }
      case 'tasks/cancel': {
        const cancelled = await ctx.send('tasks/cancel', { taskId: claims.t });
        if (!cancelled) return undefined;
        if (cancelled.error) return { jsonrpc: '2.0', id: request.id, error: cancelled.error };
        // 2025 answers a cancel with the task; cancellation in 2026-07-28 is eventually consistent.
        const got = await ctx.send('tasks/get', { taskId: claims.t });
        if (!got) return undefined;
        return isObject(got.result) ? ok(legacyTask(got.result, taskId)) : { jsonrpc: '2.0', id: request.id, error: got.error ?? { code: -32603, message: 'The server answered tasks/get without a task' } };
      }
      default:
        return this.result(ctx, request, taskId, claims.t);
    }
  }

  /**
   * `tasks/result`: blocks until the task ends, as 2025 says. Polls `tasks/get` at the server's
   * interval; each question the task asks is put to the client once, its answer sent with
   * `tasks/update`.
   */
  private async result(ctx: TaskContext, request: JsonRpcRequest, taskId: string, upstreamId: string): Promise<JsonRpcResponse | undefined> {
    const asked = new Set<string>();
    let deadline = Date.now() + MAX_RESULT_WAIT_MS;
    const fail = (code: number, message: string): JsonRpcResponse => errorResponse(request.id, code, message);
    for (;;) {
      const got = await ctx.send('tasks/get', { taskId: upstreamId });
      if (!got) return undefined;
      if (got.error || !isObject(got.result)) return { jsonrpc: '2.0', id: request.id, error: got.error ?? { code: -32603, message: 'The server answered tasks/get without a task' } };
      const task = got.result;
      if (typeof task.ttlMs === 'number' && typeof task.createdAt === 'string') deadline = Math.min(deadline, Date.parse(task.createdAt) + task.ttlMs);
      switch (task.status) {
        case 'completed':
          return { jsonrpc: '2.0', id: request.id, result: related(legacyResult(isObject(task.result) ? task.result : {}), taskId) };
        case 'failed':
          return { jsonrpc: '2.0', id: request.id, error: isObject(task.error) && typeof task.error.code === 'number' ? (task.error as unknown as JsonRpcResponse['error'])! : { code: -32603, message: typeof task.statusMessage === 'string' ? task.statusMessage : 'The task failed' } };
        case 'cancelled':
          return fail(-32603, 'The task was cancelled');
        case 'input_required': {
          const questions: InputQuestion[] = [];
          for (const [key, question] of Object.entries(isObject(task.inputRequests) ? task.inputRequests : {})) {
            if (asked.has(key) || !isObject(question) || typeof question.method !== 'string') continue;
            asked.add(key);
            const params = isObject(question.params) ? question.params : {};
            questions.push({ key, method: question.method, params: { ...params, _meta: { ...(isObject(params._meta) ? params._meta : {}), [RELATED_TASK]: { taskId } } } });
          }
          if (questions.length > 0) {
            const answers = await ctx.ask(questions);
            if (answers === undefined) return undefined;
            if ('error' in answers) return { jsonrpc: '2.0', id: request.id, error: answers.error };
            const updated = await ctx.send('tasks/update', { taskId: upstreamId, inputResponses: answers.responses });
            if (!updated) return undefined;
            if (updated.error) return { jsonrpc: '2.0', id: request.id, error: updated.error };
            continue;
          }
          break;
        }
      }
      if (Date.now() >= deadline) return fail(-32603, 'The task did not end within its time to live');
      const interval = typeof task.pollIntervalMs === 'number' ? Math.min(Math.max(task.pollIntervalMs, POLL_MIN_MS), POLL_MAX_MS) : 1000;
      if (!(await pause(interval, ctx.signal))) return undefined;
    }
  }

  /** The session's tasks (each asked of the server now; one it no longer knows is left out). */
  private async list(ctx: TaskContext): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    for (const taskId of this.bySession.get(ctx.token) ?? []) {
      const claims = this.sealer.unseal(ctx.api, ctx.sub, taskId);
      if (!claims) continue;
      if (claims.s === LOCAL) {
        const held = this.local.get(claims.t);
        if (held) out.push({ taskId, ...held.task });
        continue;
      }
      const got = await ctx.send('tasks/get', { taskId: claims.t });
      if (got && isObject(got.result) && !got.error) out.push(legacyTask(got.result, taskId));
    }
    return out;
  }

  private remember(ctx: TaskContext, s: string, upstreamId: string): string {
    const taskId = this.sealer.seal(ctx.api, ctx.sub, { node: this.nodeId, s, t: upstreamId });
    const ids = this.bySession.get(ctx.token) ?? [];
    ids.push(taskId);
    if (ids.length > LIST_LIMIT) ids.shift();
    bounded(this.bySession, ctx.token, ids);
    return taskId;
  }

  forget(token: string): void {
    this.bySession.delete(token);
  }
}

/** A task's result with the 2025 related-task `_meta` naming it. */
function related(result: JsonObject, taskId: string): JsonObject {
  return { ...result, _meta: { ...(isObject(result._meta) ? result._meta : {}), [RELATED_TASK]: { taskId } } };
}

/** Waits `ms`; false when the signal fired first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve(true);
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}

/** Map.set with a bound: the oldest entry goes first. */
function bounded<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MEMORY_LIMIT && !map.has(key)) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}
