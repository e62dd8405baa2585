// Test helpers: a real server-everything upstream, a Gatehouse in this process (or as a CLI
// child), the official SDK client as the agent, and a raw HTTP helper for wire-level checks.
import { Writable } from 'node:stream';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { pino } from 'pino';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { everythingStdioCommand, startEverything, type RunningEverything } from '../../src/demo/everything.ts';

export { startEverything, everythingStdioCommand, type RunningEverything };

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(REPO_ROOT, 'bin', 'gatehouse.js');

/** Collects log lines in memory so tests can read what Gatehouse logged. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.lines.push({ msg: line });
      }
    }
    cb();
  }
  text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

export function tempDir(prefix = 'gatehouse-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function randomKeyHex(): string {
  return randomBytes(32).toString('hex');
}

export interface TestGateway {
  gateway: Gateway;
  logs: LogCapture;
  url(api?: string): string;
  origin: string;
  close(): Promise<void>;
}

/** Starts Gatehouse in this process on a free loopback port. */
export async function startTestGateway(config: Omit<ConfigInput, 'listen'> & { listen?: ConfigInput['listen'] }, options: { key?: string; dataDir?: string } = {}): Promise<TestGateway> {
  const logs = new LogCapture();
  const logger = pino({ level: 'debug' }, logs);
  const env = { ...process.env, GATEHOUSE_SESSION_KEY: options.key ?? randomKeyHex() };
  const gateway = await startGateway({
    config: { listen: { host: '127.0.0.1', port: 0 }, ...config },
    logger,
    env,
    dataDir: options.dataDir ?? tempDir(),
  });
  const origin = `http://127.0.0.1:${gateway.port}`;
  return { gateway, logs, origin, url: (api) => gateway.url(api), close: () => gateway.close() };
}

/** server-everything over Streamable HTTP (on loopback) behind a keyless API at /mcp, and over stdio at /mcp-stdio. */
export async function startEverythingBehindGatehouse(extra: Partial<ConfigInput> = {}): Promise<{ everything: RunningEverything; gh: TestGateway; close(): Promise<void> }> {
  const everything = await startEverything();
  const stdio = everythingStdioCommand();
  const gh = await startTestGateway({
    servers: {
      everything: { url: `${everything.origin}/mcp` },
      'everything-stdio': { command: stdio.command, args: stdio.args },
    },
    apis: [
      { name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } },
      { name: 'everything-stdio', path: '/mcp-stdio', server: 'everything-stdio', auth: { type: 'keyless' } },
    ],
    ...extra,
  });
  return {
    everything,
    gh,
    close: async () => {
      await gh.close();
      await everything.close();
    },
  };
}

/** The official SDK client, connected to `url`. */
export async function connectClient(url: string, options: { capabilities?: ConstructorParameters<typeof Client>[1] } = {}): Promise<{ client: Client; transport: StreamableHTTPClientTransport; close(): Promise<void> }> {
  const client = new Client({ name: 'gatehouse-test', version: '1.0.0' }, options.capabilities);
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return {
    client,
    transport,
    close: async () => {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
} as const;

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON body, or the JSON-RPC messages of an SSE body. */
  messages: unknown[];
}

/** One raw HTTP request; parses JSON or SSE bodies into messages. */
export async function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | unknown } = {}): Promise<RawResponse> {
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  const response = await fetch(url, { method: init.method ?? 'POST', headers: init.headers ?? { ...MCP_HEADERS }, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, messages: parseMessages(response.headers.get('content-type') ?? '', text) };
}

export function parseMessages(contentType: string, text: string): unknown[] {
  if (text === '') return [];
  if (contentType.startsWith('text/event-stream')) {
    return text
      .split(/\n\n/)
      .map((event) => event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n'))
      .filter((data) => data !== '')
      .map((data) => JSON.parse(data) as unknown);
  }
  try {
    return [JSON.parse(text) as unknown];
  } catch {
    return [];
  }
}

export const INIT_REQUEST = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-test', version: '1.0.0' } },
} as const;

/** Opens a session with raw HTTP: initialize + initialized. Returns the session id. */
export async function rawSession(url: string, headers: Record<string, string> = {}): Promise<string> {
  const init = await raw(url, { headers: { ...MCP_HEADERS, ...headers }, body: INIT_REQUEST });
  const sessionId = init.headers.get('mcp-session-id');
  if (init.status !== 200 || !sessionId) throw new Error(`initialize failed: ${init.status} ${init.text}`);
  const ack = await raw(url, {
    headers: { ...MCP_HEADERS, ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
    body: { jsonrpc: '2.0', method: 'notifications/initialized' },
  });
  if (ack.status !== 202) throw new Error(`initialized notification got ${ack.status}`);
  return sessionId;
}

export function sessionHeaders(sessionId: string): Record<string, string> {
  return { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
}

/** Writes a YAML/JSON config file in a fresh temp dir and returns its path. */
export function writeConfig(text: string, name = 'gatehouse.yaml'): string {
  const dir = tempDir();
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the built CLI (bin/gatehouse.js) as a child process. */
export function runCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const tick = () => {
          const match = pattern.exec(out);
          if (match) return resolve(match[0]);
          if (child.exitCode !== null) return reject(new Error(`CLI exited (${child.exitCode}) before ${pattern}: ${out}`));
          if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${pattern}: ${out}`));
          setTimeout(tick, 50);
        };
        tick();
      }),
  };
}

/** A tenant's egress that lets its servers reach the test peers on this machine (a tenant reaches public addresses only by default). */
export const LOCAL_EGRESS = { allow: ['127.0.0.1'] };
