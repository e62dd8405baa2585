// Task ids handed to clients of the bridges (task-ids.ts): they open only for the API and principal
// they were sealed for, and an altered or foreign id opens for no one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { RequestStateSealer } from './request-state.ts';
import { MEMBER_TASK_SESSION, TaskIdSealer } from './task-ids.ts';
import { BridgedTasks } from './modern-tasks.ts';
import { createLogger } from '../log.ts';

const key = randomBytes(32);
const sealer = new TaskIdSealer(key);
const CLAIMS = { node: 'n1', s: 'session-1', t: 'server-task-1' };

test('a task id opens for the API and principal it was sealed for, and hides the server\'s id', () => {
  const id = sealer.seal('api', 'alice', CLAIMS);
  assert.match(id, /^ght1\./);
  assert.ok(!id.includes('server-task-1'));
  assert.deepEqual(sealer.unseal('api', 'alice', id), CLAIMS);
  assert.notEqual(sealer.seal('api', 'alice', CLAIMS), id, 'each seal is fresh (random IV)');
});

test('another principal, another API, an altered id, another key or another sealer\'s value opens nothing', () => {
  const id = sealer.seal('api', 'alice', CLAIMS);
  assert.equal(sealer.unseal('api', 'bob', id), undefined);
  assert.equal(sealer.unseal('other-api', 'alice', id), undefined);
  const flipped = id.slice(0, -2) + (id.at(-2) === 'A' ? 'B' : 'A') + id.at(-1);
  assert.equal(sealer.unseal('api', 'alice', flipped), undefined);
  assert.equal(new TaskIdSealer(randomBytes(32)).unseal('api', 'alice', id), undefined);
  // A request state sealed with the same session key is not a task id.
  const state = new RequestStateSealer(key).seal({ api: 'api', sub: 'alice', node: 'n1', s: 's', c: 1, exp: Date.now() + 1000 });
  assert.equal(sealer.unseal('api', 'alice', `ght1.${state.slice('ghs1.'.length)}`), undefined);
  assert.equal(sealer.unseal('api', 'alice', 'ght1.' + 'A'.repeat(5000)), undefined, 'oversized ids are refused before decrypting');
  assert.equal(sealer.unseal('api', 'alice', 'server-task-1'), undefined, 'a bare server id is not an id of Gatehouse');
});

test('in a cluster a task request goes to the node whose bridged session holds the task; a 2026-07-28 member\'s own task is served where it lands', () => {
  const tasks = new BridgedTasks(sealer, 'here', createLogger('silent'));
  const get = (taskId: string) => ({ jsonrpc: '2.0' as const, id: 1, method: 'tasks/get', params: { taskId } });
  assert.equal(tasks.owner('api', 'alice', get(sealer.seal('api', 'alice', { node: 'there', s: 'session-1', t: 'task-1' }))), 'there');
  assert.equal(tasks.owner('api', 'alice', get(sealer.seal('api', 'alice', { node: 'here', s: 'session-1', t: 'task-1' }))), undefined);
  assert.equal(tasks.owner('api', 'alice', get(sealer.seal('api', 'alice', { node: 'there', s: `${MEMBER_TASK_SESSION}modern`, t: 'task-1' }))), undefined);
});
