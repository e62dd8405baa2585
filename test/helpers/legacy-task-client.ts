// A 2025 SDK client's view of tasks (2025-11-25): create one with a tool call, poll it until a
// status, and read every page of tasks/list. Shared by the federated tasks tests.
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateTaskResultSchema, GetTaskResultSchema, ListTasksResultSchema } from '@modelcontextprotocol/sdk/types.js';

/** How long a test waits for a task to reach a status. */
export const POLL_LIMIT_MS = 20_000;

/** Calls `name` as a task (ttl 60 s) and gives back the task id the client got. */
export async function startTask(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const created = await client.request({ method: 'tools/call', params: { name, arguments: args, task: { ttl: 60_000 } } }, CreateTaskResultSchema);
  return created.task.taskId;
}

/** tasks/get every 50 ms until `done(status)`, failing after POLL_LIMIT_MS. */
export async function waitForStatus(client: Client, taskId: string, done: (status: string) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  for (;;) {
    const task = await client.request({ method: 'tasks/get', params: { taskId } }, GetTaskResultSchema);
    if (done(task.status)) return task;
    assert.ok(Date.now() < deadline, `task still ${task.status} after ${POLL_LIMIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every page of tasks/list, following the cursors (at most 20 pages). */
export async function allTasks(client: Client): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const listed = await client.request({ method: 'tasks/list', params: cursor === undefined ? {} : { cursor } }, ListTasksResultSchema);
    ids.push(...listed.tasks.map((t) => t.taskId));
    cursor = listed.nextCursor;
    if (cursor === undefined) return ids;
  }
  assert.fail('tasks/list did not end within 20 pages');
}
