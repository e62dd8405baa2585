// A real MCP server built with the SDK (`@modelcontextprotocol/sdk` 1.x `McpServer`), the kind
// most production servers are: a few tools (one reports progress, one waits until released), a
// resource and a prompt. It answers POSTs in either style the SDK's Streamable HTTP transport
// offers: SSE streams (the default, here with an event store and a `retry:` hint, as resumable
// servers send) or single JSON bodies (`enableJsonResponse: true`). It runs in this process, or as
// a child process over HTTP or stdio (`node --import tsx test/helpers/sdk-server.ts http json`),
// for tests that kill it.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { z } from 'zod';

/** How the server answers a POST with requests. */
export type AnswerStyle = 'sse' | 'json';

/** The `retry:` hint (ms) the SSE-answering server puts in each stream's priming event. */
export const SDK_SERVER_RETRY_MS = 2345;
export const SDK_NOTE_URI = 'note://hello';
export const SDK_NOTE_TEXT = 'Hello from the note.';

/** Where the server reports what it does, for tests that wait on it. */
export interface ServerHooks {
  /** The `hold` tool started for `key`. */
  holding?(key: string): void;
  /** Resolves when the test releases `key` (in-process only; children hold until killed). */
  released?(key: string): Promise<void>;
  /** Resolves once the session's standalone GET stream is open (JSON mode sends progress there). */
  standaloneOpen?(sessionId: string | undefined): Promise<void>;
}

