// stdio upstreams end to end: the real server-everything started by Gatehouse as one child per
// client session, the official SDK client (and raw HTTP for wire-level checks) as the agent.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMessageRequestSchema, ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { ERRORS } from '../src/errors.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import {
  INIT_REQUEST,
  connectClient,
  everythingStdioCommand,
  randomKeyHex,
  raw,
  rawSession,
  sessionHeaders,
  startTestGateway,
  type TestGateway,
} from './helpers/gatehouse.ts';
import { channelIdOf, isAlive, killIfAlive, stdioChildren, stdioPidOf, waitUntil } from './helpers/lifecycle-procs.ts';

const SERVER = 'everything-stdio';

interface StdioGateway {
  gh: TestGateway;
  key: string;
  url: string;
  /** Pid of the stdio child behind a session id. */
  pidOf(sessionId: string): number;
  /** Runs `fn` after the test, before Gatehouse stops (clients first, then the gateway). */
  defer(fn: () => Promise<unknown>): void;
}

/** Gatehouse in this process with server-everything over stdio at /mcp-stdio; stopped (and checked for leaked children) after the test. */
async function startStdioGateway(
  t: TestContext,
  server: Partial<Extract<ConfigInput['servers'][string], { command: string }>> = {},
  extra: Partial<ConfigInput> = {},
): Promise<StdioGateway> {
  const key = randomKeyHex();
  const stdio = everythingStdioCommand();
  const gh = await startTestGateway(
    {
      servers: { [SERVER]: { command: stdio.command, args: stdio.args, ...server } },
      apis: [{ name: SERVER, path: '/mcp-stdio', server: SERVER, auth: { type: 'keyless' } }],
      ...extra,
    },
    { key },
  );
  const deferred: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const fn of deferred.reverse()) await fn().catch(() => undefined);
    await gh.close();
    const started = gh.logs.lines.filter((l) => l.msg === 'started stdio server').map((l) => l.pid as number);
    const leaked = started.filter(isAlive);
    killIfAlive(leaked);
    assert.deepEqual(leaked, [], 'every stdio child is gone once Gatehouse has stopped');
  });
  return { gh, key, url: gh.url(SERVER), pidOf: (sessionId) => stdioPidOf(gh.logs, sessionId, key), defer: (fn) => deferred.push(fn) };
}

function rpcError(body: unknown): { code: number; message: string; data?: { code?: string } } {
  const error = (body as { error?: { code: number; message: string; data?: { code?: string } } }).error;
  assert.ok(error, `expected a JSON-RPC error, got ${JSON.stringify(body)}`);
  return error;
}

test('each client session gets its own stdio child', { timeout: 40_000 }, async (t) => {
  const env = await startStdioGateway(t);
  const a = await connectClient(env.url);
  env.defer(() => a.close());
  const b = await connectClient(env.url);
  env.defer(() => b.close());

  const pidA = env.pidOf(a.transport.sessionId!);
  const pidB = env.pidOf(b.transport.sessionId!);
  assert.notEqual(pidA, pidB, 'two sessions, two children');
  assert.ok(isAlive(pidA) && isAlive(pidB));
  const children = stdioChildren();
  assert.ok(children.includes(pidA) && children.includes(pidB), `both are children of Gatehouse (children: ${children.join(', ')})`);
  assert.equal(env.gh.gateway.sessionCounts()[SERVER], 2);

  for (const [client, word] of [
    [a.client, 'alpha'],
    [b.client, 'beta'],
  ] as const) {
    const result = await client.callTool({ name: 'echo', arguments: { message: word } });
    assert.deepEqual(result.content, [{ type: 'text', text: `Echo: ${word}` }]);
  }
});

