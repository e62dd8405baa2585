// Tasks of a member that speaks 2026-07-28 itself (the tasks extension, SEP-2663) through a
// federated API and a virtual server: the member is built with the v2 server SDK and refuses 2025
// clients (helpers/tasks-server.ts, the server of the single-server bridge's task tests), beside
// server-everything (2025). The official SDK 1.x client (2025-11-25 tasks) and a 2026-07-28 client
// (the extension, spoken as its specification writes it) each start a task on the member's tool,
// poll it, get its result, answer its question, cancel one and list them (2025), by the ids
// Gatehouse gives them: `ghf1.…` for 2025 clients, the seal of every member's task id; `ght1.…`
// for 2026-07-28 clients, whose task requests go to the member as they are. Another agent's id, an altered one and the member's own are tasks that do not exist;
// the ACL decides a task call by the name the agent used.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ElicitRequestSchema, GetTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { raw, startEverything, startTestGateway, tempDir, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startTasksServer, type RunningTasksServer } from './helpers/tasks-server.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { POLL_LIMIT_MS, allTasks, startTask, waitForStatus } from './helpers/legacy-task-client.ts';

const KEYS = { alice: 'alice-key-modern-member-tasks-01', bob: 'bob-key-modern-member-tasks-0123' } as const;
type Agent = keyof typeof KEYS;
const MODERN = '2026-07-28';
const TASKS = 'io.modelcontextprotocol/tasks';
const RELATED = 'io.modelcontextprotocol/related-task';
const TASK = { task: { ttl: 60_000 } };

let member: RunningTasksServer;
let everything: RunningEverything;
let gh: TestGateway;

before(async () => {
  [member, everything] = await Promise.all([startTasksServer(), startEverything()]);
  gh = await startTestGateway({
    servers: { modern: { url: member.url }, everything: { url: `${everything.origin}/mcp` } },
    agents: (Object.keys(KEYS) as Agent[]).map((id) => ({ id, apiKeys: [{ value: KEYS[id] }] })),
    apis: [
      {
        name: 'workspace',
        path: '/mcp',
        servers: ['modern', 'everything'],
        auth: { type: 'api-key' },
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }] },
                // Bob may not run the member's `ask`, by the name agents use.
                { effect: 'deny', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'modern__ask' } }], condition: 'agent.id == "bob"' },
              ],
            },
          },
        ],
      },
      { name: 'support', path: '/support', auth: { type: 'api-key' }, tools: [{ server: 'modern', name: 'slow', as: 'job', arguments: { fixed: { label: 'fixed' } } }] },
    ],
    audit: {},
  } as never);
});

after(async () => {
  await gh?.close();
  await Promise.all([member?.close(), everything?.close()]);
});

async function connect(agent: Agent, api = 'workspace', elicited: unknown[] = []): Promise<Client> {
  const client = new Client({ name: `member-tasks-${agent}`, version: '1' }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicited.push(request.params);
    return { action: 'accept', content: { name: 'Ada' } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url(api)), { requestInit: { headers: { authorization: `Bearer ${KEYS[agent]}` } } }));
  return client;
}

/** The id with one character of its sealed part changed. */
function altered(id: string): string {
  const at = id.length - 5;
  return id.slice(0, at) + (id[at] === 'A' ? 'B' : 'A') + id.slice(at + 1);
}

function callsOf(tool: string): number {
  return member.received.filter((r) => r.body.method === 'tools/call' && (r.body.params as { name?: string }).name === tool).length;
}

