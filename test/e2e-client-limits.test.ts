// Client-side limits of the listeners: slow or silent clients are answered 408 and disconnected
// after the configured timeouts, idle keep-alive connections are closed, SSE streams (answered,
// not idle) stay open past every timeout, connections beyond the cap are refused while the
// gateway keeps serving, Node's own refusals carry a JSON-RPC body, and clients that leave are
// logged at debug. Short timeouts are configured so the tests see them pass.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ERRORS } from '../src/errors.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { CLI, MCP_HEADERS, everythingStdioCommand, raw, sessionHeaders, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { SseReader } from './helpers/http-peers.ts';
import { waitUntil } from './helpers/lifecycle-procs.ts';

const SHORT = { clientHeaders: 300, clientRequest: 600, clientIdle: 300 };

async function stdioGateway(t: TestContext, extra: Partial<ConfigInput> = {}): Promise<TestGateway> {
  const stdio = everythingStdioCommand();
  const gh = await startTestGateway({
    servers: { everything: { command: stdio.command, args: stdio.args } },
    apis: [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } }],
    timeouts: SHORT,
    ...extra,
  });
  t.after(() => gh.close());
  return gh;
}

/** A raw TCP client: what it received, and a promise for when the server closed it. */
interface RawClient {
  socket: net.Socket;
  received(): string;
  /** Resolves when the connection is closed (by either side); rejects after `timeoutMs`. */
  closed(timeoutMs?: number): Promise<string>;
}

function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = net.connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', () => undefined); // a reset shows as 'close'
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => data,
        closed: (timeoutMs = 10_000) =>
          Promise.race([
            closed.then(() => data),
            new Promise<string>((_, fail) => setTimeout(() => fail(new Error(`connection still open after ${timeoutMs} ms; received ${JSON.stringify(data)}`)), timeoutMs).unref()),
          ]),
      }),
    );
    socket.once('error', reject);
  });
}

/** Status line and JSON body of a raw HTTP answer. */
function parseAnswer(text: string): { status: number; headers: string; body: unknown } {
  const split = text.indexOf('\r\n\r\n');
  assert.ok(split > 0, `expected an HTTP answer, got ${JSON.stringify(text)}`);
  const head = text.slice(0, split);
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(text.slice(split + 4)) as unknown };
}

function assertRpcRefusal(text: string, status: number, code: keyof typeof ERRORS): void {
  const answer = parseAnswer(text);
  assert.equal(answer.status, status, text);
  assert.match(answer.headers, /content-type: application\/json/);
  const body = answer.body as { jsonrpc: string; id: unknown; error: { code: number; message: string; data: { code: string } } };
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.id, null);
  assert.equal(body.error.code, ERRORS[code].rpc);
  assert.equal(body.error.data.code, code);
  assert.ok(body.error.message.length > 0);
}

const BODY_HEAD = (length: number) =>
  `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: ${length}\r\n\r\n`;

test('a client that never finishes its headers is answered 408 GH_REQUEST_TIMEOUT and disconnected after timeouts.clientHeaders (it stayed open forever)', { timeout: 30_000 }, async (t) => {
  const gh = await stdioGateway(t);
  const slow = await rawClient(gh.gateway.port);
  slow.socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // and never the blank line
  const silent = await rawClient(gh.gateway.port); // connects and sends nothing
  assertRpcRefusal(await slow.closed(), 408, 'GH_REQUEST_TIMEOUT');
  assertRpcRefusal(await silent.closed(), 408, 'GH_REQUEST_TIMEOUT');
});

