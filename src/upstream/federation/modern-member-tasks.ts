// Tasks of a 2026-07-28 member (the tasks extension), served to the federated session as a 2025
// server's tasks (`capabilities.tasks`, `params.task`, tasks/get, tasks/result, tasks/cancel,
// tasks/list) by the single-server bridge's conversion (bridge/legacy-tasks.ts), on the member's
// channel (modern-member.ts). The ids that conversion hands out are written plainly here, not
// sealed: the federated session seals every member's task id with the member's name, bound to the
// API and the client session (task-ids.ts), and opens only ids it sealed, so no other agent's id
// (nor a forged one) ever reaches a member channel.
import { LOCAL_TASK, type TaskIdCodec } from '../../bridge/legacy-tasks.ts';
import type { TaskIdClaims } from '../../bridge/task-ids.ts';

/** The node of every id here: a member channel's tasks are its own (a federated session lives on one node). */
export const MEMBER_TASK_NODE = 'member';

/** `<kind>:<id>`: the server's task id (kind empty), or a finished task the channel holds (`local`). */
export const memberTaskIds: TaskIdCodec = {
  seal: (_api: string, _sub: string, claims: TaskIdClaims) => `${claims.s}:${claims.t}`,
  unseal: (_api: string, _sub: string, taskId: string) => {
    const colon = taskId.indexOf(':');
    if (colon < 0) return undefined;
    const s = taskId.slice(0, colon);
    return s === '' || s === LOCAL_TASK ? { node: MEMBER_TASK_NODE, s, t: taskId.slice(colon + 1) } : undefined;
  },
};
