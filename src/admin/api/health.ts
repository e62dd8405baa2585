// Upstream health for the dashboard: a cheap probe of each HTTP server, made when the dashboard
// asks (at most once per few seconds per server, shared by concurrent asks), so an idle Gatehouse
// sends nothing. The probe is a JSON-RPC ping without a session: any MCP server answers it at
// once (with a result, or 400 "no session"), it starts nothing, and it carries no credential, so
// a protected server answering 401 still counts as reachable.
import { Agent, request } from 'undici';
import { egressConnector, type EgressRule } from '../../upstream/egress.ts';
import type { ServerData } from '../../config/schema.ts';

export type ProbeStatus = 'up' | 'down' | 'error';

export interface Probe {
  status: ProbeStatus;
  /** When the probe was sent, ms since the epoch. */
  time: number;
  /** Time to the response headers, ms (absent when there was no response). */
  latencyMs: number | undefined;
  httpStatus: number | undefined;
  /** Why it is down or in error, in words. */
  error: string | undefined;
}

const FRESH_MS = 5_000;
const PING = JSON.stringify({ jsonrpc: '2.0', id: 'gatehouse-health', method: 'ping' });

export class HealthProbes {
  private readonly cache = new Map<string, { key: string; at: number; probe: Promise<Probe> }>();

  constructor(private readonly timeoutMs = 3_000) {}

  /** The latest probe of an HTTP or SSE server (undefined for stdio servers: nothing to probe). */
  probe(name: string, server: ServerData, now = Date.now(), egress?: EgressRule): Promise<Probe> | undefined {
    const target = 'url' in server ? { url: server.url, post: true } : 'sse' in server ? { url: server.sse, post: false } : undefined;
    if (!target) return undefined;
    const key = `${target.post ? 'POST' : 'GET'} ${target.url} ${egress?.key ?? ''}`;
    const cached = this.cache.get(name);
    if (cached && cached.key === key && now - cached.at < FRESH_MS) return cached.probe;
    const connect = 'command' in server ? undefined : server.timeouts?.connect;
    const probe = send(target.url, target.post, Math.min(this.timeoutMs, connect ?? this.timeoutMs), egress);
    this.cache.set(name, { key, at: now, probe });
    return probe;
  }

  /** Forgets servers that left the config. */
  retain(names: Iterable<string>): void {
    const keep = new Set(names);
    for (const name of this.cache.keys()) if (!keep.has(name)) this.cache.delete(name);
  }
}

async function send(url: string, post: boolean, timeoutMs: number, egress: EgressRule | undefined): Promise<Probe> {
  const time = Date.now();
  const start = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  // A tenant's server is probed under its tenant's egress, as its traffic is (nothing is sent where it may not go).
  const dispatcher = egress && new Agent({ connect: egressConnector(egress, { timeout: timeoutMs }) });
  try {
    // undici's request, not fetch: fetch refuses the ports browsers block (e.g. 6000, 6667).
    const response = await request(url, {
      method: post ? 'POST' : 'GET',
      headers: post ? { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } : { accept: 'text/event-stream' },
      body: post ? PING : undefined,
      signal,
      ...(dispatcher && { dispatcher }),
    });
    const latencyMs = performance.now() - start;
    // Only the status matters; an SSE answer would stay open, so the body is dropped unread.
    response.body.on('error', () => undefined).destroy();
    const httpStatus = response.statusCode;
    if (httpStatus >= 500) return { status: 'error', time, latencyMs, httpStatus, error: `the server answered HTTP ${httpStatus}` };
    if (httpStatus === 404) return { status: 'error', time, latencyMs, httpStatus, error: 'the server answered 404: nothing at this URL' };
    return { status: 'up', time, latencyMs, httpStatus, error: undefined };
  } catch (error) {
    const reason = signal.aborted ? `no answer within ${timeoutMs} ms` : describe(error);
    return { status: 'down', time, latencyMs: undefined, httpStatus: undefined, error: reason };
  } finally {
    void dispatcher?.close().catch(() => undefined);
  }
}

/** The socket error code (ECONNREFUSED, ENOTFOUND, …) is what an operator needs first. */
function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && !message.includes(code)) return `${code}: ${message}`;
  return message;
}
