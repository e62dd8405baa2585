// The ids a 2026-07-28 member's channel gives its tasks (modern-member-tasks.ts): written plainly (the
// federated session seals them), read back only when the channel wrote them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_TASK } from '../../bridge/legacy-tasks.ts';
import { MEMBER_TASK_NODE, memberTaskIds } from './modern-member-tasks.ts';

test('a member channel\'s task ids name the server\'s id or a task the channel holds, and nothing else', () => {
  for (const [s, t] of [['', 'task-1'], ['', 'a:b:c'], [LOCAL_TASK, '5f0c']] as const) {
    const id = memberTaskIds.seal('', '', { node: MEMBER_TASK_NODE, s, t });
    assert.deepEqual(memberTaskIds.unseal('', '', id), { node: MEMBER_TASK_NODE, s, t });
  }
  assert.equal(memberTaskIds.seal('', '', { node: MEMBER_TASK_NODE, s: '', t: 'task-1' }), ':task-1');
  // A bare server id, or a kind this channel never writes: no task.
  for (const id of ['task-1', 'other:task-1', '']) assert.equal(memberTaskIds.unseal('', '', id), undefined);
});
