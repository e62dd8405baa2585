// A 2026-07-28-only MCP server with the tasks extension (io.modelcontextprotocol/tasks, SEP-2663),
// built with the v2 server SDK (@modelcontextprotocol/server): the SDK serves the wire (server/
// discover, `legacy: 'reject'` so a 2025 `initialize` is refused with -32022, the routing-header
// checks, `resultType`), but it does not implement the extension itself, so its task logic is
// written here from the extension's specification, as low-level request handlers:
// - `server/discover` offers the extension;
// - `tools/call` of `slow` or `ask`, from a client that declared the extension on the request,
//   answers `resultType: "task"` (for one that did not: `slow` runs inline, `ask` is -32021);
//   `slow` completes after `arguments.ms`; `ask` waits in `input_required` for `tasks/update`;
// - `tasks/get` (result, error, questions inline), `tasks/update`, `tasks/cancel`; an unknown
//   task is -32602; these require the extension declared (-32021).
// Every request is recorded (headers and body) for wire-level asserts.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, McpServer, ProtocolError } from '@modelcontextprotocol/server';
import { z } from 'zod';

const TASKS = 'io.modelcontextprotocol/tasks';

interface Task {
  readonly taskId: string;
  status: 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';
  statusMessage?: string;
  readonly createdAt: string;
  lastUpdatedAt: string;
  result?: Record<string, unknown>;
  inputRequests?: Record<string, unknown>;
  timer?: NodeJS.Timeout;
}

export interface RunningTasksServer {
  readonly url: string;
  readonly received: Array<{ readonly headers: IncomingHttpHeaders; readonly body: Record<string, unknown> }>;
  /** Tasks the server holds, by its own id. */
  readonly tasks: ReadonlyMap<string, Task>;
  close(): Promise<void>;
}

const TOOLS = [
  { name: 'echo', description: 'Echoes the message back', inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } },
  { name: 'slow', description: 'Works for `ms` milliseconds, as a task when the client takes tasks', inputSchema: { type: 'object', properties: { ms: { type: 'integer' }, label: { type: 'string' } } } },
  { name: 'ask', description: 'A task that asks the client for a name before it answers', inputSchema: { type: 'object', properties: {} } },
];

export async function startTasksServer(): Promise<RunningTasksServer> {
  const tasks = new Map<string, Task>();
  const received: RunningTasksServer['received'] = [];
  const now = () => new Date().toISOString();
  const view = (task: Task): Record<string, unknown> => {
    const { timer: _timer, ...rest } = task;
    return { ...rest, ttlMs: 600_000, pollIntervalMs: 50 };
  };
  const finish = (task: Task, result: Record<string, unknown>) => {
    if (task.status === 'cancelled') return;
    task.status = 'completed';
    task.result = { ...result, resultType: 'complete' };
    delete task.inputRequests;
    task.lastUpdatedAt = now();
  };

  const needTasks = (): never => {
    throw new ProtocolError(-32021, 'Missing required client capability', { requiredCapabilities: { extensions: { [TASKS]: {} } } });
  };
  const taskOf = (taskId: string): Task => {
    const task = tasks.get(taskId);
    if (!task) throw new ProtocolError(-32602, 'Failed to retrieve task: Task not found');
    return task;
  };
  const TaskParams = z.object({ taskId: z.string() }).passthrough();

  // The SDK builds one server per request; the tasks outlive it, in `tasks` above.
  const build = (): McpServer => {
    const server = new McpServer({ name: 'tasks-test-server', version: '1.0.0' }, { capabilities: { tools: {}, extensions: { [TASKS]: {} } } as never });
    const low = server.server;
    // What this request declared in its `_meta` (2026-07-28 carries it per request).
    const takesTasks = () => isObject(low.getClientCapabilities()?.extensions) && isObject((low.getClientCapabilities()!.extensions as Record<string, unknown>)[TASKS]);
    low.setRequestHandler('tools/list', async () => ({ tools: TOOLS }) as never);
    low.setRequestHandler('tools/call', async (request) => {
      const params = request.params as { name: string; arguments?: { message?: string; ms?: number; label?: string } };
      const args = params.arguments ?? {};
      if (params.name === 'echo') return { content: [{ type: 'text', text: `Echo: ${args.message}` }] };
      if (params.name === 'slow' && !takesTasks()) return { content: [{ type: 'text', text: `done inline: ${args.label ?? ''}` }] };
      if (params.name !== 'slow' && params.name !== 'ask') throw new ProtocolError(-32602, `Tool ${params.name} not found`);
      if (!takesTasks()) needTasks();
      const task: Task = { taskId: randomUUID(), status: 'working', createdAt: now(), lastUpdatedAt: now() };
      tasks.set(task.taskId, task);
      if (params.name === 'slow') {
        task.timer = setTimeout(() => finish(task, { content: [{ type: 'text', text: `done: ${args.label ?? ''}` }] }), args.ms ?? 100);
      } else {
        task.status = 'input_required';
        task.inputRequests = { name: { method: 'elicitation/create', params: { mode: 'form', message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } } } };
      }
      const { result: _r, inputRequests: _i, ...seed } = view(task);
      // The SDK passes a handler's resultType through on tools/call (its vocabulary is open).
      return { ...seed, status: 'working', resultType: 'task' } as never;
    });
    low.setRequestHandler('tasks/get', { params: TaskParams }, async ({ taskId }) => {
      if (!takesTasks()) needTasks();
      return view(taskOf(taskId)) as never;
    });
    low.setRequestHandler('tasks/cancel', { params: TaskParams }, async ({ taskId }) => {
      if (!takesTasks()) needTasks();
      const task = taskOf(taskId);
      if (task.status === 'working' || task.status === 'input_required') {
        clearTimeout(task.timer);
        task.status = 'cancelled';
        delete task.inputRequests;
        task.lastUpdatedAt = now();
      }
      return {} as never;
    });
    low.setRequestHandler('tasks/update', { params: TaskParams }, async (params, ctx) => {
      if (!takesTasks()) needTasks();
      const task = taskOf(params.taskId);
      // The SDK lifts `inputResponses` off every request's params (the multi round-trip retry
      // field) into ctx.mcpReq; tasks/update carries them in the same member.
      const responses = (ctx.mcpReq.inputResponses ?? {}) as Record<string, { action?: string; content?: { name?: string } }>;
      const named = responses.name;
      if (task.status === 'input_required' && named) finish(task, { content: [{ type: 'text', text: `Hello, ${named.content?.name ?? 'nobody'}!` }] });
      return {} as never;
    });
    return server;
  };
  const handler = createMcpHandler(build, { legacy: 'reject' });

  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (req.method === 'POST') {
        try {
          received.push({ headers: req.headers, body: JSON.parse(raw.toString('utf8')) as Record<string, unknown> });
        } catch {
          // The SDK answers a body that is not JSON.
        }
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      const request = new Request(`http://127.0.0.1${req.url ?? '/'}`, { method: req.method, headers, body: req.method === 'POST' ? raw : undefined });
      void handler.fetch(request).then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
        res.end(Buffer.from(await response.arrayBuffer()));
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    received,
    tasks,
    close: async () => {
      for (const task of tasks.values()) clearTimeout(task.timer);
      await handler.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