test("a stdio child's stderr lands in Gatehouse's log under the server's name", { timeout: 40_000 }, async (t) => {
  const env = await startStdioGateway(t);
  const a = await connectClient(env.url);
  env.defer(() => a.close());
  const ch = channelIdOf(a.transport.sessionId!, env.key);
  await waitUntil(
    () => env.gh.logs.lines.some((l) => l.msg === 'Starting default (STDIO) server...' && l.session === ch),
    'the child stderr line is logged',
  );
  const line = env.gh.logs.lines.find((l) => l.msg === 'Starting default (STDIO) server...' && l.session === ch)!;
  assert.equal(line.server, SERVER);
  assert.equal(line.stream, 'stderr');
});

test('maxChildren caps the children: the next initialize gets 503 GH_TOO_MANY_SESSIONS until one ends', { timeout: 40_000 }, async (t) => {
  const env = await startStdioGateway(t, { maxChildren: 1 });
  const first = await rawSession(env.url);

  const refused = await raw(env.url, { body: INIT_REQUEST });
  assert.equal(refused.status, 503);
  const error = rpcError(refused.messages[0]);
  assert.equal(error.code, ERRORS.GH_TOO_MANY_SESSIONS.rpc);
  assert.equal(error.data?.code, 'GH_TOO_MANY_SESSIONS');
  assert.equal((refused.messages[0] as { id: unknown }).id, INIT_REQUEST.id);
  assert.equal(refused.headers.get('mcp-session-id'), null, 'no session id on a refused initialize');
  assert.equal(env.gh.gateway.sessionCounts()[SERVER], 1);
  assert.equal(stdioChildren().length, 1, 'no second child was started');

  // The first session is unaffected, and ending it frees the slot.
  const list = await raw(env.url, { headers: sessionHeaders(first), body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
  assert.equal(list.status, 200);
  assert.equal((await raw(env.url, { method: 'DELETE', headers: sessionHeaders(first) })).status, 200);
  const second = await rawSession(env.url);
  assert.ok(second !== first);
  await raw(env.url, { method: 'DELETE', headers: sessionHeaders(second) });
});

test('maxChildren counts the children a federated API starts for the server too (they were not counted)', { timeout: 60_000 }, async (t) => {
  const env = await startStdioGateway(t, { maxChildren: 2 }, {
    apis: [
      { name: SERVER, path: '/mcp-stdio', server: SERVER, auth: { type: 'keyless' } },
      { name: 'fed', path: '/fed', servers: [SERVER], namespace: { prefix: 'always' }, onUpstreamFailure: 'fail', auth: { type: 'keyless' } },
    ],
  });
  const fedUrl = env.gh.url('fed');
  const direct = await rawSession(env.url);
  const federated = await rawSession(fedUrl);
  assert.equal(stdioChildren().length, 2, 'one child for the direct session, one for the federated one');

  // Both slots are taken: a direct session and a federated one are refused alike.
  const refused = await raw(env.url, { body: INIT_REQUEST });
  assert.equal(refused.status, 503);
  assert.equal(rpcError(refused.messages[0]).data?.code, 'GH_TOO_MANY_SESSIONS');
  const refusedFederated = await raw(fedUrl, { body: INIT_REQUEST });
  // (A federated API answers its initialize in the stream: an error naming the server and why.)
  assert.match(JSON.stringify(refusedFederated.messages[0]), /"error".*already runs 2 children \(its maxChildren\)/, 'the federated API cannot start a third child');
  assert.equal(stdioChildren().length, 2, 'no third child was started');

  // Ending the federated session frees its child's slot for the next client.
  assert.equal((await raw(fedUrl, { method: 'DELETE', headers: sessionHeaders(federated) })).status, 200);
  await waitUntil(() => stdioChildren().length === 1, 'the federated child exits', 10_000);
  const next = await rawSession(env.url);
  await raw(env.url, { method: 'DELETE', headers: sessionHeaders(next) });
  await raw(env.url, { method: 'DELETE', headers: sessionHeaders(direct) });
});

test('an idle session is reaped: its child stops and the session then answers 404', { timeout: 40_000 }, async (t) => {
  const env = await startStdioGateway(t, { idleTimeout: '1s' });
  const session = await rawSession(env.url);
  const pid = env.pidOf(session);
  const ch = channelIdOf(session, env.key);
  assert.ok(isAlive(pid));

  await waitUntil(() => !isAlive(pid), 'the idle child has stopped', 15_000);
  assert.equal(env.gh.gateway.sessionCounts()[SERVER], 0);
  assert.ok(env.gh.logs.lines.some((l) => l.msg === 'stopping idle session' && l.session === ch));

  const after = await raw(env.url, { headers: sessionHeaders(session), body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
  assert.equal(after.status, 404);
  assert.equal(rpcError(after.messages[0]).code, ERRORS.GH_SESSION_NOT_FOUND.rpc);
});

test('a child killed mid-call: the call fails with a JSON-RPC error, the session is gone (404), a new session works', { timeout: 40_000 }, async (t) => {
  const env = await startStdioGateway(t);
  const a = await connectClient(env.url);
  env.defer(() => a.close());
  const sessionId = a.transport.sessionId!;
  const pid = env.pidOf(sessionId);

  let progressed!: () => void;
  const firstProgress = new Promise<void>((resolve) => (progressed = resolve));
  const call = a.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }, undefined, {
    onprogress: () => progressed(),
  });
  const outcome = call.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  await firstProgress; // the call is in flight on the child
  process.kill(pid, 'SIGKILL');

  const settled = await outcome;
  assert.ok('error' in settled, `the call must fail, got ${JSON.stringify(settled)}`);
  assert.ok(settled.error instanceof McpError, `a JSON-RPC error, got ${String(settled.error)}`);
  assert.equal(settled.error.code, ERRORS.GH_UPSTREAM_EXITED.rpc);
  assert.match(settled.error.message, /SIGKILL/);
  await waitUntil(() => !isAlive(pid), 'the killed child is reaped');

  const next = await raw(env.url, { headers: sessionHeaders(sessionId), body: { jsonrpc: '2.0', id: 99, method: 'tools/list' } });
  assert.equal(next.status, 404);
  assert.equal(rpcError(next.messages[0]).code, ERRORS.GH_SESSION_NOT_FOUND.rpc);
  await assert.rejects(a.client.listTools(), 'the SDK client sees an error on the dead session');

  const b = await connectClient(env.url);
  env.defer(() => b.close());
  assert.notEqual(env.pidOf(b.transport.sessionId!), pid);
  const echo = await b.client.callTool({ name: 'echo', arguments: { message: 'again' } });
  assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: again' }]);
});

test('a command that does not exist: initialize gets 502 naming it, Gatehouse stays up', { timeout: 40_000 }, async (t) => {
  const missing = 'gatehouse-test-no-such-command';
  const stdio = everythingStdioCommand();
  const env = await startStdioGateway(t, {}, {
    servers: {
      [SERVER]: { command: stdio.command, args: stdio.args },
      missing: { command: missing, args: ['stdio'] },
    },
    apis: [
      { name: SERVER, path: '/mcp-stdio', server: SERVER, auth: { type: 'keyless' } },
      { name: 'missing', path: '/missing', server: 'missing', auth: { type: 'keyless' } },
    ],
  });

  const failed = await raw(env.gh.url('missing'), { body: INIT_REQUEST });
  assert.equal(failed.status, 502);
  const error = rpcError(failed.messages[0]);
  assert.equal(error.code, ERRORS.GH_UPSTREAM_UNAVAILABLE.rpc);
  assert.ok(error.message.includes(missing), `the message names the command: ${error.message}`);
  assert.match(error.message, /could not be started/);
  assert.match(error.message, /ENOENT/);
  assert.equal(env.gh.gateway.sessionCounts().missing, 0);

  // Again (no slot leaked), then the rest of the gateway is unaffected.
  assert.equal((await raw(env.gh.url('missing'), { body: INIT_REQUEST })).status, 502);
  const health = await raw(`${env.gh.origin}/-/health`, { method: 'GET', headers: {} });
  assert.equal(health.status, 200);
  const ok = await connectClient(env.url);
  env.defer(() => ok.close());
  assert.ok((await ok.client.listTools()).tools.some((tool) => tool.name === 'echo'));
});

test('progress notifications, sampling and elicitation requests reach the SDK client through a stdio upstream', { timeout: 40_000 }, async (t) => {
  const env = await startStdioGateway(t);
  const a = await connectClient(env.url, { capabilities: { capabilities: { sampling: {}, elicitation: {} } } });
  env.defer(() => a.close());
  const sampled: string[] = [];
  a.client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const content = request.params.messages[0]?.content;
    sampled.push(content && 'text' in content ? String(content.text) : '');
    return { role: 'assistant', model: 'test-model', content: { type: 'text', text: 'sampled by the test client' } };
  });
  let elicited = '';
  a.client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicited = request.params.message;
    return { action: 'accept', content: { name: 'Ada Lovelace' } };
  });

  const names = (await a.client.listTools()).tools.map((tool) => tool.name);
  assert.ok(names.includes('trigger-sampling-request'), `sampling tool listed (${names.join(', ')})`);
  assert.ok(names.includes('trigger-elicitation-request'), 'elicitation tool listed');

  const progress: Array<{ progress: number; total?: number }> = [];
  const long = await a.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } }, undefined, {
    onprogress: (p) => progress.push({ progress: p.progress, total: p.total }),
  });
  assert.deepEqual(progress, [
    { progress: 1, total: 3 },
    { progress: 2, total: 3 },
    { progress: 3, total: 3 },
  ]);
  assert.match(JSON.stringify(long.content), /Long running operation completed/);

  const sampling = await a.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'write a haiku' } });
  assert.equal(sampled.length, 1);
  assert.match(sampled[0]!, /write a haiku/);
  assert.match(JSON.stringify(sampling.content), /sampled by the test client/);

  const elicitation = await a.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
  assert.match(elicited, /Please provide inputs/);
  assert.match(JSON.stringify(elicitation.content), /Name: Ada Lovelace/);
});