test('2025 client: initialize offers tasks from the 2026-07-28 member (not its extension), and its tools may run as tasks', async () => {
  const alice = await connect('alice');
  try {
    const capabilities = alice.getServerCapabilities() as Record<string, unknown>;
    assert.deepEqual(capabilities.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    assert.equal((capabilities.extensions as Record<string, unknown> | undefined)?.[TASKS], undefined);
    const tools = new Map((await alice.listTools()).tools.map((t) => [t.name, t]));
    assert.equal(tools.get('modern__slow')?.execution?.taskSupport, 'optional');
    assert.equal(tools.get('everything__simulate-research-query')?.execution?.taskSupport, 'required');
  } finally {
    await alice.close();
  }
});

test('2025 client: a task of the 2026-07-28 member is created, polled, read and listed under a sealed id; its question is asked during tasks/result', { timeout: 60_000 }, async () => {
  const elicited: Array<{ _meta?: Record<string, unknown> }> = [];
  const alice = await connect('alice', 'workspace', elicited);
  try {
    const taskId = await startTask(alice, 'modern__slow', { ms: 200, label: 'first' });
    assert.match(taskId, /^ghf1\./, 'the member\'s id is sealed as every member\'s is');
    assert.ok(![...member.tasks.keys()].some((id) => taskId.includes(id)), 'the member\'s own id does not show');
    const call = [...member.received].reverse().find((r) => r.body.method === 'tools/call' && (r.body.params as { arguments?: { label?: string } }).arguments?.label === 'first')!;
    const params = call.body.params as Record<string, unknown>;
    assert.equal(params.task, undefined, '2026-07-28 has no task request: the member decides');
    assert.ok(JSON.stringify(params._meta).includes(`"${TASKS}":{}`), 'the extension is declared on the call');

    const done = await waitForStatus(alice, taskId, (s) => s !== 'working');
    assert.deepEqual([done.status, done.taskId], ['completed', taskId]);
    const result = await alice.request({ method: 'tasks/result', params: { taskId } }, CallToolResultSchema);
    assert.deepEqual(result.content, [{ type: 'text', text: 'done: first' }]);
    assert.deepEqual(result._meta?.[RELATED], { taskId }, 'the related-task tag names the client\'s id');

    // A task that asks: the question comes during tasks/result, tagged with the client's id; the answer goes back with tasks/update.
    let asked: string | undefined;
    let text = '';
    for await (const message of alice.experimental.tasks.callToolStream({ name: 'modern__ask', arguments: {} }, undefined, TASK)) {
      if (message.type === 'taskCreated') asked = message.task.taskId;
      if (message.type === 'result') text = JSON.stringify(message.result);
      if (message.type === 'error') assert.fail(String(message.error));
    }
    assert.match(String(asked), /^ghf1\./);
    assert.equal(elicited.length, 1);
    assert.deepEqual(elicited[0]!._meta?.[RELATED], { taskId: asked });
    assert.match(text, /Hello, Ada!/);
    assert.ok(member.received.some((r) => r.body.method === 'tasks/update'));

    // A task of server-everything beside it: tasks/list pages through both members.
    const research = await startTask(alice, 'everything__simulate-research-query', { topic: 'lists' });
    const listed = await allTasks(alice);
    for (const id of [taskId, asked!, research]) assert.ok(listed.includes(id), `${id} listed: ${listed.join(', ')}`);
    assert.equal(new Set(listed).size, listed.length, 'no task listed twice');
  } finally {
    await alice.close();
  }
});

test('2025 client: a call the member answers at once is still the task the client asked for; cancelling a task goes to the member', { timeout: 60_000 }, async () => {
  const alice = await connect('alice');
  try {
    const inline = await startTask(alice, 'modern__echo', { message: 'now' });
    assert.match(inline, /^ghf1\./);
    assert.equal((await alice.experimental.tasks.getTask(inline)).status, 'completed');
    const echoed = await alice.request({ method: 'tasks/result', params: { taskId: inline } }, CallToolResultSchema);
    assert.deepEqual(echoed.content, [{ type: 'text', text: 'Echo: now' }]);

    const waiting = await startTask(alice, 'modern__slow', { ms: 600_000, label: 'long' });
    const cancelled = await alice.experimental.tasks.cancelTask(waiting);
    assert.deepEqual([cancelled.status, cancelled.taskId], ['cancelled', waiting]);
    assert.equal((await alice.experimental.tasks.getTask(waiting)).status, 'cancelled');
    assert.ok([...member.tasks.values()].some((t) => t.status === 'cancelled'), 'the member cancelled it');
  } finally {
    await alice.close();
  }
});

test('2025 client: another agent\'s id, an altered id and the member\'s own id are tasks that do not exist; the ACL decides by the name the agent used', { timeout: 60_000 }, async () => {
  const alice = await connect('alice');
  const bob = await connect('bob');
  try {
    const own = await startTask(alice, 'modern__slow', { ms: 200, label: 'private' });
    const upstream = [...member.tasks.keys()].at(-1)!;
    for (const [who, id] of [[bob, own], [alice, altered(own)], [alice, upstream], [alice, `:${upstream}`]] as const) {
      for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel'] as const) {
        await assert.rejects(who.request({ method, params: { taskId: id } }, GetTaskResultSchema), (error: { code?: number; message?: string }) => {
          assert.equal(error.code, -32602, `${method}: ${error.message}`);
          assert.match(String(error.message), /Task not found/);
          return true;
        });
      }
    }
    assert.ok(!(await allTasks(bob)).includes(own), 'bob does not list alice\'s task');
    assert.equal((await waitForStatus(alice, own, (s) => s !== 'working')).status, 'completed');

    const count = callsOf('ask');
    const denied = await bob.request({ method: 'tools/call', params: { name: 'modern__ask', arguments: {}, ...TASK } }, CallToolResultSchema).catch((error: Error) => error);
    assert.match(JSON.stringify(denied instanceof Error ? denied.message : denied), /modern__ask/);
    assert.equal(callsOf('ask'), count, 'the denied task was never started');
  } finally {
    await alice.close();
    await bob.close();
  }
  const events = await recordsWhen(gh.gateway, { api: 'workspace' }, (all) => all.some((e) => e.method === 'tools/call' && e.target === 'modern__ask' && e.decision === 'denied'));
  assert.ok(events.some((e) => e.method === 'tools/call' && e.target === 'modern__slow' && e.server === 'modern' && e.originalTarget === 'slow' && e.decision === 'allowed'));
});

