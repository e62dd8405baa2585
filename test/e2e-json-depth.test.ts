// JSON nested deeper than `limits.maxJsonDepth`: refused before anything recursive touches it,
// from clients (400 / -32600) and from upstreams (the answer becomes GH_UPSTREAM_BAD_RESPONSE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../src/config/schema.ts';
import { raw, startTestGateway } from './helpers/gatehouse.ts';
import { openRawSession } from './helpers/http-peers.ts';
import { sdkServerStdioCommand, startSdkServer } from './helpers/sdk-server.ts';
import { DEEP_LEVELS, deepStdioCommand, startDeepHttpServer } from './helpers/deep-peers.ts';

type PolicyList = NonNullable<ConfigInput['apis'][number]['policies']>;

const ACL: PolicyList = [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'glob', value: '*' } }] }] } }];

/** A tools/call of `echo` whose body nests `levels` deep in all (the envelope counts 3). */
function callNested(id: number, levels: number): string {
  const inner = '['.repeat(levels - 3) + ']'.repeat(levels - 3);
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi","extra":${inner}}}}`;
}

function errorOf(body: unknown): { code: number; data?: { code?: string } } | undefined {
  return (body as { error?: { code: number; data?: { code?: string } } } | undefined)?.error;
}

test('a request nested deeper than limits.maxJsonDepth is refused with 400 / -32600 before it is decoded (5,000 levels got 500 GH_INTERNAL)', async (t) => {
  const upstream = await startSdkServer('sse');
  const stdio = sdkServerStdioCommand();
  const gh = await startTestGateway({
    servers: { http: { url: upstream.url }, stdio: { command: stdio.command, args: stdio.args } },
    apis: [
      { name: 'piped', path: '/piped', server: 'http' },
      { name: 'acl', path: '/acl', server: 'http', policies: ACL },
      { name: 'stdio', path: '/stdio', server: 'stdio' },
    ],
    limits: { maxJsonDepth: 32 },
  });
  t.after(async () => {
    await gh.close();
    await upstream.close();
  });
  for (const api of ['piped', 'acl', 'stdio']) {
    const { headers } = await openRawSession(gh.url(api), '2025-06-18');
    for (const levels of [33, 5_000, 100_000]) {
      const refused = await raw(gh.url(api), { headers, body: callNested(2, levels) });
      assert.equal(refused.status, 400, `${api}, ${levels} levels: ${refused.text.slice(0, 200)}`);
      assert.equal(errorOf(refused.messages[0])?.code, -32600);
      assert.equal(errorOf(refused.messages[0])?.data?.code, 'GH_JSON_TOO_DEEP');
    }
    // At the limit it passes; brackets inside strings do not count.
    const atLimit = await raw(gh.url(api), { headers, body: callNested(3, 32) });
    assert.equal(atLimit.status, 200, `${api}: ${atLimit.text.slice(0, 200)}`);
    const text = `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"message":"${'[{'.repeat(5_000)}\\"]"}}}`;
    const inString = await raw(gh.url(api), { headers, body: text });
    assert.equal(inString.status, 200, api);
    assert.match(JSON.stringify(inString.messages), /Echo: \[\{\[\{/);
  }
});

test('an upstream message nested thousands deep is refused as GH_UPSTREAM_BAD_RESPONSE for its request where it is decoded (re-serializing it crashed the rewriter, and a stdio session took the process down)', async (t) => {
  const deepHttp = await startDeepHttpServer();
  const deepStdio = deepStdioCommand();
  const gh = await startTestGateway({
    servers: { http: { url: deepHttp.url }, stdio: { command: deepStdio.command, args: deepStdio.args } },
    apis: [
      { name: 'piped', path: '/piped', server: 'http' },
      { name: 'acl', path: '/acl', server: 'http', policies: ACL },
      { name: 'stdio', path: '/stdio', server: 'stdio' },
    ],
  });
  t.after(async () => {
    await gh.close();
    await deepHttp.close();
  });
  const call = (id: number, name: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

  // Decoded for the ACL: the deep notification is dropped, the deep answer becomes an error.
  const acl = await openRawSession(gh.url('acl'), '2025-06-18');
  const sse = await raw(gh.url('acl'), { headers: acl.headers, body: call(5, 'sse') });
  assert.equal(sse.status, 200);
  assert.deepEqual(sse.messages.map((m) => [(m as { id?: number }).id, errorOf(m)?.data?.code]), [[5, 'GH_UPSTREAM_BAD_RESPONSE']]);
  const json = await raw(gh.url('acl'), { headers: acl.headers, body: call(6, 'json') });
  assert.equal(json.status, 502);
  assert.deepEqual([(json.messages[0] as { id?: number }).id, errorOf(json.messages[0])?.data?.code], [6, 'GH_UPSTREAM_BAD_RESPONSE']);

  // stdio sessions re-serialize every message: the same there, with no policy at all.
  const stdio = await openRawSession(gh.url('stdio'), '2025-06-18');
  const fromChild = await raw(gh.url('stdio'), { headers: stdio.headers, body: call(7, 'any') });
  assert.equal(fromChild.status, 200);
  assert.deepEqual(fromChild.messages.map((m) => [(m as { id?: number }).id, errorOf(m)?.data?.code]), [[7, 'GH_UPSTREAM_BAD_RESPONSE']]);

  // Piped untouched (nothing decodes it), as the upstream sent it.
  const piped = await openRawSession(gh.url('piped'), '2025-06-18');
  const untouched = await raw(gh.url('piped'), { headers: piped.headers, body: call(8, 'json') });
  assert.equal(untouched.status, 200);
  assert.ok(untouched.text.includes('['.repeat(DEEP_LEVELS)), 'the deep answer is relayed as it is');
});
