import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerIn, toolErrorIds } from './answer.ts';

const parseAnswer = (text: string) => answerIn(Buffer.from(text, 'utf8'));

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

test('the failure markers are matched right after the member, whatever the text around them', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');
  assert.equal(parseAnswer(sse({ jsonrpc: '2.0', id: 5, result: { content: [{ type: 'text', text: 'no errors here' }] } })), undefined);
  const schema = { jsonrpc: '2.0', id: 6, result: { tools: [{ inputSchema: { properties: { error: { type: 'string' } } } }] } };
  assert.equal(answerIn(bytes(sse(schema))), undefined);
  // A member named "error" that is not an error object first, the failed answer after it.
  const notice = { jsonrpc: '2.0', method: 'notifications/message', params: { data: { error: { type: 'disk' } } } };
  const failed = { jsonrpc: '2.0', id: 6, error: { code: -32603, message: 'boom' } };
  assert.deepEqual(answerIn(bytes(sse(notice) + sse(failed))), { error: { code: -32603 } });
  // Long bodies skip the byte loop and go straight to the regexes.
  const progress = sse({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1, message: 'x'.repeat(3000) } });
  assert.deepEqual(answerIn(bytes(progress + sse(failed))), { error: { code: -32603 } });
  assert.equal(answerIn(bytes(progress + sse({ jsonrpc: '2.0', id: 6, result: {} }))), undefined);
  assert.deepEqual(answerIn(bytes('{"jsonrpc":"2.0","id":8,"error":\n  {\n    "message":"é","code":-32001}}')), { error: { code: -32001 } });
  assert.deepEqual(answerIn(bytes(sse({ jsonrpc: '2.0', id: 7, result: { content: [], isError: false, note: { isError: true } } }))), { result: { content: [], isError: false, note: { isError: true } } });
});

test('isError counts only where the answer may be a tool result', () => {
  const marked = Buffer.from(sse({ jsonrpc: '2.0', id: 9, result: { content: [], isError: true } }));
  assert.deepEqual(answerIn(marked, true), { result: { content: [], isError: true } });
  assert.equal(answerIn(marked, false), undefined);
  const failed = Buffer.from(sse({ jsonrpc: '2.0', id: 9, error: { code: -32602, message: 'bad' } }));
  assert.deepEqual(answerIn(failed, false), { error: { code: -32602 } });
});

test('a long answer that is one message is searched for an error object at its start only; batches and streams whole', () => {
  const long = 'x'.repeat(4000);
  const failed = { jsonrpc: '2.0', id: 10, error: { code: -32000, message: 'bad', data: long } };
  assert.deepEqual(answerIn(Buffer.from(JSON.stringify(failed)), false), { error: { code: -32000 } });
  assert.deepEqual(answerIn(Buffer.from(sse(failed)), false), { error: { code: -32000 } });
  assert.deepEqual(answerIn(Buffer.from(sse(failed).replace(/\n/g, '\r\n')), false), { error: { code: -32000 } });
  const list = { jsonrpc: '2.0', id: 11, result: { tools: [{ name: 'a', description: long, inputSchema: { properties: { error: { type: 'object' } } } }] } };
  assert.equal(answerIn(Buffer.from(sse(list)), false), undefined);
  // A batch answer: the failed element comes after a long one.
  const batch = [{ jsonrpc: '2.0', id: 12, result: { text: long } }, { jsonrpc: '2.0', id: 13, error: { code: -32601, message: 'nope' } }];
  assert.deepEqual(answerIn(Buffer.from(JSON.stringify(batch))), { error: { code: -32601 } });
  assert.deepEqual(answerIn(Buffer.from(sse(batch))), { error: { code: -32601 } });
  // A long tool result marked isError at its end.
  const tool = { jsonrpc: '2.0', id: 14, result: { content: [{ type: 'text', text: long }], isError: true } };
  assert.equal(answerIn(Buffer.from(sse(tool)), true)?.result?.isError, true);
});

test('a batch answer names which tool results were marked isError (the audit records each call of a batch)', () => {
  const batch = [
    { jsonrpc: '2.0', id: 1, result: { content: [], isError: true } },
    { jsonrpc: '2.0', id: 'two', result: { content: [{ type: 'text', text: '"isError": true' }] } },
    { jsonrpc: '2.0', id: 3, result: { content: [], isError: false } },
    { jsonrpc: '2.0', id: 4, error: { code: -32602, message: 'bad' } },
  ];
  assert.deepEqual([...toolErrorIds(Buffer.from(JSON.stringify(batch)))], ['1']);
  assert.deepEqual([...toolErrorIds(Buffer.from(batch.map(sse).join('')))], ['1']);
  assert.deepEqual([...toolErrorIds(Buffer.from(JSON.stringify(batch.slice(1))))], [], 'no marker outside a string: nothing parsed');
});
