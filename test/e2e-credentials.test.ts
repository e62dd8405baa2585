// Upstream credentials end to end: the real server-everything behind an authenticating reverse
// proxy (401 without the right credential), a real OAuth token endpoint for the
// client-credentials grant, the official SDK client as the agent, the built CLI for the sealed
// store. Every test greps what Gatehouse logged for every secret it used.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseConfigText } from '../src/config/load.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { INIT_REQUEST, MCP_HEADERS, randomKeyHex, raw, sessionHeaders, startEverything, startTestGateway, tempDir, type RawResponse, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startAuthProxy, startTokenServer, runCliWithStdin, type AuthProxy, type TokenServer, type TokenServerOptions } from './helpers/credentials-peers.ts';
import { waitUntil } from './helpers/lifecycle-procs.ts';
import { closedPort } from './helpers/http-peers.ts';

const AGENT_TOKEN = 'agent-own-secret-7f3c9a1e5b2d4f60';

async function everything(t: TestContext, transport: 'streamableHttp' | 'sse' = 'streamableHttp'): Promise<RunningEverything> {
  const running = await startEverything({ transport });
  t.after(() => running.close());
  return running;
}

async function proxy(t: TestContext, target: string, check: (headers: IncomingHttpHeaders) => boolean | Promise<boolean>): Promise<AuthProxy> {
  const p = await startAuthProxy(target, check);
  t.after(() => p.close());
  return p;
}

async function tokenServer(t: TestContext, options: TokenServerOptions): Promise<TokenServer> {
  const server = await startTokenServer(options);
  t.after(() => server.close());
  return server;
}

async function gatehouse(t: TestContext, config: Omit<ConfigInput, 'listen'>, options: { dataDir?: string } = {}): Promise<TestGateway> {
  const gh = await startTestGateway(config, options);
  t.after(() => gh.close());
  return gh;
}

/** The SDK client as an agent that sends its own credential, which must never reach the upstream. */
async function agent(t: TestContext, url: string): Promise<Client> {
  const client = new Client({ name: 'credentials-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${AGENT_TOKEN}`, 'x-api-key': AGENT_TOKEN } },
  });
  await client.connect(transport);
  t.after(async () => {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  });
  return client;
}

async function echo(client: Client, message: string): Promise<void> {
  const result = await client.callTool({ name: 'echo', arguments: { message } });
  assert.deepEqual(result.content, [{ type: 'text', text: `Echo: ${message}` }]);
}

function assertNoSecretIn(text: string, secrets: readonly string[], where: string): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `${where} contains a secret (${secret.slice(0, 6)}…)`);
}

