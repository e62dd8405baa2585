// Tasks the other way round: 2025-11-25 clients (SDK 1.x and its experimental task API) on a
// server that speaks only 2026-07-28 and offers the tasks extension: built with the v2 server SDK,
// which serves the wire but does not implement the extension, so its task handlers are written from
// the extension's specification (helpers/tasks-server.ts). Gatehouse answers initialize with the 2025 tasks capability, sends a
// task-augmented call with the extension declared, hands out task ids sealed to the agent, and
// serves tasks/get, tasks/result (polling, asking the task's questions on the request's stream,
// answering with tasks/update), tasks/cancel and tasks/list (the session's own tasks).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, CreateTaskResultSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { startTasksServer, type RunningTasksServer } from './helpers/tasks-server.ts';

const KEYS = { alice: 'alice-key-0123456789abcdef', bob: 'bob-key-0123456789abcdef-bob', carol: 'carol-key-0123456789abcdef' } as const;
type Agent = keyof typeof KEYS;
const TASK = { task: { ttl: 60_000 } };

let server: RunningTasksServer;
let gh: TestGateway;

before(async () => {
  server = await startTasksServer();
  gh = await startTestGateway({
    servers: { modern: { url: server.url } },
    agents: (Object.keys(KEYS) as Agent[]).map((id) => ({ id, apiKeys: [{ value: KEYS[id] }] })),
    apis: [
      {
        name: 'modern',
        path: '/mcp',
        server: 'modern',
        auth: { type: 'api-key' },
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }], condition: 'agent.id == "alice" || agent.id == "bob"' },
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }], condition: 'agent.id == "carol"' },
              ],
            },
          },
        ],
      },
    ],
  } as never);
});

after(async () => {
  await gh?.close();
  await server?.close();
});

async function connect(agent: Agent, elicited: unknown[] = []): Promise<Client> {
  const client = new Client({ name: `legacy-tasks-${agent}`, version: '1' }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicited.push(request.params);
    return { action: 'accept', content: { name: 'Ada' } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url('modern')), { requestInit: { headers: { authorization: `Bearer ${KEYS[agent]}` } } }));
  return client;
}

/** Runs a tool as a task through the SDK's task stream: the task id and the final result. */
async function runAsTask(client: Client, name: string, args: Record<string, unknown>): Promise<{ taskId: string | undefined; result: unknown; error: unknown }> {
  let taskId: string | undefined;
  let result: unknown;
  let error: unknown;
  for await (const message of client.experimental.tasks.callToolStream({ name, arguments: args }, undefined, TASK)) {
    if (message.type === 'taskCreated') taskId = message.task.taskId;
    if (message.type === 'result') result = message.result;
    if (message.type === 'error') error = message.error;
  }
  return { taskId, result, error };
}

