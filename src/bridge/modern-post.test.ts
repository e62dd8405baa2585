import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UpstreamHttpClient, CancelledError } from '../upstream/http-client.ts';
import { postModern, ModernTimeoutError, type ModernPostTarget } from './modern-post.ts';

interface Peer {
  readonly url: string;
  readonly server: Server;
  /** Remote ports of the connections the server accepted, in order. */
  readonly connections: number[];
  close(): Promise<void>;
}

async function peer(handle: (path: string, res: ServerResponse) => void): Promise<Peer> {
  const connections: number[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req.url ?? '/', res));
  });
  server.on('connection', (socket) => connections.push(socket.remotePort ?? 0));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    server,
    connections,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function targets(url: string): Array<[string, ModernPostTarget, UpstreamHttpClient | undefined]> {
  const client = new UpstreamHttpClient(new URL(url).origin, 2000);
  return [
    ['pool', { url, client }, client],
    ['fetch', { url }, undefined],
  ];
}

test('postModern reads a JSON body whole, through the pool and through fetch', async () => {
  const server = await peer((_path, res) => res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} })));
  try {
    for (const [name, target, client] of targets(server.url)) {
      const response = await postModern(target, { 'content-type': 'application/json' }, '{}', new AbortController().signal, 2000);
      assert.equal(response.status, 200, name);
      let text = '';
      await response.read((chunk) => {
        text += chunk;
        return 'more';
      });
      assert.deepEqual(JSON.parse(text), { jsonrpc: '2.0', id: 1, result: {} }, name);
      client?.close();
    }
  } finally {
    await server.close();
  }
});

test('postModern: a stream settled early with "enough" is drained, and its pooled connection serves the next request', async () => {
  const server = await peer((_path, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    setTimeout(() => res.end('data: after\n\n'), 50);
  });
  const client = new UpstreamHttpClient(new URL(server.url).origin, 2000);
  try {
    for (let i = 0; i < 3; i++) {
      const response = await postModern({ url: server.url, client }, {}, '{}', new AbortController().signal, 2000);
      const seen: string[] = [];
      await response.read((chunk) => {
        seen.push(chunk);
        return 'enough';
      });
      assert.deepEqual(seen, ['data: first\n\n']);
      // The rest of the stream ends 50 ms after its start; then the connection is back in the pool.
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    // Cut streams would have needed three connections (a busy machine may still need two).
    assert.ok(server.connections.length < 3, `a drained connection served a later request (${server.connections.length} connections for 3 requests)`);
  } finally {
    client.close();
    await server.close();
  }
});

test('postModern: the timeout bounds the whole body, not only the head', async () => {
  const server = await peer((_path, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': open\n\n');
    // …and never ends.
  });
  try {
    for (const [name, target, client] of targets(server.url)) {
      const response = await postModern(target, {}, '{}', new AbortController().signal, 200);
      await assert.rejects(response.read(() => 'more'), ModernTimeoutError, name);
      client?.close();
    }
  } finally {
    await server.close();
  }
});

test('postModern: a head that never comes times out; an aborted signal cancels', async () => {
  const server = await peer(() => {
    // No answer at all.
  });
  try {
    for (const [name, target, client] of targets(server.url)) {
      await assert.rejects(postModern(target, {}, '{}', new AbortController().signal, 200), ModernTimeoutError, name);
      const abort = new AbortController();
      const pending = postModern(target, {}, '{}', abort.signal, 0);
      setTimeout(() => abort.abort(), 50);
      await assert.rejects(pending, CancelledError, name);
      client?.close();
    }
  } finally {
    await server.close();
  }
});

test('postModern: a reader that throws stops the exchange and read() rejects with its error', async () => {
  const server = await peer((_path, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: x\n\n');
  });
  const client = new UpstreamHttpClient(new URL(server.url).origin, 2000);
  try {
    const response = await postModern({ url: server.url, client }, {}, '{}', new AbortController().signal, 0);
    await assert.rejects(
      response.read(() => {
        throw new RangeError('event too large');
      }),
      RangeError,
    );
  } finally {
    client.close();
    await server.close();
  }
});

test('postModern: an unreachable server rejects with the network error', async () => {
  const server = await peer(() => undefined);
  const url = server.url;
  await server.close();
  for (const [name, target, client] of targets(url)) {
    await assert.rejects(postModern(target, {}, '{}', new AbortController().signal, 1000), (error: Error) => !(error instanceof ModernTimeoutError) && !(error instanceof CancelledError), name);
    client?.close();
  }
});
