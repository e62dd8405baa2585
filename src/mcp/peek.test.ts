import { test } from 'node:test';
import assert from 'node:assert/strict';
import { responseIdOf } from './peek.ts';

const peek = (text: string) => responseIdOf(Buffer.from(text));

test('finds the id of a response whatever the key order', () => {
  assert.equal(peek('{"result":{"content":[{"type":"text","text":"}{\\"id\\":9"}]},"jsonrpc":"2.0","id":1}'), 1);
  assert.equal(peek('{"jsonrpc":"2.0","id":"a-1","result":{}}'), 'a-1');
  assert.equal(peek(' { "jsonrpc" : "2.0" , "id" : 7 , "error" : { "code" : -1 , "message" : "x" } } '), 7);
  assert.equal(peek('{"id":"\\u0031","result":null}'), '1');
});

test('requests, notifications and responses with id null are no answers', () => {
  assert.equal(peek('{"jsonrpc":"2.0","id":3,"method":"sampling/createMessage","params":{}}'), undefined);
  assert.equal(peek('{"method":"notifications/progress","params":{"progressToken":1,"progress":1},"jsonrpc":"2.0"}'), undefined);
  assert.equal(peek('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}'), undefined);
  // An escaped "method" key is still the method.
  assert.equal(peek('{"jsonrpc":"2.0","id":3,"\\u006dethod":"roots/list"}'), undefined);
});

test('keys nested in the result are not the message\'s own', () => {
  assert.equal(peek('{"result":{"method":"x","id":99,"list":[{"id":5},"]",{"a":"{"}]},"id":4,"jsonrpc":"2.0"}'), 4);
  assert.equal(peek('{"jsonrpc":"2.0","result":{"id":99}}'), undefined);
});

test('the short members at the end are read backwards rather than skip a long answer', () => {
  const long = JSON.stringify({ tools: Array.from({ length: 50 }, (_, i) => ({ name: `t${i}`, inputSchema: { type: 'object', properties: { a: { type: 'string', description: '"}]' } } } })) });
  assert.equal(peek(`{"result":${long},"jsonrpc":"2.0","id":12}`), 12);
  // Escapes in a string value read backwards: the id is x, a backslash, a quote, y.
  assert.equal(peek(`{"result":${long},"id":${JSON.stringify('x\\"y')},"jsonrpc":"2.0"}`), 'x\\"y');
  assert.equal(peek(`{"error":{"code":1,"message":"m"},"id":3,"jsonrpc":"2.0"}`), 3);
  // A server request whose params come first is still a request.
  assert.equal(peek('{"params":{"result":1},"jsonrpc":"2.0","id":5,"method":"roots/list"}'), undefined);
  // No id at the end: read forward.
  assert.equal(peek(`{"result":${long},"jsonrpc":"2.0"}`), undefined);
  assert.equal(peek(`{"result":${long},"x":{"id":1}}`), undefined);
});

test('text that is not one JSON object answers nothing', () => {
  for (const text of ['', '[]', '"x"', '{', '{"id":1', '{"result":{"a":"unterminated}', '{id:1}', 'data']) {
    assert.equal(peek(text), undefined, text);
  }
  // Within a region of a larger buffer.
  const buffer = Buffer.from('data: {"id":12,"result":{}}\n\n');
  assert.equal(responseIdOf(buffer, 6, buffer.length - 2), 12);
});
