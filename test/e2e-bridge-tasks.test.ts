// Tasks across the eras: a 2026-07-28 client (the tasks extension, io.modelcontextprotocol/tasks)
// on server-everything, a 2025-11-25 server built with SDK 1.x whose `simulate-research-query`
// tool runs only as a task (over Streamable HTTP and over stdio). Gatehouse runs the call as a
// 2025 task, answers `resultType: "task"` with a task id sealed to the agent, and serves
// `tasks/get` (result, error and questions inline), `tasks/update` and `tasks/cancel`. The 2.x
// client SDK does not implement the tasks extension (it refuses `resultType: "task"`), so the
// 2026-07-28 side is spoken here as the extension's specification writes it: plain POSTs with the
// `_meta` envelope and the routing headers. 2025 clients (SDK 1.x, its experimental task API) are
// forwarded as before: their tasks/list shows their own tasks only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { everythingStdioCommand, raw, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';

const MODERN = '2026-07-28';
const TASKS = 'io.modelcontextprotocol/tasks';
const KEYS = { alice: 'alice-key-0123456789abcdef', bob: 'bob-key-0123456789abcdef-bob', carol: 'carol-key-0123456789abcdef' } as const;
type Agent = keyof typeof KEYS;
const RESEARCH = 'simulate-research-query';
const TASK_NAMED = new Set(['tasks/get', 'tasks/update', 'tasks/cancel']);
/** A bound on polling: server-everything's research task takes about 4 s. */
const POLL_LIMIT_MS = 60_000;

let everything: RunningEverything;
let gh: TestGateway;

before(async () => {
  everything = await startEverything();
  const stdio = everythingStdioCommand();
  const acl = {
    acl: {
      rules: [
        { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }], condition: 'agent.id == "alice" || agent.id == "bob"' },
        { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }], condition: 'agent.id == "carol"' },
      ],
    },
  };
  gh = await startTestGateway({
    servers: { http: { url: `${everything.origin}/mcp` }, stdio: { command: stdio.command, args: stdio.args } },
    agents: (Object.keys(KEYS) as Agent[]).map((id) => ({ id, apiKeys: [{ value: KEYS[id] }] })),
    apis: [
      { name: 'http', path: '/mcp', server: 'http', auth: { type: 'api-key' }, policies: [acl] },
      { name: 'stdio', path: '/mcp-stdio', server: 'stdio', auth: { type: 'api-key' }, policies: [acl] },
      // No rule grants tools/call: nothing can be run as a task.
      { name: 'list-only', path: '/mcp-list-only', server: 'http', auth: { type: 'api-key' }, policies: [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list'], pattern: { type: 'any' } }] }] } }] },
    ],
  } as never);
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

interface Rpc {
  readonly status: number;
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string; data?: unknown };
}

/** One 2026-07-28 request as SEP-2663 and the base revision write it: `_meta` envelope, routing headers. */
async function modern(api: string, agent: Agent, method: string, params: Record<string, unknown>, options: { tasks?: boolean; name?: string } = {}): Promise<Rpc> {
  const capabilities = options.tasks === false ? { elicitation: { form: {} } } : { elicitation: { form: {} }, extensions: { [TASKS]: {} } };
  const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': capabilities, 'io.modelcontextprotocol/clientInfo': { name: 'tasks-e2e', version: '1' } };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    authorization: `Bearer ${KEYS[agent]}`,
  };
  // Mcp-Name: the tool's name, or the task id for the extension's methods (SEP-2663, "Routing Headers").
  const name = options.name ?? (TASK_NAMED.has(method) ? params.taskId : method === 'tools/call' ? params.name : undefined);
  if (name !== undefined && typeof name !== 'string') throw new Error('Mcp-Name must be a string');
  if (name !== undefined) headers['mcp-name'] = name;
  const response = await raw(gh.url(api), { headers, body: { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } } });
  const message = response.messages.at(-1) as { result?: Record<string, unknown>; error?: Rpc['error'] } | undefined;
  assert.ok(message, `${method}: no JSON-RPC answer (${response.status}) ${response.text}`);
  return { status: response.status, result: message.result, error: message.error };
}

