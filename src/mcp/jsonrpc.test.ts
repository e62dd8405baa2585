import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorResponse, idKey, isNotification, isRequest, isResponse, kindOf, repeatedRequestId, requestIdOf, validateMessage, type JsonRpcMessage } from './jsonrpc.ts';

function accepts(value: unknown): JsonRpcMessage {
  const result = validateMessage(value);
  assert.ok(result.ok, `expected ${JSON.stringify(value)} to be accepted, got: ${result.ok ? '' : result.reason}`);
  return result.message;
}

function rejects(value: unknown, reason: RegExp): void {
  const result = validateMessage(value);
  assert.ok(!result.ok, `expected ${JSON.stringify(value)} to be rejected`);
  assert.match(result.reason, reason);
}

test('accepts requests with string and integer ids, with or without params', () => {
  for (const message of [
    { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    { jsonrpc: '2.0', id: 0, method: 'ping' },
    { jsonrpc: '2.0', id: -7, method: 'ping' },
    { jsonrpc: '2.0', id: 'abc', method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } },
    { jsonrpc: '2.0', id: '', method: 'ping', params: {} },
    { jsonrpc: '2.0', id: 2, method: 'ping', params: undefined },
  ]) {
    const parsed = accepts(message);
    assert.equal(kindOf(parsed), 'request');
    assert.ok(isRequest(parsed) && !isNotification(parsed) && !isResponse(parsed));
  }
});

test('accepts notifications', () => {
  const parsed = accepts({ jsonrpc: '2.0', method: 'notifications/initialized' });
  assert.equal(kindOf(parsed), 'notification');
  assert.ok(isNotification(parsed) && !isRequest(parsed));
  accepts({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 0.5 } });
});

test('accepts responses with exactly one of result and error, including id null for errors', () => {
  for (const message of [
    { jsonrpc: '2.0', id: 1, result: {} },
    { jsonrpc: '2.0', id: 'x', result: null },
    { jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'Method not found' } },
    { jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'Invalid params', data: { why: 'x' } } },
    { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } },
  ]) {
    const parsed = accepts(message);
    assert.equal(kindOf(parsed), 'response');
    assert.ok(isResponse(parsed) && !isRequest(parsed) && !isNotification(parsed));
  }
});

test('rejects what is not one JSON-RPC 2.0 object', () => {
  for (const value of [null, 1, 'x', true, [], [{ jsonrpc: '2.0', id: 1, method: 'ping' }]]) {
    rejects(value, /must be a JSON object/);
  }
  rejects({ id: 1, method: 'ping' }, /"jsonrpc" must be "2.0"/);
  rejects({ jsonrpc: '1.0', id: 1, method: 'ping' }, /"jsonrpc" must be "2.0"/);
  rejects({ jsonrpc: 2, id: 1, method: 'ping' }, /"jsonrpc" must be "2.0"/);
});

test('rejects ids that are not strings or integers, and null ids on requests', () => {
  for (const id of [1.5, Number.NaN, true, {}, [], null]) {
    rejects({ jsonrpc: '2.0', id, method: 'ping' }, /"id" must be a string or an integer/);
  }
  for (const id of [1.5, true, {}]) {
    rejects({ jsonrpc: '2.0', id, result: {} }, /"id" must be a string or an integer/);
  }
});

test('rejects bad methods and params', () => {
  rejects({ jsonrpc: '2.0', id: 1, method: '' }, /"method" must be a non-empty string/);
  rejects({ jsonrpc: '2.0', id: 1, method: 5 }, /"method" must be a non-empty string/);
  rejects({ jsonrpc: '2.0', method: null }, /"method" must be a non-empty string/);
  for (const params of [[], [1, 2], 'x', 3, null]) {
    rejects({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }, /"params" must be an object/);
  }
  rejects({ jsonrpc: '2.0', id: 1, method: 'ping', result: {} }, /cannot carry "result" or "error"/);
  rejects({ jsonrpc: '2.0', method: 'ping', error: { code: 1, message: 'x' } }, /cannot carry "result" or "error"/);
});

