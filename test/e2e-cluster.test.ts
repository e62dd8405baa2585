// Stdio sessions without sticky routing: three Gatehouse nodes in this process on one Postgres
// schema (the node registry) and one session key, a stdio server-everything behind an API-key
// API with a rate limit on Redis. The SDK client's requests go to the nodes in turn (its fetch
// picks the next node for every request, standalone GET stream included): every call works on
// every node, the owner of the session serves it (its child, its audit log, one count in the
// shared limit), a 2026-07-28 client's retry with a request state reaches the node that holds its
// call, an SSE answer streams through the forwarding node event by event, a request with a
// forged or replayed forwarding header is refused, and once the
// owner is gone the other nodes answer 404 for its session and the client starts a new one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { everythingStdioCommand, rawSession, startEverything, startTestGateway, tempDir, type TestGateway } from './helpers/gatehouse.ts';
import { postgresRequirement, redisRequirement } from './helpers/requirements.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { waitUntil } from './helpers/lifecycle-procs.ts';
import { FORWARDED_HEADER, ForwardSigner } from '../src/cluster/signature.ts';
import { deriveKey } from '../src/session/seal-box.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startStatelessServer } from './helpers/stateless-server.ts';
import { startReceiver } from './helpers/otlp-receiver.ts';

const postgres = postgresRequirement();
const redis = redisRequirement();
const KEY = 'alice-key-cluster-test-0123456789';
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** A fetch that sends each request to the next node in turn (a round-robin balancer in the client). */
function roundRobin(origins: readonly string[], served: string[], bodies?: Array<{ origin: string; body: Record<string, unknown> }>): typeof fetch {
  let next = 0;
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const origin = origins[next++ % origins.length]!;
    served.push(origin);
    if (bodies && typeof init?.body === 'string') bodies.push({ origin, body: JSON.parse(init.body) as Record<string, unknown> });
    return fetch(new URL(url.pathname + url.search, origin), init);
  };
}

/** Nodes on one session key, each in its own data folder; resolves once every node sees them all. */
async function startNodes(config: Omit<ConfigInput, 'listen'>, names: readonly string[], key = randomBytes(32).toString('hex')): Promise<TestGateway[]> {
  const dir = tempDir('gatehouse-cluster-');
  const nodes: TestGateway[] = [];
  for (const name of names) {
    const node = await startTestGateway(config, { key, dataDir: path.join(dir, name) });
    cleanups.push(() => node.close());
    nodes.push(node);
  }
  // Every node knows the others (each has read the registry since the last one started).
  await waitUntil(() => nodes.every((n) => n.gateway.cluster!.registry.size === names.length), `every node sees ${names.length} live nodes`);
  return nodes;
}

/** A schema name of its own for a test's nodes, dropped after the tests. */
function freshSchema(pgUrl: string): string {
  const schema = `gatehouse_cluster_${randomBytes(5).toString('hex')}`;
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  return schema;
}

const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

