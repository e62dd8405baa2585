// The SSE side of a channel session on a real HTTP server: answers that come after the head went
// out alone, several answers on one stream, answers in the same tick as the request, and the
// head of a channel that reports when its server took a request up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { MessageChannel } from './channel.ts';
import { ChannelSession } from './channel-session.ts';
import type { PostExchange } from './upstream.ts';

/** A server that answers each request with its method's name, after `delayMs`. */
class EchoChannel implements MessageChannel {
  onmessage: ((message: JsonRpcMessage, text?: string) => void) | undefined;
  onclose: ((reason: string) => void) | undefined;
  constructor(private readonly delayMs: number) {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  send(message: JsonRpcMessage): void {
    if (!('id' in message) || !('method' in message)) return;
    const answer = { jsonrpc: '2.0' as const, id: message.id, result: { method: message.method } };
    const deliver = (): void => this.onmessage?.(answer, JSON.stringify(answer));
    if (this.delayMs === 0) deliver();
    else setTimeout(deliver, this.delayMs);
  }
  close(): Promise<void> {
    this.onclose?.('closed');
    return Promise.resolve();
  }
}

async function postThrough(delayMs: number, messages: JsonRpcMessage[]): Promise<string> {
  const session = new ChannelSession('c1', 'token', new EchoChannel(delayMs), 'echo', pino({ level: 'silent' }), () => 5000);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const exchange = { req, res, api: 'a', messages, batch: messages.length > 1, initialize: false, log: pino({ level: 'silent' }) } as unknown as PostExchange;
    void session.post(exchange);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', signal: AbortSignal.timeout(5000) });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    return await response.text();
  } finally {
    await session.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const request = (id: number, method: string): JsonRpcMessage => ({ jsonrpc: '2.0', id, method });

test('the last answer of a stream reaches the client when the head went out before it (Node 22 lost a corked write before end)', async () => {
  // 30 ms: the head is flushed alone after 2 to 4 ms, then the answer ends the stream.
  const body = await postThrough(30, [request(1, 'tools/list')]);
  assert.match(body, /^event: message\nid: p1\.1\ndata: \{"jsonrpc":"2\.0","id":1,"result":\{"method":"tools\/list"\}\}\n\n$/);
});

test('every answer of a batch stream arrives, the last one with the end of the stream', async () => {
  const body = await postThrough(30, [request(1, 'a'), request(2, 'b')]);
  assert.match(body, /id: p1\.1\ndata: .*"id":1.*\n\nevent: message\nid: p1\.2\ndata: .*"id":2/s);
});

test('an answer in the same tick as the request rides with the head', async () => {
  const body = await postThrough(0, [request(1, 'ping')]);
  assert.match(body, /"result":\{"method":"ping"\}/);
});

/** A server that reports when it took a request up, and answers when told to (see channel.ts). */
class AcceptingChannel implements MessageChannel {
  onmessage: ((message: JsonRpcMessage, text?: string) => void) | undefined;
  onclose: ((reason: string) => void) | undefined;
  readonly reportsAccepted = true;
  onaccepted: ((id: string | number) => void) | undefined;
  received: ((id: string | number) => void) | undefined;
  start(): Promise<void> {
    return Promise.resolve();
  }
  send(message: JsonRpcMessage): void {
    if ('id' in message && 'method' in message) this.received?.(message.id);
  }
  answer(id: string | number): void {
    const answer = { jsonrpc: '2.0' as const, id, result: {} };
    this.onmessage?.(answer, JSON.stringify(answer));
  }
  close(): Promise<void> {
    this.onclose?.('closed');
    return Promise.resolve();
  }
}

const turn = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('a channel that reports acceptance: the head waits until the server took the request up, then goes alone if the answer is slower', async () => {
  const channel = new AcceptingChannel();
  const session = new ChannelSession('c1', 'token', channel, 'echo', pino({ level: 'silent' }), () => 5000);
  let response: ServerResponse | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    response = res;
    const exchange = { req, res, api: 'a', messages: [request(1, 'tools/call')], batch: false, initialize: false, log: pino({ level: 'silent' }) } as unknown as PostExchange;
    void session.post(exchange);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const received = new Promise<string | number>((resolve) => (channel.received = resolve));
    const pending = fetch(`http://127.0.0.1:${port}/`, { method: 'POST', signal: AbortSignal.timeout(5000) });
    const id = await received;
    // Well past the few ms a head waits for its first event: not accepted yet, so nothing went.
    await turn(30);
    assert.equal(response!.socket!.bytesWritten, 0, 'the head waits for the server to take the request up');
    channel.onaccepted!(id);
    const headers = await pending; // the head goes alone after its short wait
    assert.equal(headers.headers.get('content-type'), 'text/event-stream');
    channel.answer(id);
    assert.match(await headers.text(), /^event: message\nid: p1\.1\ndata: \{"jsonrpc":"2\.0","id":1,"result":\{\}\}\n\n$/);
  } finally {
    await session.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a channel that reports acceptance: an answer before the acceptance carries the head', async () => {
  const channel = new AcceptingChannel();
  channel.received = (id) => setTimeout(() => channel.answer(id), 30);
  const session = new ChannelSession('c1', 'token', channel, 'echo', pino({ level: 'silent' }), () => 5000);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const exchange = { req, res, api: 'a', messages: [request(7, 'tools/call')], batch: false, initialize: false, log: pino({ level: 'silent' }) } as unknown as PostExchange;
    void session.post(exchange);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', signal: AbortSignal.timeout(5000) });
    assert.match(await response.text(), /"id":7,"result":\{\}/);
  } finally {
    await session.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server whose tool asks the client a question (sampling) and answers the call with what it heard. */
class AskingChannel implements MessageChannel {
  onmessage: ((message: JsonRpcMessage, text?: string) => void) | undefined;
  onclose: ((reason: string) => void) | undefined;
  private call: string | number | undefined;
  start(): Promise<void> {
    return Promise.resolve();
  }
  send(message: JsonRpcMessage): void {
    if ('method' in message && 'id' in message && message.method === 'tools/call') {
      this.call = message.id;
      this.onmessage?.({ jsonrpc: '2.0', id: 'q1', method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } });
      return;
    }
    if (!('method' in message) && 'id' in message && message.id === 'q1' && this.call !== undefined) {
      const heard = 'error' in message && message.error ? `error: ${message.error.message}` : 'result';
      this.onmessage?.({ jsonrpc: '2.0', id: this.call, result: { content: [{ type: 'text', text: heard }] } });
    }
  }
  close(): Promise<void> {
    this.onclose?.('closed');
    return Promise.resolve();
  }
}

test('a server request a response policy drops is answered to the server with an error at once (it used to wait for its own timeout)', async () => {
  const session = new ChannelSession('c1', 'token', new AskingChannel(), 'asking', pino({ level: 'silent' }), () => 5000);
  // The policy keeps every server request from the client.
  const transform = (message: JsonRpcMessage): JsonRpcMessage | undefined => ('method' in message && 'id' in message ? undefined : message);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const exchange = { req, res, api: 'a', messages: [{ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'ask' } }], batch: false, initialize: false, transform, log: pino({ level: 'silent' }) } as unknown as PostExchange;
    void session.post(exchange);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', signal: AbortSignal.timeout(4000) });
    const body = await response.text();
    assert.doesNotMatch(body, /sampling\/createMessage/, 'the client never sees the question');
    assert.match(body, /"id":7,"result":\{"content":\[\{"type":"text","text":"error: The request was refused by a Gatehouse policy"\}\]\}/);
  } finally {
    await session.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
