import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuardrailsPolicy } from './guardrails-policy.ts';
import { GuardrailsPolicySchema } from './schema.ts';
import type { DecisionTrace, PolicyContext } from '../policy.ts';
import type { JsonRpcMessage, JsonRpcRequest } from '../../mcp/jsonrpc.ts';

function policy(config: object): GuardrailsPolicy {
  return new GuardrailsPolicy(GuardrailsPolicySchema.parse({ guardrails: config }).guardrails);
}
function context(): PolicyContext & { trace: DecisionTrace[] } {
  return { api: 'a', server: 's', trace: [] } as unknown as PolicyContext & { trace: DecisionTrace[] };
}
const call: JsonRpcRequest = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'read', arguments: {} } };
const answer = (result: object): JsonRpcMessage => ({ jsonrpc: '2.0', id: 3, result: result as Record<string, unknown> });

test('a clean answer is passed on as the same object (nothing copied), with no trace', () => {
  const ctx = context();
  const message = answer({ content: [{ type: 'text', text: 'all good' }], structuredContent: { status: 'ok', items: [1, 2] } });
  assert.equal(policy({}).onResponse(ctx, message, call), message);
  assert.deepEqual(ctx.trace, []);
});

test('block wins over flag and redact; the error names kinds, never values', () => {
  const ctx = context();
  const out = policy({ secrets: 'redact', personalData: 'block' }).onResponse(ctx, answer({ content: [{ type: 'text', text: 'key AKIAIOSFODNN7EXAMPLE, mail a.b@example.com' }] }), call) as { id: number; error: { code: number; message: string; data: Record<string, unknown> } };
  assert.equal(out.id, 3);
  assert.equal(out.error.code, -32018);
  assert.deepEqual(out.error.data, { reason: 'personalData', found: ['email'], code: 'GH_RESULT_BLOCKED' });
  assert.ok(!JSON.stringify(out).includes('a.b@example.com') && !JSON.stringify(ctx.trace).includes('a.b@example.com'));
  assert.equal(ctx.trace[0]!.allowed, false);
});

test('structuredContent strings are redacted at any depth, content text too; other fields are kept', () => {
  const ctx = context();
  const out = policy({}).onResponse(ctx, answer({ content: [{ type: 'text', text: 'AKIAIOSFODNN7EXAMPLE' }], structuredContent: { deep: [{ key: 'id AKIAIOSFODNN7EXAMPLE' }], n: 1 }, isError: false }), call) as { result: Record<string, unknown> };
  assert.deepEqual(out.result, { content: [{ type: 'text', text: '[REDACTED:aws-access-key]' }], structuredContent: { deep: [{ key: 'id [REDACTED:aws-access-key]' }], n: 1 }, isError: false });
  assert.match(ctx.trace[0]!.reason!, /found aws-access-key ×2 \(redacted\)/);
});

test('a result replayed without its request (a resumed stream) is still read, by its shape', () => {
  const out = policy({}).onResponse(context(), answer({ contents: [{ uri: 'x://y', text: 'pw in postgres://u:hunter2@db/x' }] }), undefined) as { result: { contents: Array<{ text: string }> } };
  assert.equal(out.result.contents[0]!.text, 'pw in postgres://u:[REDACTED:url-password]@db/x');
});

test('the output schema check uses the schema of the server the list came from; limits count bytes of the result', () => {
  const p = policy({ maxResultBytes: 200 });
  const list: JsonRpcRequest = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
  p.onResponse(context(), { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'read', inputSchema: { type: 'object' }, outputSchema: { type: 'object', required: ['n'] } }] } }, list);
  const refused = p.onResponse(context(), answer({ content: [], structuredContent: {} }), call) as { error: { message: string; data: { reason: string } } };
  assert.equal(refused.error.data.reason, 'outputSchema');
  assert.match(refused.error.message, /must have required property 'n'/);
  const big = p.onResponse(context(), answer({ content: [{ type: 'text', text: 'x'.repeat(300) }], structuredContent: { n: 1 } }), call) as { error: { data: { reason: string } } };
  assert.equal(big.error.data.reason, 'limits');
});

test('structuredContent: the value of a member named like a secret is redacted whole, as the audit log redacts it; paging tokens are kept', () => {
  const out = policy({}).onResponse(context(), answer({ content: [], structuredContent: { user: 'ann', apiKey: 'plain-random-value', db: { password: 'hunter2' }, nextPageToken: 'p2' } }), call) as { result: { structuredContent: unknown } };
  assert.deepEqual(out.result.structuredContent, { user: 'ann', apiKey: '[REDACTED:secret-value]', db: { password: '[REDACTED:secret-value]' }, nextPageToken: 'p2' });
});

test('a federated API: each tool\'s outputSchema is learned under the member that offers it, and checked by the name the client calls', () => {
  const p = policy({});
  const members: Record<string, { server: string; original: string }> = { 'a__read': { server: 'a', original: 'read' }, 'b__read': { server: 'b', original: 'read' } };
  const ctx = (): PolicyContext => ({ ...context(), server: '', targetOf: (_kind: string, name: string) => members[name] }) as unknown as PolicyContext;
  const schema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
  p.onResponse(ctx(), { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'a__read', inputSchema: { type: 'object' }, outputSchema: schema }, { name: 'b__read', inputSchema: { type: 'object' } }] } }, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
  const callOf = (name: string): JsonRpcRequest => ({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name, arguments: {} } });
  const bad = answer({ content: [], structuredContent: { n: 'x' } });
  assert.equal((p.onResponse(ctx(), bad, callOf('a__read')) as { error?: { data: { reason: string } } }).error?.data.reason, 'outputSchema');
  assert.equal(p.onResponse(ctx(), bad, callOf('b__read')), bad, 'the other member\'s tool declares no schema');
});
