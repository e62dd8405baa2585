import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnansweredRequests } from './unanswered.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';

const request = (id: number | string): JsonRpcMessage => ({ jsonrpc: '2.0', id, method: 'tools/call', params: {} });
const event = (message: unknown, id?: string) => `${id === undefined ? '' : `id: ${id}\n`}event: message\ndata: ${JSON.stringify(message)}\n\n`;
const PROGRESS = event({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1, message: 'no "result" yet' } });

test('a POST\'s request is answered once its response goes by, not before', () => {
  const waiting = new UnansweredRequests([request(1), { jsonrpc: '2.0', method: 'notifications/cancelled' }]);
  assert.equal(waiting.done, false);
  waiting.seeEvents(Buffer.from(PROGRESS));
  waiting.seeEvents(Buffer.from(event({ jsonrpc: '2.0', id: 1, method: 'sampling/createMessage', params: {} })));
  waiting.seeEvents(Buffer.from(event({ jsonrpc: '2.0', id: '1', result: {} })));
  assert.equal(waiting.done, false, 'a server request with the same id, or the id "1", answers nothing');
  waiting.seeEvents(Buffer.from(PROGRESS + event({ result: { content: [] }, jsonrpc: '2.0', id: 1 })));
  assert.equal(waiting.done, true);
});

test('CRLF streams, multi-line data and batch answers', () => {
  const crlf = new UnansweredRequests([request(1)]);
  crlf.seeEvents(Buffer.from(event({ jsonrpc: '2.0', id: 1, result: {} }).replaceAll('\n', '\r\n')));
  assert.equal(crlf.done, true);
  const multiline = new UnansweredRequests([request(2)]);
  multiline.seeEvents(Buffer.from('data: {"jsonrpc":"2.0",\ndata: "id":2,"result":{}}\n\n'));
  assert.equal(multiline.done, true);
  const batch = new UnansweredRequests([request(1), request(2), request(3)]);
  batch.seeEvents(Buffer.from(event([{ jsonrpc: '2.0', id: 1, result: {} }, { jsonrpc: '2.0', id: 3, error: { code: 1, message: 'x' } }])));
  assert.deepEqual(batch.errorEvents('GH_UPSTREAM_UNAVAILABLE', 'gone'), `data: ${JSON.stringify({ jsonrpc: '2.0', id: 2, error: { code: -32010, message: 'gone', data: { code: 'GH_UPSTREAM_UNAVAILABLE' } } })}\n\n`);
  assert.equal(batch.done, true, 'answered by the error events');
});

test('at a clean end, a stream that carried event ids is left for the client to resume', () => {
  const plain = new UnansweredRequests([request('a')]);
  plain.seeEvents(Buffer.from(PROGRESS));
  assert.match(plain.errorEventsAtEnd('GH_UPSTREAM_UNAVAILABLE', 'ended'), /"id":"a","error":\{"code":-32010/);
  const resumable = new UnansweredRequests([request('a')]);
  resumable.seeEvents(Buffer.from('id: s1.0\ndata: \n\n'));
  assert.equal(resumable.errorEventsAtEnd('GH_UPSTREAM_UNAVAILABLE', 'ended'), '');
  // After a failure it is answered all the same.
  assert.match(resumable.errorEvents('GH_UPSTREAM_UNAVAILABLE', 'died'), /"id":"a"/);
});

test('decoded messages (the rewriting relay)', () => {
  const waiting = new UnansweredRequests([request(1), request(2)]);
  waiting.seeMessage({ jsonrpc: '2.0', method: 'notifications/progress' });
  waiting.seeMessage({ jsonrpc: '2.0', id: 1, result: {} });
  waiting.seeAnswer(2);
  assert.equal(waiting.done, true);
  assert.equal(waiting.errorEvents('GH_UPSTREAM_UNAVAILABLE', 'x'), '');
});

test('what is left at the end of a stream counts only if it decodes', () => {
  const cut = new UnansweredRequests([request(1)]);
  cut.seeEvents(Buffer.from('data: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"te'), false);
  assert.equal(cut.done, false);
  const whole = new UnansweredRequests([request(1)]);
  whole.seeEvents(Buffer.from('data: {"jsonrpc":"2.0","id":1,"result":{}}\n'), false);
  assert.equal(whole.done, true);
});
