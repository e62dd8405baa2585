// Tasks (2025-11-25) through a federated API: the client sees each member's task ids sealed with
// the member's name (task-ids.ts), so `tasks/get`, `tasks/result` and `tasks/cancel` go to the
// member that holds the task, ids two members share stay apart, and what a member says of a task
// (a created task, a task's state, a status notification, the related-task tag on results and on
// its questions) names it by the client's id. `tasks/list` is each member's list in turn, under a
// cursor that names the member and its own cursor.
import { errorResponse, isObject, isRequest, isResponse, type JsonObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../mcp/jsonrpc.ts';
import type { Logger } from '../../log.ts';
import type { Member } from './member.ts';
import { MAX_SERVER_TASK_ID, type FederatedTaskIds } from './task-ids.ts';

export const RELATED_TASK = 'io.modelcontextprotocol/related-task';
/** The answer for an id that names no task of this session (as the SDK answers an unknown task). */
export const TASK_NOT_FOUND = 'Failed to retrieve task: Task not found';
/** The requests that name one task by `params.taskId`. */
export const TASK_REQUESTS: ReadonlySet<string> = new Set(['tasks/get', 'tasks/result', 'tasks/cancel']);

export class FederatedTasks {
  constructor(
    private readonly ids: FederatedTaskIds,
    /** The API and client session the ids are bound to. */
    private readonly binding: string,
    private readonly members: readonly Member[],
    private readonly log: Logger,
  ) {}

  /** The member and its own id behind a client's task id; undefined for no task of this session. */
  route(clientId: unknown): { member: Member; taskId: string } | undefined {
    const task = this.ids.open(this.binding, clientId);
    const member = task && this.members.find((m) => m.server === task.server);
    return member && { member, taskId: task.taskId };
  }

  clientId(member: Member, taskId: string): string {
    return this.ids.seal(this.binding, { server: member.server, taskId });
  }

  /**
   * A member's message with its task ids as the client knows them; the same object when it names
   * no task. `method` is what a response answers.
   */
  toClient(member: Member, message: JsonRpcMessage, method?: string): JsonRpcMessage {
    if (isResponse(message)) {
      if (!isObject(message.result)) return message;
      let result = this.relatedTag(member, message.result);
      if (method === 'tools/call' && isObject(result.task)) result = { ...result, task: this.taskShape(member, result.task) };
      else if ((method === 'tasks/get' || method === 'tasks/cancel') && typeof result.taskId === 'string') result = this.taskShape(member, result);
      return result === message.result ? message : { ...message, result };
    }
    if (!isObject(message.params)) return message;
    let params = this.relatedTag(member, message.params);
    if (!isRequest(message) && message.method === 'notifications/tasks/status') params = this.taskShape(member, params);
    return params === message.params ? message : { ...message, params };
  }

  /** A task (or status notification) with the client's id. */
  private taskShape(member: Member, task: JsonObject): JsonObject {
    return typeof task.taskId === 'string' && task.taskId.length <= MAX_SERVER_TASK_ID ? { ...task, taskId: this.clientId(member, task.taskId) } : task;
  }

  /** `_meta["io.modelcontextprotocol/related-task"]` naming the client's id. */
  private relatedTag(member: Member, object: JsonObject): JsonObject {
    const meta = object._meta;
    if (!isObject(meta) || !isObject(meta[RELATED_TASK])) return object;
    const related = meta[RELATED_TASK] as JsonObject;
    if (typeof related.taskId !== 'string') return object;
    return { ...object, _meta: { ...meta, [RELATED_TASK]: this.taskShape(member, related) } };
  }

  /**
   * `tasks/list`: one member's page at a time (members that list tasks and whose session is open:
   * one not opened yet holds no task of this session). The cursor names the member and its own
   * cursor; a member that fails to list is left out, as in the other lists.
   */
  async list(message: JsonRpcRequest, params: JsonObject, timeoutMs: number): Promise<JsonRpcResponse> {
    let position: { index: number; cursor: string | undefined } = { index: 0, cursor: undefined };
    if (params.cursor !== undefined) {
      const decoded = decodeTaskCursor(params.cursor, this.members.length);
      if (!decoded) return errorResponse(message.id, -32602, 'Invalid params: unknown cursor');
      position = decoded;
    }
    for (let index = position.index; index < this.members.length; index++) {
      const member = this.members[index]!;
      const cursor = index === position.index ? position.cursor : undefined;
      if (!listsTasks(member)) continue;
      let answer: JsonRpcResponse;
      try {
        answer = await member.request('tasks/list', cursor === undefined ? {} : { cursor }, timeoutMs);
      } catch (error) {
        member.log.warn({ err: (error as Error).message }, 'tasks/list failed: this server\'s tasks are left out');
        continue;
      }
      if (answer.error || !isObject(answer.result)) {
        if (cursor !== undefined) return errorResponse(message.id, answer.error?.code ?? -32603, answer.error?.message ?? 'tasks/list failed');
        this.log.warn({ server: member.server, err: answer.error?.message }, 'tasks/list failed: this server\'s tasks are left out');
        continue;
      }
      const result = answer.result;
      const tasks = Array.isArray(result.tasks) ? result.tasks.filter(isObject).map((task) => this.taskShape(member, task)) : [];
      const next = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? encodeTaskCursor(index, result.nextCursor) : this.after(index);
      if (tasks.length === 0 && next !== undefined && typeof result.nextCursor !== 'string') continue;
      const out: JsonObject = { tasks };
      if (next !== undefined) out.nextCursor = next;
      return { jsonrpc: '2.0', id: message.id, result: out };
    }
    return { jsonrpc: '2.0', id: message.id, result: { tasks: [] } };
  }

  /** The cursor of the next member that lists tasks, or undefined after the last. */
  private after(index: number): string | undefined {
    for (let i = index + 1; i < this.members.length; i++) if (listsTasks(this.members[i]!)) return encodeTaskCursor(i, undefined);
    return undefined;
  }
}

/** The `capabilities.tasks` of a member, when it offers tasks. */
export function tasksCapability(capabilities: JsonObject): JsonObject | undefined {
  return isObject(capabilities.tasks) ? capabilities.tasks : undefined;
}

function listsTasks(member: Member): boolean {
  return member.state === 'up' && member.init !== undefined && isObject(tasksCapability(member.init.capabilities)?.list);
}

function encodeTaskCursor(index: number, cursor: string | undefined): string {
  return Buffer.from(JSON.stringify(cursor === undefined ? [index] : [index, cursor])).toString('base64url');
}

function decodeTaskCursor(cursor: unknown, members: number): { index: number; cursor: string | undefined } | undefined {
  if (typeof cursor !== 'string' || cursor.length > 4096) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || !Number.isInteger(parsed[0]) || (parsed[0] as number) < 0 || (parsed[0] as number) >= members) return undefined;
    if (parsed.length > 2 || (parsed.length === 2 && typeof parsed[1] !== 'string')) return undefined;
    return { index: parsed[0] as number, cursor: parsed[1] as string | undefined };
  } catch {
    return undefined;
  }
}
