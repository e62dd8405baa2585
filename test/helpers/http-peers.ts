// Helpers for the Streamable HTTP end-to-end tests: a recording reverse proxy to put between
// Gatehouse and a real upstream, failure injectors (a closed port, a server that never answers),
// requests over node:http (which, unlike fetch, lets a test set the Host header), and an
// incremental SSE reader for streams a test reads while they are still open.
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { MCP_HEADERS, raw } from './gatehouse.ts';

export interface RecordedExchange {
  method: string;
  url: string;
  requestHeaders: IncomingHttpHeaders;
  /** The request body exactly as the proxy received it. */
  body: string;
  status: number | undefined;
  responseHeaders: IncomingHttpHeaders | undefined;
}

export interface RecordingProxy {
  readonly origin: string;
  readonly exchanges: RecordedExchange[];
  close(): Promise<void>;
}

/** A reverse proxy to `target` (an origin) that records every request body and response head; responses stream through. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const exchanges: RecordedExchange[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record: RecordedExchange = {
        method: req.method ?? '',
        url: req.url ?? '',
        requestHeaders: req.headers,
        body: body.toString('utf8'),
        status: undefined,
        responseHeaders: undefined,
      };
      exchanges.push(record);
      const headers: OutgoingHttpHeaders = { ...req.headers, host: upstream.host };
      const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (upRes) => {
        record.status = upRes.statusCode;
        record.responseHeaders = upRes.headers;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.flushHeaders();
        upRes.pipe(res);
      });
      forward.on('error', () => res.destroy());
      res.on('close', () => forward.destroy());
      forward.end(body);
    });
  });
  await listen(server);
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    close: () => closeServer(server),
  };
}

/** An HTTP server that accepts connections and reads requests but never answers them (a failure injector). */
export async function startSilentServer(): Promise<{ origin: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server = http.createServer((req) => {
    requests++;
    req.resume();
  });
  await listen(server);
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => closeServer(server),
  };
}

/**
 * An upstream that answers the first `answered` requests of each connection (a JSON-RPC result
 * for the request's id, keep-alive) and closes the connection when the next one arrives on it,
 * with a FIN or a reset, without answering: a kept-alive connection closed by its server just as
 * the client reuses it (a failure injector).
 */
export async function startClosingKeepAliveServer(
  close: 'fin' | 'reset',
  answered = 1,
): Promise<{ origin: string; requests: () => number; connections: () => number; close(): Promise<void> }> {
  let requests = 0;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let served = 0;
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buffered.subarray(0, headEnd).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        const body = buffered.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8');
        buffered = buffered.subarray(headEnd + 4 + length);
        requests++;
        if (served === answered) {
          if (close === 'reset') socket.resetAndDestroy();
          else socket.destroy();
          return;
        }
        served++;
        const message = JSON.parse(body || '{}') as { id?: unknown; method?: unknown };
        const id = message.id ?? null;
        // It passes for a 2026-07-28 server (Gatehouse's era probe asks), so such traffic is forwarded to it.
        const result = message.method === 'server/discover' ? { supportedVersions: ['2026-07-28'], capabilities: {} } : {};
        const answer = JSON.stringify({ jsonrpc: '2.0', id, result });
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(answer)}\r\nconnection: keep-alive\r\n\r\n${answer}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A loopback listener that never accepts: a child process listens with a backlog of one and then
 * blocks its event loop. Once its accept queue is full (the connections `fill` makes), the kernel
 * drops further SYNs, so a new connection neither succeeds nor fails: it hangs in connect.
 */
