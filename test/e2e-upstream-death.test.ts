// A Streamable HTTP upstream that dies, or stops answering, in the middle of a call: each request
// in flight must still get a JSON-RPC error, on SSE answers (as an event, then a clean end) and
// JSON answers (as the HTTP answer), piped and rewritten by a response policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { ConfigInput } from '../src/config/schema.ts';
import { connectClient, raw, startEverything, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { openRawSession, SseReader } from './helpers/http-peers.ts';
import { startSdkServer, startSdkServerChild } from './helpers/sdk-server.ts';

type PolicyList = NonNullable<ConfigInput['apis'][number]['policies']>;

/** Lets every tool and resource through, so that every answer is decoded and rewritten. */
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

const PATHS = ['piped', 'rewritten'] as const;

async function gatewayFor(url: string): Promise<TestGateway> {
  return startTestGateway({
    servers: { up: { url } },
    apis: [
      { name: 'piped', path: '/piped', server: 'up' },
      { name: 'rewritten', path: '/rewritten', server: 'up', policies: ACL },
    ],
  });
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The error data code of a JSON-RPC error the SDK client rejected a request with. */
function dataCode(error: unknown): string | undefined {
  return error instanceof McpError ? (error.data as { code?: string } | undefined)?.code : undefined;
}

for (const path of PATHS) {
  test(`server-everything killed while a tool streams progress answers the call with GH_UPSTREAM_UNAVAILABLE, ${path} (the client got a reset and no answer)`, async (t) => {
    const everything = await startEverything();
    const gh = await gatewayFor(`${everything.origin}/mcp`);
    t.after(async () => {
      await gh.close();
      await everything.close();
    });
    const { client, close } = await connectClient(gh.url(path));
    t.after(close);
    let firstProgress!: () => void;
    const progressed = new Promise<void>((resolve) => (firstProgress = resolve));
    const call = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }, undefined, { onprogress: () => firstProgress() });
    const outcome = call.then(
      () => ({ error: undefined as unknown }),
      (error: unknown) => ({ error }),
    );
    await within(progressed, 15_000, 'the first progress notification');
    everything.child.kill('SIGKILL');
    const { error } = await within(outcome, 15_000, 'an answer to the call');
    assert.ok(error instanceof McpError, `the call is answered with a JSON-RPC error, not ${String(error)}`);
    assert.equal(error.code, -32010);
    assert.equal(dataCode(error), 'GH_UPSTREAM_UNAVAILABLE');
  });
}

test('an SDK server answering JSON, killed mid-call, is answered with a JSON-RPC error for the request (piped and rewritten)', async (t) => {
  const upstream = await startSdkServerChild('json');
  const gh = await gatewayFor(upstream.url);
  t.after(async () => {
    await gh.close();
    await upstream.kill();
  });
  const sessions = await Promise.all(PATHS.map((path) => openRawSession(gh.url(path), '2025-11-25')));
  const answers = PATHS.map((path, i) => raw(gh.url(path), { headers: sessions[i]!.headers, body: { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'hold', arguments: { key: path } } } }));
  for (const path of PATHS) await within(upstream.holding(path), 15_000, `the ${path} call reaching the tool`);
  await upstream.kill();
  for (const [i, path] of PATHS.entries()) {
    const answer = await within(answers[i]!, 15_000, `the ${path} answer`);
    assert.equal(answer.status, 502, path);
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(answer.messages, [
      { jsonrpc: '2.0', id: 7, error: { code: -32010, message: (answer.messages[0] as { error: { message: string } }).error.message, data: { code: 'GH_UPSTREAM_UNAVAILABLE' } } },
    ]);
  }
});

