// A task a 2026-07-28 client started on a 2025-11-25 server (server-everything's task-only
// research tool, bridged by Gatehouse) keeps its answer after the bridged upstream session that
// ran it was reaped for idleness: tasks/get still reports it completed with its result inline,
// and updating or cancelling it is acknowledged (regression: once the session was reaped, the
// finished task was "not found" although Gatehouse still held its answer).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { raw, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { waitUntil } from './helpers/lifecycle-procs.ts';

const MODERN = '2026-07-28';
const TASKS = 'io.modelcontextprotocol/tasks';
const KEY = 'alice-key-tasks-reaped-0123456789';
let everything: RunningEverything;
let gh: TestGateway;

before(async () => {
  everything = await startEverything();
  gh = await startTestGateway({
    sessions: { idleTimeout: 2000 },
    servers: { http: { url: `${everything.origin}/mcp` } },
    agents: [{ id: 'alice', apiKeys: [{ value: KEY }] }],
    apis: [{ name: 'http', path: '/mcp', server: 'http', auth: { type: 'api-key' } }],
  });
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

async function modern(method: string, params: Record<string, unknown>, name?: string): Promise<Record<string, unknown>> {
  const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': { extensions: { [TASKS]: {} } }, 'io.modelcontextprotocol/clientInfo': { name: 'tasks-reaped', version: '1' } };
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method, authorization: `Bearer ${KEY}` };
  if (name !== undefined) headers['mcp-name'] = name;
  const response = await raw(gh.url('http'), { headers, body: { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } } });
  const message = response.messages.at(-1) as { result?: Record<string, unknown>; error?: unknown } | undefined;
  assert.ok(message && message.error === undefined && message.result, `${method}: ${response.status} ${response.text}`);
  return message.result;
}

test('a finished task is still answered by tasks/get after its bridged session was reaped (it was "Task not found")', { timeout: 90_000 }, async () => {
  const created = await modern('tools/call', { name: 'simulate-research-query', arguments: { topic: 'python', ambiguous: false } }, 'simulate-research-query');
  assert.equal(created.resultType, 'task');
  const taskId = String(created.taskId);
  // The task runs a few seconds; the session is held while it runs, and reaped once idle after it.
  const reaped = () => gh.logs.lines.some((l) => l.msg === 'stopping idle bridged session');
  await waitUntil(reaped, 'the bridged session is reaped after the task', 60_000);
  const done = await modern('tasks/get', { taskId }, taskId);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.equal(done.taskId, taskId);
  assert.match((done.result as { content: Array<{ text: string }> }).content[0]!.text, /Research Report: python/);
  assert.deepEqual(await modern('tasks/update', { taskId, inputResponses: {} }, taskId), { resultType: 'complete' });
  assert.deepEqual(await modern('tasks/cancel', { taskId }, taskId), { resultType: 'complete' });
});
