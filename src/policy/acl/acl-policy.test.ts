import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../log.ts';
import { ANONYMOUS } from '../../auth/principal.ts';
import { GatehouseError } from '../../errors.ts';
import type { JsonRpcMessage } from '../../mcp/jsonrpc.ts';
import { responseTransform, type PolicyContext } from '../policy.ts';
import { AclPolicy } from './acl-policy.ts';
import { AclPolicySchema } from './schema.ts';

const acl = new AclPolicy(
  AclPolicySchema.parse({
    acl: {
      rules: [
        { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] },
        { features: [{ type: 'resources', methods: ['resources/list', 'resources/read', 'resources/subscribe', 'resources/templates/list'], pattern: { type: 'glob', value: 'note://**' } }] },
        { effect: 'deny', features: [{ type: 'resources', methods: ['resources/list', 'resources/read', 'resources/subscribe', 'resources/templates/list'], pattern: { type: 'literal', value: 'note://secret' } }] },
      ],
    },
  }).acl,
);

function context(): PolicyContext {
  return { api: 'a', server: 's', principal: ANONYMOUS, protocolVersion: '2025-06-18', sessionId: undefined, request: { headers: {}, remoteAddress: '127.0.0.1' }, log: createLogger('silent'), trace: [] };
}

const TOOLS = [{ name: 'echo' }, { name: 'get-env' }];
const RESOURCES = [{ uri: 'note://hello' }, { uri: 'note://secret' }, { uri: 'NOTE://secret' }, { uri: 'note://a/../secret' }, { uri: 'note://b' }];

test('list answers are filtered by what they contain, whatever request they pair with (none, another one)', () => {
  const ctx = context();
  const lists: JsonRpcMessage = { jsonrpc: '2.0', id: 7, result: { tools: TOOLS, resources: RESOURCES, nextCursor: 'c' } };
  for (const transform of [responseTransform([acl], ctx), responseTransform([acl], ctx, [{ jsonrpc: '2.0', id: 7, method: 'ping' }])]) {
    const out = transform!(lists) as { result: { tools: Array<{ name: string }>; resources: Array<{ uri: string }>; nextCursor: string } };
    assert.deepEqual(out.result.tools.map((t) => t.name), ['echo']);
    assert.deepEqual(out.result.resources.map((r) => r.uri), ['note://hello', 'note://b'], 'hidden and non-canonical URIs are not listed');
    assert.equal(out.result.nextCursor, 'c');
  }
  const templates = responseTransform([acl], ctx)!({ jsonrpc: '2.0', id: 8, result: { resourceTemplates: [{ uriTemplate: 'note://{id}' }, { uriTemplate: 'NOTE://{id}' }, { uriTemplate: 'file:///{path}' }] } });
  assert.deepEqual((templates as { result: { resourceTemplates: Array<{ uriTemplate: string }> } }).result.resourceTemplates, [{ uriTemplate: 'note://{id}' }]);
  // Other results are left alone.
  const call: JsonRpcMessage = { jsonrpc: '2.0', id: 9, result: { content: [{ type: 'text', text: 'tools' }] } };
  assert.equal(responseTransform([acl], ctx)!(call), call);
});

test('capabilities of initialize and server/discover answers are trimmed to what the ACL can allow; the lists kept promise list_changed (a reload may change them)', () => {
  const out = responseTransform([acl], context())!({ jsonrpc: '2.0', id: 1, result: { supportedVersions: ['2026-07-28'], capabilities: { tools: {}, resources: { subscribe: true }, prompts: {}, logging: {} } } });
  assert.deepEqual((out as { result: { capabilities: object } }).result.capabilities, { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, logging: {} });
});

test('notifications/resources/updated is dropped for hidden URIs and URIs not in canonical form; list_changed passes', () => {
  const transform = responseTransform([acl], context())!;
  const updated = (uri: string): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri, _meta: { 'io.modelcontextprotocol/subscriptionId': 3 } } });
  assert.deepEqual(transform(updated('note://hello')), updated('note://hello'));
  for (const uri of ['note://secret', 'NOTE://secret', 'note://x/../secret', 'file:///etc/passwd', ' note://hello']) assert.equal(transform(updated(uri)), undefined, uri);
  const changed: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/tools/list_changed' };
  assert.equal(transform(changed), changed);
});

test('a notification named like a request is refused; notifications pass', () => {
  const ctx = context();
  const refused = acl.onRequest(ctx, { jsonrpc: '2.0', method: 'tools/call', params: { name: 'get-env' } });
  assert.equal(refused.action, 'deny');
  assert.ok(refused.action === 'deny' && refused.error instanceof GatehouseError && refused.error.code === 'GH_INVALID_REQUEST');
  assert.deepEqual(ctx.trace.map((t) => [t.method, t.allowed]), [['tools/call', false]]);
  assert.equal(acl.onRequest(ctx, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }).action, 'allow');
});

test('every path a URI reaches the ACL refuses it when not canonical, for allowed and hidden URIs alike', () => {
  const requests: JsonRpcMessage[] = [
    { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'NOTE://hello' } },
    { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'NOTE://secret' } },
    { jsonrpc: '2.0', id: 3, method: 'resources/subscribe', params: { uri: 'note://Hello' } },
    { jsonrpc: '2.0', id: 4, method: 'resources/unsubscribe', params: { uri: 'note://%68ello' } },
    { jsonrpc: '2.0', id: 5, method: 'completion/complete', params: { ref: { type: 'ref/resource', uri: 'NOTE://{id}' }, argument: { name: 'id', value: '' } } },
    { jsonrpc: '2.0', id: 6, method: 'subscriptions/listen', params: { notifications: { resourceSubscriptions: ['note://hello', ' note://hello'] } } },
  ];
  for (const request of requests) {
    const decision = acl.onRequest(context(), request);
    assert.ok(decision.action === 'deny' && decision.error instanceof GatehouseError && decision.error.code === 'GH_URI_NOT_CANONICAL', JSON.stringify(request));
  }
  const canonical = acl.onRequest(context(), { jsonrpc: '2.0', id: 7, method: 'resources/read', params: { uri: 'note://hello' } });
  assert.equal(canonical.action, 'allow');
});

test('a resource rule that could never match a canonical URI is refused when the config loads', () => {
  const parse = (pattern: object) => AclPolicySchema.safeParse({ acl: { rules: [{ effect: 'deny', features: [{ type: 'resources', methods: ['resources/read'], pattern }] }] } });
  const literal = parse({ type: 'literal', value: 'FILE:///etc/passwd' });
  assert.ok(!literal.success && /write "file:\/\/\/etc\/passwd"/.test(literal.error.issues[0]!.message), JSON.stringify(literal));
  assert.deepEqual(literal.success ? [] : literal.error.issues[0]!.path, ['acl', 'rules', 0, 'features', 0, 'pattern', 'value']);
  const glob = parse({ type: 'glob', value: 'File://**' });
  assert.ok(!glob.success && /write "file:\/\/\*\*"/.test(glob.error.issues[0]!.message), JSON.stringify(glob));
  for (const pattern of [{ type: 'glob', value: 'file://**' }, { type: 'literal', value: 'demo://resource/dynamic/text/{resourceId}' }, { type: 'glob', value: '**secret**' }, { type: 'regex', value: 'file:.*' }, { type: 'any' }]) {
    assert.ok(parse(pattern).success, JSON.stringify(pattern));
  }
});