type SseMessage = { id?: string; data: unknown };

/** Reads SSE events from a fetch body until it ends, or until an event satisfies `stop`. */
async function readEvents(body: ReadableStream<Uint8Array>, stop: (event: SseMessage) => boolean = () => false): Promise<SseMessage[]> {
  const events: SseMessage[] = [];
  let stopped = false;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    while (!stopped) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while (!stopped && (end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split('\n');
        const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        const id = lines.find((l) => l.startsWith('id:'))?.slice(3).trim();
        if (data === '') continue;
        const event: SseMessage = { ...(id === undefined ? {} : { id }), data: JSON.parse(data) as unknown };
        events.push(event);
        stopped = stop(event);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return events;
}

test('a GET with Last-Event-ID resumes a broken response stream: missed events are replayed', { timeout: 40_000 }, async (t) => {
  const env = await startStdioGateway(t);
  const session = await rawSession(env.url);
  env.defer(() => raw(env.url, { method: 'DELETE', headers: sessionHeaders(session) }));
  const steps = 4;

  // Start a long call, read its first event, then drop the connection.
  const abort = new AbortController();
  const response = await fetch(env.url, {
    method: 'POST',
    headers: sessionHeaders(session),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'trigger-long-running-operation', arguments: { duration: 2, steps }, _meta: { progressToken: 'tok' } },
    }),
    signal: abort.signal,
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  // The stream may also carry unrelated server notifications (e.g. tools/list_changed) before it.
  const isProgress = (e: SseMessage) => (e.data as { method?: string }).method === 'notifications/progress';
  const before = await readEvents(response.body!, isProgress);
  abort.abort();
  const first = before.at(-1);
  assert.ok(first && isProgress(first), 'a progress notification arrived before the connection was dropped');
  assert.ok(first.id, 'events carry ids');
  const match = /^(.+)\.(\d+)$/.exec(first.id);
  assert.ok(match, `event id is <stream>.<seq>: ${first.id}`);
  const [, stream, seq] = match;

  // Resume while the call is still running: the rest arrives on the new stream, which ends with the result.
  const resumed = await fetch(env.url, { method: 'GET', headers: { ...sessionHeaders(session), accept: 'text/event-stream', 'last-event-id': first.id } });
  assert.equal(resumed.status, 200);
  const rest = await readEvents(resumed.body!);
  assert.ok(rest.length >= steps, `the ${steps - 1} remaining progress notifications and the result were replayed (${rest.length} events)`);
  assert.deepEqual(
    rest.map((e) => e.id),
    Array.from({ length: rest.length }, (_, i) => `${stream}.${Number(seq) + 1 + i}`),
    'no gap and no repeat after the last seen event',
  );
  const progress = [first, ...rest].filter(isProgress);
  assert.deepEqual(
    progress.map((e) => (e.data as { params: { progress: number } }).params.progress),
    Array.from({ length: steps }, (_, i) => i + 1),
  );
  const result = rest.at(-1)!.data as { id: number; result?: { content: unknown } };
  assert.equal(result.id, 7);
  assert.match(JSON.stringify(result.result?.content), /Long running operation completed/);

  // After the stream has finished, the buffer still replays it.
  const again = await fetch(env.url, { method: 'GET', headers: { ...sessionHeaders(session), accept: 'text/event-stream', 'last-event-id': first.id } });
  assert.equal(again.status, 200);
  assert.deepEqual(await readEvents(again.body!), rest);

  // The session itself is still usable.
  const list = await raw(env.url, { headers: sessionHeaders(session), body: { jsonrpc: '2.0', id: 8, method: 'tools/list' } });
  assert.equal(list.status, 200);
});

test('a response stream that completed can still be resumed with Last-Event-ID: its connection may break after the last write, before the client read it (completed streams were not kept)', { timeout: 40_000 }, async (t) => {
  const env = await startStdioGateway(t);
  const session = await rawSession(env.url);
  env.defer(() => raw(env.url, { method: 'DELETE', headers: sessionHeaders(session) }));
  const response = await fetch(env.url, {
    method: 'POST',
    headers: sessionHeaders(session),
    body: JSON.stringify({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 0.2, steps: 3 }, _meta: { progressToken: 'done' } } }),
  });
  assert.equal(response.status, 200);
  const all = await readEvents(response.body!);
  const answer = all.at(-1)!;
  assert.equal((answer.data as { id?: number }).id, 11, 'the stream completed with its answer');
  const first = all.find((e) => (e.data as { method?: string }).method === 'notifications/progress');
  assert.ok(first?.id, 'a progress event with an id came first');
  // A later request on the session: the completed stream is still among the recent ones.
  assert.equal((await raw(env.url, { headers: sessionHeaders(session), body: { jsonrpc: '2.0', id: 12, method: 'tools/list' } })).status, 200);
  const resumed = await fetch(env.url, { method: 'GET', headers: { ...sessionHeaders(session), accept: 'text/event-stream', 'last-event-id': first.id } });
  assert.equal(resumed.status, 200);
  const rest = await readEvents(resumed.body!);
  assert.deepEqual(rest, all.slice(all.indexOf(first) + 1), 'everything after the last seen event, the answer last');
});

test('DELETE ends the session and stops its child', { timeout: 40_000 }, async (t) => {
  const env = await startStdioGateway(t);
  const session = await rawSession(env.url);
  const pid = env.pidOf(session);
  assert.ok(isAlive(pid));
  assert.equal(env.gh.gateway.sessionCounts()[SERVER], 1);

  const deleted = await raw(env.url, { method: 'DELETE', headers: sessionHeaders(session) });
  assert.equal(deleted.status, 200);
  assert.ok(!isAlive(pid), 'the child has exited by the time DELETE answers');
  assert.equal(env.gh.gateway.sessionCounts()[SERVER], 0);

  const after = await raw(env.url, { headers: sessionHeaders(session), body: { jsonrpc: '2.0', id: 3, method: 'ping' } });
  assert.equal(after.status, 404);
});
