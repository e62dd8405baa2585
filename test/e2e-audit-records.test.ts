// The audit log end to end, metadata only (the default): the SDK client's list, call, read and
// get through Gatehouse to the real server-everything, a call the ACL refuses, an upstream
// JSON-RPC error and a request without a credential each leave the right record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MCP_HEADERS, INIT_REQUEST, connectClient, raw, rawSession, sessionHeaders, startEverything, startTestGateway, tempDir } from './helpers/gatehouse.ts';
import { only, readAuditFile, recordsWhen } from './helpers/audit-db.ts';
import { digestKey } from '../src/auth/api-key.ts';

const AGENT_KEY = 'audit-agent-key-5c1e9a7734d2b08f';

const ACL = {
  acl: {
    rules: [
      {
        name: 'echo-and-docs',
        features: [
          { type: 'tools' as const, methods: ['tools/list', 'tools/call'], pattern: { type: 'literal' as const, value: 'echo' } },
          { type: 'prompts' as const, methods: ['prompts/list', 'prompts/get'], pattern: { type: 'glob' as const, value: 'simple-*' } },
          { type: 'resources' as const, methods: ['resources/list', 'resources/read'], pattern: { type: 'glob' as const, value: 'demo://resource/static/document/*' } },
        ],
      },
    ],
  },
};

