// Tasks through a federated API: two SDK 1.x servers with task support (whose task ids are
// counted, so both hand out `task-1`) and server-everything as members of one API, and a virtual
// server selecting one task tool with a fixed argument. The official SDK 1.x client sees the
// merged `tasks` capability, starts a task on each member, and gets, reads, lists and cancels them
// by the ids Gatehouse gives it; another agent's id is a task that does not exist; the ACL decides
// the tool of a task call by its federated name and the audit names the server; status
// notifications reach the client with its ids. A 2026-07-28 client (the tasks extension, spoken
// as its specification writes it) runs a task of a member through the same API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ElicitRequestSchema, GetTaskResultSchema, ListTasksResultSchema, TaskStatusNotificationSchema, type TaskStatusNotification } from '@modelcontextprotocol/sdk/types.js';
import { raw, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startTaskMember, type RunningTaskMember } from './helpers/task-members.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { POLL_LIMIT_MS, allTasks, startTask, waitForStatus } from './helpers/legacy-task-client.ts';
import { SseReader } from './helpers/http-peers.ts';

const KEYS = { alice: 'alice-key-fed-tasks-0123456789', bob: 'bob-key-fed-tasks-0123456789ab' } as const;
type Agent = keyof typeof KEYS;
const MODERN = '2026-07-28';
const TASKS = 'io.modelcontextprotocol/tasks';
const RELATED = 'io.modelcontextprotocol/related-task';

let alpha: RunningTaskMember;
let beta: RunningTaskMember;
let everything: RunningEverything;
let gh: TestGateway;

before(async () => {
  [alpha, beta, everything] = await Promise.all([startTaskMember('alpha'), startTaskMember('beta'), startEverything()]);
  gh = await startTestGateway({
    servers: { alpha: { url: alpha.url }, beta: { url: beta.url }, everything: { url: `${everything.origin}/mcp` } },
    agents: (Object.keys(KEYS) as Agent[]).map((id) => ({ id, apiKeys: [{ value: KEYS[id] }] })),
    apis: [
      {
        name: 'workspace',
        path: '/mcp',
        servers: ['alpha', 'beta', 'everything'],
        auth: { type: 'api-key' },
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }] },
                // Bob may not run alpha's `wait`, by the name agents use.
                { effect: 'deny', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'alpha__wait' } }], condition: 'agent.id == "bob"' },
              ],
            },
          },
        ],
      },
      { name: 'alpha', path: '/alpha', server: 'alpha', auth: { type: 'api-key' } },
      { name: 'support', path: '/support', auth: { type: 'api-key' }, tools: [{ server: 'alpha', name: 'work', as: 'job', arguments: { fixed: { label: 'fixed' } } }] },
    ],
    audit: {},
  } as never);
});

after(async () => {
  await gh?.close();
  await Promise.all([alpha?.close(), beta?.close(), everything?.close()]);
});

async function connect(agent: Agent, api = 'workspace'): Promise<Client> {
  const client = new Client({ name: `fed-tasks-${agent}`, version: '1' }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url(api)), { requestInit: { headers: { authorization: `Bearer ${KEYS[agent]}` } } }));
  return client;
}

