// A 2025-11-25 MCP server with task support, built with the SDK 1.x experimental tasks API
// (`registerToolTask`, an `InMemoryTaskStore`), served over Streamable HTTP with sessions. Its
// task ids are counted (`task-1`, `task-2`, …) rather than random, so two instances of it hand out
// the same ids: a federated API of both must keep their tasks apart. Tools:
// - `work` (taskSupport optional): a task that works `ms` milliseconds, reporting a status (which
//   the SDK sends as `notifications/tasks/status`), then completes with `<label> done by <name>`;
// - `wait` (taskSupport required): a task that works until it is cancelled;
// - `whoami`: a plain call answering the server's name.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InMemoryTaskStore, InMemoryTaskMessageQueue } from '@modelcontextprotocol/sdk/experimental/tasks';
import { z } from 'zod';

export interface RunningTaskMember {
  readonly url: string;
  /** Task ids this server handed out, in order. */
  readonly created: string[];
  close(): Promise<void>;
}

/** An in-memory store whose ids are counted, so that two servers' ids collide. */
function countingStore(): InMemoryTaskStore {
  const store = new InMemoryTaskStore();
  let next = 0;
  // generateTaskId is private in the SDK's types; replacing it is the one way to choose ids.
  (store as unknown as { generateTaskId: () => string }).generateTaskId = () => `task-${++next}`;
  return store;
}

export async function startTaskMember(name: string): Promise<RunningTaskMember> {
  const taskStore = countingStore();
  const taskMessageQueue = new InMemoryTaskMessageQueue();
  const created: string[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const build = (): McpServer => {
    const server = new McpServer({ name, version: '1.0.0' }, { capabilities: { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } }, taskStore, taskMessageQueue });
    server.registerTool('whoami', { description: 'Answers the server\'s name', inputSchema: {} }, async () => ({ content: [{ type: 'text', text: name }] }));
    server.experimental.tasks.registerToolTask(
      'work',
      { description: 'Works `ms` milliseconds as a task', inputSchema: { ms: z.number().int().min(0).max(60_000), label: z.string() }, execution: { taskSupport: 'optional' } },
      {
        createTask: async ({ ms, label }, extra) => {
          const task = await extra.taskStore.createTask({ ttl: 60_000, pollInterval: 50 });
          created.push(task.taskId);
          const store = extra.taskStore;
          setTimeout(() => {
            void store
              .updateTaskStatus(task.taskId, 'working', `${label}: halfway`)
              .then(() => new Promise((resolve) => setTimeout(resolve, ms / 2)))
              .then(() => store.storeTaskResult(task.taskId, 'completed', { content: [{ type: 'text', text: `${label} done by ${name}` }] }))
              .catch(() => undefined); // cancelled meanwhile: a terminal task takes no more updates
          }, ms / 2);
          return { task };
        },
        getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
        getTaskResult: async (_args, extra) => extra.taskStore.getTaskResult(extra.taskId) as never,
      },
    );
    server.experimental.tasks.registerToolTask(
      'wait',
      { description: 'Works until cancelled', inputSchema: {}, execution: { taskSupport: 'required' } },
      {
        createTask: async (_args, extra) => {
          const task = await extra.taskStore.createTask({ ttl: 60_000, pollInterval: 50 });
          created.push(task.taskId);
          return { task };
        },
        getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
        getTaskResult: async (_args, extra) => extra.taskStore.getTaskResult(extra.taskId) as never,
      },
    );
    return server;
  };
  const http: HttpServer = createServer((req, res) => {
    const sessionId = req.headers['mcp-session-id'];
    const known = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (known) return void known.handleRequest(req, res);
    if (typeof sessionId === 'string') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void transports.set(id, transport),
      onsessionclosed: (id) => void transports.delete(id),
    });
    void build()
      .connect(transport)
      .then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    created,
    close: async () => {
      for (const transport of transports.values()) await transport.close().catch(() => undefined);
      taskStore.cleanup();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
