// The approval policy end to end, with server-everything and the SDK client: a `get-sum` call
// with a large `a` (the CEL condition) is held; an admin approves it through the admin API (the
// call then returns), denies another (403, -32045), lets a third time out (-32046); a signed
// webhook names the call and carries links whose page decides nothing until its button is
// pressed; a tampered link is refused; the held call's arguments are bound (an approval for other
// arguments is refused); a tenant-less viewer may look and not decide; audit records say who did.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { rawSession, sessionHeaders, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { recordsWhen } from './helpers/audit-db.ts';

const ADMIN = 'admin-approval-token-0123456789';
const SECRET = 'approval-webhook-secret-0123';
let everything: RunningEverything;
let gh: TestGateway;
let admin: string;
let hooks: Server;
const received: Array<{ body: string; signature: string | undefined }> = [];

before(async () => {
  everything = await startEverything();
  hooks = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ body, signature: req.headers['x-gatehouse-signature'] as string | undefined });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
  const when = 'mcp.originalName == "get-sum" && mcp.arguments.a > 10';
  gh = await startTestGateway({
    servers: { everything: { url: `${everything.origin}/mcp` } },
    admin: { token: ADMIN },
    audit: { batch: { interval: 20 } },
    apis: [
      { name: 'held', path: '/mcp', server: 'everything', policies: [{ approval: { when, timeout: 60_000, webhook: { url: hookUrl, secret: SECRET } } }] },
      { name: 'quick', path: '/quick', server: 'everything', policies: [{ approval: { when, timeout: 800 } }] },
    ],
  });
  admin = gh.gateway.admin!.url.replace(/\/$/, '');
});

after(async () => {
  await gh?.close();
  await everything?.close();
  await new Promise((resolve) => hooks?.close(resolve));
});

async function connect(path: string): Promise<Client> {
  const client = new Client({ name: 'approval-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(path, gh.origin)));
  return client;
}

async function api(method: string, path: string, body?: unknown, token = ADMIN): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${admin}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function waiting(tool = 'get-sum'): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const items = (await api('GET', '/api/approvals')).body.items as Array<Record<string, unknown>>;
    const found = items.find((item) => item.tool === tool);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no call waited for approval');
}

test('a call the condition picks waits for an admin; approved, it runs; a call it does not pick runs at once', async () => {
  const client = await connect('/mcp');
  try {
    const small = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
    assert.match(JSON.stringify(small.content), /3/, 'not picked: runs at once');
    const pending = client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
    const held = await waiting();
    assert.deepEqual(held.arguments, { a: 40, b: 2 });
    assert.equal(held.api, 'held');
    assert.match(String(held.argumentsHash), /^[0-9a-f]{64}$/);
    // An approval for other arguments than the ones shown is refused; the call still waits.
    const wrong = await api('POST', `/api/approvals/${String(held.id)}`, { decision: 'approve', argumentsHash: '0'.repeat(64) });
    assert.equal(wrong.status, 409);
    assert.match(String(wrong.body.error), /argumentsHash differs/);
    const ok = await api('POST', `/api/approvals/${String(held.id)}`, { decision: 'approve', argumentsHash: held.argumentsHash });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.match(JSON.stringify((await pending).content), /42/);
    // Single use: the same approval decides nothing more.
    assert.equal((await api('POST', `/api/approvals/${String(held.id)}`, { decision: 'approve' })).status, 404);
    const events = await recordsWhen(gh.gateway, { api: 'held' }, (all) => all.some((e) => e.trace?.includes('approved by admin-token')));
    assert.ok(events.some((e) => e.trace?.includes('"policy":"approval"') && e.trace.includes('approved by admin-token')), 'the audit record names the approver');
  } finally {
    await client.close();
  }
});

test('denied, the call is refused with 403 / -32045 naming who denied it; bad decisions are 400', async () => {
  const client = await connect('/mcp');
  try {
    const pending = client.callTool({ name: 'get-sum', arguments: { a: 50, b: 1 } }).then(
      () => 'ran',
      (error: Error) => error.message,
    );
    const held = await waiting();
    assert.equal((await api('POST', `/api/approvals/${String(held.id)}`, { decision: 'maybe' })).status, 400);
    assert.equal((await api('POST', `/api/approvals/${String(held.id)}`, { decision: 'deny' })).status, 200);
    const message = await pending;
    assert.match(message, /-32045/);
    assert.match(message, /GH_APPROVAL_DENIED/);
    assert.match(message, /admin-token/);
  } finally {
    await client.close();
  }
});

test('nobody decides: the call is refused at the timeout (-32046)', async () => {
  const client = await connect('/quick');
  try {
    await assert.rejects(client.callTool({ name: 'get-sum', arguments: { a: 11, b: 1 } }), /-32046|GH_APPROVAL_TIMEOUT/);
    assert.equal(((await api('GET', '/api/approvals')).body.items as unknown[]).length, 0, 'nothing left waiting');
  } finally {
    await client.close();
  }
});

test('the webhook is signed and carries links: opening one decides nothing, its button does; a tampered link is refused', async () => {
  const client = await connect('/mcp');
  try {
    const before = received.length;
    const pending = client.callTool({ name: 'get-sum', arguments: { a: 20, b: 3 } });
    await waiting();
    for (let i = 0; i < 200 && received.length === before; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    const hook = received.at(-1)!;
    assert.equal(hook.signature, `sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`);
    const event = JSON.parse(hook.body) as { event: string; tool: string; arguments: unknown; approveUrl: string; denyUrl: string };
    assert.equal(event.event, 'approval_requested');
    assert.deepEqual(event.arguments, { a: 20, b: 3 });
    const tampered = new URL(event.approveUrl);
    tampered.searchParams.set('action', 'deny');
    assert.equal((await fetch(tampered, { method: 'POST' })).status, 400, 'the deny action needs its own signature');
    const page = await fetch(event.approveUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Approve this tool call\?[\s\S]*get-sum[\s\S]*&quot;a&quot;: 20/);
    assert.equal(((await api('GET', '/api/approvals')).body.items as unknown[]).length, 1, 'opening the link decided nothing');
    const pressed = await fetch(event.approveUrl, { method: 'POST' });
    assert.equal(pressed.status, 200);
    assert.match(JSON.stringify((await pending).content), /23/);
    assert.equal((await fetch(event.approveUrl, { method: 'POST' })).status, 410, 'used once');
  } finally {
    await client.close();
  }
});

test('a held call whose client has gone (its connection closed) does not run when approved afterwards (it used to run with nobody to answer)', async () => {
  const sessionId = await rawSession(gh.url('held'));
  const abort = new AbortController();
  const pending = fetch(gh.url('held'), { method: 'POST', headers: sessionHeaders(sessionId), body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'get-sum', arguments: { a: 77, b: 1 } } }), signal: abort.signal }).then(
    (response) => response.text(),
    () => 'aborted',
  );
  const held = await waiting();
  abort.abort();
  assert.equal(await pending, 'aborted');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await api('POST', `/api/approvals/${String(held.id)}`, { decision: 'approve' })).status, 200);
  for (let i = 0; i < 100 && !gh.logs.lines.some((l) => l.msg === 'approved tool call not run: its client had gone'); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  const line = gh.logs.lines.find((l) => l.msg === 'approved tool call not run: its client had gone');
  assert.ok(line, 'not run, and said so');
  assert.equal(line.approval, held.id);
});
