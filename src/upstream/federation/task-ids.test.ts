// Task ids of a federated API (task-ids.ts): the same task has the same id every time it is named,
// tasks of two servers with the same id get different ids, and an id opens only for the session
// it was sealed for, unaltered, under the key that sealed it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { FederatedTaskIds } from './task-ids.ts';

const key = randomBytes(32);
const ids = new FederatedTaskIds(key);

test('a task\'s id is the same each time it is sealed, opens for its session, and hides the server\'s id', () => {
  const id = ids.seal('api\ns1', { server: 'alpha', taskId: 'task-1' });
  assert.match(id, /^ghf1\./);
  assert.ok(!id.includes('task-1') && !id.includes('alpha'));
  assert.equal(ids.seal('api\ns1', { server: 'alpha', taskId: 'task-1' }), id);
  assert.deepEqual(ids.open('api\ns1', id), { server: 'alpha', taskId: 'task-1' });
});

test('the same server id of two servers, or of two sessions, gives different ids', () => {
  const a = ids.seal('api\ns1', { server: 'alpha', taskId: 'task-1' });
  assert.notEqual(ids.seal('api\ns1', { server: 'beta', taskId: 'task-1' }), a);
  assert.notEqual(ids.seal('api\ns2', { server: 'alpha', taskId: 'task-1' }), a);
});

test('an id of another session, API or key, an altered one and non-ids open to nothing', () => {
  const id = ids.seal('api\ns1', { server: 'alpha', taskId: 'task-1' });
  assert.equal(ids.open('api\ns2', id), undefined);
  assert.equal(ids.open('other\ns1', id), undefined);
  assert.equal(new FederatedTaskIds(randomBytes(32)).open('api\ns1', id), undefined);
  const body = Buffer.from(id.slice(5), 'base64url');
  body[body.length - 20]! ^= 1;
  assert.equal(ids.open('api\ns1', `ghf1.${body.toString('base64url')}`), undefined);
  for (const bad of ['task-1', 'ghf1.', 'ghf1.@@@', 42, null, undefined, `ghf1.${'A'.repeat(5000)}`]) assert.equal(ids.open('api\ns1', bad), undefined);
});
