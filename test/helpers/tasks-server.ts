// A 2026-07-28-only MCP server with the tasks extension (io.modelcontextprotocol/tasks, SEP-2663),
// written from the extension's specification: the v2 server SDK does not implement the extension
// (its tools/call results may only be `complete` or `input_required`), so this peer speaks the
// wire itself, on node:http, as little as the tests need and exactly as the specification says:
// - a 2025 `initialize` is refused with -32022 (this server serves 2026-07-28 clients only);
// - `server/discover` offers the extension;
// - `tools/call` of `slow` or `ask`, from a client that declared the extension, answers
//   `resultType: "task"` (for one that did not: `slow` runs inline, `ask` is -32021);
//   `slow` completes after `arguments.ms`; `ask` waits in `input_required` for `tasks/update`;
// - `tasks/get` (result, error, questions inline), `tasks/update`, `tasks/cancel`; an unknown
//   task is -32602; these require the extension declared (-32021).
// Every request is recorded for wire-level asserts.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

const MODERN = '2026-07-28';
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

  const answer = (request: Record<string, unknown>): { status: number; body: Record<string, unknown> } => {
    const id = request.id;
    const ok = (result: Record<string, unknown>) => ({ status: 200, body: { jsonrpc: '2.0', id, result: { resultType: 'complete', ...result } } });
    const fail = (code: number, message: string, data?: unknown, status = 200) => ({ status, body: { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } } });
    const params = (request.params ?? {}) as Record<string, unknown>;
    const meta = (params._meta ?? {}) as Record<string, unknown>;
    if (request.method === 'initialize') return fail(-32022, 'Unsupported protocol version', { supported: [MODERN], requested: params.protocolVersion }, 400);
    if (meta['io.modelcontextprotocol/protocolVersion'] !== MODERN) return fail(-32602, 'Invalid params: _meta needs the protocol version', undefined, 400);
    const capabilities = (meta['io.modelcontextprotocol/clientCapabilities'] ?? {}) as { extensions?: Record<string, unknown> };
    const takesTasks = capabilities.extensions?.[TASKS] !== undefined;
    const needTasks = () => fail(-32021, 'Missing required client capability', { requiredCapabilities: { extensions: { [TASKS]: {} } } });
    switch (request.method) {
      case 'server/discover':
        return ok({ supportedVersions: [MODERN], capabilities: { tools: {}, extensions: { [TASKS]: {} } }, ttlMs: 0, cacheScope: 'private', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'tasks-test-server', version: '1.0.0' } } });
      case 'tools/list':
        return ok({ tools: TOOLS, ttlMs: 0, cacheScope: 'private' });
      case 'tools/call': {
        const args = (params.arguments ?? {}) as { message?: string; ms?: number; label?: string };
        if (params.name === 'echo') return ok({ content: [{ type: 'text', text: `Echo: ${args.message}` }] });
        if (params.name === 'slow' && !takesTasks) return ok({ content: [{ type: 'text', text: `done inline: ${args.label ?? ''}` }] });
        if (params.name !== 'slow' && params.name !== 'ask') return fail(-32602, `Tool ${String(params.name)} not found`);
        if (!takesTasks) return needTasks();
        const task: Task = { taskId: randomUUID(), status: 'working', createdAt: now(), lastUpdatedAt: now() };
        tasks.set(task.taskId, task);
        if (params.name === 'slow') {
          task.timer = setTimeout(() => finish(task, { content: [{ type: 'text', text: `done: ${args.label ?? ''}` }] }), args.ms ?? 100);
        } else {
          task.status = 'input_required';
          task.inputRequests = { name: { method: 'elicitation/create', params: { mode: 'form', message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } } } };
        }
        const { result: _r, inputRequests: _i, ...seed } = view(task);
        return { status: 200, body: { jsonrpc: '2.0', id, result: { ...seed, status: 'working', resultType: 'task' } } };
      }
      case 'tasks/get':
      case 'tasks/update':
      case 'tasks/cancel': {
        if (!takesTasks) return needTasks();
        const task = typeof params.taskId === 'string' ? tasks.get(params.taskId) : undefined;
        if (!task) return fail(-32602, 'Failed to retrieve task: Task not found');
        if (request.method === 'tasks/get') return ok(view(task));
        if (request.method === 'tasks/cancel') {
          if (task.status === 'working' || task.status === 'input_required') {
            clearTimeout(task.timer);
            task.status = 'cancelled';
            delete task.inputRequests;
            task.lastUpdatedAt = now();
          }
          return ok({});
        }
        const responses = (params.inputResponses ?? {}) as Record<string, { action?: string; content?: { name?: string } }>;
        const named = responses.name;
        if (task.status === 'input_required' && named) finish(task, { content: [{ type: 'text', text: `Hello, ${named.content?.name ?? 'nobody'}!` }] });
        return ok({});
      }
      default:
        return fail(-32601, `Method not found: ${String(request.method)}`, undefined, 404);
    }
  };

  const http = createServer((req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
      }
      received.push({ headers: req.headers, body });
      if (body.id === undefined) return void res.writeHead(202).end();
      const out = answer(body);
      res.writeHead(out.status, { 'content-type': 'application/json' }).end(JSON.stringify(out.body));
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
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