test('every exchange leaves one record: method, target, decision and rule, status, durations, bytes; no payloads by default', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  const dataDir = tempDir();
  const gh = await startTestGateway(
    {
      servers: { everything: { url: `${everything.origin}/mcp` } },
      agents: [{ id: 'ci-agent', apiKeys: [{ value: AGENT_KEY }] }],
      apis: [
        { name: 'open', path: '/mcp', server: 'everything' },
        { name: 'guarded', path: '/guarded', server: 'everything', policies: [ACL] },
        { name: 'keyed', path: '/keyed', server: 'everything', auth: { type: 'api-key', header: 'x-api-key' } },
      ],
    },
    { dataDir },
  );
  t.after(async () => {
    await gh.close();
    await everything.close();
  });

  // The SDK client on an open API: initialize, list, call, read, get.
  const open = await connectClient(gh.url('open'));
  const tools = await open.client.listTools();
  assert.ok(tools.tools.length > 5);
  await open.client.callTool({ name: 'echo', arguments: { message: 'recorded-not-stored' } });
  const docs = await open.client.listResources();
  const doc = docs.resources.find((r) => r.uri.startsWith('demo://resource/static/document/'))!;
  await open.client.readResource({ uri: doc.uri });
  await open.client.getPrompt({ name: 'simple-prompt' });
  await assert.rejects(open.client.getPrompt({ name: 'no-such-prompt' }), /not found/i);
  const sessionId = open.transport.sessionId!;
  await open.close();

  const records = await recordsWhen(gh.gateway, { api: 'open' }, (events) => events.some((e) => e.method === 'DELETE'));
  const init = only(records, (e) => e.method === 'initialize', 'initialize');
  assert.equal(init.feature, 'lifecycle');
  assert.equal(init.rpcId, '0');
  const list = only(records, (e) => e.method === 'tools/list', 'tools/list');
  const call = only(records, (e) => e.method === 'tools/call', 'tools/call');
  const read = only(records, (e) => e.method === 'resources/read', 'resources/read');
  const prompt = only(records, (e) => e.method === 'prompts/get' && e.target === 'simple-prompt', 'prompts/get');
  const missing = only(records, (e) => e.method === 'prompts/get' && e.target === 'no-such-prompt', 'prompts/get of a missing prompt');
  only(records, (e) => e.method === 'notifications/initialized', 'the initialized notification');
  only(records, (e) => e.method === 'DELETE', 'the session end');

  assert.equal(list.feature, 'tools');
  assert.equal(list.target, undefined);
  assert.equal(call.target, 'echo');
  assert.equal(read.feature, 'resources');
  assert.equal(read.target, doc.uri);
  assert.equal(prompt.feature, 'prompts');
  for (const e of [list, call, read, prompt]) {
    assert.equal(e.decision, 'allowed', `${e.method} allowed`);
    assert.equal(e.status, 200);
    assert.equal(e.upstreamStatus, 200);
    assert.equal(e.errorCode, undefined, `${e.method}: no error code`);
    assert.equal(e.agent, 'anonymous');
    assert.equal(e.api, 'open');
    assert.equal(e.clientAddress, '127.0.0.1');
    assert.ok(e.durationMs > 0 && e.upstreamMs! > 0 && e.upstreamMs! <= e.durationMs, `${e.method}: durations ${e.durationMs} / ${e.upstreamMs}`);
    assert.ok(e.bytesIn > 0 && e.bytesOut > 0, `${e.method}: bytes ${e.bytesIn} / ${e.bytesOut}`);
    assert.equal(e.request, undefined, 'metadata only: no request payload');
    assert.equal(e.response, undefined, 'metadata only: no response payload');
  }
  assert.ok(list.bytesOut > 1000, 'the whole tool list was counted');
  // The upstream's JSON-RPC error, read from the answer as it went by.
  assert.equal(missing.decision, 'allowed');
  assert.equal(missing.errorCode, -32602);
  // One session, one tag on all its records (the initialize that opened it included); never the
  // session id itself.
  const tags = new Set(records.map((e) => e.session));
  assert.equal(tags.size, 1, 'every record of the session carries the same tag');
  const [tag] = tags;
  assert.match(tag!, /^[A-Za-z0-9_-]{12}$/);
  assert.ok(!sessionId.includes(tag!));

  // The ACL: allowed and refused calls, with the rule that decided.
  const guarded = await rawSession(gh.url('guarded'));
  const callGuarded = (id: number, name: string) => raw(gh.url('guarded'), { headers: sessionHeaders(guarded), body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { message: 'x' } } } });
  assert.equal((await callGuarded(11, 'echo')).status, 200);
  const refused = await callGuarded(12, 'get-env');
  assert.match(JSON.stringify(refused.messages), /Tool get-env not found/);
  const hiddenRead = await raw(gh.url('guarded'), { headers: sessionHeaders(guarded), body: { jsonrpc: '2.0', id: 13, method: 'resources/read', params: { uri: 'demo://resource/dynamic/text/1' } } });
  assert.equal(hiddenRead.status, 200);
  // Another spelling of a URI (dot segments) is refused before any rule: 400, GH_URI_NOT_CANONICAL.
  const otherSpelling = await raw(gh.url('guarded'), { headers: sessionHeaders(guarded), body: { jsonrpc: '2.0', id: 14, method: 'resources/read', params: { uri: 'demo://resource/static/document/extension.md/../../dynamic/text/1' } } });
  assert.equal(otherSpelling.status, 400);
  const guardedRecords = await recordsWhen(gh.gateway, { api: 'guarded', method: 'tools/call' }, (events) => events.length === 2);
  const allowed = only(guardedRecords, (e) => e.target === 'echo', 'the allowed call');
  assert.equal(allowed.decision, 'allowed');
  assert.equal(allowed.rule, 'acl:echo-and-docs');
  const denied = only(guardedRecords, (e) => e.target === 'get-env', 'the refused call');
  assert.equal(denied.decision, 'denied');
  assert.equal(denied.rule, 'acl');
  assert.equal(denied.reason, 'no rule allows it');
  assert.equal(denied.status, 200, 'answered as a missing tool would be');
  assert.equal(denied.upstreamStatus, undefined, 'never forwarded');
  assert.equal(denied.upstreamMs, undefined);
  assert.deepEqual(JSON.parse(denied.trace!), [{ policy: 'acl', method: 'tools/call', name: 'get-env', allowed: false, reason: 'no rule allows it' }]);
  const reads = await recordsWhen(gh.gateway, { api: 'guarded', method: 'resources/read' }, (events) => events.length === 2);
  const deniedRead = only(reads, (e) => e.target === 'demo://resource/dynamic/text/1', 'the hidden read');
  assert.equal(deniedRead.decision, 'denied');
  assert.equal(deniedRead.errorCode, -32602, 'the refusal is a JSON-RPC error');
  const refusedSpelling = only(reads, (e) => e.status === 400, 'the read of a URI not in canonical form');
  assert.equal(refusedSpelling.decision, 'denied');
  assert.equal(refusedSpelling.errorCode, -32602);
  assert.match(refusedSpelling.reason ?? '', /not in canonical form/);

  // No credential: refused before anything else, recorded all the same.
  const anonymous = await raw(gh.url('keyed'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(anonymous.status, 401);
  const keyed = await raw(gh.url('keyed'), { headers: { ...MCP_HEADERS, 'x-api-key': AGENT_KEY }, body: INIT_REQUEST });
  assert.equal(keyed.status, 200);
  const keyedRecords = await recordsWhen(gh.gateway, { api: 'keyed' }, (events) => events.length === 2);
  const unauthenticated = only(keyedRecords, (e) => e.status === 401, 'the refused request');
  assert.equal(unauthenticated.agent, '(unauthenticated)');
  assert.equal(unauthenticated.decision, 'denied');
  assert.equal(unauthenticated.rule, 'auth');
  assert.equal(unauthenticated.method, 'POST', 'refused before its body was read');
  assert.equal(unauthenticated.errorCode, -32040);
  assert.match(unauthenticated.reason!, /GH_UNAUTHORIZED/);
  assert.equal(only(keyedRecords, (e) => e.status === 200, 'the accepted request').agent, 'ci-agent');

  // Filters of the reader the dashboard uses.
  const reader = gh.gateway.audit!.reader!;
  assert.deepEqual((await reader.list({ decision: 'denied' }, { limit: 10 })).map((e) => e.api).sort(), ['guarded', 'guarded', 'guarded', 'keyed']);
  assert.ok((await reader.list({ status: 'error' }, { limit: 100 })).some((e) => e.id === missing.id), 'a JSON-RPC error counts as an error');
  assert.equal((await reader.get(call.id))?.target, 'echo');
  const page1 = await reader.list({}, { limit: 3 });
  const page2 = await reader.list({}, { limit: 3, before: page1[2]!.id });
  assert.ok(page2.every((e) => e.id < page1[2]!.id) && page2.length === 3, 'pages go backwards without overlap');
  const overview = await reader.overview({}, 60_000);
  assert.equal(overview.totals.requests, (await reader.list({}, { limit: 1000 })).length);
  assert.equal(overview.totals.denied, 4);
  assert.ok(overview.totals.p50 > 0 && overview.totals.p50 <= overview.totals.p99);
  assert.deepEqual(overview.matrix.find((m) => m.agent === 'anonymous' && m.tool === 'get-env'), { agent: 'anonymous', tool: 'get-env', server: 'everything', calls: 1, denied: 1 });
  assert.deepEqual(overview.apis, ['guarded', 'keyed', 'open']);

  // On disk: the default file beside the store, no message text in it.
  await gh.close();
  const file = path.join(dataDir, 'audit.db');
  assert.ok(readAuditFile(file).length >= records.length + 5);
  assert.ok(!readFileSync(file).includes('recorded-not-stored'), 'arguments are not stored without payload logging');
});