test('the merged initialize offers tasks, and the merged list keeps each tool\'s task support', async () => {
  const alice = await connect('alice');
  try {
    assert.deepEqual(alice.getServerCapabilities()?.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    const tools = new Map((await alice.listTools()).tools.map((t) => [t.name, t]));
    assert.equal(tools.get('alpha__work')?.execution?.taskSupport, 'optional');
    assert.equal(tools.get('beta__wait')?.execution?.taskSupport, 'required');
    assert.equal(tools.get('everything__simulate-research-query')?.execution?.taskSupport, 'required');
    assert.equal(tools.get('alpha__whoami')?.execution?.taskSupport ?? 'forbidden', 'forbidden');
  } finally {
    await alice.close();
  }
});

test('a task on each member: ids the members share stay apart, get/result/list go to the member that holds each', { timeout: 60_000 }, async () => {
  const alice = await connect('alice');
  const statuses: TaskStatusNotification['params'][] = [];
  alice.setNotificationHandler(TaskStatusNotificationSchema, (n) => void statuses.push(n.params));
  try {
    const before = [alpha.created.length, beta.created.length];
    const onAlpha = await startTask(alice, 'alpha__work', { ms: 300, label: 'first' });
    const onBeta = await startTask(alice, 'beta__work', { ms: 300, label: 'second' });
    const upstream = [alpha.created[before[0]!], beta.created[before[1]!]];
    assert.equal(upstream[0], upstream[1], `both members handed out the same id (${upstream.join(', ')})`);
    assert.notEqual(onAlpha, onBeta);
    for (const id of [onAlpha, onBeta]) assert.match(id, /^ghf1\./, 'the member\'s id is sealed');

    const [doneAlpha, doneBeta] = await Promise.all([waitForStatus(alice, onAlpha, (s) => s !== 'working'), waitForStatus(alice, onBeta, (s) => s !== 'working')]);
    assert.deepEqual([doneAlpha.status, doneAlpha.taskId, doneBeta.status, doneBeta.taskId], ['completed', onAlpha, 'completed', onBeta]);
    const resultAlpha = await alice.request({ method: 'tasks/result', params: { taskId: onAlpha } }, CallToolResultSchema);
    const resultBeta = await alice.request({ method: 'tasks/result', params: { taskId: onBeta } }, CallToolResultSchema);
    assert.deepEqual(resultAlpha.content, [{ type: 'text', text: 'first done by alpha' }]);
    assert.deepEqual(resultBeta.content, [{ type: 'text', text: 'second done by beta' }]);
    assert.deepEqual(resultAlpha._meta?.[RELATED], { taskId: onAlpha }, 'the related-task tag names the client\'s id');

    const listed = await allTasks(alice);
    assert.ok(listed.includes(onAlpha) && listed.includes(onBeta), `both tasks listed: ${listed.join(', ')}`);
    assert.equal(new Set(listed).size, listed.length, 'no task listed twice');

    // The members' status notifications (the SDK sends one per status change) arrive with the client's ids.
    const halfway = statuses.filter((s) => s.status === 'working' && (s.statusMessage === 'first: halfway' || s.statusMessage === 'second: halfway'));
    assert.deepEqual(halfway.map((s) => s.taskId).sort(), [onAlpha, onBeta].sort(), JSON.stringify(statuses));
    assert.ok(statuses.some((s) => s.taskId === onAlpha && s.status === 'completed'), JSON.stringify(statuses));
    assert.ok(statuses.every((s) => s.taskId.startsWith('ghf1.')), 'no member id reaches the client');
  } finally {
    await alice.close();
  }
});

test('cancelling a task goes to its member; a task of server-everything runs to its report through the API', { timeout: 60_000 }, async () => {
  const alice = await connect('alice');
  try {
    const waiting = await startTask(alice, 'beta__wait', {});
    const cancelled = await alice.experimental.tasks.cancelTask(waiting);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.taskId, waiting);
    assert.equal((await alice.experimental.tasks.getTask(waiting)).status, 'cancelled');

    let created: string | undefined;
    let text = '';
    for await (const message of alice.experimental.tasks.callToolStream({ name: 'everything__simulate-research-query', arguments: { topic: 'federation' } }, undefined, { task: { ttl: 60_000 } })) {
      if (message.type === 'taskCreated') created = message.task.taskId;
      if (message.type === 'result') text = JSON.stringify(message.result);
      if (message.type === 'error') assert.fail(String(message.error));
    }
    assert.match(String(created), /^ghf1\./);
    assert.match(text, /Research Report: federation/);
  } finally {
    await alice.close();
  }
});