test('rejects malformed responses', () => {
  rejects({ jsonrpc: '2.0' }, /needs "method" .* or "id"/);
  rejects({ jsonrpc: '2.0', result: {} }, /needs "method" .* or "id"/);
  rejects({ jsonrpc: '2.0', id: 1 }, /exactly one of "result" and "error"/);
  rejects({ jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'x' } }, /exactly one of "result" and "error"/);
  for (const error of [null, 'boom', { code: '1', message: 'x' }, { code: 1 }, { message: 'x' }, { code: 1, message: 2 }]) {
    rejects({ jsonrpc: '2.0', id: 1, error }, /"error" must be an object with a numeric "code" and a string "message"/);
  }
});

test('the validated message is the same object (members of params are the method’s business)', () => {
  const value = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', extra: [1, { deep: true }] } };
  assert.equal(accepts(value), value);
});

test('client messages with a top-level member JSON-RPC does not define are refused; upstream ones are kept as they are', () => {
  for (const value of [
    { jsonrpc: '2.0', id: 1, method: 'tools/list', extra: true },
    { jsonrpc: '2.0', method: 'notifications/initialized', meta: {} },
    { jsonrpc: '2.0', id: 1, result: {}, other: 'x' },
    { jsonrpc: '2.0', id: 1, method: 'ping', __proto__: null, x: 1 },
    JSON.parse('{"jsonrpc":"2.0","id":1,"method":"ping","__proto__":{}}'),
  ]) {
    rejects(value, /unknown member/);
    const kept = validateMessage(value, 'keep');
    assert.ok(kept.ok && kept.message === value, JSON.stringify(value));
  }
  // The members JSON-RPC defines are checked either way.
  assert.equal(validateMessage({ jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'x' }, other: 1 }, 'keep').ok, false);
});

test('repeatedRequestId pairs ids as the response side does (1 and "1" differ); requestIdOf reads the id of an unchecked body', () => {
  const req = (id: string | number, method = 'ping') => ({ jsonrpc: '2.0' as const, id, method });
  assert.equal(repeatedRequestId([req(1, 'tools/list'), req(1)]), 1);
  assert.equal(repeatedRequestId([req('a'), req('b'), req('a')]), 'a');
  assert.equal(repeatedRequestId([req(1), req('1')]), undefined);
  assert.equal(repeatedRequestId([req(1), { jsonrpc: '2.0', id: 1, result: {} }]), undefined, 'answers to server requests are not requests of the exchange');
  assert.equal(repeatedRequestId([req(1)]), undefined);
  assert.equal(requestIdOf('{"jsonrpc":"2.0","id":7,"method":"tools/list"}'), 7);
  assert.equal(requestIdOf('{"id":"x","method":1}'), 'x');
  assert.equal(requestIdOf('{"jsonrpc":"2.0","id":7,"result":{}}'), null);
  assert.equal(requestIdOf('{"id":1.5,"method":"ping"}'), null);
  assert.equal(requestIdOf('[{"id":1,"method":"ping"}]'), null);
  assert.equal(requestIdOf('not json'), null);
});

test('errorResponse and idKey', () => {
  assert.deepEqual(errorResponse(1, -32001, 'Session not found'), { jsonrpc: '2.0', id: 1, error: { code: -32001, message: 'Session not found' } });
  assert.deepEqual(errorResponse(null, -32700, 'Parse error', { code: 'GH_PARSE_ERROR' }), {
    jsonrpc: '2.0',
    id: null,
    error: { code: -32700, message: 'Parse error', data: { code: 'GH_PARSE_ERROR' } },
  });
  assert.ok(validateMessage(errorResponse('a', -1, 'x')).ok);
  assert.notEqual(idKey(1), idKey('1'));
  assert.equal(idKey(1), idKey(1));
  assert.equal(idKey('n:1'), 's:n:1');
});
