// Rate limits and quotas end to end: 429 with Retry-After and RateLimit-* without reaching the
// upstream, limits shared by two Gatehouse processes through the real Redis, fail-open and
// fail-closed when Redis is unreachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { raw, rawSession, runCli, sessionHeaders, startEverything, startTestGateway, writeConfig, randomKeyHex, tempDir } from './helpers/gatehouse.ts';
import { redisRequirement } from './helpers/requirements.ts';

const call = (id: number, name = 'echo') => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { message: `m${id}` } } });

test('over a limit: 429 with Retry-After and RateLimit-* headers, a JSON-RPC error naming the limit, other methods unaffected', async (t) => {
  const everything = await startEverything();
  const gh = await startTestGateway({
    servers: { e: { url: `${everything.origin}/mcp` } },
    apis: [
      {
        name: 'e',
        path: '/mcp',
        server: 'e',
        policies: [
          { rateLimit: { limits: [{ name: 'echo-per-agent', key: ['agent', 'tool'], match: { methods: ['tools/call'], tools: ['echo'] }, rate: 3, per: '1m' }], quotas: [{ name: 'daily', key: ['agent'], match: { methods: ['tools/list'] }, limit: 2, period: 'day' }] } },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const sid = await rawSession(gh.url());
  for (let i = 1; i <= 3; i++) assert.equal((await raw(gh.url(), { headers: sessionHeaders(sid), body: call(i) })).status, 200, `call ${i} allowed`);
  const refused = await raw(gh.url(), { headers: sessionHeaders(sid), body: call(4) });
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal(refused.headers.get('ratelimit-limit'), '3');
  assert.equal(refused.headers.get('ratelimit-remaining'), '0');
  const error = (refused.messages[0] as { id: number; error: { code: number; message: string } });
  assert.equal(error.id, 4);
  assert.equal(error.error.code, -32029);
  assert.match(error.error.message, /echo-per-agent/);
  // Another tool is not limited by a per-tool limit.
  assert.equal((await raw(gh.url(), { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'get-sum', arguments: { a: 1, b: 2 } } } })).status, 200);
  // Quota: two tools/list per day.
  const list = (id: number) => raw(gh.url(), { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id, method: 'tools/list' } });
  assert.equal((await list(6)).status, 200);
  assert.equal((await list(7)).status, 200);
  const over = await list(8);
  assert.equal(over.status, 429);
  assert.equal((over.messages[0] as { error: { code: number } }).error.code, -32030);
});

const redis = redisRequirement();
const redisUrl = redis.url;

test('two Gatehouse processes share one limit through Redis', { skip: redis.skip }, async (t) => {
  redis.check();
  const everything = await startEverything();
  const prefix = `gh-test-${randomBytes(6).toString('hex')}:`;
  const key = randomKeyHex();
  const ports = [0, 0];
  const nodes: Array<ReturnType<typeof runCli>> = [];
  for (let i = 0; i < 2; i++) {
    const file = writeConfig(`
listen: { host: 127.0.0.1, port: 0 }
servers:
  e: { url: "${everything.origin}/mcp" }
apis:
  - name: e
    path: /mcp
    server: e
    policies:
      - rateLimit:
          backend: { type: redis, url: "${redisUrl}", prefix: "${prefix}", onError: deny }
          limits:
            - { name: shared, key: [api], match: { methods: [tools/call] }, rate: 5, per: 1m }
`);
    const node = runCli(['start', '--config', file], { GATEHOUSE_SESSION_KEY: key, GATEHOUSE_DATA_DIR: tempDir() });
    nodes.push(node);
    const line = await node.waitFor(/"port":\d+/);
    ports[i] = Number(line.split(':')[1]);
  }
  t.after(async () => {
    for (const node of nodes) node.child.kill('SIGTERM');
    await Promise.all(nodes.map((n) => n.exited));
    await everything.close();
  });
  const urls = ports.map((p) => `http://127.0.0.1:${p}/mcp`);
  const sessions = [await rawSession(urls[0]!), await rawSession(urls[1]!)];
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) {
    const node = i % 2;
    statuses.push((await raw(urls[node]!, { headers: sessionHeaders(sessions[node]!), body: call(i + 1) })).status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429], 'five calls in all across both nodes');
});

test('Redis unreachable: onError allow lets requests through, onError deny refuses with 503; never a hang', async (t) => {
  const everything = await startEverything();
  const limit = (onError: 'allow' | 'deny') => ({
    rateLimit: { backend: { type: 'redis' as const, url: 'redis://127.0.0.1:1', onError, timeout: '200ms' }, limits: [{ key: ['agent' as const], match: { methods: ['tools/call'] }, rate: 100, per: '1s' }] },
  });
  const gh = await startTestGateway({
    servers: { e: { url: `${everything.origin}/mcp` } },
    apis: [
      { name: 'open', path: '/open', server: 'e', policies: [limit('allow')] },
      { name: 'closed', path: '/closed', server: 'e', policies: [limit('deny')] },
    ],
  });
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const openSid = await rawSession(gh.url('open'));
  assert.equal((await raw(gh.url('open'), { headers: sessionHeaders(openSid), body: call(1) })).status, 200);
  const closedSid = await rawSession(gh.url('closed'));
  const refused = await raw(gh.url('closed'), { headers: sessionHeaders(closedSid), body: call(2) });
  assert.equal(refused.status, 503);
  assert.equal((refused.messages[0] as { error: { code: number } }).error.code, -32031);
  assert.ok(gh.gateway.rateLimitStats.backendErrors >= 2, 'backend errors are counted');
  assert.ok(gh.logs.lines.some((l) => l.msg === 'rate-limit backend unavailable'), 'and logged');
});