test('a member\'s question during a task reaches the client tagged with the client\'s task id, and its answer goes back', { timeout: 60_000 }, async () => {
  const client = new Client({ name: 'fed-tasks-asked', version: '1' }, { capabilities: { elicitation: { form: {} } } });
  const tags: unknown[] = [];
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    tags.push(request.params._meta?.[RELATED]);
    return { action: 'accept', content: { interpretation: 'snake' } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url('workspace')), { requestInit: { headers: { authorization: `Bearer ${KEYS.alice}` } } }));
  try {
    let created: string | undefined;
    let text = '';
    for await (const message of client.experimental.tasks.callToolStream({ name: 'everything__simulate-research-query', arguments: { topic: 'python', ambiguous: true } }, undefined, { task: { ttl: 60_000 } })) {
      if (message.type === 'taskCreated') created = message.task.taskId;
      if (message.type === 'result') text = JSON.stringify(message.result);
      if (message.type === 'error') assert.fail(String(message.error));
    }
    assert.deepEqual(tags, [{ taskId: created }], 'one question, tagged with the id the client knows');
    assert.match(text, /Clarification\*\*: snake/);
  } finally {
    await client.close();
  }
});

test('another agent\'s task id (or a forged one) is a task that does not exist; the ACL decides a task call by its federated name; the audit names the server', { timeout: 60_000 }, async () => {
  const alice = await connect('alice');
  const bob = await connect('bob');
  try {
    const own = await startTask(alice, 'alpha__work', { ms: 200, label: 'private' });
    for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel'] as const) {
      await assert.rejects(bob.request({ method, params: { taskId: own } }, GetTaskResultSchema), (error: { code?: number; message?: string }) => {
        assert.equal(error.code, -32602, `${method}: ${error.message}`);
        assert.match(String(error.message), /Task not found/);
        return true;
      });
    }
    await assert.rejects(bob.request({ method: 'tasks/get', params: { taskId: 'task-1' } }, GetTaskResultSchema), /Task not found/, 'a member\'s own id names nothing');
    // Malformed requests: a clear -32602, never a crash or a hang.
    for (const params of [{ taskId: 42 }, {}, { taskId: `ghf1.${'x'.repeat(3000)}` }]) {
      await assert.rejects(bob.request({ method: 'tasks/get', params } as never, GetTaskResultSchema), (error: { code?: number }) => error.code === -32602);
    }
    await assert.rejects(bob.request({ method: 'tasks/list', params: { cursor: 'not-a-cursor' } }, ListTasksResultSchema), (error: { code?: number; message?: string }) => error.code === -32602 && /cursor/.test(String(error.message)));
    assert.ok(!(await allTasks(bob)).includes(own), 'bob does not list alice\'s task');
    assert.equal((await waitForStatus(alice, own, (s) => s !== 'working')).status, 'completed');

    const count = alpha.created.length;
    const denied = await bob.request({ method: 'tools/call', params: { name: 'alpha__wait', arguments: {}, task: { ttl: 60_000 } } }, CallToolResultSchema).catch((error: Error) => error);
    assert.match(JSON.stringify(denied instanceof Error ? denied.message : denied), /alpha__wait/);
    assert.equal(alpha.created.length, count, 'the denied task was never started');
    const allowed = await startTask(bob, 'alpha__work', { ms: 100, label: 'bob' });
    assert.equal((await waitForStatus(bob, allowed, (s) => s !== 'working')).status, 'completed');
  } finally {
    await alice.close();
    await bob.close();
  }
  const events = await recordsWhen(gh.gateway, { api: 'workspace' }, (all) => all.filter((e) => e.method === 'tools/call' && e.target === 'alpha__work').length >= 2);
  const calls = events.filter((e) => e.method === 'tools/call' && (e.target === 'alpha__work' || e.target === 'alpha__wait'));
  assert.ok(calls.some((e) => e.target === 'alpha__work' && e.server === 'alpha' && e.originalTarget === 'work' && e.decision === 'allowed'), JSON.stringify(calls));
  assert.ok(calls.some((e) => e.target === 'alpha__wait' && e.server === 'alpha' && e.decision === 'denied'), JSON.stringify(calls));
});

