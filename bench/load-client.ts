// A low-overhead closed-loop MCP load client over Streamable HTTP: plain node:http with a
// keep-alive Agent and its own minimal SSE parsing (no MCP SDK on the hot path).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** The revision of the 2025 load (sessions): `--legacy-revision` sets it for a run. */
let legacyRevision = '2025-06-18';

export function useLegacyRevision(revision: string): void {
  legacyRevision = revision;
}
/** The sessionless revision: no initialize, the client's declaration in `_meta` of every request. */
export const MODERN_VERSION = '2026-07-28';
const CLIENT_INFO = { name: 'gatehouse-bench', version: '0.1.0' };
/** The `_meta` envelope a 2026-07-28 client sends on every request. */
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
};
/** Which revision the load speaks: a 2025 one with sessions, or 2026-07-28 without. */
export type Era = '2025' | '2026-07-28';
const REQUEST_TIMEOUT_MS = 30_000;

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The JSON-RPC message whose id matched, if any. */
  message: unknown;
  /** A short description when the body could not be used (parse failure, no matching id). */
  problem?: string;
}

/** Counts errors by kind and keeps the first few samples of each. */
export class ErrorLog {
  readonly counts = new Map<string, number>();
  readonly samples = new Map<string, string>();
  total = 0;

  add(kind: string, detail: string): void {
    this.total++;
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (!this.samples.has(kind)) this.samples.set(kind, detail.slice(0, 300));
  }

  describe(): string[] {
    return [...this.counts].map(([kind, n]) => `${n}x ${kind}: ${this.samples.get(kind) ?? ''}`);
  }
}

/** Finds the message with the given id in a JSON body (object or batch array). */
function pick(parsed: unknown, id: number | undefined): unknown {
  const list = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  for (const m of list) {
    if (id === undefined) return m;
    if (m !== null && typeof m === 'object' && (m as { id?: unknown }).id === id) return m;
  }
  return undefined;
}

/** Incremental SSE reader: feeds chunks, returns the matching JSON-RPC message once seen. */
class SseScanner {
  private buffer = '';
  constructor(private readonly id: number | undefined) {}

  feed(chunk: string): unknown {
    this.buffer += chunk;
    for (;;) {
      const match = /\r?\n\r?\n/.exec(this.buffer);
      if (!match) return undefined;
      const event = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
        .join('\n');
      if (!data) continue;
      try {
        const found = pick(JSON.parse(data), this.id);
        if (found !== undefined) return found;
      } catch {
        // not JSON: ignore this event
      }
    }
  }
}

/**
 * POSTs a body and resolves as soon as the JSON-RPC message with `id` has arrived (SSE) or the
 * body ended (JSON). The rest of an SSE stream is drained in the background so the socket is
 * reused. `id` undefined: the first message (or none, e.g. for a 202).
 */