test('a client that never finishes its body is answered 408 GH_REQUEST_TIMEOUT and disconnected after timeouts.clientRequest (it stayed open forever)', { timeout: 30_000 }, async (t) => {
  const gh = await stdioGateway(t);
  const slow = await rawClient(gh.gateway.port);
  slow.socket.write(BODY_HEAD(200) + '{"jsonrpc":"2.0","id":1,'); // 200 bytes announced, 24 sent
  assertRpcRefusal(await slow.closed(), 408, 'GH_REQUEST_TIMEOUT');
  // The handler waiting for that body saw the client go: not an unexpected error.
  await waitUntil(() => gh.logs.lines.some((l) => l.msg === 'client disconnected before its request was handled'), 'the disconnect is logged');
  assert.equal(gh.logs.lines.filter((l) => (l.level as number) >= 50).length, 0, `nothing logged as an error: ${gh.logs.text()}`);
});

test('an idle keep-alive connection is closed after timeouts.clientIdle', { timeout: 30_000 }, async (t) => {
  const gh = await stdioGateway(t);
  const client = await rawClient(gh.gateway.port);
  client.socket.write('GET /-/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const text = await client.closed();
  assert.match(text, /^HTTP\/1\.1 200 /, 'answered, then closed once idle');
  assert.match(text.toLowerCase(), /keep-alive: timeout=0/, 'the idle timeout is announced (in whole seconds)');
});

test('a quiet SSE GET stream, and a POST stream waiting on the client, stay open longer than every client timeout', { timeout: 40_000 }, async (t) => {
  const gh = await stdioGateway(t);
  const url = gh.url();
  const init = await raw(url, {
    body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { sampling: {} }, clientInfo: { name: 'quiet', version: '1' } } },
  });
  const session = init.headers.get('mcp-session-id')!;
  assert.equal((await raw(url, { headers: sessionHeaders(session), body: { jsonrpc: '2.0', method: 'notifications/initialized' } })).status, 202);

  const get = await fetch(url, { method: 'GET', headers: { ...sessionHeaders(session), accept: 'text/event-stream' } });
  assert.equal(get.status, 200);
  const standalone = new SseReader(get);

  /** Waits until each client timeout has visibly passed: a silent, a slow-body and an idle connection were closed. */
  const timeoutsPass = async () => {
    const silent = await rawClient(gh.gateway.port);
    const slowBody = await rawClient(gh.gateway.port);
    slowBody.socket.write(BODY_HEAD(100) + '{');
    const idle = await rawClient(gh.gateway.port);
    idle.socket.write('GET /-/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await Promise.all([silent.closed(), slowBody.closed(), idle.closed()]);
  };

  await timeoutsPass();
  // The GET stream, quiet all along, still carries what the server sends: a sampling request.
  const call = await fetch(url, {
    method: 'POST',
    headers: sessionHeaders(session),
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } } }),
  });
  assert.equal(call.status, 200);
  // (Notifications the server sent at the start, such as tools/list_changed, come first.)
  let sampling: { id: number | string; method: string } | undefined;
  while (sampling?.method !== 'sampling/createMessage') {
    const event = await standalone.next();
    assert.ok(event, 'the GET stream is still open and delivers after the timeouts passed');
    sampling = event.message as typeof sampling;
  }

  // The tool call's POST stream waits, quiet, on the client's answer; the timeouts pass again.
  await timeoutsPass();
  const answer = await raw(url, {
    headers: sessionHeaders(session),
    body: { jsonrpc: '2.0', id: sampling.id, result: { model: 'test', role: 'assistant', content: { type: 'text', text: 'hello' } } },
  });
  assert.equal(answer.status, 202);
  const result = (await new SseReader(call).next())?.message as { id: number; result: { content: Array<{ text: string }> } };
  assert.equal(result.id, 2);
  assert.match(result.result.content[0]!.text, /hello/);
  await raw(url, { method: 'DELETE', headers: sessionHeaders(session) });
});

