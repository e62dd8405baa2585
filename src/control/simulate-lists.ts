// The simulator's view of an API's servers: every tool, prompt, resource and resource template
// each server lists, read with the official SDK client over the server's own transport (the
// configured URL and headers, or the stdio command), every page, within a time limit. A server
// that cannot be reached is reported with its error; the others are still listed.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ServerData } from '../config/schema.ts';

export interface ServerLists {
  readonly server: string;
  readonly tools: readonly string[];
  readonly prompts: readonly string[];
  readonly resources: readonly string[];
  readonly resourceTemplates: readonly string[];
  /** Why the server could not be listed (nothing else is then filled in). */
  readonly error?: string;
}

/** Longest the simulator waits for one server (connect and every list). */
export const LIST_TIMEOUT_MS = 15_000;
/** Most pages read per list: a server that pages forever is cut off, not followed. */
const MAX_PAGES = 50;

function transportOf(server: ServerData): Transport {
  if ('command' in server) {
    return new StdioClientTransport({ command: server.command, args: server.args, env: { ...getDefaultEnvironment(), ...server.env }, cwd: server.cwd, stderr: 'ignore' });
  }
  const headers = server.headers ?? {};
  if ('sse' in server) return new SSEClientTransport(new URL(server.sse), { requestInit: { headers } });
  return new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers } });
}

export async function listServer(name: string, server: ServerData, timeoutMs = LIST_TIMEOUT_MS): Promise<ServerLists> {
  const empty = { server: name, tools: [], prompts: [], resources: [], resourceTemplates: [] };
  if (!('command' in server) && server.credential !== undefined) {
    // The credential is the gateway's secret, injected by the data plane only: not used here.
    return { ...empty, error: 'this server takes an upstream credential, which the simulator does not send; its lists are unknown here' };
  }
  const client = new Client({ name: 'gatehouse-simulator', version: '1.0.0' });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const options = { signal: controller.signal, timeout: timeoutMs };
  try {
    await client.connect(transportOf(server), options);
    const capabilities = client.getServerCapabilities() ?? {};
    const pages = async <T>(read: (cursor: string | undefined) => Promise<{ items: T[]; next: string | undefined }>): Promise<T[]> => {
      const all: T[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const { items, next } = await read(cursor);
        all.push(...items);
        if (!next) break;
        cursor = next;
      }
      return all;
    };
    const tools = capabilities.tools ? await pages(async (cursor) => client.listTools({ cursor }, options).then((r) => ({ items: r.tools.map((t) => t.name), next: r.nextCursor }))) : [];
    const prompts = capabilities.prompts ? await pages(async (cursor) => client.listPrompts({ cursor }, options).then((r) => ({ items: r.prompts.map((p) => p.name), next: r.nextCursor }))) : [];
    const resources = capabilities.resources ? await pages(async (cursor) => client.listResources({ cursor }, options).then((r) => ({ items: r.resources.map((x) => x.uri), next: r.nextCursor }))) : [];
    const resourceTemplates = capabilities.resources
      ? await pages(async (cursor) => client.listResourceTemplates({ cursor }, options).then((r) => ({ items: r.resourceTemplates.map((x) => x.uriTemplate), next: r.nextCursor })))
      : [];
    return { server: name, tools, prompts, resources, resourceTemplates };
  } catch (error) {
    const message = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    return { ...empty, error: message };
  } finally {
    clearTimeout(timer);
    // A Streamable HTTP session is ended politely; a stdio child is stopped.
    if (client.transport instanceof StreamableHTTPClientTransport) await client.transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}
