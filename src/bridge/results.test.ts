// A 2025 server's result in 2026-07-28 shape (results.ts): what is added, what is removed, and
// what is left as the server wrote it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { META_SERVER_INFO } from './envelope.ts';
import { discoverResult, modernResult } from './results.ts';

const SERVER = { name: 'everything', version: '1' };

test('a call result gets resultType and the server identity in _meta, and no cache hints', () => {
  const out = modernResult('tools/call', { content: [{ type: 'text', text: 'hi' }] }, SERVER);
  assert.deepEqual(out, { content: [{ type: 'text', text: 'hi' }], resultType: 'complete', _meta: { [META_SERVER_INFO]: SERVER } });
});

test('a list result gets ttlMs 0 and cacheScope private, and its tools lose execution (other members kept in order)', () => {
  const result = { tools: [{ name: 'a', execution: { taskSupport: 'optional' }, inputSchema: { type: 'object' } }, { name: 'b' }, 'not a tool'], nextCursor: 'c' };
  const out = modernResult('tools/list', result, undefined);
  assert.equal(JSON.stringify(out), '{"tools":[{"name":"a","inputSchema":{"type":"object"}},{"name":"b"},"not a tool"],"nextCursor":"c","resultType":"complete","ttlMs":0,"cacheScope":"private"}');
});

test('cache hints the server gave are kept; invalid ones are replaced', () => {
  assert.deepEqual(modernResult('resources/read', { contents: [], ttlMs: 5000, cacheScope: 'public' }, undefined), { contents: [], ttlMs: 5000, cacheScope: 'public', resultType: 'complete' });
  assert.deepEqual(modernResult('prompts/list', { prompts: [], ttlMs: -1, cacheScope: 'everyone' }, undefined), { prompts: [], ttlMs: 0, cacheScope: 'private', resultType: 'complete' });
});

test("the server's own _meta is kept, and its own serverInfo entry wins", () => {
  assert.deepEqual(modernResult('tools/call', { content: [], _meta: { progress: 1 } }, SERVER), { content: [], _meta: { progress: 1, [META_SERVER_INFO]: SERVER }, resultType: 'complete' });
  const own = { name: 'other', version: '2' };
  assert.deepEqual(modernResult('tools/call', { content: [], _meta: { [META_SERVER_INFO]: own } }, SERVER)._meta, { [META_SERVER_INFO]: own });
  assert.deepEqual(modernResult('tools/call', { content: [], _meta: 'not an object' }, SERVER)._meta, { [META_SERVER_INFO]: SERVER });
});

test('a resultType the result carries (input_required) is kept, and such a result gets no cache hints', () => {
  const out = modernResult('tools/list', { resultType: 'input_required', inputRequests: {}, requestState: 's' }, undefined);
  assert.deepEqual(out, { resultType: 'input_required', inputRequests: {}, requestState: 's' });
});

test('a result that is not an object becomes an empty complete result', () => {
  assert.deepEqual(modernResult('tools/call', null, undefined), { resultType: 'complete' });
});

test('discover: the server capabilities without tasks, its instructions, cache hints, the server identity', () => {
  const capabilities = { tools: {}, tasks: { list: {} } };
  const out = discoverResult({ protocolVersion: '2025-11-25', capabilities, serverInfo: SERVER, instructions: 'be kind' });
  assert.deepEqual(out, { supportedVersions: ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'], capabilities: { tools: {} }, instructions: 'be kind', resultType: 'complete', ttlMs: 0, cacheScope: 'private', _meta: { [META_SERVER_INFO]: SERVER } });
  assert.deepEqual(capabilities, { tools: {}, tasks: { list: {} } }, 'what the server said at initialize is not changed');
});
