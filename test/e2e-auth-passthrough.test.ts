// passthrough end to end: an upstream that really enforces OAuth (the SDK's bearer middleware and
// MCP server, tokens from a real authorization server), Gatehouse in front of it relaying the
// 401 and the metadata rewritten to point at itself, and the official SDK client running the flow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { INIT_REQUEST, MCP_HEADERS, REPO_ROOT, raw, startTestGateway, tempDir, type TestGateway } from './helpers/gatehouse.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { startOAuthUpstream, type OAuthUpstream } from './helpers/auth-upstream.ts';
import { startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';
import { connectWithOAuth } from './helpers/auth-client.ts';
import { recordsWhen } from './helpers/audit-db.ts';

let issuer: TestIssuer;
let upstream: OAuthUpstream;
let proxy: RecordingProxy;
let gh: TestGateway;

before(async () => {
  issuer = await startTestIssuer();
  upstream = await startOAuthUpstream(issuer, () => gh.url('secured'));
  proxy = await startRecordingProxy(upstream.origin);
  gh = await startTestGateway({
    servers: { secured: { url: `${proxy.origin}/mcp` } },
    apis: [{ name: 'secured', path: '/secured', server: 'secured', auth: { type: 'passthrough' } }],
  });
});

after(async () => {
  await gh?.close();
  await proxy?.close();
  await upstream?.close();
  await issuer?.close();
});

const prm = () => `${gh.origin}/.well-known/oauth-protected-resource/secured`;

test('without a token: the upstream\'s 401 comes back with resource_metadata pointing at Gatehouse', async () => {
  const answer = await raw(gh.url('secured'), { body: INIT_REQUEST });
  assert.equal(answer.status, 401);
  const challenge = answer.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer error="invalid_token"/, 'the upstream\'s own challenge is relayed');
  assert.ok(challenge.includes(`resource_metadata="${prm()}"`), challenge);
  assert.ok(!challenge.includes(upstream.origin), 'the upstream\'s address is not shown');
});

test('Gatehouse serves the upstream\'s metadata with resource rewritten to the Gatehouse URL', async () => {
  const answer = await fetch(prm());
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), {
    resource: gh.url('secured'),
    authorization_servers: [issuer.issuer],
    scopes_supported: ['mcp'],
    bearer_methods_supported: ['header'],
  });
});

test('the SDK client gets a token from the upstream\'s authorization server; Gatehouse forwards it as sent', async () => {
  const { client, close } = await connectWithOAuth(gh.url('secured'));
  try {
    const tools = await client.listTools();
    assert.deepEqual(tools.tools.map((t) => t.name), ['whoami']);
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const seen = JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as { clientId: string; resource: string };
    assert.ok(seen.clientId !== '', 'the upstream saw the client\'s token');
    assert.equal(seen.resource, gh.url('secured'), 'the token names Gatehouse\'s URL as its audience (see docs/auth.md)');
  } finally {
    await close();
  }
  const token = issuer.issued.at(-1)!.token;
  const forwarded = proxy.exchanges.filter((e) => e.requestHeaders.authorization !== undefined);
  assert.ok(forwarded.length > 0);
  for (const exchange of forwarded) assert.equal(exchange.requestHeaders.authorization, `Bearer ${token}`);
});

test('a session is bound to the token that opened it', async () => {
  const tokenA = await issuer.sign({ aud: gh.url('secured'), client_id: 'a', scope: 'mcp' });
  const tokenB = await issuer.sign({ aud: gh.url('secured'), client_id: 'b', scope: 'mcp' });
  const init = await raw(gh.url('secured'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${tokenA}` }, body: INIT_REQUEST });
  assert.equal(init.status, 200, init.text);
  const sessionId = init.headers.get('mcp-session-id')!;
  const headers = { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
  const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
  assert.equal((await raw(gh.url('secured'), { headers: { ...headers, authorization: `Bearer ${tokenB}` }, body: list })).status, 404);
  assert.equal((await raw(gh.url('secured'), { headers: { ...headers, authorization: `Bearer ${tokenA}` }, body: list })).status, 200);
});

test('a token the upstream refuses is refused by the upstream, not by Gatehouse (the audience trade-off)', async () => {
  const elsewhere = await issuer.sign({ aud: 'https://another-resource.test/mcp', scope: 'mcp' });
  const answer = await raw(gh.url('secured'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${elsewhere}` }, body: INIT_REQUEST });
  assert.equal(answer.status, 401);
  assert.match(answer.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  assert.ok(proxy.exchanges.some((e) => e.requestHeaders.authorization === `Bearer ${elsewhere}`), 'Gatehouse could not judge it and passed it on');
});

