import { test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { PoolSweeper } from './pool-sweeper.ts';

/** A loopback server: `silent` paths never answer; others answer at once with `headers`. */
async function server(headers: Record<string, string>): Promise<{ port: number; close(): Promise<void> }> {
  const srv = http.createServer((req, res) => {
    if (req.url === '/silent') return;
    res.writeHead(200, headers).end('ok');
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => {
      srv.closeAllConnections();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}

function get(agent: http.Agent, port: number, path: string): { req: ClientRequest; done: Promise<http.IncomingMessage> } {
  const req = http.request({ hostname: '127.0.0.1', port, path, agent });
  const done = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => res.resume().on('end', () => resolve(res)));
    req.on('error', reject);
  });
  req.end();
  return { req, done };
}

test('a request past its deadline is handed over; one answered in time is not', async (t) => {
  const srv = await server({});
  t.after(() => srv.close());
  const agent = new http.Agent({ keepAlive: true });
  const late: ClientRequest[] = [];
  const sweeper = new PoolSweeper(agent, (request) => {
    late.push(request);
    request.destroy(new Error('late'));
  });
  t.after(() => {
    sweeper.close();
    agent.destroy();
  });

  const silent = get(agent, srv.port, '/silent');
  const started = Date.now();
  sweeper.wait(silent.req, 150);
  await assert.rejects(silent.done, /late/);
  assert.ok(Date.now() - started >= 150, 'not before the deadline');
  assert.deepEqual(late, [silent.req]);

  const quick = get(agent, srv.port, '/');
  const waiting = sweeper.wait(quick.req, 150);
  await quick.done;
  sweeper.done(waiting);
  await sleep(300);
  assert.equal(late.length, 1, 'a request whose deadline ended is left alone');
});

test('idle pooled connections are closed once idle longer than the upstream announces (less a second)', async (t) => {
  const srv = await server({ 'keep-alive': 'timeout=2' });
  t.after(() => srv.close());
  const agent = new http.Agent({ keepAlive: true });
  const sweeper = new PoolSweeper(agent, () => assert.fail('no deadline here'));
  t.after(() => {
    sweeper.close();
    agent.destroy();
  });

  const { done } = get(agent, srv.port, '/');
  sweeper.heardFrom((await done).headers);
  await sleep(20);
  const pooled = Object.values(agent.freeSockets).flat();
  assert.equal(pooled.length, 1, 'the connection went back to the pool');
  await sleep(500);
  assert.equal(pooled[0]!.destroyed, false, 'kept while idle for less than a second');
  await sleep(800);
  assert.equal(pooled[0]!.destroyed, true, 'closed by the sweep');
  assert.equal(Object.values(agent.freeSockets).flat().length, 0);
});
