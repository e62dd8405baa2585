// Prometheus metrics end to end: real traffic from the SDK client and raw HTTP through Gatehouse to
// the real server-everything (HTTP and stdio), then a scrape of /metrics on the admin listener:
// requests by API, method, decision and outcome, an ACL denial, a 429 from a rate limit, upstream
// errors, latency histograms, sessions and stdio children, process metrics, optional labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, everythingStdioCommand, raw, rawSession, sessionHeaders, startEverything, startTestGateway, INIT_REQUEST, MCP_HEADERS, type TestGateway } from './helpers/gatehouse.ts';
import { closedPort } from './helpers/http-peers.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (the subset prom-client writes). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with exactly these labels (0 when absent). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `one series ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

async function scrape(gh: TestGateway, headers: Record<string, string> = { authorization: `Bearer ${gh.gateway.admin!.token.token}` }): Promise<{ status: number; type: string | null; samples: Sample[]; text: string }> {
  const response = await fetch(`${gh.gateway.admin!.url}metrics`, { headers });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), text, samples: response.status === 200 ? parse(text) : [] };
}

const ECHO_ONLY = { acl: { rules: [{ features: [{ type: 'tools' as const, methods: ['tools/list', 'tools/call'], pattern: { type: 'literal' as const, value: 'echo' } }] }] } };
const TWO_ECHOES = { rateLimit: { limits: [{ name: 'two-echoes', key: ['api' as const], match: { methods: ['tools/call'] }, rate: 2, per: '1m' }] } };

