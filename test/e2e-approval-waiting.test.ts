// A call held for approval, seen from its client (the official SDK client): it gets progress
// notifications while it waits, on Streamable HTTP (server-everything over HTTP) and stdio
// (server-everything as a child) alike, and they stop once it is decided; a client that cancels
// it (notifications/cancelled, its connection kept) withdraws it from the queue and the server
// never sees it (an SDK-built server counts the calls it gets); with `approver: user`, the person
// behind the agent is asked through form elicitation: accept runs the call, decline refuses it,
// and a client without the elicitation capability is refused with the reason. A 2026-07-28 client
// (the v2 SDK client) is asked through input_required, and its retry with the answer runs the call.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { everythingStdioCommand, raw, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startSdkServer, type RunningSdkServer } from './helpers/sdk-server.ts';
import { recordsWhen } from './helpers/audit-db.ts';

const ADMIN = 'admin-approval-waiting-0123456789';
const WHEN = '(mcp.originalName == "get-sum" && mcp.arguments.a > 10) || mcp.originalName == "hold"';
let everything: RunningEverything;
let counted: RunningSdkServer;
/** `hold` calls the SDK server got, by key. */
const reached: string[] = [];
let gh: TestGateway;
let admin: string;

before(async () => {
  everything = await startEverything();
  counted = await startSdkServer('sse', { onHolding: (key) => reached.push(key) });
  const stdio = everythingStdioCommand();
  const approval = { when: WHEN, timeout: 60_000, progressInterval: 200 };
  gh = await startTestGateway({
    servers: { everything: { url: `${everything.origin}/mcp` }, 'everything-stdio': { command: stdio.command, args: stdio.args }, counted: { url: counted.url } },
    admin: { token: ADMIN },
    audit: { batch: { interval: 20 } },
    apis: [
      { name: 'http', path: '/mcp', server: 'everything', policies: [{ approval }] },
      { name: 'stdio', path: '/stdio', server: 'everything-stdio', policies: [{ approval }] },
      { name: 'counted', path: '/counted', server: 'counted', policies: [{ approval }] },
      { name: 'user', path: '/user', server: 'everything', policies: [{ approval: { ...approval, approver: 'user' } }] },
      { name: 'user-stdio', path: '/user-stdio', server: 'everything-stdio', policies: [{ approval: { ...approval, approver: 'user', timeout: 1_500 } }] },
    ],
  });
  admin = gh.gateway.admin!.url.replace(/\/$/, '');
});

after(async () => {
  await gh?.close();
  await everything?.close();
  await counted?.close();
});

async function connect(path: string, answer?: (request: ElicitRequest, signal: AbortSignal) => ElicitResult | Promise<ElicitResult>): Promise<Client> {
  const client = new Client({ name: 'approval-waiting-test', version: '1.0.0' }, answer ? { capabilities: { elicitation: { form: {} } } } : {});
  if (answer) client.setRequestHandler(ElicitRequestSchema, (request, extra) => answer(request, extra.signal));
  await client.connect(new StreamableHTTPClientTransport(new URL(path, gh.origin)));
  return client;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${admin}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function queue(): Promise<Array<Record<string, unknown>>> {
  return (await api('GET', '/api/approvals')).body.items as Array<Record<string, unknown>>;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const [path, transport] of [['/mcp', 'Streamable HTTP'], ['/stdio', 'stdio']] as const) {
  test(`a held call's client that sent a progress token hears it waits, every interval, and no more once approved (${transport} upstream)`, async () => {
    const client = await connect(path);
    try {
      const notes: Array<{ progress: number; total?: number | undefined; message?: string | undefined }> = [];
      const pending = client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } }, undefined, { onprogress: (note) => notes.push(note), resetTimeoutOnProgress: true });
      const held = await until('the held call', async () => (await queue()).find((item) => item.api === path.slice(1).replace('mcp', 'http')));
      await until('three progress notifications', () => (notes.length >= 3 ? true : undefined));
      assert.match(notes[0]!.message ?? '', new RegExp(`^waiting for approval by an operator \\(id ${String(held.id)}\\), \\d+ s left$`));
      assert.equal(notes[0]!.total, 60);
      for (let i = 1; i < notes.length; i++) assert.ok(notes[i]!.progress > notes[i - 1]!.progress, 'progress grows');
      assert.equal((await api('POST', `/api/approvals/${String(held.id)}`, { decision: 'approve' })).status, 200);
      assert.match(JSON.stringify((await pending).content), /42/);
      const seen = notes.length;
      await sleep(600);
      assert.equal(notes.length, seen, 'no progress once decided');
      // The audit record reads the answer at the end of the stream the progress opened.
      const name = path === '/mcp' ? 'http' : 'stdio';
      const events = await recordsWhen(gh.gateway, { api: name }, (all) => all.some((e) => e.trace?.includes('approved by admin-token') && e.rpcId !== undefined));
      const record = events.find((e) => e.trace?.includes('approved by admin-token'));
      assert.ok(record, 'the approved call is recorded');
      assert.equal(record.errorCode, undefined);
      assert.equal(record.toolError, false);
      // A call the condition does not pick, on the same client, is answered as usual.
      assert.match(JSON.stringify((await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })).content), /3/);
    } finally {
      await client.close();
    }
  });
}

