// api-key plan end to end, against the real server-everything: agents and keys from the config
// file (the issue's example exactly) and from the CLI in another process, revocation on the next
// request, API scoping, expiry, disabled agents, the extra header, session binding, reload, and
// the agent's key never reaching the upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { INIT_REQUEST, MCP_HEADERS, raw, rawSession, runCli, sessionHeaders, startEverything, startTestGateway, tempDir, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { freePort, stopCli, waitForLogLines, waitUntil } from './helpers/lifecycle-procs.ts';
import { startRecordingProxy } from './helpers/http-peers.ts';
import { cli, createKey } from './helpers/auth-cli.ts';
import { parseConfigText } from '../src/config/load.ts';
import { digestKey } from '../src/auth/api-key.ts';

let everything: RunningEverything;

before(async () => {
  everything = await startEverything();
});

after(async () => {
  await everything?.close();
});

const ALICE_KEY = 'alice-key-7f3c9e2a51b84d06';
/** A parsed file carries the default port; the tests' Gatehouse takes any free one. */
const LOOPBACK_ANY_PORT = { host: '127.0.0.1', port: 0 };

/** The issue's agents block, exactly as written there. */
const ISSUE_AGENTS = `agents:
  - id: alice
    name: Alice's coding agent
    apiKeys:
      - value: \${env:ALICE_KEY}
  - id: bob
    apiKeys:
      - sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
`;

function configText(extraApis = ''): string {
  return `servers:
  everything:
    url: ${everything.origin}/mcp
apis:
  - name: everything
    path: /mcp
    server: everything
    auth:
      type: api-key
  - name: other
    path: /other
    server: everything
    auth:
      type: api-key
      header: x-api-key
${extraApis}${ISSUE_AGENTS}`;
}

/** A config file in a fresh folder, and a Gatehouse in this process sharing its store with the CLI. */
async function setup(text = configText()): Promise<{ file: string; gh: TestGateway }> {
  const dir = tempDir();
  const file = path.join(dir, 'gatehouse.yaml');
  writeFileSync(file, text);
  const config = parseConfigText(text, file, { ...process.env, ALICE_KEY });
  const gh = await startTestGateway({ ...config, listen: LOOPBACK_ANY_PORT }, { dataDir: path.join(dir, '.gatehouse') });
  return { file, gh };
}

/** Applies an edited file to a running Gatehouse, as the file watcher does. */
function reload(gh: TestGateway, text: string, file: string): void {
  gh.gateway.reload({ ...parseConfigText(text, file, { ...process.env, ALICE_KEY }), listen: { host: '127.0.0.1', port: gh.gateway.port } });
}

const bearer = (key: string) => ({ ...MCP_HEADERS, authorization: `Bearer ${key}` });

function challengeOf(answer: { headers: Headers }): string {
  return answer.headers.get('www-authenticate') ?? '';
}