test('connections beyond limits.maxConnections are refused while the gateway keeps serving its clients', { timeout: 60_000 }, async (t) => {
  const cap = 6;
  const gh = await stdioGateway(t, { limits: { maxConnections: cap }, timeouts: { clientHeaders: 3_000, clientRequest: 3_000, clientIdle: 30_000 } });
  const url = gh.url();
  const stats = () => gh.gateway.connectionStats().mcp!;
  const init = await raw(url, { body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cap', version: '1' } } } });
  const session = init.headers.get('mcp-session-id')!;
  await raw(url, { headers: sessionHeaders(session), body: { jsonrpc: '2.0', method: 'notifications/initialized' } });

  // An existing client's call in flight: its stream reports progress, then the result.
  const call = await fetch(url, {
    method: 'POST',
    headers: sessionHeaders(session),
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 4 }, _meta: { progressToken: 'p' } } }),
  });
  assert.equal(call.status, 200);
  const reader = new SseReader(call);

  // Silent connections fill the cap (idle keep-alive ones are closed to make room for them).
  const fillers: RawClient[] = [];
  let refused: RawClient | undefined;
  while (!refused) {
    const seen = stats().accepted + stats().refused;
    const next = await rawClient(gh.gateway.port);
    await waitUntil(() => stats().accepted + stats().refused > seen, 'the server accepts or refuses the connection');
    if (stats().refused > 0) refused = next;
    else fillers.push(next);
    assert.ok(fillers.length <= cap, 'never more connections than the cap');
  }
  await refused.closed();
  assert.equal(refused.received(), '', 'a refused connection is closed before any answer');
  assert.ok(stats().refused >= 1);
  assert.ok(stats().open <= cap);
  assert.ok(gh.logs.lines.some((l) => (l.level as number) === 40 && l.listener === 'MCP' && l.maxConnections === cap), 'the refusal is logged as a warning');

  // The client already connected is still served to the end of its call.
  const messages: unknown[] = [];
  for (let event = await reader.next(); event; event = await reader.next()) messages.push(event.message);
  const last = messages.at(-1) as { id: number; result: { content: Array<{ text: string }> } };
  assert.equal(last.id, 2);
  assert.match(last.result.content[0]!.text, /Long running operation completed/);
  assert.ok(messages.some((m) => (m as { method?: string }).method === 'notifications/progress'));

  // Once the silent connections time out, new clients are served again.
  await Promise.all(fillers.map((f) => f.closed()));
  const after = await raw(url, { headers: sessionHeaders(session), body: { jsonrpc: '2.0', id: 3, method: 'tools/list' } });
  assert.equal(after.status, 200);
  assert.ok(((after.messages[0] as { result: { tools: unknown[] } }).result.tools.length) > 0);
  await raw(url, { method: 'DELETE', headers: sessionHeaders(session) });
});

test('a malformed header is answered 400 GH_BAD_HTTP_REQUEST with a JSON-RPC body (it had no body)', { timeout: 30_000 }, async (t) => {
  const gh = await stdioGateway(t);
  const client = await rawClient(gh.gateway.port);
  client.socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n');
  assertRpcRefusal(await client.closed(), 400, 'GH_BAD_HTTP_REQUEST');
});