test('2025 client of a virtual server: the member\'s task tool keeps its task support and its fixed argument', { timeout: 30_000 }, async () => {
  const alice = await connect('alice', 'support');
  try {
    assert.deepEqual(alice.getServerCapabilities()?.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    const job = (await alice.listTools()).tools.find((t) => t.name === 'job');
    assert.equal(job?.execution?.taskSupport, 'optional');
    const taskId = await startTask(alice, 'job', { ms: 100 });
    assert.match(taskId, /^ghf1\./);
    assert.equal((await waitForStatus(alice, taskId, (s) => s !== 'working')).status, 'completed');
    const result = await alice.request({ method: 'tasks/result', params: { taskId } }, CallToolResultSchema);
    assert.deepEqual(result.content, [{ type: 'text', text: 'done: fixed' }]);
    assert.ok((await allTasks(alice)).includes(taskId));
  } finally {
    await alice.close();
  }
});

/** One 2026-07-28 request as SEP-2663 and the base revision write it: `_meta` envelope, routing headers. */
async function modern(agent: Agent, method: string, params: Record<string, unknown>, name?: string, options: { api?: string; tasks?: boolean; client?: string; url?: string } = {}): Promise<{ status: number; result?: Record<string, unknown>; error?: { code: number; message: string } }> {
  const capabilities = options.tasks === false ? { elicitation: { form: {} } } : { elicitation: { form: {} }, extensions: { [TASKS]: {} } };
  const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': capabilities, 'io.modelcontextprotocol/clientInfo': { name: options.client ?? 'member-tasks', version: '1' } };
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method, authorization: `Bearer ${KEYS[agent]}` };
  if (name !== undefined) headers['mcp-name'] = name;
  const response = await raw(options.url ?? gh.url(options.api ?? 'workspace'), { headers, body: { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } } });
  const message = response.messages.at(-1) as { result?: Record<string, unknown>; error?: { code: number; message: string } } | undefined;
  assert.ok(message, `${method}: no JSON-RPC answer (${response.status}) ${response.text}`);
  return { status: response.status, ...message };
}

