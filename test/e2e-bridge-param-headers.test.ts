// Mcp-Param-* headers (SEP-2243) of 2026-07-28 clients on a 2025 server: a tool's input schema
// marks arguments `x-mcp-header`, the client mirrors them into `Mcp-Param-<Name>` headers, and
// the server must refuse a request whose header disagrees with the body, or lacks a header while
// the body carries the value (400, -32020). Behind the era bridge the server speaks 2025 and never
// sees the headers, so Gatehouse checks them, on a single-server API and on a federated one.
// The upstream is a real SDK 1.x server over Streamable HTTP; the agent the v2 SDK client.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { raw, startTestGateway, type RawResponse, type TestGateway } from './helpers/gatehouse.ts';

const MODERN = '2026-07-28';
let upstream: { url: string; calls: Array<Record<string, unknown>>; lists: number; close(): Promise<void> };
let gh: TestGateway;

/** A 2025 server (SDK 1.x, sessions) with a tool whose `region` and `replicas` ride in headers. */
async function startDeployServer(): Promise<typeof upstream> {
  const calls: Array<Record<string, unknown>> = [];
  const state = { lists: 0 };
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http: HttpServer = createServer((req, res) => {
    void (async () => {
      const id = req.headers['mcp-session-id'];
      let transport = typeof id === 'string' ? sessions.get(id) : undefined;
      if (!transport) {
        const server = new McpServer({ name: 'deploy-server', version: '1.0.0' });
        server.registerTool(
          'deploy',
          {
            description: 'Pretends to deploy',
            inputSchema: { region: z.string().meta({ 'x-mcp-header': 'Region' }), replicas: z.number().int().optional().meta({ 'x-mcp-header': 'Replicas' }), version: z.string() },
          },
          async (args) => {
            calls.push(args);
            return { content: [{ type: 'text', text: `deployed ${args.version} to ${args.region}` }] };
          },
        );
        const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => void sessions.set(sid, created) });
        await server.connect(created);
        transport = created;
      }
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { method?: string };
        if (body.method === 'tools/list') state.lists++;
        await transport.handleRequest(req, res, body);
      } else await transport.handleRequest(req, res);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  return {
    url,
    calls,
    get lists() {
      return state.lists;
    },
    close: async () => {
      for (const t of sessions.values()) await t.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

before(async () => {
  upstream = await startDeployServer();
  gh = await startTestGateway({
    servers: { deployer: { url: upstream.url } },
    apis: [
      { name: 'single', path: '/mcp', server: 'deployer', auth: { type: 'keyless' } },
      { name: 'federated', path: '/fed', servers: ['deployer'], namespace: { prefix: 'always', separator: '__' }, auth: { type: 'keyless' } },
    ],
  });
});

after(async () => {
  await gh?.close();
  await upstream?.close();
});

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};

function call(api: string, name: string, args: Record<string, unknown>, params: Record<string, string>): Promise<RawResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': name };
  for (const [header, value] of Object.entries(params)) headers[`mcp-param-${header}`] = value;
  return raw(gh.url(api), { headers, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: ENVELOPE } } });
}

function assertMismatch(response: RawResponse, pattern: RegExp, label: string): void {
  assert.equal(response.status, 400, `${label}: ${response.text}`);
  const error = (response.messages[0] as { error?: { code: number; message: string } }).error;
  assert.equal(error?.code, -32020, label);
  assert.match(error?.message ?? '', pattern, label);
}

function assertServed(response: RawResponse, label: string): void {
  assert.equal(response.status, 200, `${label}: ${response.text}`);
  const result = (response.messages[0] as { result?: { content?: Array<{ text: string }> } }).result;
  assert.match(result?.content?.[0]?.text ?? '', /^deployed /, `${label}: ${response.text}`);
}

test('a bridged call whose Mcp-Param header disagrees with its argument is refused 400 / -32020 before it reaches the server, though no list went through Gatehouse yet (the headers were not checked)', async () => {
  const listsBefore = upstream.lists;
  const callsBefore = upstream.calls.length;
  assertMismatch(await call('single', 'deploy', { region: 'eu-west', version: '1' }, { region: 'us-east' }), /Mcp-Param-Region/, 'disagreeing header');
  assert.equal(upstream.lists, listsBefore + 1, 'Gatehouse listed the tools once to learn their declarations');
  assertMismatch(await call('single', 'deploy', { region: 'eu-west', version: '1' }, {}), /Mcp-Param-Region header is absent/, 'missing header');
  assertMismatch(await call('single', 'deploy', { region: 'eu-west', replicas: 3, version: '1' }, { region: 'eu-west', replicas: '4' }), /Mcp-Param-Replicas/, 'disagreeing integer');
  assertMismatch(await call('single', 'deploy', { region: 'Hello', version: '1' }, { region: '=?base64?SGVsbG8?=' }), /Base64/, 'bad Base64 padding');
  assert.equal(upstream.calls.length, callsBefore, 'no refused call reached the server');
  assert.equal(upstream.lists, listsBefore + 1, 'the declarations were learned once');
});

test('bridged calls whose Mcp-Param headers agree are served: plain, Base64, integers compared as numbers, a header for an absent argument ignored', async () => {
  assertServed(await call('single', 'deploy', { region: 'eu-west', version: '1' }, { region: 'eu-west' }), 'plain');
  assertServed(await call('single', 'deploy', { region: 'Hello', version: '2' }, { region: `=?base64?${Buffer.from('Hello').toString('base64')}?=` }), 'Base64 sentinel');
  assertServed(await call('single', 'deploy', { region: 'eu-west', replicas: 3, version: '3' }, { region: 'eu-west', replicas: '3.0' }), 'integer as 3.0');
  assertServed(await call('single', 'deploy', { region: 'eu-west', version: '4' }, { region: 'eu-west', replicas: '9' }), 'header without argument');
});

test('the v2 SDK client mirrors the declared arguments and its calls pass, on the single-server API and under the federated name', async () => {
  for (const [api, name] of [
    ['single', 'deploy'],
    ['federated', 'deployer__deploy'],
  ] as const) {
    const client = new Client({ name: 'gatehouse-e2e-param-headers', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(gh.url(api))));
    try {
      const tools = await client.listTools();
      const tool = tools.tools.find((t) => t.name === name);
      assert.ok(tool, `${api}: ${tools.tools.map((t) => t.name).join(', ')}`);
      assert.equal((tool.inputSchema.properties as Record<string, Record<string, unknown>>).region?.['x-mcp-header'], 'Region');
      const result = await client.callTool({ name, arguments: { region: 'ap-south', replicas: 2, version: api } });
      assert.deepEqual(result.content, [{ type: 'text', text: `deployed ${api} to ap-south` }]);
    } finally {
      await client.close();
    }
  }
  assertMismatch(await call('federated', 'deployer__deploy', { region: 'eu-west', version: '1' }, { region: 'eu-north' }), /Mcp-Param-Region/, 'federated: disagreeing header');
});