test('an SDK server answering SSE, killed mid-call, answers the SDK client\'s call with a JSON-RPC error (piped and rewritten)', async () => {
  for (const path of PATHS) {
    const upstream = await startSdkServerChild('sse');
    const gh = await gatewayFor(upstream.url);
    const { client, close } = await connectClient(gh.url(path));
    try {
      let started!: () => void;
      const streaming = new Promise<void>((resolve) => (started = resolve));
      const outcome = client.callTool({ name: 'hold', arguments: { key: path } }, undefined, { onprogress: () => started() }).then(
        () => ({ error: undefined as unknown }),
        (error: unknown) => ({ error }),
      );
      // Killed once its answer has started streaming (the client has seen a progress event).
      await within(streaming, 15_000, 'the call streaming its first progress');
      await upstream.kill();
      const { error } = await within(outcome, 15_000, `${path}: an answer to the call`);
      assert.ok(error instanceof McpError, `${path}: answered with a JSON-RPC error, not ${String(error)}`);
      assert.equal(dataCode(error), 'GH_UPSTREAM_UNAVAILABLE');
    } finally {
      await close();
      await gh.close();
      await upstream.kill();
    }
  }
});

test('an SSE answer the upstream ends without answering gets an error event for its request and a clean end, unless the client can resume it', async () => {
  for (const path of PATHS) {
    for (const version of ['2025-06-18', '2025-11-25'] as const) {
      const upstream = await startSdkServer('sse');
      const gh = await gatewayFor(upstream.url);
      try {
        const { headers } = await openRawSession(gh.url(path), version);
        const response = await fetch(gh.url(path), { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 'call-1', method: 'tools/call', params: { name: 'hold', arguments: { key: 'k' } } }) });
        assert.equal(response.status, 200);
        const reader = new SseReader(response);
        await within(upstream.holding('k'), 10_000, 'the call reaching the tool');
        // Closing the server's session ends its open streams cleanly, answers or not.
        await upstream.close();
        const events = [];
        for (let event = await reader.next(); event; event = await reader.next()) events.push(event);
        const messages = events.map((event) => event.message).filter((message) => message !== undefined);
        if (version === '2025-06-18') {
          assert.deepEqual(messages, [
            { jsonrpc: '2.0', id: 'call-1', error: { code: -32010, message: 'Upstream ended its stream without answering', data: { code: 'GH_UPSTREAM_UNAVAILABLE' } } },
          ], `${path} ${version}`);
        } else {
          // The stream carried event ids: the client may resume it (2025-11-25), so Gatehouse
          // does not answer in the server's place.
          assert.deepEqual(messages, [], `${path} ${version}`);
          assert.ok(events.some((event) => event.id !== undefined), 'the priming event went through');
        }
      } finally {
        await gh.close();
        await upstream.close();
      }
    }
  }
});

/**
 * A JSON-answering upstream that sends the head of its tools/call answer and part of the body,
 * then drops the connection (a failure injector).
 */
async function startTruncatingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const message = JSON.parse(body) as { id?: number | string; method: string };
      if (message.method === 'initialize') {
        const result = { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'truncating', version: '1.0.0' } };
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'up-1' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
      } else if (message.id === undefined) {
        res.writeHead(202).end();
      } else {
        const answer = JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text: 'x'.repeat(1000) }] } });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
        res.write(answer.slice(0, 200), () => res.destroy());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

test('a JSON answer cut short by the upstream is answered with a JSON-RPC error, piped and rewritten (the client got a truncated body or a reset)', async (t) => {
  const upstream = await startTruncatingServer();
  const gh = await gatewayFor(upstream.url);
  t.after(async () => {
    await gh.close();
    await upstream.close();
  });
  for (const path of PATHS) {
    const { headers } = await openRawSession(gh.url(path), '2025-06-18');
    const answer = await raw(gh.url(path), { headers, body: { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: {} } } });
    assert.equal(answer.status, 502, `${path}: ${answer.text}`);
    assert.equal((answer.messages[0] as { id: number }).id, 3);
    assert.equal((answer.messages[0] as { error: { data: { code: string } } }).error.data.code, 'GH_UPSTREAM_UNAVAILABLE');
  }
});
