// Per-user upstream OAuth end to end (auth: { type: oauth-user }): a real third-party
// authorization server (oidc-provider) in front of an SDK-built MCP server that wants each user's
// own token; Gatehouse's agents are the official SDK client signed in as two different users
// (oauth2 plan, tokens of a second issuer) and one API-key agent. The test plays the person over
// HTTP: it follows the connect link Gatehouse hands out, signs in at the upstream and consents.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { CLI, INIT_REQUEST, MCP_HEADERS, REPO_ROOT, raw, startTestGateway, tempDir, type TestGateway } from './helpers/gatehouse.ts';
import { validateConfig } from '../src/config/load.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { followInBrowser, type UpstreamIdp, type UserUpstream, startIdpWithUpstream } from './helpers/upstream-idp.ts';

const execFileAsync = promisify(execFile);
const API_KEY = 'oauth-user-test-api-key-5c1e9a7f';

let agents: TestIssuer;
let idp: UpstreamIdp;
let upstream: UserUpstream;
let gh: TestGateway;
let dataDir: string;
/** Every token of the test (agents' and upstream's): none may appear in logs or in the store in clear. */
const secrets = new Set<string>([API_KEY]);

before(async () => {
  agents = await startTestIssuer();
  ({ idp, upstream } = await startIdpWithUpstream());
  dataDir = tempDir();
  gh = await startTestGateway(
    {
      servers: {
        notes: { url: upstream.url, auth: { type: 'oauth-user' } },
        // The same server for agents without a user: they share the service user's connection.
        'notes-svc': { url: upstream.url, auth: { type: 'oauth-user', anonymous: 'service', serviceUser: 'svc' } },
      },
      agents: [{ id: 'bot', apiKeys: [{ value: API_KEY }] }],
      apis: [
        { name: 'notes', path: '/mcp', server: 'notes', auth: { type: 'oauth2', issuer: agents.issuer } },
        { name: 'keys', path: '/keys', server: 'notes', auth: { type: 'api-key' } },
        { name: 'svc', path: '/svc', server: 'notes-svc', auth: { type: 'api-key' } },
      ],
    },
    { dataDir },
  );
});

after(async () => {
  await gh?.close();
  await upstream?.close();
  await idp?.close();
  await agents?.close();
});

interface Agent {
  client: Client;
  close(): Promise<void>;
}

/** The SDK client acting for `user`, declaring URL-mode elicitation (or not). */
async function agentFor(user: string, options: { urlElicitation?: boolean } = {}): Promise<Agent> {
  const token = await agents.sign({ sub: user, aud: gh.url('notes'), scope: 'mcp' });
  secrets.add(token);
  const client = new Client({ name: 'oauth-user-test', version: '1.0.0' }, { capabilities: options.urlElicitation === false ? {} : { elicitation: { url: {} } } });
  const transport = new StreamableHTTPClientTransport(new URL(gh.url('notes')), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return { client, close: () => client.close() };
}

/** The connect link of a -32042 answer (URL-mode elicitation required). */
function connectLinkOf(error: unknown): string {
  assert.ok(error instanceof McpError, `expected an MCP error, got ${String(error)}`);
  assert.equal(error.code, -32042, error.message);
  const elicitations = (error.data as { elicitations?: Array<{ mode: string; url: string; elicitationId: string; message: string }> }).elicitations;
  assert.equal(elicitations?.length, 1);
  const [elicitation] = elicitations!;
  assert.equal(elicitation!.mode, 'url');
  assert.ok(elicitation!.url.startsWith(`${gh.origin}/-/connect/notes?ticket=`), elicitation!.url);
  assert.ok(elicitation!.elicitationId.length > 10);
  assert.ok(error.message.includes(elicitation!.url), 'the message carries the URL for clients without URL elicitation');
  return elicitation!.url;
}

async function promptFor(user: string, options: { urlElicitation?: boolean } = {}): Promise<string> {
  const failure = await agentFor(user, options).then(
    async (agent) => {
      await agent.close();
      return undefined;
    },
    (error: unknown) => error,
  );
  return connectLinkOf(failure);
}

/** The person connects their upstream account through the link. */
async function connect(link: string, upstreamAccount: string): Promise<{ callback: string }> {
  idp.loginAs = upstreamAccount;
  const page = await followInBrowser(link);
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Connected/);
  assert.ok(page.visited.some((u) => u.startsWith(idp.issuer)), 'the browser went through the upstream authorization server');
  const callback = page.visited.at(-1)!;
  assert.ok(callback.startsWith(`${gh.origin}/-/connect/callback?`), callback);
  const params = new URL(callback).searchParams;
  assert.equal(params.get('iss'), idp.issuer, 'the upstream returned iss (RFC 9207), checked by Gatehouse');
  return { callback };
}