test('without a session, a GET, a DELETE and a non-initialize POST reach the upstream\'s challenge: 401 with resource_metadata rewritten (they got 400 GH_SESSION_REQUIRED)', async () => {
  const requests: Array<{ method: string; headers: Record<string, string>; body?: unknown }> = [
    { method: 'GET', headers: { accept: 'text/event-stream' } },
    { method: 'GET', headers: { accept: 'application/json, text/event-stream' } }, // what mcp-remote probes with
    { method: 'DELETE', headers: {} },
    { method: 'POST', headers: { ...MCP_HEADERS }, body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } },
    { method: 'POST', headers: { ...MCP_HEADERS }, body: { jsonrpc: '2.0', method: 'notifications/initialized' } },
  ];
  for (const request of requests) {
    for (const authorization of [undefined, 'Bearer not-a-token-the-upstream-knows']) {
      const headers = { ...request.headers, ...(authorization ? { authorization } : {}) };
      const answer = await raw(gh.url('secured'), { method: request.method, headers, ...(request.body ? { body: request.body } : {}) });
      const label = `${request.method} ${JSON.stringify(request.body ?? '')} ${authorization ? 'with a bad token' : 'without a token'}`;
      assert.equal(answer.status, 401, `${label}: ${answer.text}`);
      const challenge = answer.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer error="invalid_token"/, label);
      assert.ok(challenge.includes(`resource_metadata="${prm()}"`), `${label}: ${challenge}`);
    }
  }
  // With a good token and no session, what the upstream says about sessions is its own answer
  // (this one is stateless: it opens a stream for a GET, and answers a request without a session).
  const token = await issuer.sign({ aud: gh.url('secured'), client_id: 'c', scope: 'mcp' });
  const stop = new AbortController();
  const stream = await fetch(gh.url('secured'), { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` }, signal: stop.signal });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
  stop.abort();
  const list = await raw(gh.url('secured'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: { jsonrpc: '2.0', id: 3, method: 'tools/list' } });
  assert.equal(list.status, 200, list.text);
  // A session that is named is still Gatehouse's to check: an unknown one is 404, whoever asks.
  const named = await raw(gh.url('secured'), { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': 'gh1.forged' } });
  assert.equal(named.status, 404);
});

test('mcp-remote (as Claude Desktop runs it) signs in through a passthrough API: its bare GET probe meets the upstream\'s 401, then it calls tools', { skip: process.platform === 'linux' ? false : 'mcp-remote opens the browser through xdg-open, which this test drives on Linux only' }, async () => {
  const dir = tempDir('gatehouse-mcp-remote-');
  const browserLog = path.join(dir, 'browser.log');
  const before = proxy.exchanges.length;
  const started = Date.now();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MCP_REMOTE_CONFIG_DIR: path.join(dir, 'mcp-auth'),
    // xdg-open runs $BROWSER when no desktop is found: the stand-in browser follows the redirects.
    BROWSER: `${process.execPath} ${path.join(REPO_ROOT, 'test', 'helpers', 'browser-follow.mjs')}`,
    GATEHOUSE_TEST_BROWSER_LOG: browserLog,
  };
  for (const name of ['DISPLAY', 'WAYLAND_DISPLAY', 'XDG_CURRENT_DESKTOP', 'DESKTOP_SESSION', 'KDE_FULL_SESSION', 'GNOME_DESKTOP_SESSION_ID']) delete env[name];
  const bin = path.join(REPO_ROOT, 'node_modules', 'mcp-remote', 'dist', 'proxy.js');
  const child = spawn(process.execPath, [bin, gh.url('secured'), '--auth-timeout', '60'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const answers = new Map<number, Deferred<Record<string, unknown>>>();
  const answer = (id: number) => {
    let d = answers.get(id);
    if (!d) answers.set(id, (d = deferred()));
    return d;
  };
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end).trim();
      buffered = buffered.slice(end + 1);
      if (line === '') continue;
      const message = JSON.parse(line) as Record<string, unknown>;
      if (typeof message.id === 'number') answer(message.id).resolve(message);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
  const within = <T>(promise: Promise<T>, what: string) =>
    Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within 60 s; mcp-remote said:\n${stderr.slice(-3000)}`)), 60_000).unref())]);
  try {
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'claude-desktop-like', version: '1.0.0' } } });
    const initialized = await within(answer(1).promise, 'initialize');
    assert.equal((initialized.result as { serverInfo: { name: string } }).serverInfo.name, 'oauth-upstream');
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {} } });
    const called = await within(answer(2).promise, 'tools/call');
    const seen = JSON.parse((called.result as { content: Array<{ text: string }> }).content[0]!.text) as { clientId: string; resource: string };
    assert.equal(seen.resource, gh.url('secured'), 'the token mcp-remote got is for the Gatehouse URL');

    // Its first request was the bare GET probe: Gatehouse let the upstream judge it, and the
    // upstream's 401 came back, so mcp-remote knew to prepare its sign-in before connecting (with
    // Gatehouse's 400 it did not).
    const records = await recordsWhen(gh.gateway, { api: 'secured', since: started }, (events) => events.some((e) => e.method === 'GET'));
    const probe = records.filter((e) => e.method === 'GET').sort((a, b) => a.time - b.time)[0];
    assert.ok(probe, 'mcp-remote probed with a GET');
    assert.equal(probe.status, 401);
    assert.equal(probe.session, undefined, 'without a session');
    const forwarded = proxy.exchanges.slice(before).find((e) => e.method === 'GET');
    assert.equal(forwarded?.status, 401, 'the 401 was the upstream\'s');
    assert.equal(forwarded?.requestHeaders.authorization, undefined);
    const opened = readFileSync(browserLog, 'utf8').split('\n').filter((l) => l.startsWith('http'));
    assert.equal(opened.length, 1, 'the browser was opened once');
    assert.ok(opened[0]!.startsWith(`${issuer.issuer}/authorize?`), opened[0]);
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
