// A 2026-07-28 MCP server written with the v2 server SDK (@modelcontextprotocol/server) that offers
// what the official conformance suite's server scenarios call: the `test_*` tools, resources and
// prompts they name, completions, cache hints, and multi round-trip (`input_required`) tools. The
// SDK serves both eras from one set of handlers: 2026-07-28 requests get `input_required` results;
// on 2025-era requests its legacy shim turns them into real server→client requests.
//
// Run over HTTP in-process (`startConformanceServer`) or as a stdio child:
//   node --import tsx test/conformance/server-2026.ts stdio
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  createMcpHandler,
  createRequestStateCodec,
  hostHeaderValidationResponse,
  inputRequired,
  localhostAllowedHostnames,
  McpServer,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

// A 1×1 PNG and a tiny WAV: the scenarios check the content type and that data is present.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=';

/** The state sealed into `requestState` (HMAC by the SDK's codec, so a tampered state is refused). */
interface FlowState {
  kind: string;
  round?: number;
  name?: string;
}

type Responses = Record<string, unknown> | undefined;

function content(responses: Responses, key: string): Record<string, unknown> | undefined {
  const entry = responses?.[key] as { content?: unknown } | undefined;
  return entry && typeof entry.content === 'object' && entry.content !== null ? (entry.content as Record<string, unknown>) : undefined;
}

function text(value: string) {
  return { content: [{ type: 'text' as const, text: value }] };
}

const nameSchema = { type: 'object' as const, properties: { name: { type: 'string' as const } }, required: ['name'] };

