import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { JsonObject } from '../../mcp/jsonrpc.ts';
import { Member } from './member.ts';
import { mergedInitializeResult, sharedExtensions } from './initialize.ts';
import { compileFederationPlan } from './plan.ts';

const log = pino({ level: 'silent' });

function member(server: string, extensions: JsonObject | undefined, state: Member['state'] = 'up'): Member {
  const m = new Member(server, 0, log);
  m.state = state;
  m.init = { protocolVersion: '2025-11-25', capabilities: extensions ? { tools: {}, extensions } : { tools: {} }, serverInfo: undefined, instructions: undefined };
  return m;
}

test('an extension is offered when every server offers it with the same settings (key order aside)', () => {
  const ui = { mimeTypes: ['text/html'], version: 1 };
  const members = [
    member('a', { 'io.modelcontextprotocol/ui': ui, 'com.example/a-only': {} }),
    member('b', { 'io.modelcontextprotocol/ui': { version: 1, mimeTypes: ['text/html'] }, 'com.example/other': {} }),
  ];
  assert.deepEqual(sharedExtensions(members), { 'io.modelcontextprotocol/ui': ui });
  const plan = compileFederationPlan({ name: 'w', path: '/w', servers: ['a', 'b'] } as never);
  assert.deepEqual((mergedInitializeResult(plan, members, '2025-11-25').capabilities as JsonObject).extensions, { 'io.modelcontextprotocol/ui': ui });
});

test('an extension one server lacks, or offers with other settings, or while a server is down, is not offered', () => {
  assert.equal(sharedExtensions([member('a', { x: {} }), member('b', undefined)]), undefined);
  assert.equal(sharedExtensions([member('a', { x: { v: 1 } }), member('b', { x: { v: 2 } })]), undefined);
  assert.equal(sharedExtensions([member('a', { x: {} }), member('b', { x: {} }, 'down')]), undefined);
  const plan = compileFederationPlan({ name: 'w', path: '/w', servers: ['a', 'b'] } as never);
  assert.equal((mergedInitializeResult(plan, [member('a', { x: {} }), member('b', undefined)], '2025-11-25').capabilities as JsonObject).extensions, undefined);
});

test('tasks are offered as far as any server offers them (listing, cancelling, task-augmented tools/call), and not when none does', () => {
  const withTasks = (server: string, tasks: JsonObject): Member => {
    const m = member(server, undefined);
    m.init = { ...m.init!, capabilities: { tools: {}, tasks } };
    return m;
  };
  const plan = compileFederationPlan({ name: 'w', path: '/w', servers: ['a', 'b', 'c'] } as never);
  const merged = (members: Member[]) => (mergedInitializeResult(plan, members, '2025-11-25').capabilities as JsonObject).tasks;
  assert.deepEqual(merged([withTasks('a', { list: {}, requests: { tools: { call: {} } } }), withTasks('b', { cancel: {}, requests: { sampling: { createMessage: {} } } }), member('c', undefined)]), {
    list: {},
    cancel: {},
    requests: { tools: { call: {} } },
  });
  assert.equal(merged([member('a', undefined), member('b', undefined)]), undefined);
});

test('a virtual server offers tasks of the servers whose tools it selects only', () => {
  const withTasks = (server: string): Member => {
    const m = member(server, undefined);
    m.init = { ...m.init!, capabilities: { tools: {}, tasks: { requests: { tools: { call: {} } } } } };
    return m;
  };
  const tasksOf = (selected: string) => {
    const plan = compileFederationPlan({ name: 'v', path: '/v', tools: [{ server: selected, name: 'x' }] } as never);
    return (mergedInitializeResult(plan, [member('a', undefined), withTasks('b')], '2025-11-25').capabilities as JsonObject).tasks;
  };
  assert.equal(tasksOf('a'), undefined);
  assert.deepEqual(tasksOf('b'), { requests: { tools: { call: {} } } });
});