function assertNoSecretInResponse(response: RawResponse, secrets: readonly string[]): void {
  const headers = [...response.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
  assertNoSecretIn(headers + '\n' + response.text, secrets, 'a response to the agent');
}

function errorOf(response: RawResponse): { code: number; message: string; data?: { code?: string } } {
  return (response.messages[0] as { error: { code: number; message: string; data?: { code?: string } } }).error;
}

test('a bearer token given by ${env:} reaches the upstream; the agent\'s own credential never does, and no secret comes back or is logged', async (t) => {
  const upstreamToken = 'upstream-bearer-secret-4b1d77e0c2a9';
  const up = await everything(t);
  const p = await proxy(t, up.origin, (h) => h.authorization === `Bearer ${upstreamToken}`);
  const config = parseConfigText(
    `listen: { host: 127.0.0.1, port: 0 }
servers:
  everything:
    url: ${p.origin}/mcp
    credential: { type: bearer, token: "\${env:UPSTREAM_TOKEN}" }
apis:
  - { name: everything, path: /mcp, server: everything }
`,
    'credentials.yaml',
    { UPSTREAM_TOKEN: upstreamToken },
  );
  const gh = await gatehouse(t, config);

  const client = await agent(t, gh.url());
  const tools = await client.listTools();
  assert.ok(tools.tools.some((tool) => tool.name === 'echo'));
  await echo(client, 'with the upstream credential');

  // Raw requests too, to see every header that comes back.
  const init = await raw(gh.url(), { headers: { ...MCP_HEADERS, authorization: `Bearer ${AGENT_TOKEN}` }, body: INIT_REQUEST });
  assert.equal(init.status, 200);
  assertNoSecretInResponse(init, [upstreamToken, AGENT_TOKEN]);

  assert.ok(p.seen.length >= 5, `the upstream saw the traffic (${p.seen.length} requests)`);
  assert.equal(p.refused(), 0);
  for (const headers of p.seen) {
    assert.equal(headers.authorization, `Bearer ${upstreamToken}`, 'every upstream request carries the upstream\'s credential, not the agent\'s');
    assertNoSecretIn(JSON.stringify(headers), [AGENT_TOKEN], 'an upstream request');
  }

  // The upstream changes its secret: its 401 (and its challenge) are not relayed to the agent as
  // if the agent had to log in somewhere; the agent gets a 502 naming the problem.
  p.setCheck(() => false);
  const session = init.headers.get('mcp-session-id')!;
  const refused = await raw(gh.url(), { headers: sessionHeaders(session), body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
  assert.equal(refused.status, 502);
  assert.equal(refused.headers.get('www-authenticate'), null);
  assert.equal(errorOf(refused).data?.code, 'GH_UPSTREAM_UNAVAILABLE');
  assert.match(errorOf(refused).message, /refused Gatehouse's credential/);
  assert.equal(p.refused(), 2, 'one retry with a fresh credential, then give up');
  assertNoSecretInResponse(refused, [upstreamToken, AGENT_TOKEN]);

  assertNoSecretIn(gh.logs.text(), [upstreamToken, AGENT_TOKEN], 'the log');
});

test('a header credential reaches an HTTP+SSE upstream on its stream and on every message', async (t) => {
  const key = 'sse-upstream-key-9e8d7c6b5a41';
  const up = await everything(t, 'sse');
  const p = await proxy(t, up.origin, (h) => h['x-upstream-key'] === key);
  const gh = await gatehouse(t, {
    servers: { legacy: { sse: `${p.origin}/sse`, credential: { type: 'header', name: 'X-Upstream-Key', value: key } } },
    apis: [{ name: 'legacy', path: '/legacy', server: 'legacy', auth: { type: 'keyless' } }],
  });
  const client = await agent(t, gh.url('legacy'));
  await echo(client, 'over sse with a key');
  await echo(client, 'and again');
  // The GET stream, then initialize, initialized and the calls as POSTs.
  assert.ok(p.seen.length >= 4, `the upstream saw the stream and the messages (${p.seen.length} requests)`);
  assert.equal(p.refused(), 0);
  for (const headers of p.seen) {
    assert.equal(headers['x-upstream-key'], key);
    assert.equal(headers.authorization, undefined, 'the agent\'s Authorization is not forwarded');
  }
  assertNoSecretIn(gh.logs.text(), [key, AGENT_TOKEN], 'the log');
});

function clientCredentialsConfig(upstream: string, tokenUrl: string, clientSecret: string): Omit<ConfigInput, 'listen'> {
  return {
    servers: { everything: { url: `${upstream}/mcp`, credential: { type: 'client-credentials', tokenUrl, clientId: 'gatehouse', clientSecret, scope: 'mcp:tools' } } },
    apis: [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } }],
  };
}

test('client credentials: many concurrent first calls share one token request', async (t) => {
  const secret = 'cc-client-secret-single-flight-31a5';
  const tokens = await tokenServer(t, { clientId: 'gatehouse', clientSecret: secret, expiresIn: 300, scope: 'mcp:tools' });
  const up = await everything(t);
  const p = await proxy(t, up.origin, (h) => tokens.accepts(h));
  const gh = await gatehouse(t, clientCredentialsConfig(p.origin, tokens.tokenUrl, secret));

  // The token endpoint holds its answer while every agent's first request waits. The first 2025
  // initialize asks the server its era (server/discover, with the server's credential: it waits
  // for the token); the others wait behind that one probe, then forward with the token it got.
  const release = tokens.hold();
  const agents = 6;
  const connecting = Promise.all(Array.from({ length: agents }, () => agent(t, gh.url())));
  const waiting = () => gh.logs.lines.filter((line) => line.msg === 'waiting for an upstream token').length;
  await waitUntil(() => waiting() >= 1 && tokens.requests() >= 1, 'a request waits for the token');
  assert.equal(tokens.requests(), 1, 'the waiting requests share one token request');
  release();
  const clients = await connecting;
  await Promise.all(clients.map((client, i) => echo(client, `agent ${i}`)));
  assert.equal(tokens.requests(), 1);
  assert.equal(tokens.issued(), 1);
  assert.equal(p.refused(), 0);
  assertNoSecretIn(gh.logs.text(), [secret], 'the log');
});

test('client credentials: the token is refreshed before it expires and calls keep succeeding', async (t) => {
  const secret = 'cc-client-secret-refresh-8c20d4';
  const tokens = await tokenServer(t, { clientId: 'gatehouse', clientSecret: secret, expiresIn: 2, scope: 'mcp:tools' });
  const up = await everything(t);
  const p = await proxy(t, up.origin, (h) => tokens.accepts(h));
  const gh = await gatehouse(t, clientCredentialsConfig(p.origin, tokens.tokenUrl, secret));
  const client = await agent(t, gh.url());

  // Call on, a few times a second, until the upstream has seen three tokens (about four seconds).
  let calls = 0;
  const used = () => new Set(p.seen.filter((h) => h.authorization).map((h) => h.authorization));
  while (used().size < 3) {
    await echo(client, `call ${++calls}`);
    assert.ok(calls < 200, 'tokens are refreshed');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(tokens.issued() >= 3);
  assertNoSecretIn(gh.logs.text(), [secret, ...[...used()].map((a) => a!.slice('Bearer '.length))], 'the log');
});

test('client credentials: a token the upstream rejects is dropped, a new one fetched and the call retried', async (t) => {
  const secret = 'cc-client-secret-revoked-55e1b9';
  const tokens = await tokenServer(t, { clientId: 'gatehouse', clientSecret: secret, expiresIn: 300, scope: 'mcp:tools' });
  const up = await everything(t);
  const p = await proxy(t, up.origin, (h) => tokens.accepts(h));
  const gh = await gatehouse(t, clientCredentialsConfig(p.origin, tokens.tokenUrl, secret));
  const client = await agent(t, gh.url());
  await echo(client, 'first token');
  assert.equal(tokens.issued(), 1);

  tokens.revokeAll();
  await echo(client, 'second token');
  assert.equal(p.refused(), 1, 'the revoked token was refused once');
  assert.equal(tokens.issued(), 2, 'and a new one fetched');
  await echo(client, 'still the second token');
  assert.equal(tokens.issued(), 2);
  assertNoSecretIn(gh.logs.text(), [secret], 'the log');
});

test('client credentials: a token endpoint that refuses or is down gives the agent a clear 502, and no secret is logged', async (t) => {
  const secret = 'cc-client-secret-right-0f9a8b';
  const wrong = 'cc-client-secret-wrong-7d6c5e';
  const tokens = await tokenServer(t, { clientId: 'gatehouse', clientSecret: secret, expiresIn: 300 });
  const up = await everything(t);
  const p = await proxy(t, up.origin, (h) => tokens.accepts(h));
  const down = `http://127.0.0.1:${await closedPort()}/token`;
  const gh = await gatehouse(t, {
    servers: {
      refused: { url: `${p.origin}/mcp`, credential: { type: 'client-credentials', tokenUrl: tokens.tokenUrl, clientId: 'gatehouse', clientSecret: wrong } },
      down: { url: `${p.origin}/mcp`, credential: { type: 'client-credentials', tokenUrl: down, clientId: 'gatehouse', clientSecret: secret } },
    },
    apis: [
      { name: 'refused', path: '/refused', server: 'refused', auth: { type: 'keyless' } },
      { name: 'down', path: '/down', server: 'down', auth: { type: 'keyless' } },
    ],
  });
  for (const api of ['refused', 'down']) {
    const response = await raw(gh.url(api), { body: INIT_REQUEST });
    assert.equal(response.status, 502, api);
    const error = errorOf(response);
    assert.equal(error.code, -32010);
    assert.equal(error.data?.code, 'GH_UPSTREAM_UNAVAILABLE');
    assert.match(error.message, /could not obtain upstream credential/);
    assert.equal((response.messages[0] as { id: unknown }).id, INIT_REQUEST.id);
    assertNoSecretInResponse(response, [secret, wrong]);
  }
  assert.equal(p.seen.length, 0, 'nothing went to the upstream without a credential');
  const warnings = gh.logs.lines.filter((line) => line.level === 40 && String(line.msg).startsWith('upstream token request'));
  assert.ok(warnings.some((line) => /invalid_client/.test(String(line.reason))), 'the log says why the token was refused');
  assert.ok(warnings.some((line) => line.msg === 'upstream token request failed'), 'the log says the token endpoint was down');
  assertNoSecretIn(gh.logs.text(), [secret, wrong], 'the log');
});

/**
 * Which of `needles` each file under `dir` contains. Read in a child process: closing a file
 * descriptor on the database drops every POSIX lock this process holds on it, SQLite's
 * included, which would corrupt the view of the gateway running in this process.
 */
function filesContaining(dir: string, needles: readonly string[]): Record<string, string[]> {
  const script = `
    const fs = require('node:fs'), path = require('node:path');
    const [dir, needles] = [process.argv[1], JSON.parse(process.argv[2])];
    const out = {};
    const walk = (d) => { for (const name of fs.readdirSync(d)) { const f = path.join(d, name);
      if (fs.statSync(f).isDirectory()) walk(f); else { const bytes = fs.readFileSync(f); out[f] = needles.filter((n) => bytes.includes(n)); } } };
    walk(dir);
    process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script, dir, JSON.stringify(needles)], { encoding: 'utf8' })) as Record<string, string[]>;
}

test('a credential stored with the CLI is sealed at rest and used by the gateway; a new secret, a new key and a deletion take effect', async (t) => {
  const secrets = ['stored-secret-one-a1b2c3d4e5', 'stored-secret-two-f6a7b8c9d0', 'stored-secret-three-1e2f3a4b5c'];
  const up = await everything(t);
  let accepted = secrets[0];
  const p = await proxy(t, up.origin, (h) => h.authorization === `Bearer ${accepted}`);
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  const configFile = path.join(dir, 'gatehouse.yaml');
  const configText = `listen: { host: 127.0.0.1, port: 0 }
dataDir: ./data
servers:
  everything:
    url: ${p.origin}/mcp
    credential: { type: stored }
apis:
  - { name: everything, path: /mcp, server: everything }
`;
  writeFileSync(configFile, configText);
  const cli = async (args: string[], stdin = '') => {
    const result = await runCliWithStdin(['credentials', ...args, '--config', configFile], stdin);
    assertNoSecretIn(result.stdout + result.stderr, secrets, `the output of credentials ${args[0]}`);
    return result;
  };

  const set = await cli(['set', 'everything', '--bearer-stdin'], `${secrets[0]}\n`);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /stored credential "everything" \(bearer\)/);
  const keyFile = path.join(dataDir, 'credentials.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the key file is private to its owner');

  const gh = await gatehouse(t, parseConfigText(configText, configFile), { dataDir });
  const client = await agent(t, gh.url());
  await echo(client, 'with the stored secret');
  assert.ok(p.seen.every((h) => h.authorization === `Bearer ${secrets[0]}`));

  const listed = await cli(['list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as Array<{ name: string; type: string }>;
  assert.deepEqual(rows.map((r) => [r.name, r.type]), [['everything', 'bearer']]);

  // At rest: the database holds the sealed value, never the secret.
  const atRest = () => {
    const found = filesContaining(dataDir, ['gc1.', ...secrets]);
    assert.ok(Object.values(found).some((hits) => hits.includes('gc1.')), 'the sealed record is in the store');
    for (const [file, hits] of Object.entries(found)) assert.deepEqual(hits.filter((h) => h !== 'gc1.'), [], `${file} holds a secret in clear`);
  };
  atRest();

  // The upstream's secret changes; so does the stored one. The next call is refused once, the
  // gateway reads the new secret and retries: the agent does not notice.
  accepted = secrets[1];
  assert.equal((await cli(['set', 'everything', '--bearer-stdin'], secrets[1])).code, 0);
  await echo(client, 'with the second secret');
  assert.equal(p.refused(), 1);
  atRest();

  // A new credentials key: every record re-sealed, the key file replaced (still private), and a
  // secret sealed under the new key is read by the running gateway.
  const oldKey = readFileSync(keyFile, 'utf8');
  const rotated = await cli(['rotate-key']);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /re-sealed 1 credential/);
  assert.notEqual(readFileSync(keyFile, 'utf8'), oldKey);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  accepted = secrets[2];
  assert.equal((await cli(['set', 'everything', '--bearer-stdin'], secrets[2])).code, 0);
  await echo(client, 'with the third secret, under the new key');
  assert.equal(p.refused(), 2);
  atRest();

  // Deleted: once the upstream refuses the secret the gateway still holds, the agent is told.
  const deleted = await cli(['delete', 'everything']);
  assert.equal(deleted.code, 0, deleted.stderr);
  accepted = 'none';
  const session = await raw(gh.url(), { body: INIT_REQUEST });
  assert.equal(session.status, 502);
  assert.match(errorOf(session).message, /could not obtain upstream credential/);
  assert.ok(gh.logs.lines.some((line) => /no stored credential named "everything"/.test(String(line.msg))));

  assertNoSecretIn(gh.logs.text(), secrets, 'the log');
});

test('credentials CLI: secrets only on stdin, checked like the config file, never printed', async () => {
  const dir = tempDir();
  const configFile = path.join(dir, 'gatehouse.yaml');
  writeFileSync(configFile, 'servers:\n  a: { url: "http://127.0.0.1:9/mcp" }\napis:\n  - { name: a, path: /mcp, server: a }\n');
  const run = (args: string[], stdin = '') => runCliWithStdin(['credentials', ...args, '--config', configFile], stdin);

  const both = await run(['set', 'a', '--bearer-stdin', '--client-credentials'], 'x');
  assert.equal(both.code, 2);
  assert.match(both.stderr, /exactly one of --bearer-stdin/);
  const empty = await run(['set', 'a', '--bearer-stdin'], '');
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /on stdin; it was empty/);
  const badHeader = await run(['set', 'a', '--header', 'Mcp-Session-Id', '--value-stdin'], 'secret-value-with\r\nbreak');
  assert.equal(badHeader.code, 2);
  assert.match(badHeader.stderr, /name: expected a header Gatehouse does not set itself/);
  assert.match(badHeader.stderr, /value: expected a value without line breaks/);
  assert.ok(!badHeader.stderr.includes('secret-value-with'));
  const badUrl = await run(['set', 'a', '--client-credentials', '--token-url', 'ftp://x', '--client-id', 'c', '--client-secret-stdin'], 'cc-secret-xyz');
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.stderr, /tokenUrl: expected an absolute http/);
  const missing = await run(['delete', 'nothing']);
  assert.equal(missing.code, 1);

  const ok = await run(['set', 'a', '--client-credentials', '--token-url', 'https://auth.example.com/token', '--client-id', 'c', '--client-secret-stdin', '--scope', 'read'], 'cc-secret-xyz\n');
  assert.equal(ok.code, 0, ok.stderr);
  const listed = await run(['list']);
  assert.match(listed.stdout, /^a\s+client-credentials\s+\S+Z\s+[0-9a-f]{12}$/m);
  assert.ok(!(listed.stdout + ok.stdout).includes('cc-secret-xyz'));
});

test('credentials CLI: with the key in GATEHOUSE_CREDENTIALS_KEY, rotate-key takes the new key on stdin and writes no key file', async () => {
  const dir = tempDir();
  const configFile = path.join(dir, 'gatehouse.yaml');
  writeFileSync(configFile, 'servers:\n  a: { url: "http://127.0.0.1:9/mcp", credential: { type: stored } }\napis:\n  - { name: a, path: /mcp, server: a }\n');
  const oldKey = randomKeyHex();
  const newKey = randomKeyHex();
  const run = (args: string[], key: string, stdin = '') => runCliWithStdin(['credentials', ...args, '--config', configFile], stdin, { GATEHOUSE_CREDENTIALS_KEY: key });

  const set = await run(['set', 'a', '--bearer-stdin'], oldKey, 'env-key-secret-42');
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /from GATEHOUSE_CREDENTIALS_KEY/);
  const refused = await run(['rotate-key'], oldKey);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /give the new key with --new-key-stdin/);
  const rotated = await run(['rotate-key', '--new-key-stdin'], oldKey, newKey);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /now set GATEHOUSE_CREDENTIALS_KEY to the new key/);
  assert.ok(!(rotated.stdout + rotated.stderr).includes(newKey), 'the key is not printed');
  const withNew = JSON.parse((await run(['list', '--json'], newKey)).stdout) as Array<{ type: string | null }>;
  assert.deepEqual(withNew.map((r) => r.type), ['bearer']);
  const withOld = JSON.parse((await run(['list', '--json'], oldKey)).stdout) as Array<{ type: string | null; problem?: string }>;
  assert.equal(withOld[0]?.type, null);
  assert.match(withOld[0]?.problem ?? '', /sealed with key/);
  assert.throws(() => statSync(path.join(dir, '.gatehouse', 'credentials.key')), /ENOENT/);
});