function buildServer(codec: ReturnType<typeof createRequestStateCodec<FlowState>>): McpServer {
  const server = new McpServer(
    { name: 'gatehouse-conformance-server', version: '1.0.0' },
    {
      capabilities: { logging: {}, completions: {}, resources: { subscribe: true } },
      cacheHints: {
        'tools/list': { ttlMs: 300000, cacheScope: 'public' },
        'prompts/list': { ttlMs: 300000, cacheScope: 'public' },
        'resources/list': { ttlMs: 300000, cacheScope: 'public' },
        'resources/templates/list': { ttlMs: 300000, cacheScope: 'public' },
        'resources/read': { ttlMs: 300000, cacheScope: 'private' },
        'server/discover': { ttlMs: 300000, cacheScope: 'public' },
      },
      requestState: { verify: (state, ctx) => codec.verify(state, ctx) },
    },
  );
  const none = z.object({});
  const state = (ctx: ServerContext) => ctx.mcpReq.requestState<FlowState>();

  server.registerTool('test_simple_text', { description: 'Simple text content', inputSchema: none }, async () => text('This is a simple text response for testing.'));
  server.registerTool('test_image_content', { description: 'Image content', inputSchema: none }, async () => ({
    content: [{ type: 'image', data: PNG, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Audio content', inputSchema: none }, async () => ({
    content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Embedded resource', inputSchema: none }, async () => ({
    content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
  }));
  server.registerTool('test_multiple_content_types', { description: 'Text, image and resource', inputSchema: none }, async () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } },
    ],
  }));
  server.registerTool('test_tool_with_logging', { description: 'Logs while it runs', inputSchema: none }, async (_args, ctx) => {
    for (const message of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
      await ctx.mcpReq.log('info', message);
    }
    return text('Tool with logging executed successfully');
  });
  server.registerTool('test_tool_with_progress', { description: 'Reports progress', inputSchema: none }, async (_args, ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken ?? 0;
    for (const progress of [0, 50, 100]) {
      await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` } });
    }
    return text(String(progressToken));
  });
  server.registerTool('test_error_handling', { description: 'Always fails', inputSchema: none }, async () => {
    throw new Error('This tool intentionally returns an error for testing');
  });

  // Server→client requests, written once: 2026-07-28 clients get `input_required`, 2025 clients a
  // real request from the SDK's shim.
  server.registerTool('test_sampling', { description: 'Asks the client for a completion', inputSchema: z.object({ prompt: z.string() }) }, async ({ prompt }, ctx) => {
    const answer = ctx.mcpReq.inputResponses?.['sample'] as { content?: { text?: string } } | undefined;
    if (answer) return text(`LLM response: ${answer.content?.text ?? 'No response'}`);
    return inputRequired({ inputRequests: { sample: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 }) } });
  });
  const elicitingTool = (name: string, message: (args: Record<string, unknown>) => string, requestedSchema: Record<string, unknown>, schema: z.ZodObject) =>
    server.registerTool(name, { description: `Elicitation (${name})`, inputSchema: schema }, async (args, ctx) => {
      const answer = ctx.mcpReq.inputResponses?.['input'] as { action?: string; content?: unknown } | undefined;
      if (answer) return text(`User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
      return inputRequired({
        // The schemas below are wire-ready elicitation schemas, copied from the suite's expectations.
        inputRequests: { input: inputRequired.elicit({ message: message(args as Record<string, unknown>), requestedSchema: requestedSchema as never }) },
      });
    });
  elicitingTool('test_elicitation', (args) => String(args['message']), { type: 'object', properties: { response: { type: 'string', description: "User's response" } }, required: ['response'] }, z.object({ message: z.string() }));
  elicitingTool(
    'test_elicitation_sep1034_defaults',
    () => 'Please review and update the form fields with defaults',
    {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'User name', default: 'John Doe' },
        age: { type: 'integer', description: 'User age', default: 30 },
        score: { type: 'number', description: 'User score', default: 95.5 },
        status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
        verified: { type: 'boolean', description: 'Verification status', default: true },
      },
      required: [],
    },
    none,
  );
  elicitingTool(
    'test_elicitation_sep1330_enums',
    () => 'Please select options from the enum fields',
    {
      type: 'object',
      properties: {
        untitledSingle: { type: 'string', description: 'Select one option', enum: ['option1', 'option2', 'option3'] },
        titledSingle: { type: 'string', description: 'Select one option with titles', oneOf: [{ const: 'value1', title: 'First Option' }, { const: 'value2', title: 'Second Option' }, { const: 'value3', title: 'Third Option' }] },
        legacyEnum: { type: 'string', description: 'Select one option (legacy)', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
        untitledMulti: { type: 'array', description: 'Select multiple options', minItems: 1, maxItems: 3, items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
        titledMulti: { type: 'array', description: 'Select multiple options with titles', minItems: 1, maxItems: 3, items: { anyOf: [{ const: 'value1', title: 'First Choice' }, { const: 'value2', title: 'Second Choice' }, { const: 'value3', title: 'Third Choice' }] } },
      },
      required: [],
    },
    none,
  );

  // Multi round-trip tools of the 2026-07-28 scenarios.
  server.registerTool('test_input_required_result_elicitation', { description: 'MRTR: elicitation', inputSchema: none }, async (_args, ctx) => {
    const answer = content(ctx.mcpReq.inputResponses, 'user_name');
    if (answer) return text(`Hello, ${String(answer['name'] ?? 'unknown')}!`);
    return inputRequired({ inputRequests: { user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: nameSchema }) } });
  });
  server.registerTool('test_input_required_result_sampling', { description: 'MRTR: sampling', inputSchema: none }, async (_args, ctx) => {
    const answer = content(ctx.mcpReq.inputResponses, 'sample_request');
    if (answer) return text(`Sampling result: ${typeof answer['text'] === 'string' ? answer['text'] : 'no response'}`);
    return inputRequired({ inputRequests: { sample_request: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 }) } });
  });
  server.registerTool('test_input_required_result_list_roots', { description: 'MRTR: roots', inputSchema: none }, async (_args, ctx) => {
    const answer = ctx.mcpReq.inputResponses?.['roots_request'] as { roots?: unknown[] } | undefined;
    if (answer) return text(`Found ${Array.isArray(answer.roots) ? answer.roots.length : 0} root(s)`);
    return inputRequired({ inputRequests: { roots_request: inputRequired.listRoots() } });
  });
  const confirm = inputRequired.elicit({ message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } });
  server.registerTool('test_input_required_result_request_state', { description: 'MRTR: requestState', inputSchema: none }, async (_args, ctx) => {
    if (state(ctx)?.kind === 'request-state' && content(ctx.mcpReq.inputResponses, 'confirm')?.['ok'] === true) return text('state-ok: requestState validated');
    return inputRequired({ inputRequests: { confirm }, requestState: await codec.mint({ kind: 'request-state' }) });
  });
  server.registerTool('test_input_required_result_tampered_state', { description: 'MRTR: signed requestState', inputSchema: none }, async (_args, ctx) => {
    if (state(ctx)?.kind === 'tamper-test' && ctx.mcpReq.inputResponses?.['confirm']) return text('integrity-ok: state verified');
    return inputRequired({ inputRequests: { confirm }, requestState: await codec.mint({ kind: 'tamper-test' }) });
  });
  server.registerTool('test_input_required_result_multiple_inputs', { description: 'MRTR: several inputs', inputSchema: none }, async (_args, ctx) => {
    const responses = ctx.mcpReq.inputResponses;
    if (state(ctx)?.kind === 'multiple-inputs' && responses?.['user_name'] && responses['greeting'] && responses['client_roots']) {
      const roots = (responses['client_roots'] as { roots?: unknown[] }).roots ?? [];
      const greeting = content(responses, 'greeting')?.['text'] ?? 'Hello there!';
      return text(`Name: ${String(content(responses, 'user_name')?.['name'] ?? 'unknown')}; Greeting: ${String(greeting)}; Roots: ${roots.length}`);
    }
    return inputRequired({
      inputRequests: {
        user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: nameSchema }),
        greeting: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 }),
        client_roots: inputRequired.listRoots(),
      },
      requestState: await codec.mint({ kind: 'multiple-inputs' }),
    });
  });
  server.registerTool('test_input_required_result_multi_round', { description: 'MRTR: two rounds', inputSchema: none }, async (_args, ctx) => {
    const current = state(ctx);
    if (current?.round === 1 && content(ctx.mcpReq.inputResponses, 'step1')) {
      const name = String(content(ctx.mcpReq.inputResponses, 'step1')?.['name'] ?? 'unknown');
      return inputRequired({
        inputRequests: { step2: inputRequired.elicit({ message: 'Step 2: What is your favorite color?', requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] } }) },
        requestState: await codec.mint({ kind: 'multi-round', round: 2, name }),
      });
    }
    if (current?.round === 2 && content(ctx.mcpReq.inputResponses, 'step2')) {
      return text(`Multi-round complete for ${current.name ?? 'friend'} who likes ${String(content(ctx.mcpReq.inputResponses, 'step2')?.['color'] ?? 'unknown')}`);
    }
    return inputRequired({
      inputRequests: { step1: inputRequired.elicit({ message: 'Step 1: What is your name?', requestedSchema: nameSchema }) },
      requestState: await codec.mint({ kind: 'multi-round', round: 1 }),
    });
  });
  server.registerTool('test_input_required_result_capabilities', { description: 'MRTR: respects client capabilities', inputSchema: none }, async (_args, ctx) => {
    const responses = ctx.mcpReq.inputResponses;
    if (responses && Object.keys(responses).length > 0) return text(`capabilities-ok: received ${Object.keys(responses).join(',')}`);
    // The envelope keeps the reserved `_meta` keys as the request spelled them.
    const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
    const caps = (envelope['io.modelcontextprotocol/clientCapabilities'] ?? envelope['clientCapabilities'] ?? {}) as Record<string, unknown>;
    const requests: Record<string, ReturnType<typeof inputRequired.listRoots>> = {};
    if (caps['elicitation']) requests['elicit_input'] = inputRequired.elicit({ message: 'Elicitation input', requestedSchema: { type: 'object', properties: { value: { type: 'string' } }, required: ['value'] } });
    if (caps['sampling']) requests['sample_input'] = inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Sample request' } }], maxTokens: 50 });
    if (Object.keys(requests).length === 0) return text('No supported capabilities declared');
    return inputRequired({ inputRequests: requests, requestState: await codec.mint({ kind: 'capabilities-test' }) });
  });

  // Resources.
  server.registerResource('static-text', 'test://static-text', { title: 'Static Text Resource', description: 'A static text resource', mimeType: 'text/plain' }, async () => ({
    contents: [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
  }));
  server.registerResource('static-binary', 'test://static-binary', { title: 'Static Binary Resource', description: 'A static binary resource (image)', mimeType: 'image/png' }, async () => ({
    contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: PNG }],
  }));
  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined, complete: { id: () => ['1', '2', '3'] } }),
    { title: 'Resource Template', description: 'A resource template with parameter substitution', mimeType: 'application/json' },
    async (uri, variables) => ({
      contents: [{ uri: uri.toString(), mimeType: 'application/json', text: JSON.stringify({ id: variables['id'], templateTest: true, data: `Data for ID: ${String(variables['id'])}` }) }],
    }),
  );
  server.registerResource('watched-resource', 'test://watched-resource', { title: 'Watched Resource', description: 'A subscribable resource', mimeType: 'text/plain' }, async () => ({
    contents: [{ uri: 'test://watched-resource', mimeType: 'text/plain', text: 'Watched resource content' }],
  }));

  // Prompts.
  server.registerPrompt('test_simple_prompt', { title: 'Simple Test Prompt', description: 'A simple prompt without arguments' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));
  server.registerPrompt(
    'test_prompt_with_arguments',
    { title: 'Prompt With Arguments', description: 'A prompt with required arguments', argsSchema: z.object({ arg1: z.string().describe('First test argument'), arg2: z.string().describe('Second test argument') }) },
    async ({ arg1, arg2 }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }] }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    { title: 'Prompt With Embedded Resource', description: 'A prompt that includes an embedded resource', argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }) },
    async ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.registerPrompt('test_prompt_with_image', { title: 'Prompt With Image', description: 'A prompt that includes image content' }, async () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
  server.registerPrompt('test_input_required_result_prompt', { description: 'MRTR: prompt that requires elicitation input' }, async (ctx) => {
    const answer = content(ctx.mcpReq.inputResponses, 'user_context');
    if (answer) return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with context: ${String(answer['context'] ?? 'unknown')}` } }] };
    return inputRequired({
      inputRequests: { user_context: inputRequired.elicit({ message: 'What context should the prompt use?', requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] } }) },
    });
  });
  return server;
}

function makeCodec() {
  return createRequestStateCodec<FlowState>({ key: randomBytes(32) });
}

export interface RunningConformanceServer {
  /** The MCP endpoint, http://127.0.0.1:<port>/mcp */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the conformance server over Streamable HTTP on a free loopback port (endpoint `/mcp`). */
export async function startConformanceServer(): Promise<RunningConformanceServer> {
  const codec = makeCodec();
  const handler = createMcpHandler(() => buildServer(codec));
  let origin = '';
  const http: HttpServer = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
      }
      const controller = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) controller.abort();
      });
      const request = new Request(`${origin}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers,
        body: req.method !== 'GET' && req.method !== 'HEAD' && body.length > 0 ? body : undefined,
        signal: controller.signal,
      });
      // DNS rebinding protection, as a local server must have (the SDK's helper answers 403).
      const response = hostHeaderValidationResponse(request, localhostAllowedHostnames()) ?? (await handler.fetch(request));
      const out: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        out[name] = value;
      });
      res.writeHead(response.status, out);
      if (response.headers.get('content-type')?.startsWith('text/event-stream')) res.flushHeaders();
      if (response.body) for await (const chunk of response.body) res.write(chunk);
      res.end();
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url: `${origin}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** The command that runs this server over stdio (for a Gatehouse `command:` server). */
export function conformanceStdioCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', fileURLToPath(import.meta.url), 'stdio'] };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'stdio') {
  const { StdioServerTransport } = await import('@modelcontextprotocol/server/stdio');
  await buildServer(makeCodec()).connect(new StdioServerTransport());
}
