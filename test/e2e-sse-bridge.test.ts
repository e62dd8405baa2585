// HTTP+SSE (2024-11-05) upstreams bridged to Streamable HTTP: the real server-everything in its
// `sse` mode behind Gatehouse, the official SDK client (Streamable HTTP) as the agent.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ERRORS } from '../src/errors.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { INIT_REQUEST, connectClient, raw, sessionHeaders, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { freePort, isAlive } from './helpers/lifecycle-procs.ts';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { recordsWhen } from './helpers/audit-db.ts';

async function startSseEverything(t: TestContext): Promise<RunningEverything> {
  const everything = await startEverything({ transport: 'sse' });
  const pid = everything.child.pid!;
  t.after(async () => {
    await everything.close();
    assert.ok(!isAlive(pid), 'server-everything has exited');
  });
  return everything;
}

/** Gatehouse with one keyless API per server; closed after the test, after `deferred` clean-ups. */
async function startGatehouse(t: TestContext, servers: ConfigInput['servers']): Promise<{ gh: TestGateway; defer(fn: () => Promise<unknown>): void }> {
  const gh = await startTestGateway({
    servers,
    apis: Object.keys(servers).map((name) => ({ name, path: `/${name}`, server: name, auth: { type: 'keyless' as const } })),
  });
  const deferred: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const fn of deferred.reverse()) await fn().catch(() => undefined);
    await gh.close();
  });
  return { gh, defer: (fn) => void deferred.push(fn) };
}

test('the SDK client lists and calls tools and gets progress through an HTTP+SSE upstream', { timeout: 40_000 }, async (t) => {
  const everything = await startSseEverything(t);
  const { gh, defer } = await startGatehouse(t, { legacy: { sse: `${everything.origin}/sse` } });

  const a = await connectClient(gh.url('legacy'));
  defer(() => a.close());
  assert.ok(a.transport.sessionId, 'Gatehouse issued a Streamable HTTP session id');
  assert.equal(a.client.getServerVersion()?.name, 'mcp-servers/everything');

  const tools = await a.client.listTools();
  assert.ok(tools.tools.some((tool) => tool.name === 'echo'));
  assert.ok(tools.tools.some((tool) => tool.name === 'trigger-long-running-operation'));
  const echo = await a.client.callTool({ name: 'echo', arguments: { message: 'over sse' } });
  assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: over sse' }]);

  const progress: number[] = [];
  const long = await a.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 2 } }, undefined, {
    onprogress: (p) => progress.push(p.progress),
  });
  assert.deepEqual(progress, [1, 2]);
  assert.match(JSON.stringify(long.content), /Long running operation completed/);

  // Each client session has its own upstream connection; DELETE ends it.
  const b = await connectClient(gh.url('legacy'));
  defer(() => b.close());
  assert.equal(gh.gateway.sessionCounts().legacy, 2);
  const sum = await b.client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
  assert.match(JSON.stringify(sum.content), /5/);
  const sessionB = b.transport.sessionId!;
  await b.transport.terminateSession();
  assert.equal(gh.gateway.sessionCounts().legacy, 1);
  const gone = await raw(gh.url('legacy'), { headers: sessionHeaders(sessionB), body: { jsonrpc: '2.0', id: 5, method: 'tools/list' } });
  assert.equal(gone.status, 404);
  assert.deepEqual((await a.client.callTool({ name: 'echo', arguments: { message: 'still here' } })).content, [{ type: 'text', text: 'Echo: still here' }]);
});

test('an unreachable or wrong sse URL: initialize gets 502 with a clear message, Gatehouse stays up', { timeout: 40_000 }, async (t) => {
  const everything = await startSseEverything(t);
  const closedPort = await freePort();
  const { gh, defer } = await startGatehouse(t, {
    unreachable: { sse: `http://127.0.0.1:${closedPort}/sse` },
    wrongpath: { sse: `${everything.origin}/no-such-stream` },
    legacy: { sse: `${everything.origin}/sse` },
  });

  const refused = await raw(gh.url('unreachable'), { body: INIT_REQUEST });
  assert.equal(refused.status, 502);
  const error = (refused.messages[0] as { id: unknown; error: { code: number; message: string; data: { code: string } } });
  assert.equal(error.id, INIT_REQUEST.id);
  assert.equal(error.error.code, ERRORS.GH_UPSTREAM_UNAVAILABLE.rpc);
  assert.equal(error.error.data.code, 'GH_UPSTREAM_UNAVAILABLE');
  assert.match(error.error.message, /Upstream "unreachable" could not be started/);
  assert.match(error.error.message, /ECONNREFUSED/);

  const wrong = await raw(gh.url('wrongpath'), { body: INIT_REQUEST });
  assert.equal(wrong.status, 502);
  assert.match((wrong.messages[0] as { error: { message: string } }).error.message, /Upstream "wrongpath" could not be started: GET \/no-such-stream answered 404/);
  assert.deepEqual(gh.gateway.sessionCounts(), { unreachable: 0, wrongpath: 0, legacy: 0 });

  const health = await raw(`${gh.origin}/-/health`, { method: 'GET', headers: {} });
  assert.equal(health.status, 200);
  const ok = await connectClient(gh.url('legacy'));
  defer(() => ok.close());
  assert.ok((await ok.client.listTools()).tools.length > 0);
});

test('a 2026-07-28 client (SDK 2.x) reaches an HTTP+SSE (2024-11-05) upstream bridged: discover, lists, a call, an elicitation through input_required, audited', { timeout: 40_000 }, async (t) => {
  const everything = await startSseEverything(t);
  const { gh, defer } = await startGatehouse(t, { legacy: { sse: `${everything.origin}/sse` } });
  const elicited: unknown[] = [];
  const client = new ModernClient({ name: 'gatehouse-e2e-sse-modern', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  client.setRequestHandler('elicitation/create', async (request) => {
    elicited.push(request.params);
    return { action: 'accept', content: { name: 'Ada Lovelace', check: true, email: 'ada@example.com' } };
  });
  await client.connect(new ModernTransport(new URL(gh.url('legacy'))));
  defer(() => client.close());
  assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
  assert.equal(client.getServerVersion()?.name, 'mcp-servers/everything');
  const tools = await client.listTools();
  assert.ok(tools.tools.some((tool) => tool.name === 'trigger-elicitation-request'), 'initialized upstream with the declared elicitation capability');
  const echo = await client.callTool({ name: 'echo', arguments: { message: 'sse, bridged' } });
  assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: sse, bridged' }]);
  const asked = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
  assert.equal(elicited.length, 1);
  assert.match(JSON.stringify(asked.content), /Ada Lovelace/);

  const records = await recordsWhen(gh.gateway, { api: 'legacy', method: 'tools/call' }, (events) => events.some((e) => e.target === 'echo'));
  const record = records.find((e) => e.target === 'echo')!;
  assert.equal(record.status, 200);
  assert.equal(record.upstreamStatus, 200);
  assert.equal(record.decision, 'allowed');
  assert.equal(typeof record.upstreamMs, 'number');
});
