// CallStream over a real HTTP server: once a policy opened the answer's stream, whatever the rest
// of the gateway writes afterwards (a JSON answer, an error, an SSE body, a body that is not
// JSON-RPC) reaches the client as events on that one stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallStream } from './call-stream.ts';
import { sendError } from './reply.ts';
import { GatehouseError } from '../errors.ts';

const PROGRESS = { jsonrpc: '2.0' as const, method: 'notifications/progress', params: { progressToken: 1, progress: 1 } };

/** Serves one request with `answer`, and returns what the client got. */
async function served(answer: (res: ServerResponse) => void): Promise<{ status: number; type: string | null; events: unknown[] }> {
  const server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const text = await response.text();
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return { status: response.status, type: response.headers.get('content-type'), events: [JSON.parse(text) as unknown] };
    const events = text.split('\n\n').filter((block) => block.trim() !== '').map((block) => JSON.parse(block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n')) as unknown);
    return { status: response.status, type: response.headers.get('content-type'), events };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

test('a JSON answer written after the stream opened becomes its last event (pretty-printed JSON too)', async () => {
  const got = await served((res) => {
    const stream = new CallStream(res, 7);
    assert.equal(stream.send(PROGRESS), true);
    assert.equal(res.headersSent, false, 'the rest of the gateway still writes its head');
    const body = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [] } }, null, 2);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  assert.equal(got.status, 200);
  assert.equal(got.type, 'text/event-stream');
  assert.deepEqual(got.events, [PROGRESS, { jsonrpc: '2.0', id: 7, result: { content: [] } }]);
});

test("a refusal after the stream opened (the listener's sendError) becomes an error event, not a cut stream", async () => {
  const got = await served((res) => {
    new CallStream(res, 'a').send(PROGRESS);
    sendError(res, new GatehouseError('GH_APPROVAL_DENIED', 'Refused: no'), 'a');
  });
  assert.equal(got.status, 200);
  assert.deepEqual(got.events[1], { jsonrpc: '2.0', id: 'a', error: { code: -32045, message: 'Refused: no', data: { code: 'GH_APPROVAL_DENIED' } } });
});

test("an SSE answer written after the stream opened goes on it as it is; a body that is not JSON-RPC becomes an error for the request", async () => {
  const sse = await served((res) => {
    new CallStream(res, 1).send(PROGRESS);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n');
    res.end();
  });
  assert.deepEqual(sse.events, [PROGRESS, { jsonrpc: '2.0', id: 1, result: {} }]);
  const odd = await served((res) => {
    new CallStream(res, 1).send(PROGRESS);
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('Bad Gateway');
  });
  assert.match(JSON.stringify(odd.events[1]), /"id":1,"error":\{"code":-32603,"message":"Internal error: the answer \(HTTP 502\) carried no JSON-RPC message"/);
});

test('a stream that was never opened changes nothing; one whose answer began otherwise refuses to send', async () => {
  const got = await served((res) => {
    const stream = new CallStream(res, 1);
    res.writeHead(200, { 'content-type': 'application/json' });
    assert.equal(stream.send(PROGRESS), false);
    res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
    assert.equal(stream.gone, true);
  });
  assert.equal(got.type, 'application/json');
  assert.deepEqual(got.events, [{ jsonrpc: '2.0', id: 1, result: {} }]);
});
