// How SSE answers from Streamable HTTP upstreams reach the client, piped (no response policy) and
// rewritten (an ACL reads every server message): when their head is sent, which SSE fields
// survive, and what a client gets when the upstream dies in the middle of an answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../src/config/schema.ts';
import { startTestGateway } from './helpers/gatehouse.ts';
import { SseReader, openRawSession } from './helpers/http-peers.ts';
import { SDK_SERVER_RETRY_MS, startSdkServer } from './helpers/sdk-server.ts';

type PolicyList = NonNullable<ConfigInput['apis'][number]['policies']>;

const ACL: PolicyList = [
  {
    acl: {
      rules: [
        {
          features: [
            { type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'glob', value: '*' } },
            { type: 'resources', methods: ['resources/list', 'resources/read'], pattern: { type: 'glob', value: '**' } },
          ],
        },
      ],
    },
  },
];

/** The same upstream piped (`/piped`) and rewritten (`/rewritten`). */
async function bothPaths(style: 'sse' | 'json') {
  const upstream = await startSdkServer(style);
  const gh = await startTestGateway({
    servers: { sdk: { url: upstream.url } },
    apis: [
      { name: 'piped', path: '/piped', server: 'sdk' },
      { name: 'rewritten', path: '/rewritten', server: 'sdk', policies: ACL },
    ],
  });
  return {
    upstream,
    gh,
    close: async () => {
      await gh.close();
      await upstream.close();
    },
  };
}

/** Settles with `promise`, or rejects after `ms` saying what did not happen. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('an SSE answer\'s head reaches the client before its first event, piped and rewritten, on POST and GET (heads were held until the first event)', async (t) => {
  const { upstream, gh, close } = await bothPaths('sse');
  t.after(close);
  for (const api of ['piped', 'rewritten']) {
    // 2025-06-18: no priming event, so the upstream's head is all there is until the tool answers.
    const { headers } = await openRawSession(gh.url(api), '2025-06-18');
    const key = `post-${api}`;
    const answer = fetch(gh.url(api), { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'hold', arguments: { key } } }) });
    await within(upstream.holding(key), 10_000, `${api}: the upstream starting the tool`);
    const response = await within(answer, 10_000, `${api}: the POST's head reaching the client while the tool runs`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    upstream.release(key);
    const reader = new SseReader(response);
    const { match } = await reader.until((event) => (event.message as { id?: number } | undefined)?.id === 2);
    assert.deepEqual((match.message as { result: { content: unknown } }).result.content, [{ type: 'text', text: `released ${key}` }]);

    const stream = await within(fetch(gh.url(api), { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } }), 10_000, `${api}: the GET stream's head reaching the client before any event`);
    assert.equal(stream.status, 200);
    const events = new SseReader(stream);
    await upstream.notifyAll();
    const { match: changed } = await events.until((event) => (event.message as { method?: string } | undefined)?.method === 'notifications/tools/list_changed');
    assert.ok(changed);
    await events.cancel();
  }
});

test('the SSE rewriter keeps the retry: field of events (it dropped it)', async (t) => {
  const { gh, close } = await bothPaths('sse');
  t.after(close);
  for (const api of ['piped', 'rewritten']) {
    // 2025-11-25: a resumable server opens each POST stream with a priming event carrying retry:.
    const { headers } = await openRawSession(gh.url(api), '2025-11-25');
    const response = await fetch(gh.url(api), { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    const text = await response.text();
    assert.match(text, new RegExp(`^retry: ${SDK_SERVER_RETRY_MS}$`, 'm'), `${api}: retry: relayed (${text.slice(0, 200)})`);
  }
});
