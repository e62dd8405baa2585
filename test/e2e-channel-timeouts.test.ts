// timeouts.response on stdio and HTTP+SSE upstreams: a request the server never answers gets
// GH_UPSTREAM_TIMEOUT, the server is sent notifications/cancelled for it, progress restarts the
// wait, and a session left with such a request is reaped. Real peers: an SDK-built stdio server
// with a tool that never answers (test/helpers/stdio-test-server.ts) and server-everything.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { ERRORS } from '../src/errors.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { validateConfig } from '../src/config/load.ts';
import { INIT_REQUEST, connectClient, everythingStdioCommand, raw, rawSession, sessionHeaders, startEverything, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { CANCELLED_LINE, stdioTestServer } from './helpers/stdio-test-server.ts';
import { waitUntil } from './helpers/lifecycle-procs.ts';

interface TimeoutGateway {
  gh: TestGateway;
  /**
   * Sets timeouts.response by a reload. Tests connect first and shorten the timeout then: a child
   * starting on a loaded machine may take seconds to answer initialize, and the timeout counts
   * that too. A reload applies to the sessions already open.
   */
  shortenResponseTimeout(ms: number): void;
}

async function gateway(t: TestContext, servers: ConfigInput['servers'], extra: Partial<ConfigInput> = {}): Promise<TimeoutGateway> {
  const config = {
    servers,
    apis: Object.keys(servers).map((name) => ({ name, path: `/${name}`, server: name, auth: { type: 'keyless' as const } })),
    ...extra,
  };
  const gh = await startTestGateway(config);
  t.after(() => gh.close());
  return {
    gh,
    shortenResponseTimeout: (ms) =>
      gh.gateway.reload(validateConfig({ ...config, listen: { host: '127.0.0.1', port: gh.gateway.port }, timeouts: { response: ms } }, '(test config)')),
  };
}

function assertTimeout(error: unknown): void {
  assert.ok(error instanceof McpError, `expected an McpError, got ${String(error)}`);
  assert.equal(error.code, ERRORS.GH_UPSTREAM_TIMEOUT.rpc);
  assert.equal((error.data as { code?: string } | undefined)?.code, 'GH_UPSTREAM_TIMEOUT');
  assert.match(error.message, /did not answer within 1000 ms \(timeouts\.response\)/);
}

test('a stdio request that is never answered gets GH_UPSTREAM_TIMEOUT after timeouts.response and the child is sent notifications/cancelled (it hung forever)', { timeout: 40_000 }, async (t) => {
  const { gh, shortenResponseTimeout } = await gateway(t, { stuck: stdioTestServer() });
  const agent = await connectClient(gh.url('stuck'));
  t.after(() => agent.close());
  shortenResponseTimeout(1000);

  const error = await agent.client.callTool({ name: 'never-answers', arguments: {} }).then(
    () => assert.fail('never-answers answered'),
    (e: unknown) => e,
  );
  assertTimeout(error);
  // The SDK server aborted the handler: it got notifications/cancelled for that request.
  await waitUntil(() => gh.logs.lines.some((l) => l.stream === 'stderr' && CANCELLED_LINE.test(String(l.msg))), 'the child reports the cancellation');
  assert.ok(gh.logs.lines.some((l) => l.msg === 'upstream did not answer in time: request cancelled' && l.level === 40));

  // The session goes on: the next call is answered.
  const echo = await agent.client.callTool({ name: 'echo', arguments: { message: 'still here' } });
  assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: still here' }]);
});

test('a stdio session left with a request that is never answered is reaped (stuck children piled up until maxChildren refused everyone)', { timeout: 40_000 }, async (t) => {
  // Idle for 3 s: long enough that a slow machine still finds the slot taken right after the
  // timed-out call (with 1 s the session was sometimes reaped before the check, under load).
  const { gh, shortenResponseTimeout } = await gateway(t, { stuck: { ...stdioTestServer(), maxChildren: 1, idleTimeout: 3000 } });
  const url = gh.url('stuck');
  const session = await rawSession(url);
  shortenResponseTimeout(1000);
  // The client asks, then walks away without ending its session.
  const call = await raw(url, { headers: sessionHeaders(session), body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'never-answers', arguments: {} } } });
  assert.equal((call.messages[0] as { error: { data: { code: string } } }).error.data.code, 'GH_UPSTREAM_TIMEOUT');
  assert.equal((await raw(url, { body: INIT_REQUEST })).status, 503, 'the only child slot is taken');

  await waitUntil(() => gh.gateway.sessionCounts().stuck === 0, 'the idle session is reaped', 15_000);
  const again = await raw(url, { body: INIT_REQUEST });
  assert.equal(again.status, 200, 'a new client gets a child');
  await raw(url, { method: 'DELETE', headers: sessionHeaders(again.headers.get('mcp-session-id')!) });
});

test('a stdio child that never answers initialize gets GH_UPSTREAM_TIMEOUT and is stopped (it held a maxChildren slot forever)', { timeout: 40_000 }, async (t) => {
  const { gh } = await gateway(t, { mute: { ...stdioTestServer({ mute: true }), maxChildren: 1, timeouts: { response: 1000 } } });
  const url = gh.url('mute');
  const init = await raw(url, { body: INIT_REQUEST });
  assert.equal(init.status, 200, 'the stream opened before the answer was due');
  const error = (init.messages[0] as { id: number; error: { code: number; data: { code: string } } });
  assert.equal(error.id, INIT_REQUEST.id);
  assert.equal(error.error.data.code, 'GH_UPSTREAM_TIMEOUT');
  await waitUntil(() => gh.gateway.sessionCounts().mute === 0, 'the session is ended');
  assert.ok(gh.logs.lines.some((l) => l.msg === 'upstream session ended'), 'the child was stopped');
});

test('progress restarts the wait: a long stdio call that reports progress is answered, the same call without progress times out', { timeout: 40_000 }, async (t) => {
  const stdio = everythingStdioCommand();
  const { gh, shortenResponseTimeout } = await gateway(t, { everything: stdio });
  const agent = await connectClient(gh.url('everything'));
  t.after(() => agent.close());
  shortenResponseTimeout(1000);

  const progress: number[] = [];
  const long = await agent.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 3, steps: 15 } }, undefined, {
    onprogress: (p) => progress.push(p.progress),
  });
  assert.match(JSON.stringify(long.content), /Long running operation completed/);
  assert.equal(progress.length, 15, 'the call outlived the timeout on the strength of its progress');

  const error = await agent.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 1 } }).then(
    () => assert.fail('answered after the timeout'),
    (e: unknown) => e,
  );
  assertTimeout(error);
});

test('an HTTP+SSE upstream that does not answer within timeouts.response gets GH_UPSTREAM_TIMEOUT (it hung forever)', { timeout: 40_000 }, async (t) => {
  const everything = await startEverything({ transport: 'sse' });
  t.after(() => everything.close());
  const { gh, shortenResponseTimeout } = await gateway(t, { legacy: { sse: `${everything.origin}/sse` } });
  const agent = await connectClient(gh.url('legacy'));
  t.after(() => agent.close());
  shortenResponseTimeout(1000);

  const error = await agent.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 1 } }).then(
    () => assert.fail('answered after the timeout'),
    (e: unknown) => e,
  );
  assertTimeout(error);
  const echo = await agent.client.callTool({ name: 'echo', arguments: { message: 'after' } });
  assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: after' }]);
});
