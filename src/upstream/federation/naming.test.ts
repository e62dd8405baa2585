import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNameTable, splitPrefixed } from './naming.ts';
import type { FederationPlan } from './plan.ts';

function plan(prefix: 'always' | 'conflicts' | 'never', members = ['a', 'b', 'c']): FederationPlan {
  return { api: 'w', members, namespace: { prefix, separator: '__' }, onUpstreamFailure: 'omit', virtual: undefined };
}

test('always: every name is prefixed, and only the exact prefixed spelling resolves', () => {
  const p = plan('always');
  const table = buildNameTable(p, [['a', ['echo']], ['b', ['echo', 'add']]]);
  assert.deepEqual([...table.byName.keys()], ['a__echo', 'b__echo', 'b__add']);
  assert.deepEqual(splitPrefixed(p, 'b__echo'), { server: 'b', original: 'echo' });
  for (const other of ['echo', 'B__echo', 'b_echo', 'b.echo', 'b__', '__echo', 'z__echo', 'b-_echo']) assert.equal(splitPrefixed(p, other), undefined, other);
  // A server's own name holding the separator stays whole after the prefix.
  assert.deepEqual(splitPrefixed(p, 'a__x__y'), { server: 'a', original: 'x__y' });
});

test('conflicts: only names two servers offer are prefixed; a prefixed name meeting another server\'s own name is a collision', () => {
  const table = buildNameTable(plan('conflicts'), [['a', ['echo', 'one']], ['b', ['echo', 'two']]]);
  assert.deepEqual([...table.byName.keys()].sort(), ['a__echo', 'b__echo', 'one', 'two']);
  assert.deepEqual(table.collisions, []);
  const clash = buildNameTable(plan('conflicts'), [['a', ['echo']], ['b', ['echo']], ['c', ['a__echo']]]);
  assert.deepEqual(clash.collisions, [{ name: 'a__echo', servers: ['a', 'c'] }]);
  assert.equal(clash.byName.has('a__echo'), false, 'neither item answers to a colliding name');
});

test('never: a name two servers offer is a collision that resolves to no server', () => {
  const table = buildNameTable(plan('never'), [['a', ['echo', 'x']], ['b', ['echo']]]);
  assert.deepEqual(table.collisions, [{ name: 'echo', servers: ['a', 'b'] }]);
  assert.equal(table.byName.get('echo'), undefined);
  assert.deepEqual(table.byName.get('x'), { server: 'a', original: 'x' });
});

test('a prefixed name longer than 128 characters is left out, not cut', () => {
  const long = 'n'.repeat(127);
  const table = buildNameTable(plan('always'), [['a', [long, 'ok']]]);
  assert.deepEqual([...table.byName.keys()], ['a__ok']);
  assert.deepEqual(table.tooLong, [`a__${long}`]);
});