test('a tool result marked isError is recorded as a tool error, apart from JSON-RPC errors and denials (it was recorded as a success)', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  const gh = await startTestGateway(
    { servers: { everything: { url: `${everything.origin}/mcp` } }, apis: [{ name: 'open', path: '/mcp', server: 'everything' }, { name: 'guarded', path: '/guarded', server: 'everything', policies: [ACL] }] },
    { dataDir: tempDir() },
  );
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const open = await connectClient(gh.url('open'));
  await open.client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
  // server-everything answers a bad argument with a tool result marked isError.
  assert.equal((await open.client.callTool({ name: 'get-sum', arguments: { a: 'one', b: 2 } })).isError, true);
  await assert.rejects(open.client.readResource({ uri: 'demo://no/such/resource' }));
  await open.close();
  // The ACL answers a hidden tool like a missing one (isError too): a denial, not a tool error.
  const guarded = await connectClient(gh.url('guarded'));
  assert.equal((await guarded.client.callTool({ name: 'get-env', arguments: {} })).isError, true);
  await guarded.close();

  const records = await recordsWhen(gh.gateway, {}, (events) => events.filter((e) => e.method === 'DELETE').length === 2);
  const [good, bad] = records.filter((e) => e.method === 'tools/call' && e.target === 'get-sum').sort((a, b) => a.time - b.time);
  assert.deepEqual([good!.toolError, good!.decision, good!.errorCode], [false, 'allowed', undefined]);
  assert.deepEqual([bad!.toolError, bad!.decision, bad!.errorCode, bad!.status], [true, 'allowed', undefined, 200]);
  assert.equal(only(records, (e) => e.method === 'resources/read', 'the failed read').toolError, false, 'a JSON-RPC error is an error, not a tool error');
  const denied = only(records, (e) => e.target === 'get-env', 'the hidden tool');
  assert.deepEqual([denied.decision, denied.toolError], ['denied', false]);
  assert.ok(records.filter((e) => e.id !== bad!.id).every((e) => !e.toolError), 'nothing else is a tool error');

  const reader = gh.gateway.audit!.reader!;
  assert.deepEqual((await reader.list({ status: 'tool_error' }, { limit: 10 })).map((e) => e.id), [bad!.id]);
  assert.ok(!(await reader.list({ status: 'ok' }, { limit: 100 })).some((e) => e.id === bad!.id), 'a tool error is not ok');
  const overview = await reader.overview({}, 60_000);
  assert.equal(overview.totals.toolErrors, 1);
  assert.deepEqual(overview.topTools.find((e) => e.name === 'get-sum'), { name: 'get-sum', server: 'everything', count: 2, errors: 0, toolErrors: 1, denied: 0 });
});