async function whoami(agent: Agent): Promise<string> {
  const result = await agent.client.callTool({ name: 'whoami', arguments: {} });
  return (result.content as Array<{ text: string }>)[0]!.text;
}

function rememberUpstreamTokens(): void {
  for (const header of upstream.authorizations) if (header.startsWith('Bearer ')) secrets.add(header.slice('Bearer '.length));
}

test('first use: a URL-mode elicitation (-32042) with a connect link; after the user connects upstream, the retry works as that user', async () => {
  const link = await promptFor('alice');
  const registrations = idp.counts.registrations;
  await connect(link, 'alice-up');
  assert.equal(idp.counts.registrations, registrations + 1, 'Gatehouse registered itself dynamically (RFC 7591) on first connect');
  const alice = await agentFor('alice');
  try {
    assert.equal(await whoami(alice), 'alice-up');
  } finally {
    await alice.close();
  }
  rememberUpstreamTokens();
});

test('a second user gets their own prompt and token, never the first user\'s', async () => {
  const link = await promptFor('bob', { urlElicitation: false });
  await connect(link, 'bob-up');
  const bob = await agentFor('bob');
  const alice = await agentFor('alice');
  try {
    assert.equal(await whoami(bob), 'bob-up');
    assert.equal(await whoami(alice), 'alice-up');
    assert.equal(await whoami(bob), 'bob-up');
  } finally {
    await bob.close();
    await alice.close();
  }
  assert.equal(idp.counts.registrations, 1, 'the registration is kept in the store and reused');
  rememberUpstreamTokens();
});

test('a connect link is single use; a bad or replayed callback is answered 400', async () => {
  const link = await promptFor('dora');
  const { callback } = await connect(link, 'dora-up');
  const again = await followInBrowser(link);
  assert.equal(again.status, 400);
  assert.match(again.text, /already used/);
  const replay = await followInBrowser(callback);
  assert.equal(replay.status, 400, 'the callback (code and state) cannot be played twice');
  const bogus = await followInBrowser(`${gh.origin}/-/connect/callback?code=abc&state=not-a-state`);
  assert.equal(bogus.status, 400);
  const tampered = await followInBrowser(link.replace(/ticket=[^&]{6}/, 'ticket=AAAAAA'));
  assert.equal(tampered.status, 400);
  const otherServer = await followInBrowser(link.replace('/-/connect/notes?', '/-/connect/other?'));
  assert.equal(otherServer.status, 400);
  const malformed = await followInBrowser(`${gh.origin}/-/connect/%E0%A4%A?ticket=x`);
  assert.equal(malformed.status, 400);
  const posted = await fetch(link, { method: 'POST' });
  assert.equal(posted.status, 405);
  rememberUpstreamTokens();
});