test('requests, denials, 429s, upstream errors, latencies and sessions after real traffic', async (t) => {
  const everything = await startEverything();
  const stdio = everythingStdioCommand();
  const gh = await startTestGateway({
    servers: {
      http: { url: `${everything.origin}/mcp` },
      stdio: { command: stdio.command, args: stdio.args },
      dead: { url: `http://127.0.0.1:${await closedPort()}/mcp` },
    },
    apis: [
      { name: 'open', path: '/mcp', server: 'http' },
      { name: 'acl', path: '/acl', server: 'http', policies: [ECHO_ONLY] },
      { name: 'limited', path: '/limited', server: 'http', policies: [TWO_ECHOES] },
      { name: 'stdio', path: '/stdio', server: 'stdio' },
      { name: 'dead', path: '/dead', server: 'dead' },
    ],
  });
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  assert.ok(gh.gateway.admin, 'the admin listener runs by default');

  // An agent on the open API: one list, two echoes, one call of a tool the server does not have
  // (answered with a tool error result), one read of a resource it does not have (a JSON-RPC error).
  const agent = await connectClient(gh.url('open'));
  await agent.client.listTools();
  await agent.client.callTool({ name: 'echo', arguments: { message: 'one' } });
  await agent.client.callTool({ name: 'echo', arguments: { message: 'two' } });
  assert.equal((await agent.client.callTool({ name: 'no-such-tool', arguments: {} })).isError, true);
  await assert.rejects(agent.client.readResource({ uri: 'demo://no/such/resource' }));
  await agent.close();

  // The ACL answers a hidden tool like a missing one: counted as denied.
  const acl = await connectClient(gh.url('acl'));
  await acl.client.callTool({ name: 'echo', arguments: { message: 'allowed' } });
  assert.equal((await acl.client.callTool({ name: 'get-env', arguments: {} })).isError, true);
  await acl.close();

  // Two echoes per minute on /limited: the third gets 429.
  const sid = await rawSession(gh.url('limited'));
  const call = (id: number) => raw(gh.url('limited'), { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: `m${id}` } } } });
  assert.equal((await call(1)).status, 200);
  assert.equal((await call(2)).status, 200);
  assert.equal((await call(3)).status, 429);

  // An upstream that refuses connections: 502 GH_UPSTREAM_UNAVAILABLE.
  const dead = await raw(gh.url('dead'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(dead.status, 502);

  // A stdio session left open while scraping: one child.
  const child = await connectClient(gh.url('stdio'));
  t.after(() => child.close());
  await child.client.ping();

  const { status, type, samples } = await scrape(gh);
  assert.equal(status, 200);
  assert.match(type ?? '', /^text\/plain; version=0\.0\.4/);
  const requests = (labels: Record<string, string>) => value(samples, 'gatehouse_requests_total', labels);
  const allowedOk = { decision: 'allowed', outcome: 'ok' };
  assert.equal(requests({ api: 'open', method: 'initialize', ...allowedOk }), 1);
  assert.equal(requests({ api: 'open', method: 'notifications/initialized', ...allowedOk }), 1);
  assert.equal(requests({ api: 'open', method: 'tools/list', ...allowedOk }), 1);
  assert.equal(requests({ api: 'open', method: 'tools/call', ...allowedOk }), 2);
  assert.equal(requests({ api: 'open', method: 'tools/call', decision: 'allowed', outcome: 'tool_error' }), 1, 'a tool error from the server is a tool error: neither a transport error nor a denial');
  assert.equal(requests({ api: 'open', method: 'tools/call', decision: 'allowed', outcome: 'error' }), 0);
  assert.equal(requests({ api: 'open', method: 'resources/read', decision: 'allowed', outcome: 'error' }), 1, 'so is a JSON-RPC error');
  assert.equal(requests({ api: 'acl', method: 'tools/call', ...allowedOk }), 1);
  assert.equal(requests({ api: 'acl', method: 'tools/call', decision: 'denied', outcome: 'error' }), 1);
  assert.equal(requests({ api: 'limited', method: 'tools/call', ...allowedOk }), 2);
  assert.equal(requests({ api: 'limited', method: 'tools/call', decision: 'denied', outcome: 'error' }), 1);
  assert.equal(requests({ api: 'dead', method: 'initialize', decision: 'allowed', outcome: 'error' }), 1);
  assert.equal(requests({ api: 'stdio', method: 'ping', ...allowedOk }), 1);
  assert.ok(!samples.some((s) => s.name === 'gatehouse_requests_total' && ('tool' in s.labels || 'agent' in s.labels)), 'no tool or agent label unless configured');

  assert.equal(value(samples, 'gatehouse_rate_limit_rejections_total'), 1);
  assert.equal(value(samples, 'gatehouse_rate_limit_backend_errors_total'), 0);
  assert.equal(value(samples, 'gatehouse_upstream_errors_total', { server: 'dead', code: 'GH_UPSTREAM_UNAVAILABLE' }), 1);

  // Latency histograms: every bucket, counts matching the requests that reached the upstream.
  const buckets = samples.filter((s) => s.name === 'gatehouse_request_duration_seconds_bucket' && s.labels.api === 'open' && s.labels.method === 'tools/call');
  assert.deepEqual(buckets.map((b) => b.labels.le), ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '60', '120', '+Inf']);
  assert.equal(buckets.at(-1)!.value, 3);
  assert.ok(buckets.every((b, i) => i === 0 || b.value >= buckets[i - 1]!.value), 'cumulative buckets');
  assert.equal(value(samples, 'gatehouse_request_duration_seconds_count', { api: 'open', method: 'tools/call' }), 3);
  assert.ok(value(samples, 'gatehouse_request_duration_seconds_sum', { api: 'open', method: 'tools/call' }) > 0);
  assert.equal(value(samples, 'gatehouse_upstream_duration_seconds_count', { api: 'open', method: 'tools/call' }), 3);
  assert.equal(value(samples, 'gatehouse_upstream_duration_seconds_count', { api: 'limited', method: 'tools/call' }), 2, 'the refused call never reached the upstream');
  assert.equal(value(samples, 'gatehouse_upstream_duration_seconds_count', { api: 'acl', method: 'tools/call' }), 1, 'the hidden tool was answered by Gatehouse');

  // Sessions: the stdio session is open (its child runs); HTTP sessions were deleted by their clients.
  assert.equal(value(samples, 'gatehouse_sessions_active', { server: 'stdio', transport: 'stdio' }), 1);
  assert.equal(value(samples, 'gatehouse_stdio_children', { server: 'stdio' }), 1);
  assert.equal(value(samples, 'gatehouse_sessions_active', { server: 'http', transport: 'http' }), 1, 'the raw session on /limited was never deleted');

  // Process metrics (prom-client defaults) beside the gateway's own.
  assert.ok(value(samples, 'process_cpu_user_seconds_total') > 0);
  assert.ok(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds'));

  // The stdio session ends: the gauge follows at the next scrape.
  await child.close();
  const after = await scrape(gh);
  assert.equal(value(after.samples, 'gatehouse_stdio_children', { server: 'stdio' }), 0);
});

