import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodes, responses } from './answers.ts';

test('error codes by request id, from JSON bodies, batches and SSE streams', () => {
  assert.deepEqual(errorCodes('{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"the word \\"error\\": fine"}]}}'), new Map());
  assert.deepEqual(errorCodes('{"jsonrpc":"2.0","id":"a","error":{"code":-32602,"message":"x"}}'), new Map([['a', -32602]]));
  assert.deepEqual(errorCodes('[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"m"}}]'), new Map([['2', -32601]]));
  const sse = 'event: message\nid: 1\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\nevent: message\ndata: {"jsonrpc":"2.0","id":7,"error":{"code":-32603,"message":"boom"}}\n\n';
  assert.deepEqual(errorCodes(sse), new Map([['7', -32603]]));
});

test('the tail of a long stream, cut inside a document, still gives the code', () => {
  const tail = 'aaaa"}]}}\n\ndata: {"jsonrpc":"2.0","id":12,"error":{"code":-32001,"message":"Request timed out"}}\n\n';
  assert.deepEqual(errorCodes(tail), new Map([['12', -32001]]));
  assert.deepEqual(errorCodes('xx","id":5,"error":{"code":-32000,"message":"cut'), new Map([['5', -32000]]));
});

test('responses by id, for payload recording', () => {
  const found = responses('data: {"jsonrpc":"2.0","id":3,"result":{"ok":true}}\n\n');
  assert.deepEqual(found.get('3'), { jsonrpc: '2.0', id: 3, result: { ok: true } });
});
