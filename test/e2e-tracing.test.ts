// OpenTelemetry tracing end to end: Gatehouse exports a span per exchange over OTLP/HTTP to a real
// HTTP receiver in this test, with MCP attributes; the real server-everything behind it (reached
// through a recording proxy that shows what it received) gets a traceparent naming Gatehouse's
// span; a client's trace context is continued; sampling follows sampleRatio and the caller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, raw, rawSession, sessionHeaders, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';
import { startReceiver } from './helpers/otlp-receiver.ts';

/** The traceparent the upstream received with the request whose body matches. */
function upstreamTraceparent(proxy: RecordingProxy, bodyPart: string): string | undefined {
  const found = proxy.exchanges.filter((e) => e.body.includes(bodyPart));
  assert.equal(found.length, 1, `one upstream request with ${bodyPart}`);
  const value = found[0]!.requestHeaders.traceparent;
  return typeof value === 'string' ? value : undefined;
}

interface Setup {
  everything: RunningEverything;
  proxy: RecordingProxy;
  gh: TestGateway;
}

async function setup(tracing: Record<string, unknown>): Promise<Setup> {
  const everything = await startEverything();
  const proxy = await startRecordingProxy(everything.origin);
  const gh = await startTestGateway({
    servers: { e: { url: `${proxy.origin}/mcp` } },
    apis: [
      { name: 'open', path: '/mcp', server: 'e' },
      {
        name: 'guarded',
        path: '/guarded',
        server: 'e',
        policies: [
          { acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] }] } },
          { rateLimit: { limits: [{ name: 'one-echo', key: ['api'], match: { methods: ['tools/call'], tools: ['echo'] }, rate: 1, per: '1m' }] } },
        ],
      },
    ],
    tracing,
  });
  return { everything, proxy, gh };
}

async function teardown(s: Setup): Promise<void> {
  await s.gh.close();
  await s.proxy.close();
  await s.everything.close();
}

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