/** tasks/get until `done` holds of the task (at the server's poll interval), within POLL_LIMIT_MS. */
async function pollUntil(api: string, agent: Agent, taskId: string, done: (task: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  for (;;) {
    const got = await modern(api, agent, 'tasks/get', { taskId });
    assert.equal(got.error, undefined, JSON.stringify(got.error));
    const task = got.result!;
    if (done(task)) return task;
    assert.ok(Date.now() < deadline, `task still ${String(task.status)} after ${POLL_LIMIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, typeof task.pollIntervalMs === 'number' ? Math.min(task.pollIntervalMs, 1000) : 250));
  }
}

async function startResearch(api: string, agent: Agent, ambiguous = false): Promise<Record<string, unknown>> {
  const created = await modern(api, agent, 'tools/call', { name: RESEARCH, arguments: { topic: 'python', ambiguous } });
  assert.equal(created.error, undefined, JSON.stringify(created.error));
  return created.result!;
}

test('server/discover offers the tasks extension of a 2025 server that runs tools as tasks, and a 2026-07-28 SDK client still connects', async () => {
  const discovered = await modern('stdio', 'alice', 'server/discover', {});
  const capabilities = discovered.result!.capabilities as Record<string, unknown>;
  assert.deepEqual((capabilities.extensions as Record<string, unknown>)[TASKS], {});
  assert.equal(capabilities.tasks, undefined, '2025 vocabulary is not shown');
  // An agent that may call no tool is not offered tasks (the ACL trims what it cannot use).
  const listOnly = await modern('list-only', 'alice', 'server/discover', {});
  assert.equal(((listOnly.result!.capabilities as Record<string, unknown>).extensions as Record<string, unknown> | undefined)?.[TASKS], undefined);
  const client = new ModernClient({ name: 'tasks-e2e', version: '1' }, { versionNegotiation: { mode: { pin: MODERN } } });
  await client.connect(new ModernTransport(new URL(gh.url('stdio')), { requestInit: { headers: { authorization: `Bearer ${KEYS.alice}` } } }));
  try {
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
    const tools = await client.listTools();
    const research = tools.tools.find((t) => t.name === RESEARCH);
    assert.ok(research, 'the task tool is listed');
    assert.equal((research as { execution?: unknown }).execution, undefined, 'execution is not 2026-07-28 vocabulary');
  } finally {
    await client.close();
  }
});

for (const api of ['http', 'stdio'] as const) {
  test(`${api}: a 2026-07-28 client starts a task, polls it to completion and reads the result inline`, async () => {
    const created = await startResearch(api, 'alice');
    assert.equal(created.resultType, 'task');
    assert.match(String(created.taskId), /^ght1\./, 'the server\'s task id is sealed');
    assert.equal(created.status, 'working');
    assert.equal(created.ttlMs, 300_000);
    assert.equal(created.pollIntervalMs, 1000);
    assert.equal(created.task, undefined, 'no 2025 shape');
    const done = await pollUntil(api, 'alice', String(created.taskId), (t) => t.status !== 'working');
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.resultType, 'complete');
    assert.equal(done.taskId, created.taskId);
    const result = done.result as { content: Array<{ text: string }> };
    assert.match(result.content[0]!.text, /Research Report: python/);
  });

  test(`${api}: a task's question is asked in tasks/get (input_required) and answered with tasks/update`, async () => {
    const created = await startResearch(api, 'alice', true);
    const asking = await pollUntil(api, 'alice', String(created.taskId), (t) => t.status !== 'working');
    assert.equal(asking.status, 'input_required', JSON.stringify(asking));
    const requests = asking.inputRequests as Record<string, { method: string; params: { message: string } }>;
    const [key, question] = Object.entries(requests)[0]!;
    assert.equal(question.method, 'elicitation/create');
    assert.match(question.params.message, /multiple interpretations/);
    const updated = await modern(api, 'alice', 'tasks/update', { taskId: created.taskId, inputResponses: { [key]: { action: 'accept', content: { interpretation: 'snake' } } } });
    assert.deepEqual(updated.result, { resultType: 'complete' });
    const done = await pollUntil(api, 'alice', String(created.taskId), (t) => t.status === 'completed' || t.status === 'failed' || t.status === 'cancelled');
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.match((done.result as { content: Array<{ text: string }> }).content[0]!.text, /Clarification\*\*: snake/);
  });

  test(`${api}: tasks/cancel cancels a running task`, async () => {
    const created = await startResearch(api, 'alice');
    const cancelled = await modern(api, 'alice', 'tasks/cancel', { taskId: created.taskId });
    assert.deepEqual(cancelled.result, { resultType: 'complete' });
    const task = await pollUntil(api, 'alice', String(created.taskId), (t) => t.status !== 'working');
    assert.equal(task.status, 'cancelled');
    // Cancelling a task that has ended is acknowledged again (idempotent), though the 2025 server refuses it.
    const again = await modern(api, 'alice', 'tasks/cancel', { taskId: created.taskId });
    assert.deepEqual(again.result, { resultType: 'complete' }, JSON.stringify(again.error));
  });

  test(`${api}: another agent cannot reach a task: tasks/get, tasks/update and tasks/cancel answer as for a task that does not exist`, async () => {
    const created = await startResearch(api, 'alice');
    const missing = await modern(api, 'bob', 'tasks/get', { taskId: 'ght1.no-such-task' });
    assert.equal(missing.error?.code, -32602);
    for (const [method, extra] of [['tasks/get', {}], ['tasks/update', { inputResponses: {} }], ['tasks/cancel', {}]] as const) {
      const refused = await modern(api, 'bob', method, { taskId: created.taskId, ...extra });
      assert.deepEqual(refused.error, missing.error, `${method} of another agent's task`);
    }
    // The task ran on, untouched: its owner still sees it.
    const mine = await pollUntil(api, 'alice', String(created.taskId), (t) => t.status !== 'working');
    assert.equal(mine.status, 'completed');
  });
}

test('tasks/list and tasks/result are not part of the 2026-07-28 tasks extension: 404 with -32601', async () => {
  for (const method of ['tasks/list', 'tasks/result']) {
    const answer = await modern('stdio', 'alice', method, method === 'tasks/result' ? { taskId: 'ght1.x' } : {});
    assert.equal(answer.status, 404, method);
    assert.equal(answer.error?.code, -32601, method);
  }
});

test('a client that did not declare the extension: a task-only tool and tasks/get are refused with -32021 naming it', async () => {
  const call = await modern('stdio', 'alice', 'tools/call', { name: RESEARCH, arguments: { topic: 'x' } }, { tasks: false });
  assert.equal(call.error?.code, -32021, JSON.stringify(call));
  assert.deepEqual(call.error?.data, { requiredCapabilities: { extensions: { [TASKS]: {} } } });
  const get = await modern('stdio', 'alice', 'tasks/get', { taskId: 'ght1.x' }, { tasks: false });
  assert.equal(get.error?.code, -32021);
  // Tools that are not tasks are called as ever.
  const echo = await modern('stdio', 'alice', 'tools/call', { name: 'echo', arguments: { message: 'hi' } }, { tasks: false });
  assert.deepEqual((echo.result as { content: unknown }).content, [{ type: 'text', text: 'Echo: hi' }]);
});

test('a 2025-style task request from a 2026-07-28 client is ignored: a plain tool stays a plain call', async () => {
  // Regression: the bridge passed params.task on to the 2025 server, which made a task of a tool
  // that has none and answered a CreateTaskResult the client never asked for.
  const call = await modern('stdio', 'alice', 'tools/call', { name: 'echo', arguments: { message: 'legacy hint' }, task: { ttl: 60_000 } });
  assert.equal(call.error, undefined, JSON.stringify(call.error));
  assert.equal(call.result?.resultType, 'complete');
  assert.deepEqual(call.result?.content, [{ type: 'text', text: 'Echo: legacy hint' }]);
});

test('the ACL decides the tool of a task-augmented call: a denied tool cannot be started as a task', async () => {
  const denied = await modern('stdio', 'carol', 'tools/call', { name: RESEARCH, arguments: { topic: 'x' } });
  assert.notEqual(denied.result?.resultType, 'task', 'no task was created');
  assert.equal(denied.result?.taskId, undefined);
  // Answered as the unknown tool it is for carol, exactly as a call without a task.
  const plain = await modern('stdio', 'carol', 'tools/call', { name: RESEARCH, arguments: { topic: 'x' } }, { tasks: false });
  assert.deepEqual(denied, plain);
  assert.match(JSON.stringify(denied), /Tool simulate-research-query not found/);
});

test('forwarded 2025 clients (SDK 1.x) run tasks as before, and tasks/list shows each agent its own tasks only', async () => {
  const connect = async (agent: Agent) => {
    const client = new Client({ name: `tasks-${agent}`, version: '1' }, { capabilities: {} });
    await client.connect(new StreamableHTTPClientTransport(new URL(gh.url('http')), { requestInit: { headers: { authorization: `Bearer ${KEYS[agent]}` } } }));
    return client;
  };
  const alice = await connect('alice');
  const bob = await connect('bob');
  try {
    let taskId: string | undefined;
    let text = '';
    for await (const message of alice.experimental.tasks.callToolStream({ name: RESEARCH, arguments: { topic: 'rust' } }, undefined, { task: { ttl: 60_000 } })) {
      if (message.type === 'taskCreated') taskId = message.task.taskId;
      if (message.type === 'result') text = JSON.stringify(message.result);
      if (message.type === 'error') assert.fail(String(message.error));
    }
    assert.ok(taskId);
    assert.match(text, /Research Report: rust/);
    const own = await alice.experimental.tasks.listTasks();
    assert.ok(own.tasks.some((t) => t.taskId === taskId));
    const others = await bob.experimental.tasks.listTasks();
    assert.ok(!others.tasks.some((t) => t.taskId === taskId), 'bob does not see alice\'s task');
    await assert.rejects(bob.experimental.tasks.getTask(taskId), /not found/i);
  } finally {
    await alice.close();
    await bob.close();
  }
});