export function buildSdkServer(style: AnswerStyle | 'stdio', hooks: ServerHooks = {}): McpServer {
  const server = new McpServer({ name: 'sdk-test-server', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool('echo', { description: 'Echoes the message back', inputSchema: { message: z.string() } }, async ({ message }) => ({
    content: [{ type: 'text', text: `Echo: ${message}` }],
  }));
  server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  server.registerTool(
    'count',
    { description: 'Counts to `steps`, reporting progress at each step', inputSchema: { steps: z.number().int().min(1).max(100) } },
    async ({ steps }, extra) => {
      const token = extra._meta?.progressToken;
      if (token !== undefined) {
        // A JSON answer cannot carry notifications: a JSON-answering server sends them on the
        // session's standalone stream instead (not tied to this request).
        const related = style !== 'json';
        if (!related) await hooks.standaloneOpen?.(extra.sessionId);
        for (let step = 1; step <= steps; step++) {
          const notification = { method: 'notifications/progress' as const, params: { progressToken: token, progress: step, total: steps, message: `step ${step}` } };
          if (related) await extra.sendNotification(notification);
          else await server.server.notification(notification);
        }
      }
      return { content: [{ type: 'text', text: `counted to ${steps}` }] };
    },
  );
  server.registerTool('hold', { description: 'Answers once the test releases it', inputSchema: { key: z.string() } }, async ({ key }, extra) => {
    // On an SSE answer, a progress notification first: the client sees the stream has started.
    const token = extra._meta?.progressToken;
    if (token !== undefined && style !== 'json') {
      await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 0, message: `holding ${key}` } });
    }
    hooks.holding?.(key);
    await (hooks.released?.(key) ?? new Promise<void>(() => {}));
    return { content: [{ type: 'text', text: `released ${key}` }] };
  });
  server.registerResource('note', SDK_NOTE_URI, { description: 'A short note', mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: SDK_NOTE_TEXT }],
  }));
  server.registerPrompt('greeting', { description: 'Greets someone', argsSchema: { name: z.string() } }, async ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${name}.` } }],
  }));
  return server;
}

export interface RunningSdkServer {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** The MCP endpoint (`/mcp`). */
  readonly url: string;
  /** Resolves when the `hold` tool has started for `key`. */
  holding(key: string): Promise<void>;
  /** Lets the `hold` tool answer for `key`. */
  release(key: string): void;
  /** Sends notifications/tools/list_changed to every session (on its standalone stream). */
  notifyAll(): Promise<void>;
  close(): Promise<void>;
}

class Deferred {
  readonly promise: Promise<void>;
  resolve!: () => void;
  constructor() {
    this.promise = new Promise((resolve) => (this.resolve = resolve));
  }
}

function keyed(): (key: string) => Deferred {
  const map = new Map<string, Deferred>();
  return (key) => {
    let deferred = map.get(key);
    if (!deferred) map.set(key, (deferred = new Deferred()));
    return deferred;
  };
}

/** Starts the server over Streamable HTTP on a free loopback port, endpoint `/mcp`. */
export async function startSdkServer(style: AnswerStyle, options: { port?: number; onHolding?: (key: string) => void } = {}): Promise<RunningSdkServer> {
  const holding = keyed();
  const released = keyed();
  const standalone = keyed();
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: McpServer }>();
  const hooks: ServerHooks = {
    holding: (key) => {
      options.onHolding?.(key);
      holding(key).resolve();
    },
    released: (key) => released(key).promise,
    standaloneOpen: (sessionId) => standalone(sessionId ?? '').promise,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const sessionId = req.headers['mcp-session-id'];
    let session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (!session && typeof sessionId === 'string') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
      return;
    }
    if (!session) {
      const server = buildSdkServer(style, hooks);
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: style === 'json',
        ...(style === 'sse' ? { eventStore: new InMemoryEventStore(), retryInterval: SDK_SERVER_RETRY_MS } : {}),
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, server });
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
        },
      });
      await server.connect(transport);
      session = { transport, server };
    }
    if (req.method === 'GET' && typeof sessionId === 'string') {
      // The transport registers the standalone stream before it writes the head.
      const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
      res.writeHead = ((...args: unknown[]) => {
        const out = writeHead(...args);
        if (res.statusCode === 200) standalone(sessionId).resolve();
        return out;
      }) as ServerResponse['writeHead'];
    }
    await session.transport.handleRequest(req, res);
  };

  const http: HttpServer = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    origin,
    url: `${origin}/mcp`,
    holding: (key) => holding(key).promise,
    release: (key) => released(key).resolve(),
    notifyAll: async () => {
      for (const { server } of sessions.values()) server.sendToolListChanged();
    },
    close: async () => {
      for (const key of [...sessions.keys()]) await sessions.get(key)?.transport.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const HERE = fileURLToPath(import.meta.url);

/** Command and args that run this server as a child over stdio. */
export function sdkServerStdioCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', HERE, 'stdio'] };
}

export interface SdkServerChild {
  readonly origin: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves when the `hold` tool has started for `key` (the child reports it on stderr). */
  holding(key: string): Promise<void>;
  kill(): Promise<void>;
}

/** Runs the server as a child process over HTTP (a real process a test can kill). */
export function startSdkServerChild(style: AnswerStyle, timeoutMs = 20_000): Promise<SdkServerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', HERE, 'http', style], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const waiters: Array<{ pattern: string; resolve: () => void }> = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const waiter of waiters.splice(0)) {
      if (stderr.includes(waiter.pattern)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const waitFor = (pattern: string) =>
    new Promise<void>((resolve) => {
      if (stderr.includes(pattern)) resolve();
      else waiters.push({ pattern, resolve });
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the SDK server did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => reject(new Error(`the SDK server exited (${code}) before listening: ${stderr}`)));
    void waitFor('SDK_SERVER_LISTENING').then(() => {
      clearTimeout(timer);
      const port = Number(/SDK_SERVER_LISTENING port=(\d+)/.exec(stderr)?.[1]);
      const origin = `http://127.0.0.1:${port}`;
      resolve({
        origin,
        url: `${origin}/mcp`,
        child,
        holding: (key) => waitFor(`HOLDING ${key}\n`),
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const [mode, style] = argv;
  if (mode === 'stdio') {
    await buildSdkServer('stdio').connect(new StdioServerTransport());
    return;
  }
  if (mode !== 'http' || (style !== 'sse' && style !== 'json')) throw new Error('usage: sdk-server.ts stdio | http sse|json');
  // The hold tool's start goes to stderr, so that the parent can kill this process mid-call.
  const running = await startSdkServer(style, { onHolding: (key) => process.stderr.write(`HOLDING ${key}\n`) });
  process.stderr.write(`SDK_SERVER_LISTENING port=${new URL(running.origin).port}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