test('a span per exchange with MCP attributes; the upstream continues Gatehouse\'s span; a client\'s trace is continued', async (t) => {
  const receiver = await startReceiver();
  const s = await setup({ enabled: true, endpoint: receiver.url, serviceName: 'gatehouse-test' });
  t.after(async () => {
    await teardown(s);
    await receiver.close();
  });
  const { gh, proxy } = s;

  // The SDK client: initialize, list, call.
  const agent = await connectClient(gh.url('open'));
  await agent.client.listTools();
  await agent.client.callTool({ name: 'echo', arguments: { message: 'traced' } });
  const sessionId = agent.transport.sessionId!;
  await agent.close();

  // A client that sends its own trace context.
  const sid = await rawSession(gh.url('open'));
  const withParent = await raw(gh.url('open'), {
    headers: { ...sessionHeaders(sid), traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` },
    body: { jsonrpc: '2.0', id: 'call-with-parent', method: 'tools/call', params: { name: 'echo', arguments: { message: 'child' } } },
  });
  assert.equal(withParent.status, 200);

  // Refusals: a hidden tool (answered by the ACL), then a rate limit.
  const guarded = await rawSession(gh.url('guarded'));
  const call = (id: string, name: string) => raw(gh.url('guarded'), { headers: sessionHeaders(guarded), body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { message: id } } } });
  assert.equal((await call('hidden-call', 'get-env')).status, 200);
  assert.equal((await call('first-echo', 'echo')).status, 200);
  assert.equal((await call('second-echo', 'echo')).status, 429);

  await gh.close(); // exports what is pending
  assert.ok(receiver.posts() >= 1);
  const spans = receiver.spans;
  assert.ok(spans.every((r) => r.contentType === 'application/json'), 'OTLP/HTTP JSON');
  assert.ok(spans.every((r) => r.resource['service.name'] === 'gatehouse-test'));
  assert.ok(spans.every((r) => r.span.kind === 2), 'SERVER spans');

  const byName = (name: string) => spans.filter((r) => r.span.name === name);
  const [echo] = byName('tools/call echo').filter((r) => r.attributes['rpc.jsonrpc.request_id'] !== 'call-with-parent' && r.attributes['gatehouse.api'] === 'open');
  assert.ok(echo, `a tools/call span among ${spans.map((r) => r.span.name).join(', ')}`);
  assert.equal(echo.attributes['mcp.method.name'], 'tools/call');
  assert.equal(echo.attributes['mcp.tool.name'], 'echo');
  assert.equal(echo.attributes['gen_ai.tool.name'], 'echo');
  assert.equal(echo.attributes['gen_ai.operation.name'], 'execute_tool');
  assert.equal(echo.attributes['http.response.status_code'], 200);
  assert.equal(echo.attributes['gatehouse.agent.id'], 'anonymous');
  assert.equal(echo.attributes['gatehouse.decision'], 'allowed');
  assert.equal(echo.attributes['mcp.protocol.version'], '2025-11-25');
  assert.match(String(echo.attributes['mcp.session.id']), /^[0-9a-f]{16}$/);
  assert.ok(!JSON.stringify(spans).includes(sessionId), 'the session id itself never leaves Gatehouse');
  assert.equal(echo.span.parentSpanId || undefined, undefined, 'a root span: the SDK client sent no trace context');
  assert.equal(echo.span.status?.code ?? 0, 0);
  assert.match(echo.span.traceId, /^[0-9a-f]{32}$/);
  // server-everything received Gatehouse's span as the parent of its work.
  assert.equal(upstreamTraceparent(proxy, '"message":"traced"'), `00-${echo.span.traceId}-${echo.span.spanId}-01`);

  assert.ok(byName('initialize').length >= 2 && byName('tools/list').length === 1 && byName('notifications/initialized').length >= 2);

  const [child] = spans.filter((r) => r.attributes['rpc.jsonrpc.request_id'] === 'call-with-parent');
  assert.ok(child);
  assert.equal(child.span.traceId, CLIENT_TRACE, 'the client\'s trace continues');
  assert.equal(child.span.parentSpanId, CLIENT_SPAN);
  assert.equal(upstreamTraceparent(proxy, '"message":"child"'), `00-${CLIENT_TRACE}-${child.span.spanId}-01`, 'the upstream gets Gatehouse\'s span, not the client\'s');

  const [hidden] = spans.filter((r) => r.attributes['rpc.jsonrpc.request_id'] === 'hidden-call');
  assert.ok(hidden);
  assert.equal(hidden.span.name, 'tools/call get-env');
  assert.equal(hidden.attributes['gatehouse.decision'], 'denied');
  assert.equal(hidden.attributes['error.type'], 'denied');
  assert.equal(hidden.span.status?.code, 2, 'status ERROR');
  assert.ok(!proxy.exchanges.some((e) => e.body.includes('get-env')), 'the hidden call never reached the upstream');

  const [limited] = spans.filter((r) => r.attributes['rpc.jsonrpc.request_id'] === 'second-echo');
  assert.ok(limited);
  assert.equal(limited.attributes['http.response.status_code'], 429);
  assert.equal(limited.attributes['rpc.jsonrpc.error_code'], -32029);
  assert.equal(limited.attributes['error.type'], 'GH_RATE_LIMITED');
  assert.equal(limited.attributes['gatehouse.decision'], 'denied');
  assert.equal(limited.span.status?.code, 2);
});

test('sampleRatio 0: new traces are not recorded but still propagated; a sampled caller is followed', async (t) => {
  const receiver = await startReceiver();
  const s = await setup({ enabled: true, endpoint: receiver.url, sampleRatio: 0 });
  t.after(async () => {
    await teardown(s);
    await receiver.close();
  });
  const sid = await rawSession(s.gh.url('open'));
  const send = (id: string, headers: Record<string, string> = {}) =>
    raw(s.gh.url('open'), { headers: { ...sessionHeaders(sid), ...headers }, body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: id } } } });
  assert.equal((await send('unsampled')).status, 200);
  assert.equal((await send('sampled-by-caller', { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` })).status, 200);
  await s.gh.close();

  const unsampled = upstreamTraceparent(s.proxy, '"message":"unsampled"');
  assert.match(unsampled ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/, 'propagated with the sampled flag off');
  const ids = receiver.spans.map((r) => r.attributes['rpc.jsonrpc.request_id']);
  assert.deepEqual(ids, ['sampled-by-caller'], 'only the caller-sampled exchange is exported');
  assert.equal(upstreamTraceparent(s.proxy, '"message":"sampled-by-caller"'), `00-${CLIENT_TRACE}-${receiver.spans[0]!.span.spanId}-01`);
});

test('tracing off (the default): nothing is exported and a client\'s traceparent reaches the upstream unchanged', async (t) => {
  const receiver = await startReceiver();
  const s = await setup({ endpoint: receiver.url });
  t.after(async () => {
    await teardown(s);
    await receiver.close();
  });
  const sid = await rawSession(s.gh.url('open'));
  const parent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
  const answer = await raw(s.gh.url('open'), { headers: { ...sessionHeaders(sid), traceparent: parent }, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'untraced' } } } });
  assert.equal(answer.status, 200);
  assert.equal(upstreamTraceparent(s.proxy, '"message":"untraced"'), parent);
  await s.gh.close();
  assert.equal(receiver.posts(), 0);
  assert.ok(!s.gh.logs.lines.some((l) => String(l.msg).startsWith('tracing:')));
});