test('initialize offers 2025 tasks for a server with the tasks extension; tools may run as tasks', async () => {
  const alice = await connect('alice');
  try {
    assert.equal(alice.getServerVersion()?.name, 'tasks-test-server', 'bridged: initialize answered from server/discover');
    const capabilities = alice.getServerCapabilities() as Record<string, unknown>;
    assert.deepEqual(capabilities.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    assert.equal((capabilities.extensions as Record<string, unknown> | undefined)?.['io.modelcontextprotocol/tasks'], undefined);
    const tools = await alice.listTools();
    assert.deepEqual(tools.tools.find((t) => t.name === 'slow')?.execution, { taskSupport: 'optional' });
  } finally {
    await alice.close();
  }
});

test('a 2025 client starts a task, polls it and gets its result; the server saw the extension declared and no 2025 task request', async () => {
  const alice = await connect('alice');
  try {
    const run = await runAsTask(alice, 'slow', { ms: 100, label: 'first' });
    assert.equal(run.error, undefined, String(run.error));
    assert.match(String(run.taskId), /^ght1\./);
    assert.deepEqual((run.result as { content: unknown }).content, [{ type: 'text', text: 'done: first' }]);
    const call = server.received.find((r) => r.body.method === 'tools/call' && (r.body.params as { arguments?: { label?: string } }).arguments?.label === 'first')!;
    const params = call.body.params as Record<string, unknown>;
    assert.equal(params.task, undefined, '2026-07-28 has no task request: the server decides');
    assert.ok(JSON.stringify(params._meta).includes('"io.modelcontextprotocol/tasks":{}'));
    // The upstream task id never reaches the client; Gatehouse names it in Mcp-Name, as SEP-2663 asks.
    assert.ok(!server.tasks.has(run.taskId!));
    const polls = server.received.filter((r) => r.body.method === 'tasks/get');
    assert.ok(polls.length > 0);
    for (const poll of polls) assert.equal(poll.headers['mcp-name'], (poll.body.params as { taskId: string }).taskId);
  } finally {
    await alice.close();
  }
});

test('a task\'s question reaches the 2025 client during tasks/result, and its answer goes back with tasks/update', async () => {
  const elicited: unknown[] = [];
  const alice = await connect('alice', elicited);
  try {
    const run = await runAsTask(alice, 'ask', {});
    assert.equal(run.error, undefined, String(run.error));
    assert.equal(elicited.length, 1);
    assert.match(JSON.stringify(elicited[0]), /Your name\?/);
    assert.deepEqual((run.result as { content: unknown }).content, [{ type: 'text', text: 'Hello, Ada!' }]);
    assert.ok(server.received.some((r) => r.body.method === 'tasks/update'));
  } finally {
    await alice.close();
  }
});

test('tasks/cancel cancels a running task; tasks/list shows each agent its own tasks; another agent is answered as for no task', async () => {
  const alice = await connect('alice');
  const bob = await connect('bob');
  try {
    const created = await alice.request({ method: 'tools/call', params: { name: 'slow', arguments: { ms: 600_000 }, ...TASK } }, CreateTaskResultSchema);
    const taskId = created.task.taskId;
    assert.equal(created.task.status, 'working');
    const missing = await bob.experimental.tasks.getTask('ght1.nothing').then(() => 'found', (error: Error) => error.message);
    for (const attempt of [() => bob.experimental.tasks.getTask(taskId), () => bob.experimental.tasks.cancelTask(taskId), () => bob.experimental.tasks.getTaskResult(taskId, CallToolResultSchema)]) {
      const outcome = await attempt().then(() => 'found', (error: Error) => error.message);
      assert.equal(outcome, missing, 'same answer as for a task that does not exist');
    }
    assert.match(missing, /Task not found/);
    const mine = await alice.experimental.tasks.listTasks();
    assert.ok(mine.tasks.some((t) => t.taskId === taskId));
    const theirs = await bob.experimental.tasks.listTasks();
    assert.ok(!theirs.tasks.some((t) => t.taskId === taskId));
    const cancelled = await alice.experimental.tasks.cancelTask(taskId);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal((await alice.experimental.tasks.getTask(taskId)).status, 'cancelled');
  } finally {
    await alice.close();
    await bob.close();
  }
});

test('a call the server answers at once although a task was asked for is a finished task; a plain call is plain', async () => {
  const alice = await connect('alice');
  try {
    const run = await runAsTask(alice, 'echo', { message: 'now' });
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual((run.result as { content: unknown }).content, [{ type: 'text', text: 'Echo: now' }]);
    const plain = await alice.callTool({ name: 'slow', arguments: { label: 'inline' } });
    assert.deepEqual(plain.content, [{ type: 'text', text: 'done inline: inline' }]);
  } finally {
    await alice.close();
  }
});

test('the ACL decides the tool of a task-augmented call from a 2025 client: a denied tool starts no task', async () => {
  const carol = await connect('carol');
  try {
    const before = server.tasks.size;
    // Answered as the unknown tool it is for carol (a tool error, not a task).
    const outcome = await carol.request({ method: 'tools/call', params: { name: 'slow', arguments: { ms: 10 }, ...TASK } }, CallToolResultSchema);
    assert.equal(outcome.isError, true);
    assert.match(JSON.stringify(outcome.content), /slow/);
    assert.equal((outcome as Record<string, unknown>).task, undefined);
    assert.equal(server.tasks.size, before, 'no task was created upstream');
  } finally {
    await carol.close();
  }
});