test('a client that cancels a held call (notifications/cancelled, connection kept) withdraws it: the server never sees it, the audit says so', async () => {
  const client = await connect('/counted');
  try {
    const abort = new AbortController();
    const pending = client.callTool({ name: 'hold', arguments: { key: 'cancelled-1' } }, undefined, { signal: abort.signal });
    const held = await until('the held call', async () => (await queue()).find((item) => item.api === 'counted'));
    abort.abort('the user changed their mind');
    await assert.rejects(pending, /changed their mind|abort/i);
    await until('the approval withdrawn', async () => ((await queue()).some((item) => item.id === held.id) ? undefined : true));
    // Deciding it now finds nothing: it left the queue.
    assert.equal((await api('POST', `/api/approvals/${String(held.id)}`, { decision: 'approve' })).status, 404);
    const events = await recordsWhen(gh.gateway, { api: 'counted' }, (all) => all.some((e) => e.trace?.includes('cancelled by the client')));
    const record = events.find((e) => e.trace?.includes('"policy":"approval"') && e.trace.includes('cancelled by the client while it waited for approval'));
    assert.ok(record, 'the audit record says cancelled');
    assert.equal(record.upstreamStatus, undefined, 'nothing went upstream');
    // The same client goes on (its session and connection were kept); a held call approved now reaches the server.
    const next = client.callTool({ name: 'hold', arguments: { key: 'approved-2' } });
    const second = await until('the second held call', async () => (await queue()).find((item) => item.api === 'counted'));
    assert.equal((await api('POST', `/api/approvals/${String(second.id)}`, { decision: 'approve' })).status, 200);
    await until('the server to get the approved call', () => (reached.includes('approved-2') ? true : undefined));
    counted.release('approved-2');
    assert.match(JSON.stringify((await next).content), /released approved-2/);
    assert.deepEqual(reached, ['approved-2'], 'the cancelled call never reached the server');
  } finally {
    await client.close();
  }
});

test('approver: user — the person behind the agent sees the tool, server and arguments in a form; accepting with approve runs the call once', async () => {
  const asked: ElicitRequest[] = [];
  const client = await connect('/user', (request) => {
    asked.push(request);
    return { action: 'accept', content: { approve: true } };
  });
  try {
    const result = await client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
    assert.match(JSON.stringify(result.content), /42/);
    assert.equal(asked.length, 1);
    const params = asked[0]!.params as { message: string; requestedSchema: { properties: Record<string, { type: string }> } };
    assert.match(params.message, /"get-sum" on server "everything"/);
    assert.match(params.message, /"a": 40,\s+"b": 2/);
    assert.equal(params.requestedSchema.properties.approve?.type, 'boolean');
    // The operators' queue does not offer it.
    assert.deepEqual(await queue(), []);
    const events = await recordsWhen(gh.gateway, { api: 'user' }, (all) => all.some((e) => e.trace?.includes('approved by user')));
    assert.ok(events.some((e) => e.trace?.includes('approved by user')), 'the audit record says the user approved');
  } finally {
    await client.close();
  }
});

