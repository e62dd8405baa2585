// Rewrites remembered per principal (policy/answer-memo.ts): an equal answer (but for its id) gets
// the remembered text without the policy being asked; the id is the new answer's own; answers of
// another principal, answers written in another member order, and changed answers are asked.
import { test } from 'node:test';
import { finished } from 'node:stream/promises';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { SseRewriter } from './message-rewriter.ts';
import { AnswerMemo, splitTrailingId } from '../policy/answer-memo.ts';
import type { ResponseTransform } from '../policy/policy.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { UnansweredRequests } from './unanswered.ts';

function sink(): { res: ServerResponse; text(): string } {
  let out = '';
  const res = { write: (chunk: string | Buffer) => ((out += String(chunk)), true), end: (chunk?: string) => ((out += chunk ?? ''), undefined) } as unknown as ServerResponse;
  return { res, text: () => out };
}

/** Hides every tool but echo, counting how often it is asked. */
function hidingTransform(answers: AnswerMemo, principal: object, calls: { n: number }): ResponseTransform {
  const transform = (message: JsonRpcMessage): JsonRpcMessage | undefined => {
    calls.n++;
    if ('result' in message && message.result && typeof message.result === 'object' && 'tools' in message.result) {
      const tools = (message.result as { tools: Array<{ name: string }> }).tools.filter((t) => t.name === 'echo');
      return { ...message, result: { ...message.result, tools } };
    }
    return message;
  };
  return Object.assign(transform, { memo: { answers, principal, ids: new Set(['n:1', 's:x-2', 'n:3', 'n:4', 'n:5', 'n:6']) } });
}

async function relay(transform: ResponseTransform, data: string, unanswered?: UnansweredRequests): Promise<string> {
  const { res, text } = sink();
  const rewriter = new SseRewriter(res, transform, { maxBytes: 1 << 20, maxJsonDepth: 128 }, unanswered);
  rewriter.end(Buffer.from(`data: ${data}\n\n`));
  // A stream that leaves a request unanswered ends with an error; what was written is the point.
  await finished(rewriter).catch(() => undefined);
  return text();
}

const list = (id: number | string) => JSON.stringify({ result: { tools: [{ name: 'echo' }, { name: 'get-env' }] }, jsonrpc: '2.0', id });

test('an equal list answer is rewritten from memory with its own id, and still filtered; another principal is asked', async () => {
  const answers = new AnswerMemo();
  const alice = {};
  const bob = {};
  const calls = { n: 0 };
  const first = await relay(hidingTransform(answers, alice, calls), list(1));
  assert.equal(calls.n, 1);
  const unanswered = new UnansweredRequests([{ jsonrpc: '2.0', id: 'x-2', method: 'tools/list' }]);
  const second = await relay(hidingTransform(answers, alice, calls), list('x-2'), unanswered);
  assert.equal(calls.n, 1, 'the second equal answer was not given to the policy');
  assert.equal(second, first.replace('"id":1}', '"id":"x-2"}'));
  assert.ok(!second.includes('get-env'));
  assert.equal(unanswered.done, true, 'the remembered answer counts as the answer to its request');
  await relay(hidingTransform(answers, bob, calls), list(3));
  assert.equal(calls.n, 2, 'another principal is asked');
  await relay(hidingTransform(answers, alice, calls), JSON.stringify({ result: { tools: [{ name: 'echo' }, { name: 'new' }] }, jsonrpc: '2.0', id: 4 }));
  assert.equal(calls.n, 3, 'a changed answer is asked');
  await relay(hidingTransform(answers, alice, calls), JSON.stringify({ jsonrpc: '2.0', id: 5, result: { tools: [{ name: 'echo' }, { name: 'get-env' }] } }));
  await relay(hidingTransform(answers, alice, calls), JSON.stringify({ jsonrpc: '2.0', id: 6, result: { tools: [{ name: 'echo' }, { name: 'get-env' }] } }));
  assert.equal(calls.n, 5, 'an answer whose id is not its last member is not remembered');
  await relay(hidingTransform(answers, alice, calls), list(7));
  await relay(hidingTransform(answers, alice, calls), list(7));
  assert.equal(calls.n, 7, 'an answer to a request that is no list (id 7 here) is not remembered');
});

test('a server request that ends with its id is never remembered as an answer', async () => {
  const answers = new AnswerMemo();
  const calls = { n: 0 };
  const request = (id: number) => JSON.stringify({ method: 'sampling/createMessage', params: {}, jsonrpc: '2.0', id });
  await relay(hidingTransform(answers, {}, calls), request(1));
  const unanswered = new UnansweredRequests([{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }]);
  const principal = {};
  await relay(hidingTransform(answers, principal, calls), request(1));
  const out = await relay(hidingTransform(answers, principal, calls), request(1), unanswered);
  assert.equal(calls.n, 3);
  assert.match(out, /GH_UPSTREAM_UNAVAILABLE/, 'a server request with the id of a client request does not answer it');
});

test('the trailing id is split off only as the last member, as a number or a plain string', () => {
  assert.deepEqual(splitTrailingId('{"result":{},"jsonrpc":"2.0","id":42}'), { body: '{"result":{},"jsonrpc":"2.0"', suffix: ',"id":42}', id: 42 });
  assert.equal(splitTrailingId('{"result":{},"jsonrpc":"2.0","id":"a"}')?.id, 'a');
  assert.equal(splitTrailingId('{"jsonrpc":"2.0","id":1,"result":{}}'), undefined);
  assert.equal(splitTrailingId('{"result":{},"id":"a\\"b"}'), undefined);
  assert.equal(splitTrailingId('{"result":{},"id":123456789012345678}'), undefined);
});
