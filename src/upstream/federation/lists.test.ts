import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor, selectItems } from './lists.ts';
import { compileFederationPlan } from './plan.ts';
import type { ApiData } from '../../config/schema.ts';

const api = {
  name: 'v',
  path: '/v',
  auth: { type: 'keyless' },
  policies: [],
  tools: [
    {
      server: 'a',
      name: 'search',
      as: 'find',
      annotations: { readOnlyHint: true },
      arguments: { fixed: { index: 'public' }, defaults: { limit: 5 } },
    },
  ],
  resources: [{ server: 'a', uri: 'file:///srv/public/**' }],
} as unknown as ApiData;

test('a virtual tool: renamed, annotations overridden one by one, fixed arguments out of the schema, defaults shown', () => {
  const selection = compileFederationPlan(api).virtual!;
  const item = {
    name: 'search',
    description: 'Search',
    annotations: { title: 'Search', readOnlyHint: false },
    inputSchema: { type: 'object', properties: { q: { type: 'string' }, index: { type: 'string' }, limit: { type: 'number' } }, required: ['q', 'index', 'limit'] },
  };
  const [shown] = selectItems('tools/list', 'a', item, selection);
  assert.deepEqual(shown, {
    name: 'find',
    description: 'Search',
    annotations: { title: 'Search', readOnlyHint: true },
    inputSchema: { type: 'object', properties: { q: { type: 'string' }, limit: { type: 'number', default: 5 } }, required: ['q'] },
  });
  assert.deepEqual(selectItems('tools/list', 'b', item, selection), [], 'the same name on another server is not selected');
  assert.deepEqual(selectItems('tools/list', 'a', { name: 'other' }, selection), []);
});

test('resources and templates are selected by the glob; ** crosses folders, nothing else matches', () => {
  const selection = compileFederationPlan(api).virtual!;
  assert.equal(selectItems('resources/list', 'a', { uri: 'file:///srv/public/a/b.md' }, selection).length, 1);
  assert.equal(selectItems('resources/list', 'a', { uri: 'file:///srv/private/b.md' }, selection).length, 0);
  assert.equal(selectItems('resources/list', 'a', { uri: 'file:///srv/publicity' }, selection).length, 0);
  assert.equal(selectItems('resources/templates/list', 'a', { uriTemplate: 'file:///srv/public/{path}' }, selection).length, 1);
});

test('the composite cursor round-trips and refuses what it did not make', () => {
  assert.deepEqual(decodeCursor(encodeCursor(2, 7), 3), [2, 7]);
  assert.equal(decodeCursor(encodeCursor(3, 0), 3), undefined, 'a member that does not exist');
  assert.equal(decodeCursor('bm9wZQ', 3), undefined);
});