test('a virtual server\'s task tool keeps its task support and its fixed argument', { timeout: 30_000 }, async () => {
  const alice = await connect('alice', 'support');
  try {
    assert.deepEqual(alice.getServerCapabilities()?.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    const job = (await alice.listTools()).tools.find((t) => t.name === 'job');
    assert.equal(job?.execution?.taskSupport, 'optional');
    assert.equal((job?.inputSchema.properties as Record<string, unknown>).label, undefined, 'the fixed argument is not shown');
    const taskId = await startTask(alice, 'job', { ms: 100 });
    assert.equal((await waitForStatus(alice, taskId, (s) => s !== 'working')).status, 'completed');
    const result = await alice.request({ method: 'tasks/result', params: { taskId } }, CallToolResultSchema);
    assert.deepEqual(result.content, [{ type: 'text', text: 'fixed done by alpha' }]);
  } finally {
    await alice.close();
  }
});

test('a single-server API relays the server\'s task status notifications to a 2025 client as they are', { timeout: 30_000 }, async () => {
  const alice = await connect('alice', 'alpha');
  const statuses: TaskStatusNotification['params'][] = [];
  alice.setNotificationHandler(TaskStatusNotificationSchema, (n) => void statuses.push(n.params));
  try {
    const count = alpha.created.length;
    const taskId = await startTask(alice, 'work', { ms: 200, label: 'single' });
    assert.equal(taskId, alpha.created[count], 'the server\'s own id: the session is the agent\'s');
    assert.equal((await waitForStatus(alice, taskId, (s) => s !== 'working')).status, 'completed');
    const deadline = Date.now() + 5_000;
    while (!statuses.some((s) => s.taskId === taskId && s.status === 'completed') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(statuses.some((s) => s.taskId === taskId && s.status === 'working' && s.statusMessage === 'single: halfway'), JSON.stringify(statuses));
    assert.ok(statuses.some((s) => s.taskId === taskId && s.status === 'completed'), JSON.stringify(statuses));
  } finally {
    await alice.close();
  }
});

/** One 2026-07-28 request as SEP-2663 and the base revision write it: `_meta` envelope, routing headers. */
async function modern(agent: Agent, method: string, params: Record<string, unknown>, name?: string): Promise<{ status: number; result?: Record<string, unknown>; error?: { code: number; message: string } }> {
  const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} }, extensions: { [TASKS]: {} } }, 'io.modelcontextprotocol/clientInfo': { name: 'fed-tasks', version: '1' } };
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method, authorization: `Bearer ${KEYS[agent]}` };
  if (name !== undefined) headers['mcp-name'] = name;
  const response = await raw(gh.url('workspace'), { headers, body: { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } } });
  const message = response.messages.at(-1) as { result?: Record<string, unknown>; error?: { code: number; message: string } } | undefined;
  assert.ok(message, `${method}: no JSON-RPC answer (${response.status}) ${response.text}`);
  return { status: response.status, ...message };
}