test('a person who declines at the upstream gets a clear page, no connection, and a new prompt on the next call', async () => {
  const link = await promptFor('frank');
  idp.loginAs = 'frank-up';
  idp.decline = true;
  try {
    const page = await followInBrowser(link);
    assert.equal(page.status, 400);
    assert.match(page.text, /did not complete \(access_denied/);
  } finally {
    idp.decline = false;
  }
  assert.deepEqual(await gh.gateway.credentialConnections().list('frank'), []);
  await promptFor('frank');
});

test('an expired token is refreshed once, however many calls need it at the same time', async () => {
  idp.accessTokenTtl = 2;
  try {
    const link = await promptFor('carol');
    await connect(link, 'carol-up');
    const carol = await agentFor('carol');
    try {
      assert.equal(await whoami(carol), 'carol-up');
      // Let the 2 s token expire (this waits; nothing is asserted about time).
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      const refreshes = idp.counts.refreshGrants;
      const answers = await Promise.all(Array.from({ length: 6 }, () => whoami(carol)));
      assert.deepEqual(answers, Array(6).fill('carol-up'));
      assert.equal(idp.counts.refreshGrants, refreshes + 1, 'one refresh shared by the concurrent calls');
    } finally {
      await carol.close();
    }
  } finally {
    idp.accessTokenTtl = 3600;
  }
  rememberUpstreamTokens();
});

test('a connection listed and revoked (the service behind /api/v1/connections): the upstream revokes it and the next call prompts again', async () => {
  const alice = await agentFor('alice');
  try {
    assert.equal(await whoami(alice), 'alice-up');
    const admin = gh.gateway.credentialConnections();
    const listed = await admin.list('alice');
    assert.deepEqual(listed.map((c) => c.server), ['notes']);
    const revocations = idp.counts.revocations;
    const outcome = await admin.revoke('alice', 'notes');
    assert.deepEqual(outcome, { deleted: true, revokedUpstream: true });
    assert.ok(idp.counts.revocations > revocations, 'the upstream authorization server saw the revocation (RFC 7009)');
    const failure = await whoami(alice).then(
      () => undefined,
      (error: unknown) => error,
    );
    connectLinkOf(failure);
    assert.deepEqual(await admin.list('alice'), []);
    assert.equal(await whoami(await agentFor('bob')), 'bob-up', 'another user keeps their connection');
  } finally {
    await alice.close();
  }
});

test('an agent without a user (API key) is refused with a clear error under anonymous: refuse', async () => {
  const answer = await raw(gh.url('keys'), { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${API_KEY}` }, body: INIT_REQUEST });
  assert.equal(answer.status, 403);
  const body = answer.messages[0] as { error: { code: number; message: string; data: { code: string } } };
  assert.equal(body.error.code, -32044);
  assert.equal(body.error.data.code, 'GH_UPSTREAM_USER_REQUIRED');
  assert.match(body.error.message, /acts for no user/);
});

test('the CLI lists connections (never a token), revokes one (upstream too) and prints a connect link', async () => {
  const file = path.join(dataDir, 'gatehouse.yaml');
  writeFileSync(
    file,
    [
      `dataDir: ${dataDir}`,
      'listen: { host: 127.0.0.1, port: ' + gh.gateway.port + ' }',
      `servers: { notes: { url: "${upstream.url}", auth: { type: oauth-user } } }`,
      `apis: [{ name: notes, path: /mcp, server: notes, auth: { type: oauth2, issuer: "${agents.issuer}" } }]`,
      '',
    ].join('\n'),
  );
  // Asynchronous: the upstream peers live in this process and must keep answering the CLI.
  const cli = async (...args: string[]) => {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, cwd: REPO_ROOT });
    return stdout + stderr;
  };
  const listed = JSON.parse(await cli('connections', 'list', '-c', file, '--json')) as Array<{ user: string; server: string }>;
  assert.deepEqual(listed.map((c) => `${c.user}/${c.server}`).sort(), ['bob/notes', 'carol/notes', 'dora/notes']);
  assert.ok(!JSON.stringify(listed).includes('ey'), 'no token in the listing');
  const revocations = idp.counts.revocations;
  assert.match(await cli('connections', 'revoke', 'dora', 'notes', '-c', file), /revoked connection of dora to notes \(revoked upstream\)/);
  assert.ok(idp.counts.revocations > revocations);
  assert.deepEqual((await gh.gateway.credentialConnections().list('dora')).length, 0);
  await assert.rejects(cli('connections', 'revoke', 'dora', 'notes', '-c', file), /has no connection/);
  assert.match(await cli('connections', 'connect', 'notes', '--user', 'svc', '-c', file), new RegExp(`^${gh.origin}/-/connect/notes\\?ticket=`));
});

test('anonymous: service: an API-key agent uses the service user\'s connection, once it is connected (the link `gatehouse connections connect` prints)', async () => {
  const call = async () => {
    const answer = await raw(gh.url('svc'), { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${API_KEY}` }, body: INIT_REQUEST });
    return { status: answer.status, message: answer.messages[0] as { result?: unknown; error?: { code: number; message: string } } };
  };
  const before = await call();
  assert.equal(before.status, 502);
  assert.match(before.message.error!.message, /service user "svc" has not connected it yet \(gatehouse connections connect notes-svc --user svc\)/);
  const ticket = await gh.gateway.credentialConnections().tickets.issue(gh.origin, 'svc', 'notes-svc', 60_000, undefined);
  await connect(ticket.url, 'svc-up');
  const afterwards = await call();
  assert.equal(afterwards.status, 200);
  assert.ok(afterwards.message.result, JSON.stringify(afterwards.message));
  const client = new Client({ name: 'bot', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url('svc')), { requestInit: { headers: { authorization: `Bearer ${API_KEY}` } } }));
  try {
    assert.equal(await whoami({ client, close: () => client.close() }), 'svc-up');
  } finally {
    await client.close();
  }
});