if (postgres.url === undefined || redis.url === undefined) {
  test('stdio sessions across cluster nodes', { skip: postgres.skip || redis.skip }, () => {
    postgres.check();
    redis.check();
  });
} else {
  const pgUrl = postgres.url;
  const redisUrl = redis.url;
  test('stdio sessions across cluster nodes: forwarded to their owner, audited and counted once, gone with it', { timeout: 120_000 }, async () => {
    const schema = freshSchema(pgUrl);
    const stdio = everythingStdioCommand();
    // An HTTP+SSE (2024-11-05) server: with the stdio one, the members of a federated API whose
    // sessions also live on one node.
    const sse = await startEverything({ transport: 'sse' });
    cleanups.push(() => sse.close());
    const prefix = `gatehouse:test-cluster:${randomBytes(4).toString('hex')}:`;
    const config: Omit<ConfigInput, 'listen'> = {
      store: { type: 'postgres', url: pgUrl, schema },
      cluster: { heartbeatInterval: 200, nodeTimeout: 1000 },
      servers: { everything: { command: stdio.command, args: stdio.args }, legacy: { sse: `${sse.origin}/sse` } },
      agents: [{ id: 'alice', apiKeys: [{ value: KEY }] }],
      apis: [
        {
          name: 'stdio',
          path: '/mcp',
          server: 'everything',
          auth: { type: 'api-key' },
          policies: [{ rateLimit: { backend: { type: 'redis', url: redisUrl, prefix }, limits: [{ name: 'adds', key: ['agent'], match: { tools: ['get-sum'] }, rate: 4, per: '1h' }] } }],
        },
        { name: 'federated', path: '/federated', servers: ['everything', 'legacy'], auth: { type: 'api-key' } },
      ],
    };
    const key = randomBytes(32).toString('hex');
    const nodes = await startNodes(config, ['a', 'b', 'c'], key);

    const served: string[] = [];
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', nodes[0]!.origin), { fetch: roundRobin(nodes.map((n) => n.origin), served), requestInit: { headers: { authorization: `Bearer ${KEY}` } } });
    const client = new Client({ name: 'cluster-test', version: '1.0.0' });
    await client.connect(transport);
    cleanups.push(() => client.close());
    const sessionId = transport.sessionId!;
    const owners = nodes.filter((n) => (n.gateway.sessionCounts().everything ?? 0) > 0);
    assert.equal(owners.length, 1, 'one node runs the session\'s child');
    const owner = owners[0]!;
    const others = nodes.filter((n) => n !== owner);

    // Calls alternate between the nodes; each works, whichever node it lands on.
    for (let i = 0; i < 6; i++) {
      const echoed = await client.callTool({ name: 'echo', arguments: { message: `call ${i}` } });
      assert.deepEqual(echoed.content, [{ type: 'text', text: `Echo: call ${i}` }]);
    }
    assert.ok(new Set(served).size === 3, `requests went to every node: ${[...new Set(served)].join(', ')}`);
    assert.equal((await client.listTools()).tools.some((t) => t.name === 'get-sum'), true);
    for (const node of others) assert.equal(node.gateway.sessionCounts().everything ?? 0, 0, 'no child on the nodes that forwarded');

    // A federated session with a stdio and an HTTP+SSE member lives on one node too; its requests
    // are forwarded there from the others.
    const federated = new Client({ name: 'cluster-test', version: '1.0.0' });
    await federated.connect(new StreamableHTTPClientTransport(new URL('/federated', nodes[0]!.origin), { fetch: roundRobin(nodes.map((n) => n.origin), []), requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
    cleanups.push(() => federated.close());
    assert.equal(nodes.filter((n) => (n.gateway.sessionCounts()['@federated'] ?? 0) > 0).length, 1, 'one node holds the federated session');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual((await federated.callTool({ name: 'everything__echo', arguments: { message: `fed ${i}` } })).content, [{ type: 'text', text: `Echo: fed ${i}` }]);
      assert.deepEqual((await federated.callTool({ name: 'legacy__get-sum', arguments: { a: i, b: 2 } })).content, [{ type: 'text', text: `The sum of ${i} and 2 is ${i + 2}.` }]);
    }
    await federated.close();

    // The shared limit counts each call once, on the owner: 4 calls pass, the fifth is refused.
    for (let i = 0; i < 4; i++) {
      const sum = await client.callTool({ name: 'get-sum', arguments: { a: i, b: 1 } });
      assert.deepEqual(sum.content, [{ type: 'text', text: `The sum of ${i} and 1 is ${i + 1}.` }]);
    }
    await assert.rejects(client.callTool({ name: 'get-sum', arguments: { a: 9, b: 9 } }), /rate limit|429|Too Many/i);

    // A forwarded SSE answer streams: through a node that forwards, the first progress event of a
    // long call arrives on its own, before the answer (a buffered relay would hand over both at once).
    const streamed = await fetch(`${others[0]!.origin}/mcp`, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'long', method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 4 }, _meta: { progressToken: 'p1' } } }),
    });
    assert.equal(streamed.status, 200);
    assert.match(String(streamed.headers.get('content-type')), /text\/event-stream/);
    const reader = streamed.body!.getReader();
    const decoder = new TextDecoder();
    let events = '';
    while (!events.includes('notifications/progress')) {
      const { value, done } = await reader.read();
      if (done) break;
      events += decoder.decode(value, { stream: true });
    }
    assert.ok(events.includes('notifications/progress'), events);
    assert.ok(!events.includes('"result"'), `the first progress event came alone, before the answer: ${events}`);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      events += decoder.decode(value, { stream: true });
    }
    assert.match(events, /"result"/, `then the answer, on the same stream: ${events}`);

    // Audited once, by the owner; the forwarding nodes record nothing of the session's calls.
    const echoes = await recordsWhen(owner.gateway, { method: 'tools/call', target: 'echo' }, (events) => events.length >= 6);
    assert.equal(echoes.length, 6, 'the owner recorded each echo once');
    for (const node of others) {
      await node.gateway.audit!.flush();
      const recorded = await node.gateway.audit!.reader!.list({ method: 'tools/call' }, { limit: 100 });
      assert.equal(recorded.length, 0, 'a forwarding node records none of the forwarded calls');
    }

    // A 2026-07-28 client (sessionless, bridged to the stdio server): the server's elicitation
    // during a call becomes input_required with a request state naming the node that holds the
    // call; the retry lands on the next node and is forwarded there, so the server is asked once.
    const elicited: unknown[] = [];
    const legs: Array<{ origin: string; body: Record<string, unknown> }> = [];
    const modern = new ModernClient({ name: 'cluster-test', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
    modern.setRequestHandler('elicitation/create', async (request) => {
      elicited.push(request.params);
      return { action: 'accept', content: { name: 'Ada Lovelace', check: true, email: 'ada@example.com' } };
    });
    const rr = roundRobin(nodes.map((n) => n.origin), [], legs);
    await modern.connect(new ModernTransport(new URL('/mcp', nodes[0]!.origin), { fetch: (input, init) => rr(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers).entries()), authorization: `Bearer ${KEY}` } }) }));
    cleanups.push(() => modern.close());
    const elicitation = await modern.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.match(JSON.stringify(elicitation.content), /Ada Lovelace/, JSON.stringify(elicitation.content));
    assert.equal(elicited.length, 1, 'the client was asked once: the retry reached the call waiting on the first node');
    const calls = legs.filter((l) => l.body.method === 'tools/call');
    assert.equal(calls.length, 2, 'a first leg and a retry');
    assert.notEqual(calls[0]!.origin, calls[1]!.origin, 'the retry went to another node');
    assert.match(String((calls[1]!.body.params as { requestState?: string }).requestState), /^ghs1\./);

    // A 2026-07-28 client's task (the tasks extension) on the bridged stdio server: the task id
    // names the node whose session holds the task; tasks/get landing on the other nodes is
    // forwarded there, so every poll sees the task until it completes.
    const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } } };
    const modernPost = async (origin: string, method: string, name: string, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const response = await fetch(`${origin}/mcp`, {
        method: 'POST',
        headers: { ...headers, 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, 'mcp-name': name },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: envelope } }),
      });
      const answer = (await response.json()) as { result?: Record<string, unknown>; error?: unknown };
      assert.ok(answer.result, `${method} on ${origin}: ${JSON.stringify(answer.error)}`);
      return answer.result;
    };
    const task = await modernPost(nodes[0]!.origin, 'tools/call', 'simulate-research-query', { name: 'simulate-research-query', arguments: { topic: 'clusters' } });
    assert.equal(task.resultType, 'task');
    const taskId = String(task.taskId);
    const polledOn = new Set<string>();
    let status = String(task.status);
    for (let i = 1; status === 'working'; i++) {
      assert.ok(i < 200, 'the task completes');
      const origin = nodes[i % nodes.length]!.origin;
      const got = await modernPost(origin, 'tasks/get', taskId, { taskId });
      polledOn.add(origin);
      status = String(got.status);
      if (status === 'completed') assert.match(JSON.stringify(got.result), /Research Report: clusters/);
      else await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(status, 'completed');
    assert.ok(polledOn.size >= 2, 'polled on several nodes');

    // The internal channel: a forwarding header that is not signed with the cluster's key, or is
    // replayed, is refused; a signed one names the client's address to the owner.
    const post = (extra: Record<string, string>) =>
      fetch(`${owner.origin}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-session-id': sessionId, ...extra }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    const unsigned = await post({ [FORWARDED_HEADER]: `v1;from=x;to=${owner.gateway.nodeId};ts=${Date.now()};n=aaaaaaaaaaaaaaaaaaaa;a=10.9.9.9;p=http` });
    assert.equal(unsigned.status, 403);
    assert.equal(((await unsigned.json()) as { error: { data: { code: string } } }).error.data.code, 'GH_FORWARD_REFUSED');
    const wrongKey = new ForwardSigner(deriveKey(randomBytes(32), 'gatehouse cluster forwarding'));
    const forged = await post({ [FORWARDED_HEADER]: wrongKey.sign('POST', '/mcp', sessionId, { from: 'x', to: owner.gateway.nodeId, address: '10.9.9.9', scheme: 'http' }) });
    assert.equal(forged.status, 403, 'signed with another key: refused');
    await forged.body?.cancel();
    const signer = new ForwardSigner(deriveKey(Buffer.from(key, 'hex'), 'gatehouse cluster forwarding'));
    const genuine = signer.sign('POST', '/mcp', sessionId, { from: 'x', to: owner.gateway.nodeId, address: '10.9.9.9', scheme: 'http' });
    const first = await post({ [FORWARDED_HEADER]: genuine });
    assert.equal(first.status, 200, 'a genuine forwarded request is served');
    await first.text();
    const replayed = await post({ [FORWARDED_HEADER]: genuine });
    assert.equal(replayed.status, 403, 'the same header again: a replay, refused');
    await replayed.body?.cancel();
    const stale = await post({ [FORWARDED_HEADER]: signer.sign('POST', '/mcp', sessionId, { from: 'x', to: owner.gateway.nodeId, address: '10.9.9.9', scheme: 'http' }, Date.now() - 60_000) });
    assert.equal(stale.status, 403, 'older than the window: refused');
    await stale.body?.cancel();

    // The counts are in the metrics: forwarded by the others, refused by the owner.
    const metricsOf = async (node: TestGateway) => (await fetch(`${node.gateway.admin!.url.replace(/\/$/, '')}/metrics`, { headers: { authorization: `Bearer ${node.gateway.admin!.token.token}` } })).text();
    const forwardedOk = (text: string) => Number(/^gatehouse_cluster_forwarded_total\{outcome="ok"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    assert.ok(forwardedOk(await metricsOf(others[0]!)) + forwardedOk(await metricsOf(others[1]!)) >= 6, 'the other nodes forwarded the session\'s requests');
    const ownerMetrics = await metricsOf(owner);
    assert.match(ownerMetrics, /^gatehouse_cluster_forward_refused_total 4$/m, 'unsigned, forged, replayed and stale: refused');
    assert.match(ownerMetrics, /^gatehouse_cluster_nodes 3$/m);

    // The owner goes: its session is answered 404 on every other node, and the client starts anew.
    await client.close();
    await owner.close();
    for (const node of others) {
      const gone = await fetch(`${node.origin}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-session-id': sessionId }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
      assert.equal(gone.status, 404, 'the owner is gone: session not found');
      await gone.body?.cancel();
      assert.ok(node.gateway.clusterStats()!.forwarded.ownerGone >= 1, 'counted as owner_gone');
    }
    const again = new Client({ name: 'cluster-test', version: '1.0.0' });
    await again.connect(new StreamableHTTPClientTransport(new URL('/mcp', others[0]!.origin), { fetch: roundRobin(others.map((n) => n.origin), []), requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
    cleanups.push(() => again.close());
    assert.deepEqual((await again.callTool({ name: 'echo', arguments: { message: 'new session' } })).content, [{ type: 'text', text: 'Echo: new session' }]);
    assert.deepEqual((await again.callTool({ name: 'echo', arguments: { message: 'other node' } })).content, [{ type: 'text', text: 'Echo: other node' }]);

    // A node that relays a standalone stream for another node's session stops promptly: the relay
    // ends with its listener's drain, and the client's stream with it.
    const [holder, relay] = others as [TestGateway, TestGateway];
    // DELETE through a node that does not hold the session ends it on the one that does.
    const children = holder.gateway.sessionCounts().everything ?? 0;
    const ended = await rawSession(`${holder.origin}/mcp`, { authorization: `Bearer ${KEY}` });
    assert.equal(holder.gateway.sessionCounts().everything, children + 1);
    const deleted = await fetch(`${relay.origin}/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}`, 'mcp-session-id': ended, 'mcp-protocol-version': '2025-06-18' } });
    assert.equal(deleted.status, 200, 'DELETE forwarded to the holder');
    await deleted.body?.cancel();
    assert.equal(holder.gateway.sessionCounts().everything, children, 'the holder stopped the session\'s child');
    const raw = await rawSession(`${holder.origin}/mcp`, { authorization: `Bearer ${KEY}` });
    const stream = await fetch(`${relay.origin}/mcp`, { headers: { authorization: `Bearer ${KEY}`, accept: 'text/event-stream', 'mcp-session-id': raw, 'mcp-protocol-version': '2025-06-18' } });
    assert.equal(stream.status, 200, 'the standalone stream is relayed to the holder');
    await relay.close();
    const rest = await stream.text().catch(() => '');
    assert.equal(typeof rest, 'string', 'the relayed stream ended when the relaying node stopped');
  });

  test('a 2025 client\'s bridged session on a 2026-07-28-only server across nodes: its requests reach the node that keeps its subscriptions and log level; once that node is gone another serves it', { timeout: 120_000 }, async () => {
    const schema = freshSchema(pgUrl);
    const modern = await startStatelessServer({ modernOnly: true, subscriptions: true });
    cleanups.push(() => modern.close());
    const config: Omit<ConfigInput, 'listen'> = {
      store: { type: 'postgres', url: pgUrl, schema },
      cluster: { heartbeatInterval: 200, nodeTimeout: 1000 },
      servers: { modern: { url: modern.url } },
      agents: [{ id: 'alice', apiKeys: [{ value: KEY }] }],
      apis: [{ name: 'bridged', path: '/mcp', server: 'modern', auth: { type: 'api-key' } }],
    };
    const nodes = await startNodes(config, ['a', 'b']);
    const served: string[] = [];
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', nodes[0]!.origin), { fetch: roundRobin(nodes.map((n) => n.origin), served), requestInit: { headers: { authorization: `Bearer ${KEY}` } } });
    const client = new Client({ name: 'cluster-bridged', version: '1.0.0' });
    const updated: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => void updated.push(notification.params.uri));
    await client.connect(transport);
    cleanups.push(() => client.close());
    // The level and the subscription, set through whichever node, are kept by the session's node.
    await client.setLoggingLevel('debug');
    await client.subscribeResource({ uri: 'note://hello' });
    await client.setLoggingLevel('warning');
    const levels: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const before = modern.received.length;
      await client.callTool({ name: 'echo', arguments: { message: `call ${i}` } });
      const call = modern.received.slice(before).find((r) => r.body.includes('"tools/call"'));
      levels.push((JSON.parse(call!.body) as { params: { _meta: Record<string, unknown> } }).params._meta['io.modelcontextprotocol/logLevel']);
    }
    assert.deepEqual(levels, ['warning', 'warning', 'warning', 'warning'], 'every call carries the level, whichever node it reached');
    assert.ok(new Set(served).size === 2, 'requests went to both nodes');
    // The GET stream (whichever node it reached) listens with the subscription.
    await waitUntil(() => modern.received.some((r) => r.body.includes('"subscriptions/listen"') && r.body.includes('note://hello')), 'a listen with the subscription');
    modern.notify.resourceUpdated('note://hello');
    await waitUntil(() => updated.includes('note://hello'), 'the update reached the client');

    // The session's node goes: the other serves the session still (without its subscriptions).
    const sessionId = transport.sessionId!;
    // The node that answered initialize (the client's first request) keeps the session.
    const owner = nodes.find((n) => n.origin === served[0])!;
    const other = nodes.find((n) => n !== owner)!;
    await client.close();
    await owner.close();
    await waitUntil(() => other.gateway.cluster!.registry.size === 1, 'the other node sees the owner gone');
    const response = await fetch(`${other.origin}/mcp`, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { message: 'after' } } }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /Echo: after|after/);
  });

  test('a request forwarded to its session\'s node is traced as one trace: the forwarding node ends a "forward" span naming the owner, the owner\'s span is its child (the forwarding node\'s span was never ended)', { timeout: 120_000 }, async () => {
    const schema = freshSchema(pgUrl);
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const stdio = everythingStdioCommand();
    const config: Omit<ConfigInput, 'listen'> = {
      store: { type: 'postgres', url: pgUrl, schema },
      cluster: { heartbeatInterval: 200, nodeTimeout: 1000 },
      servers: { everything: { command: stdio.command, args: stdio.args } },
      agents: [{ id: 'alice', apiKeys: [{ value: KEY }] }],
      apis: [{ name: 'stdio', path: '/mcp', server: 'everything', auth: { type: 'api-key' } }],
      tracing: { enabled: true, endpoint: receiver.url },
    };
    const nodes = await startNodes(config, ['a', 'b']);
    const served: string[] = [];
    const client = new Client({ name: 'cluster-traced', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', nodes[0]!.origin), { fetch: roundRobin(nodes.map((n) => n.origin), served), requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
    cleanups.push(() => client.close());
    for (let i = 0; i < 4; i++) await client.callTool({ name: 'echo', arguments: { message: `traced ${i}` } });
    const owner = nodes.find((n) => (n.gateway.sessionCounts().everything ?? 0) > 0)!;
    const ownerId = owner.gateway.cluster!.nodeId;

    await waitUntil(() => receiver.spans.filter((s) => s.span.name === 'tools/call echo').length >= 4 && receiver.spans.some((s) => s.span.name === 'forward'), 'the spans are exported', 20_000);
    const forwards = receiver.spans.filter((s) => s.span.name === 'forward');
    assert.ok(forwards.length >= 2, `the calls that landed on the other node were forwarded: ${forwards.length}`);
    for (const forward of forwards) {
      assert.equal(forward.attributes['gatehouse.forwarded_to'], ownerId);
      assert.equal(forward.attributes['gatehouse.api'], 'stdio');
    }
    const calls = receiver.spans.filter((s) => s.span.name === 'tools/call echo');
    assert.equal(calls.length, 4, 'each call is one exchange span, on the owner');
    const children = calls.filter((c) => forwards.some((f) => f.span.spanId === c.span.parentSpanId && f.span.traceId === c.span.traceId));
    const forwardedCalls = forwards.filter((f) => calls.some((c) => c.span.parentSpanId === f.span.spanId)).length;
    assert.ok(children.length >= 2 && children.length === forwardedCalls, 'the owner\'s span of a forwarded call continues the forward\'s trace');
  });
}