test('a 2026-07-28 client runs a member\'s task through the federated API (the tasks extension, bridged per hop)', { timeout: 60_000 }, async () => {
  const discovered = await modern('alice', 'server/discover', {});
  assert.deepEqual(((discovered.result!.capabilities as Record<string, unknown>).extensions as Record<string, unknown>)[TASKS], {});
  const created = await modern('alice', 'tools/call', { name: 'beta__work', arguments: { ms: 200, label: 'modern' } }, 'beta__work');
  assert.equal(created.error, undefined, JSON.stringify(created.error));
  assert.equal(created.result!.resultType, 'task');
  const taskId = String(created.result!.taskId);
  assert.match(taskId, /^ght1\./);
  const deadline = Date.now() + POLL_LIMIT_MS;
  let task: Record<string, unknown>;
  for (;;) {
    const got = await modern('alice', 'tasks/get', { taskId }, taskId);
    assert.equal(got.error, undefined, JSON.stringify(got.error));
    task = got.result!;
    if (task.status !== 'working') break;
    assert.ok(Date.now() < deadline, 'the task did not end');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(task.status, 'completed', JSON.stringify(task));
  assert.deepEqual((task.result as { content: unknown }).content, [{ type: 'text', text: 'modern done by beta' }]);
  // Another agent's request for it: a task that does not exist.
  const other = await modern('bob', 'tasks/get', { taskId }, taskId);
  assert.equal(other.error?.code, -32602);

  const waiting = await modern('alice', 'tools/call', { name: 'alpha__wait', arguments: {} }, 'alpha__wait');
  const waitingId = String(waiting.result!.taskId);
  assert.equal((await modern('alice', 'tasks/cancel', { taskId: waitingId }, waitingId)).error, undefined);
  assert.equal((await modern('alice', 'tasks/get', { taskId: waitingId }, waitingId)).result!.status, 'cancelled');
});

test('subscriptions/listen asking for task status: -32021 without the tasks extension declared; with it, acknowledged without task ids (Gatehouse pushes none)', { timeout: 30_000 }, async () => {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'subscriptions/listen', authorization: `Bearer ${KEYS.alice}` };
  const listen = (extensions: Record<string, unknown> | undefined) => ({
    jsonrpc: '2.0',
    id: 9,
    method: 'subscriptions/listen',
    params: {
      notifications: { toolsListChanged: true, taskIds: ['ght1.any'] },
      _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': extensions ? { extensions } : {}, 'io.modelcontextprotocol/clientInfo': { name: 'fed-tasks', version: '1' } },
    },
  });
  const refused = await raw(gh.url('workspace'), { headers, body: listen(undefined) });
  const error = (refused.messages.at(-1) as { error?: { code: number; data?: unknown } }).error;
  assert.equal(error?.code, -32021, refused.text);
  assert.deepEqual(error?.data, { requiredCapabilities: { extensions: { [TASKS]: {} } } });

  const abort = new AbortController();
  const response = await fetch(gh.url('workspace'), { method: 'POST', signal: abort.signal, headers, body: JSON.stringify(listen({ [TASKS]: {} })) });
  assert.equal(response.status, 200);
  const reader = new SseReader(response);
  try {
    const { match: ack } = await reader.until((e) => (e.message as { method?: string } | undefined)?.method === 'notifications/subscriptions/acknowledged');
    assert.deepEqual((ack.message as { params: { notifications: unknown } }).params.notifications, { toolsListChanged: true });
  } finally {
    abort.abort();
    await reader.cancel();
  }
});

test('a 2026-07-28 client answers a member\'s question during a task (input_required, tasks/update) through the federated API', { timeout: 60_000 }, async () => {
  const created = await modern('alice', 'tools/call', { name: 'everything__simulate-research-query', arguments: { topic: 'python', ambiguous: true } }, 'everything__simulate-research-query');
  assert.equal(created.result?.resultType, 'task', JSON.stringify(created));
  const taskId = String(created.result!.taskId);
  const poll = async (done: (t: Record<string, unknown>) => boolean) => {
    const deadline = Date.now() + POLL_LIMIT_MS;
    for (;;) {
      const got = await modern('alice', 'tasks/get', { taskId }, taskId);
      assert.equal(got.error, undefined, JSON.stringify(got.error));
      if (done(got.result!)) return got.result!;
      assert.ok(Date.now() < deadline, `task still ${String(got.result!.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const asking = await poll((t) => t.status !== 'working');
  assert.equal(asking.status, 'input_required', JSON.stringify(asking));
  const [key, question] = Object.entries(asking.inputRequests as Record<string, { method: string }>)[0]!;
  assert.equal(question.method, 'elicitation/create');
  const updated = await modern('alice', 'tasks/update', { taskId, inputResponses: { [key]: { action: 'accept', content: { interpretation: 'snake' } } } }, taskId);
  assert.equal(updated.error, undefined, JSON.stringify(updated.error));
  const done = await poll((t) => t.status !== 'working' && t.status !== 'input_required');
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.match((done.result as { content: Array<{ text: string }> }).content[0]!.text, /Clarification\*\*: snake/);
});