test('approver: user — declining, cancelling the form or accepting it without approve refuses the call with -32045', async () => {
  for (const answer of [{ action: 'decline' }, { action: 'cancel' }, { action: 'accept', content: { approve: false } }] as ElicitResult[]) {
    const client = await connect('/user', () => answer);
    try {
      await assert.rejects(client.callTool({ name: 'get-sum', arguments: { a: 30, b: 1 } }), (error: Error) => {
        assert.match(error.message, /-32045/);
        assert.match(error.message, /did not approve "get-sum"/);
        return true;
      });
    } finally {
      await client.close();
    }
  }
});

test('approver: user — a client that did not declare elicitation is refused at once, and told why', async () => {
  const client = await connect('/user');
  try {
    await assert.rejects(client.callTool({ name: 'get-sum', arguments: { a: 30, b: 1 } }), /-32045[\s\S]*did not declare the elicitation capability/);
    assert.match(JSON.stringify((await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 1 } })).content), /2/, 'a call nobody needs to approve still runs');
  } finally {
    await client.close();
  }
});

test('approver: user over a stdio upstream — nobody answers the form in time: refused with -32046, and the client is told to close the form', async () => {
  let closed: unknown;
  // The person never answers; the form closes when the SDK hears notifications/cancelled for it.
  const client = await connect('/user-stdio', (_request, signal) => new Promise<ElicitResult>((resolve) => signal.addEventListener('abort', () => ((closed = signal.reason), resolve({ action: 'cancel' })))));
  try {
    await assert.rejects(client.callTool({ name: 'get-sum', arguments: { a: 30, b: 1 } }), /-32046|GH_APPROVAL_TIMEOUT/);
    await until('the form closed', () => (closed === undefined ? undefined : true));
    assert.match(String(closed), /approval timed out/);
  } finally {
    await client.close();
  }
});

const MODERN = '2026-07-28';

/** A v2 client pinned to 2026-07-28 that declares form elicitation and answers with `answer`; `bodies` records what it POSTs. */
async function modernClient(answer: ElicitResult): Promise<{ client: ModernClient; asked: unknown[]; bodies: Array<Record<string, unknown>> }> {
  const asked: unknown[] = [];
  const bodies: Array<Record<string, unknown>> = [];
  const recording = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (typeof init?.body === 'string') bodies.push(JSON.parse(init.body) as Record<string, unknown>);
    return fetch(input, init);
  };
  const client = new ModernClient({ name: 'approval-waiting-modern', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: MODERN } } });
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(request.params);
    return answer;
  });
  await client.connect(new ModernTransport(new URL(gh.url('user')), { fetch: recording }));
  return { client, asked, bodies };
}

test('approver: user, 2026-07-28 client — asked through input_required; its retry with the approval runs the call; a decline refuses it', async () => {
  const yes = await modernClient({ action: 'accept', content: { approve: true } });
  try {
    const result = await yes.client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
    assert.match(JSON.stringify(result.content), /42/);
    assert.equal(yes.asked.length, 1, 'asked once');
    assert.match(JSON.stringify(yes.asked[0]), /get-sum[\s\S]*\\"a\\": 40/);
    const legs = yes.bodies.filter((b) => b.method === 'tools/call');
    assert.equal(legs.length, 2, 'the call, then its retry with the answer');
    assert.match(String((legs[1]!.params as { requestState?: string }).requestState), /^gha1\./);
  } finally {
    await yes.client.close();
  }
  const no = await modernClient({ action: 'decline' });
  try {
    await assert.rejects(no.client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } }), /-32045[\s\S]*did not approve/);
  } finally {
    await no.client.close();
  }
});