test('latency histograms count request/response exchanges only, and tool errors have an outcome of their own (a held GET stream and stdio DELETEs were observed as latencies)', async (t) => {
  const everything = await startEverything();
  const stdio = everythingStdioCommand();
  const gh = await startTestGateway({
    servers: { http: { url: `${everything.origin}/mcp` }, stdio: { command: stdio.command, args: stdio.args } },
    apis: [
      { name: 'open', path: '/mcp', server: 'http' },
      { name: 'stdio', path: '/stdio', server: 'stdio' },
    ],
  });
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  // SDK clients open a standalone GET stream after initializing and DELETE their session at the end.
  for (const api of ['open', 'stdio']) {
    const agent = await connectClient(gh.url(api));
    await agent.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    assert.equal((await agent.client.callTool({ name: 'get-sum', arguments: { a: 'one', b: 2 } })).isError, true);
    await agent.close();
  }
  const settled = async () => {
    for (let i = 0; i < 100; i++) {
      const { samples } = await scrape(gh);
      if (value(samples, 'gatehouse_requests_total', { api: 'stdio', method: 'DELETE', decision: 'allowed', outcome: 'ok' }) === 1) return samples;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the DELETE of the stdio session was not counted');
  };
  const samples = await settled();
  for (const api of ['open', 'stdio']) {
    for (const method of ['GET', 'DELETE']) {
      assert.equal(value(samples, 'gatehouse_requests_total', { api, method, decision: 'allowed', outcome: 'ok' }), 1, `${api} ${method} is counted`);
      assert.equal(value(samples, 'gatehouse_request_duration_seconds_count', { api, method }), 0, `${api} ${method} has no latency`);
      assert.equal(value(samples, 'gatehouse_upstream_duration_seconds_count', { api, method }), 0, `${api} ${method} has no upstream latency`);
    }
    assert.equal(value(samples, 'gatehouse_request_duration_seconds_count', { api, method: 'notifications/initialized' }), 0, 'a notification has no latency');
    assert.equal(value(samples, 'gatehouse_request_duration_seconds_count', { api, method: 'initialize' }), 1);
    assert.equal(value(samples, 'gatehouse_request_duration_seconds_count', { api, method: 'tools/call' }), 2);
    assert.equal(value(samples, 'gatehouse_requests_total', { api, method: 'tools/call', decision: 'allowed', outcome: 'ok' }), 1);
    assert.equal(value(samples, 'gatehouse_requests_total', { api, method: 'tools/call', decision: 'allowed', outcome: 'tool_error' }), 1, `${api}: the isError result`);
  }
});

test('tool and agent labels when configured: bounded, made-up tool names count as "other"', async (t) => {
  const everything = await startEverything();
  const gh = await startTestGateway({
    servers: { http: { url: `${everything.origin}/mcp` } },
    apis: [{ name: 'open', path: '/mcp', server: 'http' }],
    metrics: { labels: { tool: true, agent: true } },
  });
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const agent = await connectClient(gh.url());
  await agent.client.callTool({ name: 'echo', arguments: { message: 'x' } });
  await agent.client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
  assert.equal((await agent.client.callTool({ name: 'made-up-1', arguments: {} })).isError, true);
  assert.equal((await agent.client.callTool({ name: 'made-up-2', arguments: {} })).isError, true);
  await agent.close();
  const { samples } = await scrape(gh);
  const requests = (labels: Record<string, string>) => value(samples, 'gatehouse_requests_total', { api: 'open', method: 'tools/call', agent: 'anonymous', server: 'http', ...labels });
  assert.equal(requests({ tool: 'echo', decision: 'allowed', outcome: 'ok' }), 1);
  assert.equal(requests({ tool: 'get-sum', decision: 'allowed', outcome: 'ok' }), 1);
  assert.equal(requests({ tool: 'other', decision: 'allowed', outcome: 'tool_error' }), 2, 'server-everything answers unknown tools with a tool error');
  assert.ok(!samples.some((s) => s.labels.tool?.startsWith('made-up')));
  assert.equal(value(samples, 'gatehouse_requests_total', { api: 'open', method: 'initialize', agent: 'anonymous', tool: '', server: 'http', decision: 'allowed', outcome: 'ok' }), 1, 'the tool label is empty for other methods');
});

test('/metrics needs the admin token unless metrics.public; metrics.enabled: false leaves no observer and no /metrics', async (t) => {
  const everything = await startEverything();
  const servers = { http: { url: `${everything.origin}/mcp` } };
  const apis = [{ name: 'open', path: '/mcp', server: 'http' }];
  const closed = await startTestGateway({ servers, apis });
  const open = await startTestGateway({ servers, apis, metrics: { public: true } });
  const off = await startTestGateway({ servers, apis, metrics: { enabled: false }, audit: { enabled: false } });
  t.after(async () => {
    await Promise.all([closed.close(), open.close(), off.close()]);
    await everything.close();
  });
  const refused = await scrape(closed, {});
  assert.equal(refused.status, 401);
  assert.ok(!refused.text.includes('gatehouse_requests_total'));
  assert.equal((await scrape(open, {})).status, 200, 'public metrics need no token');
  assert.equal((await scrape(off)).status, 404);
  assert.equal(off.gateway.observability?.observer, undefined, 'nothing observes exchanges: no record is made per request');
  // The gateway without metrics still serves traffic.
  const agent = await connectClient(off.url());
  await agent.client.listTools();
  await agent.close();
});
