import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAnswer } from './exchange.ts';

const sse = (message: unknown) => `event: message\nid: 7\ndata: ${JSON.stringify(message)}\n\n`;

test('a JSON-RPC error is found in JSON and SSE bodies, compact or spaced, whatever its member order', () => {
  assert.deepEqual(parseAnswer(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad' } })), { error: { code: -32602 } });
  assert.deepEqual(parseAnswer(sse({ jsonrpc: '2.0', id: 1, error: { message: 'bad', code: -32000 } })), { error: { code: -32000 } });
  assert.deepEqual(parseAnswer('{"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "nope"}}'), { error: { code: -32601 } });
});

test('a tool result marked isError is found; a success that only mentions "error" is not parsed as one', () => {
  assert.deepEqual(parseAnswer(sse({ jsonrpc: '2.0', id: 2, result: { content: [], isError: true } })), { result: { content: [], isError: true } });
  const list = { jsonrpc: '2.0', id: 3, result: { tools: [{ name: 'fail', inputSchema: { type: 'object', properties: { error: { type: 'string' } } } }] } };
  assert.equal(parseAnswer(sse(list)), undefined);
  assert.equal(parseAnswer(sse({ jsonrpc: '2.0', id: 4, result: { content: [{ type: 'text', text: '"error":{"code":1}' }] } })), undefined);
});