export async function startUnacceptingListener(fill = 3): Promise<{ origin: string; close(): void }> {
  const script = [
    "const net = require('node:net');",
    'const server = net.createServer();',
    "server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {",
    '  process.stdout.write(`${server.address().port}\\n`);',
    '  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);',
    '});',
  ].join('\n');
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the unaccepting listener exited (${code})`)));
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  const fillers = Array.from({ length: fill }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise((resolve) => setTimeout(resolve, 200)); // the queue fills; later SYNs are dropped
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of fillers) socket.destroy();
      child.kill('SIGKILL');
    },
  };
}

/**
 * A loopback port nothing listens on. Taken below the kernel's ephemeral range, so that no test
 * running beside this one can be given it by a listen on port 0 (a port bound and released was
 * once handed to another test's listener between the two steps).
 */
export async function closedPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await refuses(port)) return port;
  }
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: Error & { code?: string }) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export interface NodeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** One request over node:http, so that any header (Host included) goes out as given. */
export function nodeRequest(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<NodeResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: init.method ?? 'POST', headers: init.headers ?? {}, setHost: !(init.headers && Object.keys(init.headers).some((h) => h.toLowerCase() === 'host')) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

export interface SseEventRecord {
  id: string | undefined;
  event: string | undefined;
  data: string;
  /** The JSON-RPC message, or undefined for an event without data (e.g. a priming event). */
  message: unknown;
}

/** Reads an open SSE response event by event. */
export class SseReader {
  private buffer = '';
  private readonly queue: SseEventRecord[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private done = false;

  constructor(response: Response) {
    if (!response.body) throw new Error('response has no body');
    this.reader = response.body.getReader();
  }

  /** The next event, or undefined when the stream ends first. Rejects after `timeoutMs`. */
  async next(timeoutMs = 10_000): Promise<SseEventRecord | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const queued = this.queue.shift();
      if (queued) return queued;
      if (this.done) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SSE event within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left))),
      ]).finally(() => clearTimeout(timer));
      if (chunk === 'timeout') throw new Error(`no SSE event within ${timeoutMs} ms`);
      if (chunk.done) {
        this.done = true;
        continue;
      }
      this.buffer += this.decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) !== -1) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event = parseEventBlock(block);
        if (event) this.queue.push(event);
      }
    }
  }

  /** Waits for the first event matching `predicate`; returns it with every event read on the way. */
  async until(predicate: (event: SseEventRecord) => boolean, timeoutMs = 10_000): Promise<{ match: SseEventRecord; seen: SseEventRecord[] }> {
    const deadline = Date.now() + timeoutMs;
    const seen: SseEventRecord[] = [];
    for (;;) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if (!event) throw new Error(`stream ended before the expected event; saw ${JSON.stringify(seen)}`);
      seen.push(event);
      if (predicate(event)) return { match: event, seen };
    }
  }

  async cancel(): Promise<void> {
    this.done = true;
    await this.reader.cancel().catch(() => undefined);
  }
}

function parseEventBlock(block: string): SseEventRecord | undefined {
  let id: string | undefined;
  let event: string | undefined;
  const data: string[] = [];
  let fields = 0;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    fields++;
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (fields === 0) return undefined; // comment-only block (keep-alive)
  const text = data.join('\n');
  let message: unknown;
  if (text.trim() !== '') {
    try {
      message = JSON.parse(text);
    } catch {
      message = undefined;
    }
  }
  return { id, event, data: text, message };
}

/** Opens a session with raw HTTP at a given protocol revision: initialize + initialized. */
export async function openRawSession(url: string, protocolVersion = '2025-11-25', extraHeaders: Record<string, string> = {}): Promise<{ sessionId: string; headers: Record<string, string> }> {
  const init = await raw(url, {
    headers: { ...MCP_HEADERS, ...extraHeaders },
    body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 'e2e-http', version: '1.0.0' } } },
  });
  const sessionId = init.headers.get('mcp-session-id');
  if (init.status !== 200 || !sessionId) throw new Error(`initialize failed: ${init.status} ${init.text}`);
  const headers = { ...MCP_HEADERS, ...extraHeaders, 'mcp-session-id': sessionId, 'mcp-protocol-version': protocolVersion };
  const ack = await raw(url, { headers, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  if (ack.status !== 202) throw new Error(`initialized notification got ${ack.status}: ${ack.text}`);
  return { sessionId, headers };
}

/** A JSON-RPC error body's code, or undefined. */
export function rpcErrorCode(body: unknown): number | undefined {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'number') return (error as { code: number }).code;
  }
  return undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