export function post(
  url: URL,
  agent: http.Agent,
  headers: Record<string, string>,
  body: string,
  id: number | undefined,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (reply: Reply) => {
      if (!settled) {
        settled = true;
        resolve(reply);
      }
    };
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        agent,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.setEncoding('utf8');
        const status = res.statusCode ?? 0;
        const type = String(res.headers['content-type'] ?? '');
        if (type.includes('text/event-stream')) {
          const scanner = new SseScanner(id);
          res.on('data', (chunk: string) => {
            if (settled) return;
            const message = scanner.feed(chunk);
            if (message !== undefined) done({ status, headers: res.headers, message });
          });
          res.on('end', () =>
            done({ status, headers: res.headers, message: undefined, problem: 'SSE stream ended without the response' }),
          );
        } else {
          let text = '';
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            if (text.trim() === '') return done({ status, headers: res.headers, message: undefined });
            try {
              done({ status, headers: res.headers, message: pick(JSON.parse(text), id) });
            } catch {
              done({ status, headers: res.headers, message: undefined, problem: `unparseable body: ${text.slice(0, 200)}` });
            }
          });
        }
        res.on('error', (err) => (settled ? undefined : reject(err)));
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`timeout after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err) => (settled ? undefined : reject(err)));
    req.end(body);
  });
}

const BASE_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

// Targets behind authentication (the api-key and jwt variants) register the Authorization value
// the load client sends them, by endpoint URL.
const credentials = new Map<string, string>();

export function useCredential(url: URL, authorization: string): void {
  credentials.set(url.href, authorization);
}

function baseHeaders(url: URL): Record<string, string> {
  const authorization = credentials.get(url.href);
  return authorization === undefined ? BASE_HEADERS : { ...BASE_HEADERS, authorization };
}

function sessionHeaders(url: URL, sessionId: string): Record<string, string> {
  return { ...baseHeaders(url), 'mcp-session-id': sessionId, 'mcp-protocol-version': legacyRevision };
}

/**
 * The headers of a 2026-07-28 request (no session): the revision, and the routing headers the
 * revision requires, which the server checks against the body (`Mcp-Name` for methods naming an
 * item: the bench's names are plain ASCII, sent as they are).
 */
function modernHeaders(url: URL, method: string, name: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { ...baseHeaders(url), 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': method };
  if (name !== undefined) headers['mcp-name'] = name;
  return headers;
}

/** Params with the 2026-07-28 `_meta` envelope added (other `_meta` members kept). */
export function modernParams(params: unknown): Record<string, unknown> {
  const base = params !== null && typeof params === 'object' ? (params as Record<string, unknown>) : {};
  const meta = base._meta !== null && typeof base._meta === 'object' ? (base._meta as Record<string, unknown>) : {};
  return { ...base, _meta: { ...meta, ...MODERN_META } };
}

/** Returns a description of why `message` is not a successful JSON-RPC result, or undefined. */
export function resultProblem(reply: Reply, id: number, era: Era = '2025'): string | undefined {
  if (reply.status < 200 || reply.status >= 300) return `HTTP ${reply.status}`;
  if (reply.problem) return reply.problem;
  const m = reply.message as { jsonrpc?: unknown; id?: unknown; result?: unknown; error?: unknown } | undefined;
  if (!m) return 'no response message';
  if (m.jsonrpc !== '2.0' || m.id !== id) return `bad envelope: ${JSON.stringify(m).slice(0, 200)}`;
  if (m.error !== undefined) return `JSON-RPC error: ${JSON.stringify(m.error).slice(0, 200)}`;
  if (m.result === null || typeof m.result !== 'object') return 'no result';
  if ((m.result as { isError?: unknown }).isError === true) return `tool error: ${JSON.stringify(m.result).slice(0, 200)}`;
  // Every 2026-07-28 result says what it is; a bridged answer without it is not one.
  if (era !== '2025' && (m.result as { resultType?: unknown }).resultType !== 'complete') return `no resultType "complete": ${JSON.stringify(m.result).slice(0, 200)}`;
  return undefined;
}

/** initialize + notifications/initialized; returns the session id. Throws on failure. */
export async function openSession(url: URL, agent: http.Agent): Promise<string> {
  const init = JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: legacyRevision, capabilities: {}, clientInfo: CLIENT_INFO },
  });
  const reply = await post(url, agent, baseHeaders(url), init, 0);
  const problem = resultProblem(reply, 0);
  if (problem) throw new Error(`initialize failed: ${problem}`);
  const sessionId = reply.headers['mcp-session-id'];
  if (typeof sessionId !== 'string' || sessionId === '') throw new Error('initialize: no mcp-session-id header');
  const note = await post(url, agent, sessionHeaders(url, sessionId), '{"jsonrpc":"2.0","method":"notifications/initialized"}', undefined);
  if (note.status !== 202) throw new Error(`notifications/initialized: expected 202, got HTTP ${note.status}`);
  return sessionId;
}

/**
 * Opens `count` sessions with at most `concurrency` in flight. A 2026-07-28 client has none: it
 * gets `count` workers that all send as one client (the same agent and declaration), as a
 * 2026-07-28 client running concurrent requests does; the ids are placeholders.
 */
export async function openSessions(url: URL, agent: http.Agent, count: number, concurrency = 32, era: Era = '2025'): Promise<string[]> {
  if (era !== '2025') return Array.from({ length: count }, () => '');
  const ids: string[] = new Array<string>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      ids[i] = await openSession(url, agent);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ids;
}

/** DELETEs sessions (best effort: failures are ignored, the target is torn down afterwards). */
export async function closeSessions(url: URL, agent: http.Agent, ids: readonly string[]): Promise<void> {
  if (ids.every((id) => id === '')) return; // 2026-07-28: nothing to close
  await Promise.all(
    ids.map(
      (id) =>
        new Promise<void>((resolve) => {
          const req = http.request(
            { host: url.hostname, port: url.port, path: url.pathname, method: 'DELETE', agent, headers: sessionHeaders(url, id) },
            (res) => {
              res.resume();
              res.on('end', resolve);
              res.on('error', () => resolve());
            },
          );
          req.setTimeout(5000, () => req.destroy());
          req.on('error', () => resolve());
          req.end();
        }),
    ),
  );
}

export interface LoadResult {
  requests: number;
  elapsedMs: number;
  /** Latency of every successful request in ms (unsorted). */
  latenciesMs: Float64Array;
  errors: ErrorLog;
}

/**
 * Closed loop: one worker per session, each sending its next request as soon as the previous
 * answer arrived, until `total` requests were sent.
 */
export async function runLoad(options: {
  url: URL;
  agent: http.Agent;
  sessions: readonly string[];
  total: number;
  method: string;
  params: unknown;
  /** 2026-07-28: no session header; `_meta` and the routing headers on every request. */
  era?: Era;
}): Promise<LoadResult> {
  const { url, agent, sessions, total, method } = options;
  const era = options.era ?? '2025';
  const modern = era !== '2025';
  const params = JSON.stringify(modern ? modernParams(options.params) : options.params);
  const name = (options.params as { name?: unknown } | undefined)?.name;
  const latencies = new Float64Array(total);
  const errors = new ErrorLog();
  let issued = 0;
  let ok = 0;
  const worker = async (sessionId: string) => {
    const headers = modern ? modernHeaders(url, method, method === 'tools/call' && typeof name === 'string' ? name : undefined) : sessionHeaders(url, sessionId);
    while (issued < total) {
      const id = ++issued;
      const body = `{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${params}}`;
      const t0 = performance.now();
      try {
        const reply = await post(url, agent, headers, body, id);
        const elapsed = performance.now() - t0;
        const problem = resultProblem(reply, id, era);
        if (problem) errors.add(problem.split(':')[0]!, problem);
        else latencies[ok++] = elapsed;
      } catch (err) {
        errors.add('transport', err instanceof Error ? err.message : String(err));
      }
    }
  };
  const start = performance.now();
  await Promise.all(sessions.map(worker));
  const elapsedMs = performance.now() - start;
  return { requests: total, elapsedMs, latenciesMs: latencies.subarray(0, ok), errors };
}