test('a 2026-07-28 client bridged to this 2025 server is served with its user\'s own connection, made by a 2025 client (more in e2e-upstream-oauth-user-bridged)', async () => {
  const token = await agents.sign({ sub: 'bob', aud: gh.url('notes'), scope: 'mcp' });
  secrets.add(token);
  const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const headers = { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami' };
  const answer = await raw(gh.url('notes'), { headers, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {}, _meta: envelope } } });
  assert.equal(answer.status, 200, answer.text);
  const result = (answer.messages[0] as { result?: { resultType: string; content: Array<{ text: string }> } }).result;
  assert.equal(result?.resultType, 'complete', answer.text);
  assert.equal(result.content[0]!.text, 'bob-up');
});

test('a client registered by hand (auth.client) is used as configured, with its secret; Gatehouse serves its own Client ID Metadata Document', async () => {
  // The operator registers Gatehouse at the upstream (here through its registration endpoint) and configures it.
  const registered = await fetch(`${idp.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [`${gh.origin}/-/connect/callback`], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }),
  });
  assert.equal(registered.status, 201);
  const client = (await registered.json()) as { client_id: string; client_secret: string };
  secrets.add(client.client_secret);
  const config = structuredClone(gh.gateway.config) as unknown as { servers: Record<string, unknown> };
  config.servers['notes-static'] = { url: upstream.url, auth: { type: 'oauth-user', issuer: idp.issuer, scopes: ['mcp'], client: { id: client.client_id, secret: client.client_secret } } };
  gh.gateway.reload(validateConfig(config));
  const registrations = idp.counts.registrations;
  const ticket = await gh.gateway.credentialConnections().tickets.issue(gh.origin, 'erin', 'notes-static', 60_000, undefined);
  idp.loginAs = 'erin-up';
  const page = await followInBrowser(ticket.url);
  assert.equal(page.status, 200, page.text);
  const authorize = new URL(page.visited.find((u) => u.startsWith(`${idp.issuer}/auth?`))!);
  assert.equal(authorize.searchParams.get('client_id'), client.client_id);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authorize.searchParams.get('resource'), upstream.url);
  assert.equal(idp.counts.registrations, registrations, 'no dynamic registration when a client is configured');
  assert.equal((await gh.gateway.credentialConnections().list('erin')).length, 1);

  const document = await fetch(`${gh.origin}/-/oauth-client.json`);
  assert.equal(document.status, 200);
  const metadata = (await document.json()) as Record<string, unknown>;
  assert.equal(metadata.client_id, `${gh.origin}/-/oauth-client.json`, 'a CIMD client id is the URL of its own document');
  assert.deepEqual(metadata.redirect_uris, [`${gh.origin}/-/connect/callback`]);
  assert.equal(metadata.token_endpoint_auth_method, 'none');
});

test('the agent never sees an upstream token; tokens are sealed in the store and never logged (every test\'s tokens, every file)', async () => {
  rememberUpstreamTokens();
  const upstreamTokens = upstream.authorizations.filter((h) => h.startsWith('Bearer ')).map((h) => h.slice(7));
  assert.ok(upstreamTokens.length > 3);
  // Nothing the agents sent reached the upstream: only upstream tokens did.
  const agentTokens = [...secrets].filter((s) => !upstreamTokens.includes(s));
  for (const header of upstream.authorizations) for (const token of agentTokens) assert.ok(!header.includes(token), 'an agent credential reached the upstream');
  // Every file Gatehouse wrote: the store (with its WAL), the audit log, keys.
  const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  assert.ok(files.some((e) => e.name === 'gatehouse.db'));
  const store = files.map((e) => readFileSync(path.join(e.parentPath, e.name)));
  const logs = gh.logs.text();
  for (const token of secrets) {
    const needle = Buffer.from(token);
    for (const bytes of store) assert.equal(bytes.indexOf(needle), -1, 'a token is in a file of the data directory in clear');
    assert.ok(!logs.includes(token), 'a token is in the log');
  }
});
