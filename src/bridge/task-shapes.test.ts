// A task in each revision's shape (modern-tasks.ts, legacy-tasks.ts): 2025-11-25's `Task` (`ttl`,
// `pollInterval`) and the 2026-07-28 tasks extension's (`ttlMs`, `pollIntervalMs`), both ways.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { legacyTask, withTasksExtension, offersTasksExtension } from './legacy-tasks.ts';
import { declaresTasks, modernTask, offersToolTasks } from './modern-tasks.ts';
import { discoverResult } from './results.ts';

const LEGACY = { taskId: 'up-1', status: 'working', ttl: 60000, createdAt: '2026-12-03T10:00:00Z', lastUpdatedAt: '2026-12-03T10:00:01Z', pollInterval: 1000, statusMessage: 'Gathering' };
const MODERN = { taskId: 'ght1.x', status: 'working', createdAt: '2026-12-03T10:00:00Z', lastUpdatedAt: '2026-12-03T10:00:01Z', ttlMs: 60000, statusMessage: 'Gathering', pollIntervalMs: 1000 };

test('a 2025 task in 2026-07-28 shape and back, under the id each client knows', () => {
  assert.deepEqual(modernTask(LEGACY, 'ght1.x'), MODERN);
  assert.deepEqual(legacyTask(MODERN, 'up-1'), LEGACY);
});

test('an unlimited ttl is null both ways; a missing lastUpdatedAt is the creation time', () => {
  const out = modernTask({ taskId: 'a', status: 'completed', ttl: null, createdAt: 't0' }, 'b');
  assert.deepEqual(out, { taskId: 'b', status: 'completed', createdAt: 't0', lastUpdatedAt: 't0', ttlMs: null });
  assert.equal(legacyTask({ status: 'working', ttlMs: null, createdAt: 't0' }, 'c').ttl, null);
});

test('the extension is offered for a 2025 server whose tasks cover tools/call, and its 2025 capability is not shown', () => {
  const init = { protocolVersion: '2025-11-25', capabilities: { tools: {}, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } }, serverInfo: undefined, instructions: undefined };
  assert.ok(offersToolTasks(init.capabilities));
  const discovered = discoverResult(init);
  assert.deepEqual(discovered.capabilities, { tools: {}, extensions: { 'io.modelcontextprotocol/tasks': {} } });
  // Tasks of other requests only (a client's sampling, say): nothing a 2026-07-28 client could use.
  const other = discoverResult({ ...init, capabilities: { tasks: { requests: { sampling: { createMessage: {} } } } } });
  assert.deepEqual(other.capabilities, {});
});

test('whether a request declared the extension, and the declaration Gatehouse adds for a 2025 client\'s task request', () => {
  const envelope = (capabilities: Record<string, unknown>) => ({ protocolVersion: '2026-07-28', capabilities, clientInfo: {}, logLevel: undefined });
  assert.equal(declaresTasks(envelope({})), false);
  assert.equal(declaresTasks(envelope({ extensions: { 'io.modelcontextprotocol/tasks': {} } })), true);
  const declared = withTasksExtension({ elicitation: {}, extensions: { other: { a: 1 } } });
  assert.deepEqual(declared, { elicitation: {}, extensions: { other: { a: 1 }, 'io.modelcontextprotocol/tasks': {} } });
  assert.ok(offersTasksExtension(declared));
});