test('the issue\'s config works as written, through `gatehouse start`: alice by env reference, bob by digest', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'gatehouse.yaml');
  writeFileSync(file, configText());
  const port = await freePort();
  const gatehouse = runCli(['start', '--config', file, '--port', String(port), '--no-watch'], { ALICE_KEY });
  try {
    await waitForLogLines(gatehouse, (l) => l.msg === 'gatehouse listening', 'Gatehouse listening');
    const url = `http://127.0.0.1:${port}/mcp`;
    for (const key of [ALICE_KEY, 'test']) {
      const answer = await raw(url, { headers: bearer(key), body: INIT_REQUEST });
      assert.equal(answer.status, 200, `key ${key.slice(0, 4)}…: ${answer.text}`);
    }
    // The official SDK client, sending the key as a bearer token.
    const client = new Client({ name: 'api-key-agent', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${ALICE_KEY}` } } });
    await client.connect(transport);
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'echo'));
    await transport.terminateSession();
    await client.close();

    const listed = await cli(['keys', 'list', '--config', file]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`cfg_${digestKey(ALICE_KEY).slice(0, 12)}\\s+alice`));
    assert.match(listed.stdout, /cfg_9f86d081884c\s+bob\s+sha256:9f86d081/);
    assert.ok(!listed.stdout.includes(ALICE_KEY), 'lists never show a key');
    const agents = await cli(['agents', 'list', '--config', file]);
    assert.match(agents.stdout, /alice\s+Alice's coding agent/);
  } finally {
    await stopCli(gatehouse);
  }
});

test('a key made with the CLI works at once; revoked with the CLI in another process, the next request is refused', async () => {
  const { file, gh } = await setup();
  try {
    const created = await cli(['agents', 'create', 'carol', '--config', file, '--name', 'Carol', '--label', 'team=payments', '--tenant', 'acme']);
    assert.equal(created.code, 0, created.stderr);
    const { key, id } = await createKey(file, 'carol', ['--expires', '30d']);
    assert.match(key, /^gh_[0-9A-Za-z]{32,}$/);
    const sessionId = await rawSession(gh.url(), { authorization: `Bearer ${key}` });
    const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const before = await raw(gh.url(), { headers: { ...sessionHeaders(sessionId), authorization: `Bearer ${key}` }, body: listTools });
    assert.equal(before.status, 200);

    const revoked = await cli(['keys', 'revoke', id, '--config', file]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const after = await raw(gh.url(), { headers: { ...sessionHeaders(sessionId), authorization: `Bearer ${key}` }, body: listTools });
    assert.equal(after.status, 401);
    assert.equal(challengeOf(after), 'Bearer realm="gatehouse", error="invalid_token", error_description="API key revoked"');
    const fresh = await raw(gh.url(), { headers: bearer(key), body: INIT_REQUEST });
    assert.equal(fresh.status, 401);

    const listed = JSON.parse((await cli(['keys', 'list', '--config', file, '--agent', 'carol', '--json'])).stdout) as Array<Record<string, unknown>>;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.id, id);
    assert.equal(typeof listed[0]!.revokedAt, 'number');
    assert.equal(typeof listed[0]!.lastUsedAt, 'number', 'last use is recorded');
    assert.ok(!JSON.stringify(listed).includes(key) && !('hash' in listed[0]!));
  } finally {
    await gh.close();
  }
});

test('keys limited to another API, expired keys, disabled agents, unknown keys: 401 invalid_token; the extra header works', async () => {
  const { file, gh } = await setup();
  try {
    await cli(['agents', 'create', 'dave', '--config', file]);
    const forOther = await createKey(file, 'dave', ['--api', 'other']);
    const wrongApi = await raw(gh.url('everything'), { headers: bearer(forOther.key), body: INIT_REQUEST });
    assert.equal(wrongApi.status, 401);
    assert.match(challengeOf(wrongApi), /error="invalid_token", error_description="API key is not valid for this API"/);
    const rightApi = await raw(gh.url('other'), { headers: { ...MCP_HEADERS, 'x-api-key': forOther.key }, body: INIT_REQUEST });
    assert.equal(rightApi.status, 200, 'the configured header carries the key');

    // An expiry in the past cannot be made with the CLI; write it to the store directly.
    const expired = 'expired-key-0123456789abcdef';
    await gh.gateway.store.createApiKey({ id: 'key_expired', agentId: 'dave', hash: digestKey(expired), prefix: 'expi', api: undefined, createdAt: Date.now() - 10_000, expiresAt: Date.now() - 1000, revokedAt: undefined, lastUsedAt: undefined });
    const late = await raw(gh.url(), { headers: bearer(expired), body: INIT_REQUEST });
    assert.equal(late.status, 401);
    assert.match(challengeOf(late), /error_description="API key expired"/);

    const everywhere = await createKey(file, 'dave');
    assert.equal((await raw(gh.url(), { headers: bearer(everywhere.key), body: INIT_REQUEST })).status, 200);
    assert.equal((await cli(['agents', 'disable', 'dave', '--config', file])).code, 0);
    const disabled = await raw(gh.url(), { headers: bearer(everywhere.key), body: INIT_REQUEST });
    assert.equal(disabled.status, 401);
    assert.match(challengeOf(disabled), /error_description="agent disabled"/);
    assert.equal((await cli(['agents', 'enable', 'dave', '--config', file])).code, 0);
    assert.equal((await raw(gh.url(), { headers: bearer(everywhere.key), body: INIT_REQUEST })).status, 200);

    const unknown = await raw(gh.url(), { headers: bearer('gh_thisKeyWasNeverIssued0000000000000000'), body: INIT_REQUEST });
    assert.equal(unknown.status, 401);
    assert.match(challengeOf(unknown), /error_description="unknown API key"/);
    const unknownHeader = await raw(gh.url('other'), { headers: { ...MCP_HEADERS, 'x-api-key': 'not-a-key-at-all-000000' }, body: INIT_REQUEST });
    assert.equal(unknownHeader.status, 401);
    const missing = await raw(gh.url(), { body: INIT_REQUEST });
    assert.equal(missing.status, 401);
    assert.equal(challengeOf(missing), 'Bearer realm="gatehouse"');
  } finally {
    await gh.close();
  }
});

test('a session belongs to the agent that opened it: another agent\'s key gets 404', async () => {
  const { gh } = await setup();
  try {
    const sessionId = await rawSession(gh.url(), { authorization: `Bearer ${ALICE_KEY}` });
    const asBob = await raw(gh.url(), { headers: { ...sessionHeaders(sessionId), authorization: 'Bearer test' }, body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
    assert.equal(asBob.status, 404);
    const asAlice = await raw(gh.url(), { headers: { ...sessionHeaders(sessionId), authorization: `Bearer ${ALICE_KEY}` }, body: { jsonrpc: '2.0', id: 3, method: 'tools/list' } });
    assert.equal(asAlice.status, 200);
  } finally {
    await gh.close();
  }
});

test('a key removed from the config is refused after reload and revoked in the store; key attributes follow the file', async () => {
  const { file, gh } = await setup();
  try {
    assert.equal((await raw(gh.url(), { headers: bearer('test'), body: INIT_REQUEST })).status, 200);
    const limited = configText().replace('      - sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n', '      - sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n        api: other\n');
    reload(gh, limited, file);
    assert.equal((await raw(gh.url(), { headers: bearer('test'), body: INIT_REQUEST })).status, 401, 'bob\'s key is now limited to the other API');
    assert.equal((await raw(gh.url('other'), { headers: { ...MCP_HEADERS, 'x-api-key': 'test' }, body: INIT_REQUEST })).status, 200);

    const withoutBob = configText().replace(/ {2}- id: bob\n.*\n.*\n$/s, '');
    assert.ok(!withoutBob.includes('bob'));
    reload(gh, withoutBob, file);
    const refused = await raw(gh.url('other'), { headers: { ...MCP_HEADERS, 'x-api-key': 'test' }, body: INIT_REQUEST });
    assert.equal(refused.status, 401);
    await waitUntil(async () => (await gh.gateway.store.findApiKeyByHash(digestKey('test')))?.revokedAt !== undefined, 'the removed key is revoked in the store');
    assert.equal((await raw(gh.url(), { headers: bearer(ALICE_KEY), body: INIT_REQUEST })).status, 200, 'alice is untouched');
  } finally {
    await gh.close();
  }
});

test('the agent\'s key never reaches the upstream (a recording proxy sees every upstream request)', async () => {
  const proxy = await startRecordingProxy(everything.origin);
  const gh = await startTestGateway({
    ...parseConfigText(
      `servers:
  recorded:
    url: ${proxy.origin}/mcp
apis:
  - name: recorded
    path: /mcp
    server: recorded
    auth:
      type: api-key
      header: x-api-key
${ISSUE_AGENTS}`,
      'inline.yaml',
      { ...process.env, ALICE_KEY },
    ),
    listen: LOOPBACK_ANY_PORT,
  });
  try {
    const sessionId = await rawSession(gh.url(), { authorization: `Bearer ${ALICE_KEY}` });
    const called = await raw(gh.url(), { headers: { ...sessionHeaders(sessionId), 'x-api-key': ALICE_KEY }, body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } } });
    assert.equal(called.status, 200);
    assert.ok(proxy.exchanges.length >= 3, 'initialize, initialized and the call went through the proxy');
    for (const exchange of proxy.exchanges) {
      assert.equal(exchange.requestHeaders.authorization, undefined);
      assert.equal(exchange.requestHeaders['x-api-key'], undefined);
      assert.ok(!JSON.stringify(exchange.requestHeaders).includes(ALICE_KEY));
      assert.ok(!exchange.body.includes(ALICE_KEY));
    }
  } finally {
    await gh.close();
    await proxy.close();
  }
});

test('`gatehouse agents create` keeps a tenant\'s agents quota and refuses a tenant the config does not declare (it skipped both)', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'gatehouse.yaml');
  writeFileSync(file, `tenants:
  - id: acme
    pathPrefix: /acme
    quotas: { agents: 1 }
    egress: { allow: [127.0.0.1] }
servers:
  everything:
    url: ${everything.origin}/mcp
    tenant: acme
apis:
  - name: acme-mcp
    path: /acme/mcp
    server: everything
    tenant: acme
    auth: { type: api-key }
`);
  const first = await cli(['agents', 'create', 'a1', '--config', file, '--tenant', 'acme']);
  assert.equal(first.code, 0, first.stderr);
  const beyond = await cli(['agents', 'create', 'a2', '--config', file, '--tenant', 'acme']);
  assert.equal(beyond.code, 1);
  assert.match(beyond.stderr, /tenant "acme" has 1 agents, its quota \(tenants\[\]\.quotas\.agents: 1\)/);
  const unknown = await cli(['agents', 'create', 'a3', '--config', file, '--tenant', 'initech']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no tenant "initech"; expected one of the ids under `tenants` \(acme\)/);
  const listed = await cli(['agents', 'list', '--config', file]);
  assert.doesNotMatch(listed.stdout, /a2|a3/);
});