test('approver: user, 2026-07-28 — the request state is bound to the arguments and used once; a client without elicitation is refused', async () => {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} }, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } };
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'get-sum' };
  const call = (id: number, args: Record<string, unknown>, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = envelope) =>
    raw(gh.url('user'), { headers, body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get-sum', arguments: args, ...extra, _meta: meta } } });
  const first = await call(1, { a: 50, b: 5 });
  assert.equal(first.status, 200, first.text);
  const asked = (first.messages[0] as { result: { resultType: string; inputRequests: Record<string, { method: string }>; requestState: string } }).result;
  assert.equal(asked.resultType, 'input_required');
  assert.equal(asked.inputRequests['gatehouse-approval']?.method, 'elicitation/create');
  const approve = { inputResponses: { 'gatehouse-approval': { action: 'accept', content: { approve: true } } }, requestState: asked.requestState };
  const other = await call(2, { a: 500, b: 5 }, approve);
  assert.equal(other.status, 403, other.text);
  assert.match(other.text, /-32045[\s\S]*differ from the ones the user was asked about/);
  const ran = await call(3, { a: 50, b: 5 }, approve);
  assert.equal(ran.status, 200, ran.text);
  assert.match(ran.text, /55/);
  const again = await call(4, { a: 50, b: 5 }, approve);
  assert.equal(again.status, 400, again.text);
  assert.match(again.text, /-32602[\s\S]*used already/);
  const forged = await call(5, { a: 50, b: 5 }, { ...approve, requestState: `gha1.${'A'.repeat(60)}` });
  assert.equal(forged.status, 400, forged.text);
  const mute = await call(6, { a: 50, b: 5 }, {}, { ...envelope, 'io.modelcontextprotocol/clientCapabilities': {} });
  assert.equal(mute.status, 403, mute.text);
  assert.match(mute.text, /-32045[\s\S]*did not declare the elicitation capability/);
});

test('a 2026-07-28 client (bridged to a 2025 server) that sent a progress token hears its held call wait, on the request\'s stream, until approved', async () => {
  const client = new ModernClient({ name: 'approval-waiting-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  await client.connect(new ModernTransport(new URL(gh.url('http'))));
  try {
    const notes: Array<{ message?: string | undefined }> = [];
    const pending = client.callTool({ name: 'get-sum', arguments: { a: 60, b: 3 } }, { onprogress: (note) => notes.push(note), resetTimeoutOnProgress: true });
    const held = await until('the held call', async () => (await queue()).find((item) => item.api === 'http'));
    await until('two progress notifications', () => (notes.length >= 2 ? true : undefined));
    assert.match(notes[0]!.message ?? '', new RegExp(`waiting for approval by an operator \\(id ${String(held.id)}\\)`));
    assert.equal((await api('POST', `/api/approvals/${String(held.id)}`, { decision: 'approve' })).status, 200);
    assert.match(JSON.stringify((await pending).content), /63/);
  } finally {
    await client.close();
  }
});

test('a 2026-07-28 client (no session) cancels its held call by request id: withdrawn, and its request answered at once', async () => {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } };
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN };
  const pending = raw(gh.url('counted'), { headers: { ...headers, 'mcp-method': 'tools/call', 'mcp-name': 'hold' }, body: { jsonrpc: '2.0', id: 'modern-7', method: 'tools/call', params: { name: 'hold', arguments: { key: 'modern-cancelled' }, _meta: envelope } } });
  const held = await until('the held call', async () => (await queue()).find((item) => item.api === 'counted'));
  const cancel = await raw(gh.url('counted'), { headers: { ...headers, 'mcp-method': 'notifications/cancelled' }, body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'modern-7', reason: 'changed my mind', _meta: envelope } } });
  assert.equal(cancel.status, 202, cancel.text);
  const answered = await pending;
  assert.match(answered.text, /-32045[\s\S]*the client cancelled/);
  assert.ok(!(await queue()).some((item) => item.id === held.id), 'withdrawn');
  await sleep(200);
  assert.ok(!reached.includes('modern-cancelled'), 'the server never saw it');
});

test('a held call whose client leaves (connection closed, no cancel) is withdrawn from the queue within a couple of seconds; the server never sees it (it waited for a decision until its timeout)', { timeout: 30_000 }, async () => {
  const client = await connect('/counted');
  const abort = new AbortController();
  const pending = client.callTool({ name: 'hold', arguments: { key: 'left-1' } }, undefined, { signal: abort.signal }).catch(() => undefined);
  const held = await until('the held call', async () => (await queue()).find((item) => item.api === 'counted' && (item.arguments as { key?: string }).key === 'left-1'));
  // The client goes away: its transport is closed, which ends the POST's connection (no cancel is sent).
  await client.close();
  await pending;
  await until('the call leaves the queue', async () => ((await queue()).some((item) => item.id === held.id) ? undefined : true), 5_000);
  // The exchange's audit record was written when the client left; the log says what became of the call.
  assert.ok(gh.logs.lines.some((l) => l.msg === 'held tool call withdrawn: its client left' && l.approval === held.id), 'the log says so');
  await sleep(200);
  assert.ok(!reached.includes('left-1'), `the server never saw it: ${reached.join(',')}`);
});
