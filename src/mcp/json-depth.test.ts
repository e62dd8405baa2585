import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nestsDeeperThan } from './json-depth.ts';

const nest = (levels: number, inner = '1') => '['.repeat(levels) + inner + ']'.repeat(levels);

test('counts nesting of arrays and objects, mixed', () => {
  assert.equal(nestsDeeperThan(nest(40), 40), false);
  assert.equal(nestsDeeperThan(nest(41), 40), true);
  const mixed = '{"a":[{"b":[{"c":[1]}]}]}'; // 6 levels
  assert.equal(nestsDeeperThan(mixed.padEnd(40), 6), false);
  assert.equal(nestsDeeperThan(mixed.padEnd(40), 5), true);
  // Siblings do not add up: depth is the deepest path.
  assert.equal(nestsDeeperThan(`[${Array.from({ length: 50 }, () => nest(3)).join(',')}]`, 4), false);
});

test('brackets inside strings do not count, escaped quotes included', () => {
  assert.equal(nestsDeeperThan(`{"text":"${'[{'.repeat(500)}"}`, 2), false);
  assert.equal(nestsDeeperThan(`{"text":"a \\" ${'['.repeat(500)} \\\\"}`, 2), false);
  // An escaped backslash before a quote closes the string: the brackets after it count.
  assert.equal(nestsDeeperThan(`{"text":"\\\\",${'"x":'}${nest(10)}}`, 5), true);
});

test('short text cannot be too deep; unterminated strings stop the scan', () => {
  assert.equal(nestsDeeperThan('[[[[', 4), false);
  assert.equal(nestsDeeperThan(`"${'['.repeat(100)}`, 4), false);
  assert.equal(nestsDeeperThan(nest(100_000), 128), true);
});