test('a request refused for a revoked, expired or disabled agent\'s key names the agent and the key id (it was recorded as (unauthenticated))', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  const gh = await startTestGateway(
    {
      servers: { everything: { url: `${everything.origin}/mcp` } },
      agents: [{ id: 'ci-agent', apiKeys: [{ value: AGENT_KEY }] }, { id: 'retired-agent' }],
      apis: [{ name: 'keyed', path: '/keyed', server: 'everything', auth: { type: 'api-key' } }],
    },
    { dataDir: tempDir() },
  );
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const store = gh.gateway.store;
  const now = Date.now();
  const key = (id: string, agentId: string, value: string, extra: { revokedAt?: number; expiresAt?: number } = {}) =>
    store.createApiKey({ id, agentId, hash: digestKey(value), prefix: value.slice(0, 4), api: undefined, createdAt: now, expiresAt: extra.expiresAt, revokedAt: extra.revokedAt, lastUsedAt: undefined });
  await key('key_revoked', 'ci-agent', 'revoked-key-0123456789abcdef', { revokedAt: now - 1000 });
  await key('key_expired', 'ci-agent', 'expired-key-0123456789abcdef', { expiresAt: now - 1000 });
  await key('key_retired', 'retired-agent', 'retired-key-0123456789abcdef');
  await store.setAgentDisabled('retired-agent', true);

  const attempt = async (bearer: string) => {
    const answer = await raw(gh.url('keyed'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${bearer}` }, body: INIT_REQUEST });
    assert.equal(answer.status, 401, bearer);
  };
  await attempt('revoked-key-0123456789abcdef');
  await attempt('expired-key-0123456789abcdef');
  await attempt('retired-key-0123456789abcdef');
  await attempt('nobody-knows-this-key-0123456789');

  const records = await recordsWhen(gh.gateway, { api: 'keyed' }, (events) => events.length === 4);
  const byReason = (pattern: RegExp) => only(records, (e) => pattern.test(e.reason ?? ''), String(pattern));
  const revoked = byReason(/revoked/);
  assert.deepEqual([revoked.agent, revoked.decision, revoked.rule, revoked.status], ['ci-agent', 'denied', 'auth', 401]);
  assert.equal(revoked.reason, 'GH_UNAUTHORIZED: Unauthorized: API key revoked (API key key_revoked)');
  assert.equal(byReason(/expired/).agent, 'ci-agent');
  assert.match(byReason(/expired/).reason!, /\(API key key_expired\)$/);
  assert.equal(byReason(/agent disabled/).agent, 'retired-agent');
  assert.match(byReason(/agent disabled/).reason!, /\(API key key_retired\)$/);
  // A key nobody issued names nobody.
  assert.equal(byReason(/unknown API key/).agent, '(unauthenticated)');
  for (const e of records) assert.ok(!JSON.stringify(e).includes('-key-0123456789abcdef'), 'the key itself is never recorded');
});
