// Gatehouse's own list_changed notifications on streams it relays from an upstream: they land
// between whole upstream events however the upstream cuts its chunks, carry no event id (the
// client's Last-Event-ID stays the upstream's), and on a 2026-07-28 listen stream wait for the
// acknowledgment, name the subscription and respect the client's filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenStreams, SseInjector } from './open-streams.ts';
import { relaySse } from './sse-relay.ts';
import { relay, UpstreamResponse } from './http-client.ts';
import { SseRewriter } from './message-rewriter.ts';
import { SseParser, type SseEvent } from '../mcp/sse.ts';

/** A relayed SSE response: `run` drives the upstream side and Gatehouse's injections; returns what the client parsed. */
async function relayed(run: (upstream: UpstreamResponse, res: ServerResponse) => Promise<void>): Promise<SseEvent[]> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    void run(new UpstreamResponse(200, {}, () => undefined, () => undefined), res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: AbortSignal.timeout(10_000) });
    const events: SseEvent[] = [];
    new SseParser((event) => events.push(event)).push(await response.text());
    return events;
  } finally {
    server.close();
  }
}

const CHUNKS = ['event: message\nid: up-1\ndata: {"jsonrpc":"2.0","meth', 'od":"a"}\n\nevent: message\nid: up-2\n', 'data: {"jsonrpc":"2.0","method":"b"}\n\n'];

function methods(events: readonly SseEvent[]): string[] {
  return events.map((e) => (JSON.parse(e.data) as { method: string }).method);
}

for (const mode of ['piped', 'rewritten'] as const) {
  test(`list_changed lands between whole upstream events of a ${mode} stream, however the upstream cuts them, without an event id`, async () => {
    const events = await relayed(async (upstream, res) => {
      const injector = new SseInjector(res);
      const done =
        mode === 'piped'
          ? relaySse(upstream, res, 1 << 20, undefined, injector.eventsWritten)
          : relay(upstream, new SseRewriter(res, (m) => m, { maxBytes: 1 << 20, maxJsonDepth: 128 }, undefined, injector.eventsWritten), res);
      for (const chunk of CHUNKS) {
        upstream.chunk(Buffer.from(chunk));
        await new Promise((resolve) => setImmediate(resolve));
        injector.listChanged(['tools']);
      }
      upstream.finish(null);
      await done;
    });
    // After chunk 1 nothing complete was written: the first notice goes first; then each lands after the event that completed.
    assert.deepEqual(methods(events), ['notifications/tools/list_changed', 'a', 'notifications/tools/list_changed', 'b', 'notifications/tools/list_changed']);
    // The parser carries the last id over: injected events add none of their own.
    assert.deepEqual(events.map((e) => e.id ?? null), [null, 'up-1', 'up-1', 'up-2', 'up-2']);
  });
}

test('on a subscriptions/listen stream, list_changed waits for the acknowledgment, names the subscription and only the kinds asked for', async () => {
  const events = await relayed(async (upstream, res) => {
    const injector = new SseInjector(res, { id: 'listen:1', kinds: ['tools', 'prompts'] });
    const done = relaySse(upstream, res, 1 << 20, undefined, injector.eventsWritten);
    injector.listChanged(['tools', 'resources']); // before the acknowledgment: held
    upstream.chunk(Buffer.from('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged","params":{"notifications":{"toolsListChanged":true}}}\n\n'));
    await new Promise((resolve) => setImmediate(resolve));
    injector.listChanged(['prompts', 'resources']);
    upstream.finish(null);
    await done;
  });
  const messages = events.map((e) => JSON.parse(e.data) as { method: string; params?: { _meta?: Record<string, unknown> } });
  assert.deepEqual(
    messages.map((m) => m.method),
    ['notifications/subscriptions/acknowledged', 'notifications/tools/list_changed', 'notifications/prompts/list_changed'],
  );
  assert.deepEqual(messages[1]!.params, { _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen:1' } });
  assert.deepEqual(messages[2]!.params, { _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen:1' } });
});

test('the registry reaches the open streams of one API only, and forgets a stream when it ends', () => {
  const registry = new OpenStreams();
  const told: string[] = [];
  const stream = (name: string) => ({ listChanged: (kinds: readonly string[]) => void told.push(`${name}:${kinds.join(',')}`) });
  const removeA = registry.add('a', stream('a1'));
  registry.add('a', stream('a2'));
  registry.add('b', stream('b1'));
  assert.equal(registry.listChanged('a', ['tools', 'prompts']), 2);
  assert.deepEqual(told, ['a1:tools,prompts', 'a2:tools,prompts']);
  removeA();
  removeA();
  assert.equal(registry.count('a'), 1);
  assert.equal(registry.listChanged('c', ['tools']), 0);
  assert.equal(registry.listChanged('b', []), 0, 'nothing to say, nobody told');
});
