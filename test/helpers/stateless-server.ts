// A small real MCP server built with the v2 server SDK (@modelcontextprotocol/server), which speaks
// the 2026-07-28 revision (no initialize, no sessions, `server/discover`, Mcp-Method/Mcp-Name
// headers) and, through the SDK's stateless legacy fallback, answers 2025-era clients too.
// Served by node:http on 127.0.0.1; every request it receives is recorded for wire-level asserts.
import { createServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, inputRequired, McpServer, type McpHttpHandler } from '@modelcontextprotocol/server';
import { z } from 'zod';

export interface ReceivedRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** The raw body bytes as received, decoded as UTF-8 ('' when there was none). */
  readonly body: string;
}

export interface RunningStatelessServer {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** The MCP endpoint (`/mcp`). */
  readonly url: string;
  /** Every HTTP request the server received, in order. */
  readonly received: ReceivedRequest[];
  /** Publishes change notifications to open `subscriptions/listen` streams. */
  readonly notify: McpHttpHandler['notify'];
  close(): Promise<void>;
}

export interface StatelessServerOptions {
  /** Declare `resources.subscribe` and serve a second note, `note://secret` (for ACL tests). */
  readonly subscriptions?: boolean;
  /** How answers are sent (the SDK's `responseMode`): `auto` (default, JSON unless something precedes the result), `sse` or `json`. */
  readonly responseMode?: 'auto' | 'sse' | 'json';
  /** Lists (tools, prompts, resources) say they may be cached by anyone for a minute (`cacheScope: public`). */
  readonly publicLists?: boolean;
  /**
   * Serve 2026-07-28 clients only (the SDK's `legacy: 'reject'`: a 2025 `initialize` is refused
   * with -32022), and offer `ask_name`, a tool that asks the client for a name through an
   * `input_required` result (elicitation) before it answers.
   */
  readonly modernOnly?: boolean;
  /** Listen on this port (a server started again where it was); a free one when absent. */
  readonly port?: number;
  /** Called with each request before the SDK's handler gets it (a test acting at that moment). */
  readonly onRequest?: (request: ReceivedRequest, notify: McpHttpHandler['notify']) => void;
}

const PUBLIC_MINUTE = { ttlMs: 60_000, cacheScope: 'public' as const };

/** A prompt name outside plain ASCII: clients must send it in Mcp-Name as a Base64 sentinel. */
export const NON_ASCII_PROMPT = 'grüße';
/** A tool whose `region` argument is mirrored into an `Mcp-Param-Region` header (SEP-2243 `x-mcp-header`). */
export const HEADER_MIRRORED_TOOL = 'deploy';

function buildServer(options: StatelessServerOptions): McpServer {
  const server = new McpServer(
    { name: 'stateless-test-server', version: '1.0.0' },
    {
      ...(options.subscriptions && { capabilities: { resources: { subscribe: true } } }),
      ...(options.publicLists && { cacheHints: { 'tools/list': PUBLIC_MINUTE, 'prompts/list': PUBLIC_MINUTE, 'resources/list': PUBLIC_MINUTE } }),
    },
  );
  server.registerTool(
    'echo',
    { description: 'Echoes the message back', inputSchema: z.object({ message: z.string() }) },
    async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }),
  );
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: z.object({ a: z.number(), b: z.number() }) },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
  );
  server.registerTool(
    HEADER_MIRRORED_TOOL,
    {
      description: 'Pretends to deploy to a region (the region is mirrored into a request header)',
      inputSchema: z.object({ region: z.string().meta({ 'x-mcp-header': 'Region' }), version: z.string() }),
    },
    async ({ region, version }) => ({ content: [{ type: 'text', text: `deployed ${version} to ${region}` }] }),
  );
  server.registerPrompt(
    'greeting',
    { description: 'Greets someone', argsSchema: z.object({ name: z.string() }) },
    async ({ name }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${name}.` } }] }),
  );
  server.registerPrompt(NON_ASCII_PROMPT, { description: 'Greets in German' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'Sag Hallo.' } }],
  }));
  server.registerResource('note', 'note://hello', { description: 'A short note', mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Hello from the note.' }],
  }));
  if (options.modernOnly) {
    server.registerTool('ask_name', { description: 'Asks the user for a name, then greets it', inputSchema: z.object({ greeting: z.string() }) }, async ({ greeting }, ctx) => {
      const answer = ctx.mcpReq.inputResponses?.['user'] as { action?: string; content?: { name?: unknown } } | undefined;
      if (answer) return { content: [{ type: 'text', text: answer.action === 'accept' ? `${greeting}, ${String(answer.content?.name)}!` : `no name (${answer.action})` }] };
      return inputRequired({
        inputRequests: { user: inputRequired.elicit({ message: 'What is your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } }) },
      });
    });
  }
  if (options.subscriptions) {
    server.registerResource('secret', 'note://secret', { description: 'A note an ACL may hide', mimeType: 'text/plain' }, async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'The secret note.' }],
    }));
  }
  return server;
}

/** Starts the server on a free loopback port, endpoint `/mcp`. */
export async function startStatelessServer(options: StatelessServerOptions = {}): Promise<RunningStatelessServer> {
  const handler = createMcpHandler(() => buildServer(options), {
    ...(options.responseMode && { responseMode: options.responseMode }),
    ...(options.modernOnly && { legacy: 'reject' as const }),
  });
  const received: ReceivedRequest[] = [];
  let origin = '';

  const http: HttpServer = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const seen = { method: req.method ?? '', headers: req.headers, body: body.toString('utf8') };
      received.push(seen);
      options.onRequest?.(seen, handler.notify);

      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
      }
      const controller = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) controller.abort();
      });
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && body.length > 0;
      const request = new Request(`${origin}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers,
        body: hasBody ? body : undefined,
        signal: controller.signal,
      });
      const response = await handler.fetch(request);
      const out: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        out[name] = value;
      });
      res.writeHead(response.status, out);
      if (response.headers.get('content-type')?.startsWith('text/event-stream')) res.flushHeaders();
      if (response.body) {
        for await (const chunk of response.body) res.write(chunk);
      }
      res.end();
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });

  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    origin,
    url: `${origin}/mcp`,
    received,
    notify: handler.notify,
    close: async () => {
      await handler.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
