// Resumption through Gatehouse: a client that loses a POST SSE stream mid-operation reconnects
// with GET + Last-Event-ID and receives, from server-everything's event store, what it missed,
// ending with the result of the original request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startEverything, startTestGateway } from './helpers/gatehouse.ts';
import { SseReader, openRawSession, type SseEventRecord } from './helpers/http-peers.ts';

interface Message {
  id?: number | string;
  method?: string;
  params?: { progress?: number; progressToken?: string };
  result?: { content?: Array<{ type: string; text?: string }> };
}

const asMessage = (event: SseEventRecord): Message => (event.message ?? {}) as Message;

test('a client that drops a POST stream resumes it through Gatehouse with GET and Last-Event-ID and gets the missed progress and the result', async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const gh = await startTestGateway({
    servers: { everything: { url: `${everything.origin}/mcp` } },
    apis: [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } }],
  });
  t.after(() => gh.close());

  // 2025-11-25 clients get a priming event with an id, so the stream is resumable from the start.
  const { headers } = await openRawSession(gh.url(), '2025-11-25');
  const post = new AbortController();
  const response = await fetch(gh.url(), {
    method: 'POST',
    headers,
    signal: post.signal,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'trigger-long-running-operation', arguments: { duration: 3, steps: 3 }, _meta: { progressToken: 'resume-me' } },
    }),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const first = new SseReader(response);
  const { seen: before } = await first.until((e) => asMessage(e).method === 'notifications/progress', 10_000);
  const priming = before[0]!;
  assert.ok(priming.id, 'the first event (priming) carries an id');
  const firstProgress = before.at(-1)!;
  assert.equal(asMessage(firstProgress).params?.progress, 1);
  assert.ok(firstProgress.id, 'progress events carry ids');
  // Disconnect before the operation ends.
  post.abort();
  await first.cancel();

  // Reconnect with the last id seen, as often as needed, until the result of request 7 arrives.
  let lastEventId = firstProgress.id;
  const replayed: SseEventRecord[] = [];
  let result: SseEventRecord | undefined;
  let reconnects = 0;
  const deadline = Date.now() + 20_000;
  while (!result && Date.now() < deadline) {
    reconnects++;
    const get = new AbortController();
    const resumed = await fetch(gh.url(), {
      method: 'GET',
      signal: get.signal,
      headers: { accept: 'text/event-stream', 'mcp-session-id': headers['mcp-session-id']!, 'mcp-protocol-version': '2025-11-25', 'last-event-id': lastEventId },
    });
    assert.equal(resumed.status, 200, `resume GET answered ${resumed.status}`);
    assert.match(resumed.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = new SseReader(resumed);
    try {
      for (;;) {
        const event = await reader.next(1000);
        if (!event) break;
        replayed.push(event);
        if (event.id) lastEventId = event.id;
        if (asMessage(event).id === 7) {
          result = event;
          break;
        }
      }
    } catch {
      // Nothing more for now: reconnect from the newest id.
    }
    get.abort();
    await reader.cancel();
  }
  assert.ok(result, `the result arrived over a resumed stream (events: ${JSON.stringify(replayed)})`);
  assert.match(asMessage(result).result?.content?.[0]?.text ?? '', /Long running operation completed/);

  const missedProgress = replayed.filter((e) => asMessage(e).method === 'notifications/progress').map((e) => asMessage(e).params?.progress);
  assert.deepEqual(missedProgress, [2, 3], 'the progress sent while disconnected is replayed, and what was seen is not');
  const ids = [...before, ...replayed].map((e) => e.id).filter((id): id is string => id !== undefined);
  assert.equal(new Set(ids).size, ids.length, 'event ids are unique across the original and resumed streams');
  assert.ok(replayed.every((e) => e.id !== undefined), 'replayed events carry ids');
  t.diagnostic(`resumed in ${reconnects} reconnect(s)`);

  // The session is still usable afterwards.
  const echo = await fetch(gh.url(), { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'echo', arguments: { message: 'still here' } } }) });
  assert.match(await echo.text(), /Echo: still here/);
  const { client, close } = await connectClient(gh.url());
  t.after(close);
  assert.ok((await client.listTools()).tools.length > 0);
});