test('headers larger than limits.maxHeaderBytes are answered 431 GH_HEADERS_TOO_LARGE with a JSON-RPC body (it had no body)', { timeout: 30_000 }, async (t) => {
  const gh = await stdioGateway(t, { limits: { maxHeaderBytes: 4096 } });
  const client = await rawClient(gh.gateway.port);
  client.socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${'a'.repeat(8000)}\r\n\r\n`);
  assertRpcRefusal(await client.closed(), 431, 'GH_HEADERS_TOO_LARGE');
});

test('a client that disconnects in the middle of its body is logged at debug, not as an unexpected error', { timeout: 30_000 }, async (t) => {
  const gh = await stdioGateway(t, { timeouts: {} });
  const client = await rawClient(gh.gateway.port);
  client.socket.write(BODY_HEAD(100) + '{"jsonrpc":');
  await waitUntil(() => gh.gateway.connectionStats().mcp!.open === 1, 'the connection is counted');
  client.socket.resetAndDestroy();
  await waitUntil(() => gh.logs.lines.some((l) => l.msg === 'client disconnected before its request was handled'), 'the disconnect is logged');
  const line = gh.logs.lines.find((l) => l.msg === 'client disconnected before its request was handled')!;
  assert.equal(line.level, 20, 'at debug');
  assert.equal(gh.logs.lines.filter((l) => (l.level as number) >= 50).length, 0, `nothing logged as an error: ${gh.logs.text()}`);
});

test('the admin listener answers slow and oversized requests the same way, in its own JSON shape', { timeout: 30_000 }, async (t) => {
  const gh = await stdioGateway(t, { admin: { enabled: true, port: 0 } });
  const port = gh.gateway.admin!.port;
  const silent = await rawClient(port);
  const big = await rawClient(port);
  big.socket.write(`GET /-/health HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
  for (const [text, status, code] of [
    [await silent.closed(), 408, 'GH_REQUEST_TIMEOUT'],
    [await big.closed(), 431, 'GH_HEADERS_TOO_LARGE'],
  ] as const) {
    const answer = parseAnswer(text);
    assert.equal(answer.status, status);
    assert.equal((answer.body as { code: string }).code, code);
  }
});

test('under an open-file limit of 256, 400 silent connections leave the gateway serving, and it recovers (it ran out of file descriptors)', { timeout: 90_000 }, async (t) => {
  const stdio = everythingStdioCommand();
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-fd-'));
  const config = path.join(dir, 'gatehouse.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { enabled: false },
      timeouts: { clientHeaders: '3s', clientRequest: '3s' },
      servers: { everything: { command: stdio.command, args: stdio.args } },
      apis: [{ name: 'everything', path: '/mcp', server: 'everything' }],
    }),
  );
  // The limit is lowered for the gateway only, by the shell that starts it.
  const child = spawn('/bin/sh', ['-c', `ulimit -n 256 && exec "${process.execPath}" "${CLI}" start --config "${config}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  t.after(() => child.kill('SIGKILL'));
  await waitUntil(() => /"msg":"gatehouse listening"/.test(out), 'the gateway listens', 30_000);
  const listening = JSON.parse(out.split('\n').find((l) => l.includes('"gatehouse listening"'))!) as { port: number; maxConnections: number };
  assert.equal(listening.maxConnections, 128, 'the default cap is half the open-file limit');
  const url = `http://127.0.0.1:${listening.port}/mcp`;

  // A client with a session before the flood.
  const init = await raw(url, { body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fd', version: '1' } } } });
  const session = init.headers.get('mcp-session-id')!;
  await raw(url, { headers: sessionHeaders(session), body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  const call = await fetch(url, {
    method: 'POST',
    headers: sessionHeaders(session),
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 2 } } }),
  });
  assert.equal(call.status, 200);

  const flood = await Promise.all(Array.from({ length: 400 }, () => rawClient(listening.port).catch(() => undefined)));
  const sockets = flood.filter((c): c is RawClient => c !== undefined);
  t.after(() => sockets.forEach((s) => s.socket.destroy()));
  // (Server notifications, such as tools/list_changed, may come first on the stream.)
  const { match } = await new SseReader(call).until((event) => (event.message as { id?: unknown } | undefined)?.id === 2, 20_000);
  const result = match.message as { result: { content: Array<{ text: string }> } };
  assert.match(result.result.content[0]!.text, /Long running operation completed/, 'the call in flight is answered during the flood');

  // The flood's connections time out; a new client then gets a new session, with a new child.
  await Promise.all(sockets.map((s) => s.closed(20_000)));
  const fresh = await raw(url, { headers: { ...MCP_HEADERS }, body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fd2', version: '1' } } } });
  assert.equal(fresh.status, 200, fresh.text);
  assert.ok(!/EMFILE/.test(out), `no file descriptor exhaustion: ${out.slice(-2000)}`);
  child.kill('SIGTERM');
});
