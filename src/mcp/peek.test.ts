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

test('text that is not one JSON object answers nothing', () => {
  for (const text of ['', '[]', '"x"', '{', '{"id":1', '{"id":1,"result":', '{"result":{"a":"unterminated}', '{id:1}', 'data']) {
    assert.equal(peek(text), undefined, text);
  }
  // Within a region of a larger buffer.
  const buffer = Buffer.from('data: {"id":12,"result":{}}\n\n');
  assert.equal(responseIdOf(buffer, 6, buffer.length - 2), 12);
});
