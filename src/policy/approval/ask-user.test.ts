import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalQuestion, approvedIn, refusalOf } from './ask-user.ts';
import { hashArguments, type PendingApproval } from './book.ts';

function pending(args: Record<string, unknown>): PendingApproval {
  return { id: 'x', api: 'a', tenant: undefined, agent: 'ag', user: undefined, session: undefined, tool: 'pay', server: 'bank', originalName: 'pay', arguments: args, argumentsHash: hashArguments(args), requestedAt: 0, expiresAt: 1, approver: 'user' };
}

test('the question names the tool, its server and the arguments; huge arguments are cut and named by their hash', () => {
  const small = approvalQuestion(pending({ amount: 5 }));
  assert.equal(small.method, 'elicitation/create');
  assert.match(small.id, /^gatehouse-approval-[0-9a-f-]{36}$/);
  const message = String((small.params as { message: string }).message);
  assert.match(message, /"pay" on server "bank"/);
  assert.match(message, /"amount": 5/);
  const huge = pending({ text: 'x'.repeat(10_000) });
  const cut = String((approvalQuestion(huge).params as { message: string }).message);
  assert.ok(cut.length < 4_500, String(cut.length));
  assert.match(cut, new RegExp(`more characters; SHA-256 of the arguments: ${huge.argumentsHash}`));
});

test('only an accepted form with approve = true approves; the refusal says how', () => {
  assert.equal(approvedIn({ action: 'accept', content: { approve: true } }), true);
  for (const result of [{ action: 'accept', content: { approve: 'true' } }, { action: 'accept', content: {} }, { action: 'decline' }, { action: 'cancel' }, undefined, 'accept']) {
    assert.equal(approvedIn(result), false, JSON.stringify(result));
  }
  assert.equal(refusalOf({ result: { action: 'decline' } }), 'declined');
  assert.equal(refusalOf({ result: { action: 'accept', content: { approve: false } } }), 'accepted the form without approving');
  assert.equal(refusalOf({ error: { code: -1, message: 'no' } }), 'the client answered with error -1');
});