async function modernPoll(agent: Agent, taskId: string, done: (task: Record<string, unknown>) => boolean, api?: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  for (;;) {
    const got = await modern(agent, 'tasks/get', { taskId }, taskId, { api });
    assert.equal(got.error, undefined, JSON.stringify(got.error));
    if (done(got.result!)) return got.result!;
    assert.ok(Date.now() < deadline, `task still ${String(got.result!.status)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('2026-07-28 client: a task of the 2026-07-28 member is created, polled with its result inline, and cancelled; other ids are tasks that do not exist', { timeout: 60_000 }, async () => {
  const discovered = await modern('alice', 'server/discover', {});
  assert.deepEqual(((discovered.result!.capabilities as Record<string, unknown>).extensions as Record<string, unknown>)[TASKS], {});

  const created = await modern('alice', 'tools/call', { name: 'modern__slow', arguments: { ms: 200, label: 'modern' } }, 'modern__slow');
  assert.equal(created.error, undefined, JSON.stringify(created.error));
  assert.equal(created.result!.resultType, 'task');
  const taskId = String(created.result!.taskId);
  assert.match(taskId, /^ght1\./);
  const upstream = [...member.tasks.keys()].at(-1)!;
  assert.ok(!taskId.includes(upstream), 'the member\'s own id does not show');
  const done = await modernPoll('alice', taskId, (t) => t.status !== 'working');
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.equal(done.taskId, taskId);
  assert.deepEqual((done.result as { content: unknown }).content, [{ type: 'text', text: 'done: modern' }]);
  // Forwarded as the client wrote it, under the member's own id (body and Mcp-Name); no 2025 hop between.
  const polls = member.received.filter((r) => r.body.method === 'tasks/get' && (r.body.params as { taskId: string }).taskId === upstream);
  assert.ok(polls.length > 0);
  for (const poll of polls) {
    assert.equal(poll.headers['mcp-name'], upstream);
    assert.equal(poll.body.id, 1, 'the client\'s own request, not one of Gatehouse\'s');
  }
  // The id is the agent's, not one session's: a request with another declaration reaches it too.
  const again = await modern('alice', 'tasks/get', { taskId }, taskId, { client: 'another-client' });
  assert.deepEqual([again.result?.status, again.result?.taskId], ['completed', taskId], JSON.stringify(again));
  // tasks/list and tasks/result are not part of the extension.
  const list = await modern('alice', 'tasks/list', {});
  assert.deepEqual([list.status, list.error?.code], [404, -32601]);

  for (const [agent, id] of [['bob', taskId], ['alice', altered(taskId)], ['alice', upstream]] as const) {
    for (const method of ['tasks/get', 'tasks/cancel'] as const) {
      const answer = await modern(agent, method, { taskId: id }, id);
      assert.equal(answer.error?.code, -32602, `${agent} ${method}: ${JSON.stringify(answer)}`);
      assert.match(String(answer.error?.message), /Task not found/);
    }
  }

  const waiting = await modern('alice', 'tools/call', { name: 'modern__slow', arguments: { ms: 600_000, label: 'long' } }, 'modern__slow');
  const waitingId = String(waiting.result!.taskId);
  assert.equal((await modern('alice', 'tasks/cancel', { taskId: waitingId }, waitingId)).error, undefined);
  assert.equal((await modernPoll('alice', waitingId, (t) => t.status !== 'working')).status, 'cancelled');
});

test('2026-07-28 client: a question of the member\'s task is input_required in tasks/get, answered with tasks/update; the ACL decides by the name the agent used', { timeout: 60_000 }, async () => {
  const created = await modern('alice', 'tools/call', { name: 'modern__ask', arguments: {} }, 'modern__ask');
  assert.equal(created.result?.resultType, 'task', JSON.stringify(created));
  const taskId = String(created.result!.taskId);
  const asking = await modernPoll('alice', taskId, (t) => t.status !== 'working');
  assert.equal(asking.status, 'input_required', JSON.stringify(asking));
  const [key, question] = Object.entries(asking.inputRequests as Record<string, { method: string; params: { message: string } }>)[0]!;
  assert.equal(key, 'name', 'the member\'s own input key');
  assert.equal(question.method, 'elicitation/create');
  assert.equal(question.params.message, 'Your name?');
  const updated = await modern('alice', 'tasks/update', { taskId, inputResponses: { [key]: { action: 'accept', content: { name: 'Grace' } } } }, taskId);
  assert.equal(updated.error, undefined, JSON.stringify(updated.error));
  const done = await modernPoll('alice', taskId, (t) => t.status !== 'working' && t.status !== 'input_required');
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.deepEqual((done.result as { content: unknown }).content, [{ type: 'text', text: 'Hello, Grace!' }]);

  const count = callsOf('ask');
  const denied = await modern('bob', 'tools/call', { name: 'modern__ask', arguments: {} }, 'modern__ask');
  // A tool the agent may not call is answered as an unknown one (never as a task).
  assert.equal(denied.result?.resultType, 'complete', JSON.stringify(denied));
  assert.equal(denied.result?.isError, true);
  assert.match(JSON.stringify(denied.result?.content), /Tool modern__ask not found/);
  assert.equal(callsOf('ask'), count, 'the denied task was never started');
});

test('2026-07-28 client: the member decides which calls are tasks; without the extension declared a call is answered inline; a virtual server runs the member\'s task', { timeout: 60_000 }, async () => {
  const echoed = await modern('alice', 'tools/call', { name: 'modern__echo', arguments: { message: 'now' } }, 'modern__echo');
  assert.deepEqual([echoed.result?.resultType, echoed.result?.content], ['complete', [{ type: 'text', text: 'Echo: now' }]], JSON.stringify(echoed));
  const plain = await modern('alice', 'tools/call', { name: 'modern__slow', arguments: { ms: 10, label: 'plain' } }, 'modern__slow', { tasks: false });
  assert.equal(plain.error, undefined, JSON.stringify(plain.error));
  assert.equal(plain.result!.resultType, 'complete');
  assert.deepEqual(plain.result!.content, [{ type: 'text', text: 'done inline: plain' }]);

  const created = await modern('alice', 'tools/call', { name: 'job', arguments: { ms: 100 } }, 'job', { api: 'support' });
  assert.equal(created.result?.resultType, 'task', JSON.stringify(created));
  const taskId = String(created.result!.taskId);
  const done = await modernPoll('alice', taskId, (t) => t.status !== 'working', 'support');
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.deepEqual((done.result as { content: unknown }).content, [{ type: 'text', text: 'done: fixed' }]);
});

test('another node with the same session key and store reaches the member\'s tasks: a 2025 client\'s continued session, and a 2026-07-28 client\'s id', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const config = {
    store: { type: 'sqlite', file: path.join(dir, 'shared.db') },
    servers: { modern: { url: member.url }, everything: { url: `${everything.origin}/mcp` } },
    agents: [{ id: 'alice', apiKeys: [{ value: KEYS.alice }] }],
    apis: [{ name: 'workspace', path: '/mcp', servers: ['modern', 'everything'], auth: { type: 'api-key' } }],
  };
  const key = randomBytes(32).toString('hex');
  const a = await startTestGateway(config as never, { key, dataDir: path.join(dir, 'a') });
  const b = await startTestGateway(config as never, { key, dataDir: path.join(dir, 'b') });
  const headers = { authorization: `Bearer ${KEYS.alice}` };
  const onA = new Client({ name: 'member-tasks-a', version: '1' });
  const transportA = new StreamableHTTPClientTransport(new URL(a.url('workspace')), { requestInit: { headers } });
  let onB: Client | undefined;
  try {
    await onA.connect(transportA);
    const taskId = await startTask(onA, 'modern__slow', { ms: 100, label: 'nodes' });
    onB = new Client({ name: 'member-tasks-b', version: '1' });
    await onB.connect(new StreamableHTTPClientTransport(new URL(b.url('workspace')), { sessionId: transportA.sessionId, requestInit: { headers } }));
    assert.equal((await waitForStatus(onB, taskId, (s) => s !== 'working')).status, 'completed');
    const result = await onB.request({ method: 'tasks/result', params: { taskId } }, CallToolResultSchema);
    assert.deepEqual(result.content, [{ type: 'text', text: 'done: nodes' }]);

    const created = await modern('alice', 'tools/call', { name: 'modern__slow', arguments: { ms: 100, label: 'modern nodes' } }, 'modern__slow', { url: a.url('workspace') });
    const modernId = String(created.result?.taskId);
    assert.match(modernId, /^ght1\./, JSON.stringify(created));
    const deadline = Date.now() + POLL_LIMIT_MS;
    let got: Awaited<ReturnType<typeof modern>>;
    do {
      await new Promise((resolve) => setTimeout(resolve, 50));
      got = await modern('alice', 'tasks/get', { taskId: modernId }, modernId, { url: b.url('workspace') });
      assert.equal(got.error, undefined, JSON.stringify(got.error));
    } while (got.result!.status === 'working' && Date.now() < deadline);
    assert.deepEqual((got.result!.result as { content: unknown }).content, [{ type: 'text', text: 'done: modern nodes' }]);
  } finally {
    await onB?.close();
    await onA.close();
    await a.close();
    await b.close();
  }
});

test('a 2026-07-28 client\'s task of a member that has gone down is answered as an unavailable server, not as a missing task', { timeout: 60_000 }, async () => {
  const lone = await startTasksServer();
  const gateway = await startTestGateway({
    servers: { modern: { url: lone.url }, everything: { url: `${everything.origin}/mcp` } },
    agents: [{ id: 'alice', apiKeys: [{ value: KEYS.alice }] }],
    apis: [{ name: 'workspace', path: '/mcp', servers: ['modern', 'everything'], auth: { type: 'api-key' } }],
  } as never);
  let closed = false;
  try {
    const url = gateway.url('workspace');
    const created = await modern('alice', 'tools/call', { name: 'modern__slow', arguments: { ms: 600_000, label: 'orphan' } }, 'modern__slow', { url });
    const taskId = String(created.result?.taskId);
    assert.match(taskId, /^ght1\./, JSON.stringify(created));
    await lone.close();
    closed = true;
    for (const method of ['tasks/get', 'tasks/cancel'] as const) {
      const answer = await modern('alice', method, { taskId }, taskId, { url });
      assert.equal(answer.status, 502, `${method}: ${JSON.stringify(answer)}`);
      assert.equal(answer.error?.code, -32010, JSON.stringify(answer));
      assert.doesNotMatch(String(answer.error?.message), /Task not found/);
    }
  } finally {
    if (!closed) await lone.close();
    await gateway.close();
  }
});
