import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerIn, parseAnswer } from './exchange.ts';

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

test('answerIn dismisses bodies that name neither "error" nor "isError", and reads the others as parseAnswer does', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');
  assert.equal(answerIn(bytes(sse({ jsonrpc: '2.0', id: 5, result: { content: [{ type: 'text', text: 'no errors here' }] } }))), undefined);
  assert.deepEqual(answerIn(bytes(sse({ jsonrpc: '2.0', id: 6, error: { code: -32603, message: 'boom' } }))), { error: { code: -32603 } });
  assert.deepEqual(answerIn(bytes(sse({ jsonrpc: '2.0', id: 7, result: { content: [], isError: true } }))), { result: { content: [], isError: true } });
  assert.deepEqual(answerIn(bytes('{"jsonrpc":"2.0","id":8,"error":{"code":-32001,"message":"é"}}')), { error: { code: -32001 } });
});
