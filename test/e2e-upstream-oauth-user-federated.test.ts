// Per-user upstream OAuth (auth: oauth-user) as a member of a federated API and of a virtual
// server: each member hop goes out with the caller's own token. A user who has not connected the
// member yet sees the other members' items and calls them as usual; the member's items are listed
// once they have connected, and a call to it is what brings the connect prompt (the 2025 error
// -32042 for the SDK client, input_required for a 2026-07-28 client bridged onto the federated
// API). The peers: oidc-provider as the member's authorization server, an SDK-built member that
// verifies each token and says whose it is, an SDK-built plain member; the agents are the SDK
// client (two users of a second issuer) and raw 2026-07-28 requests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { MCP_HEADERS, raw, startTestGateway, tempDir, type TestGateway } from './helpers/gatehouse.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { followInBrowser, startUpstreamIdp, startUserUpstream, type UpstreamIdp, type UserUpstream } from './helpers/upstream-idp.ts';
import { startSdkServer, type RunningSdkServer } from './helpers/sdk-server.ts';
import { validateConfig } from '../src/config/load.ts';

const MODERN = '2026-07-28';
let agents: TestIssuer;
let idp: UpstreamIdp;
let notes: UserUpstream;
let plain: RunningSdkServer;
let gh: TestGateway;
let dataDir: string;
/** Every token of the test: none may appear in a log line, the audit or a file in clear. */
const secrets = new Set<string>();

before(async () => {
  agents = await startTestIssuer();
  let notesUrl = '';
  idp = await startUpstreamIdp(() => notesUrl);
  notes = await startUserUpstream(() => idp.issuer);
  notesUrl = notes.url;
  plain = await startSdkServer('json');
  dataDir = tempDir();
  const auth = { type: 'oauth2', issuer: agents.issuer } as const;
  gh = await startTestGateway(
    {
      servers: { notes: { url: notes.url, auth: { type: 'oauth-user' } }, plain: { url: plain.url } },
      apis: [
        { name: 'all', path: '/all', servers: ['notes', 'plain'], auth },
        { name: 'picked', path: '/picked', tools: [{ server: 'notes', name: 'whoami', as: 'who' }, { server: 'plain', name: 'echo' }], auth },
      ],
    },
    { dataDir },
  );
});

after(async () => {
  await gh?.close();
  await plain?.close();
  await notes?.close();
  await idp?.close();
  await agents?.close();
});

interface Agent {
  client: Client;
  close(): Promise<void>;
}

async function agentFor(user: string, api: string): Promise<Agent> {
  const token = await agents.sign({ sub: user, aud: gh.url(api), scope: 'mcp' });
  secrets.add(token);
  const client = new Client({ name: 'federated-user', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url(api)), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return { client, close: () => client.close() };
}

async function toolNames(agent: Agent): Promise<string[]> {
  return (await agent.client.listTools()).tools.map((t) => t.name).sort();
}

async function textOf(agent: Agent, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await agent.client.callTool({ name, arguments: args });
  return (result.content as Array<{ text: string }>)[0]!.text;
}

/** The connect link of a call that needs the user at the member first (the SDK raises -32042). */
async function promptOf(agent: Agent, name: string): Promise<string> {
  try {
    await agent.client.callTool({ name, arguments: {} });
  } catch (error) {
    assert.ok(error instanceof McpError, String(error));
    assert.equal(error.code, -32042, error.message);
    const url = (error.data as { elicitations: Array<{ url: string }> }).elicitations[0]!.url;
    assert.ok(url.startsWith(`${gh.origin}/-/connect/notes?ticket=`), url);
    return url;
  }
  assert.fail(`calling ${name} did not prompt`);
}

async function connect(url: string, account: string): Promise<void> {
  idp.loginAs = account;
  const page = await followInBrowser(url);
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Connected/);
}

function rememberUpstreamTokens(): void {
  for (const header of notes.authorizations) if (header.startsWith('Bearer ')) secrets.add(header.slice('Bearer '.length));
}

test('a federated API: before connecting, the other member works and the per-user member is left out; its call prompts; after connecting, each user\'s calls carry their own token', { timeout: 60_000 }, async () => {
  const grace = await agentFor('grace', 'all');
  const heidi = await agentFor('heidi', 'all');
  try {
    const before = await toolNames(grace);
    assert.ok(before.includes('plain__echo'), before.join());
    assert.ok(!before.some((n) => n.startsWith('notes__')), 'the member is listed only once connected');
    assert.equal(await textOf(grace, 'plain__echo', { message: 'hi' }), 'Echo: hi');
    assert.ok(!notes.authorizations.some((h) => h.startsWith('Bearer ')), 'no token went to the member');

    const link = await promptOf(grace, 'notes__whoami');
    assert.equal(await textOf(grace, 'plain__echo', { message: 'still' }), 'Echo: still', 'the other member keeps working');
    await connect(link, 'grace-up');
    assert.equal(await textOf(grace, 'notes__whoami'), 'grace-up');
    assert.ok((await toolNames(grace)).includes('notes__whoami'), 'listed once connected');

    // Heidi's session never sees Grace's member session or token.
    assert.ok(!(await toolNames(heidi)).includes('notes__whoami'));
    await connect(await promptOf(heidi, 'notes__whoami'), 'heidi-up');
    assert.equal(await textOf(heidi, 'notes__whoami'), 'heidi-up');
    assert.equal(await textOf(grace, 'notes__whoami'), 'grace-up');
  } finally {
    await grace.close();
    await heidi.close();
  }
  rememberUpstreamTokens();
});

test('a session opened after another user connected the member (its initialize answered from what the servers said before) prompts on its very first call', { timeout: 60_000 }, async () => {
  const kim = await agentFor('kim', 'all');
  try {
    await connect(await promptOf(kim, 'notes__whoami'), 'kim-up');
    assert.equal(await textOf(kim, 'notes__whoami'), 'kim-up');
  } finally {
    await kim.close();
  }
  rememberUpstreamTokens();
});

test('a revoked connection is asked for again on the open federated session, and connecting again serves it', { timeout: 60_000 }, async () => {
  const grace = await agentFor('grace', 'all');
  try {
    assert.equal(await textOf(grace, 'notes__whoami'), 'grace-up');
    assert.equal((await gh.gateway.credentialConnections().revoke('grace', 'notes')).deleted, true);
    const link = await promptOf(grace, 'notes__whoami');
    assert.equal(await textOf(grace, 'plain__echo', { message: 'on' }), 'Echo: on');
    await connect(link, 'grace-up-2');
    assert.equal(await textOf(grace, 'notes__whoami'), 'grace-up-2');
  } finally {
    await grace.close();
  }
  rememberUpstreamTokens();
});

test('a virtual server with a per-user tool: the call prompts, then goes out with the user\'s own token', { timeout: 60_000 }, async () => {
  const ivan = await agentFor('ivan', 'picked');
  try {
    assert.deepEqual(await toolNames(ivan), ['echo']);
    assert.equal(await textOf(ivan, 'echo', { message: 'v' }), 'Echo: v');
    await connect(await promptOf(ivan, 'who'), 'ivan-up');
    assert.equal(await textOf(ivan, 'who'), 'ivan-up');
    assert.deepEqual(await toolNames(ivan), ['echo', 'who']);
  } finally {
    await ivan.close();
  }
  rememberUpstreamTokens();
});

test('a 2026-07-28 client of the federated API: the per-user member\'s call answers input_required with the connect link, the retry carries the user\'s token, the other member works meanwhile', { timeout: 60_000 }, async () => {
  const token = await agents.sign({ sub: 'judy', aud: gh.url('all'), scope: 'mcp' });
  secrets.add(token);
  const call = async (name: string, args: Record<string, unknown>, retry: Record<string, unknown> = {}) => {
    const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { url: {} } } };
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': name };
    const answer = await raw(gh.url('all'), { headers, body: { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name, arguments: args, ...retry, _meta: envelope } } });
    assert.equal(answer.status, 200, answer.text);
    return (answer.messages.at(-1) as { result: Record<string, unknown> & { content?: Array<{ text: string }> } }).result;
  };
  const first = await call('notes__whoami', {});
  assert.equal(first.resultType, 'input_required', JSON.stringify(first));
  const [[key, request]] = Object.entries(first.inputRequests as Record<string, { params: { url: string } }>) as [[string, { params: { url: string } }]];
  assert.equal((await call('plain__echo', { message: 'm' })).content![0]!.text, 'Echo: m');
  await connect(request.params.url, 'judy-up');
  const retried = await call('notes__whoami', {}, { inputResponses: { [key]: { action: 'accept' } }, requestState: first.requestState });
  assert.equal(retried.resultType, 'complete', JSON.stringify(retried));
  assert.equal(retried.content![0]!.text, 'judy-up');
  rememberUpstreamTokens();
});

test('config: a per-user member needs onUpstreamFailure omit and, in a federated API, namespace prefix always', () => {
  const base = { servers: { notes: { url: notes.url, auth: { type: 'oauth-user' } }, plain: { url: plain.url } } };
  assert.throws(() => validateConfig({ ...base, apis: [{ name: 'a', path: '/a', servers: ['notes', 'plain'], onUpstreamFailure: 'fail' }] }), /apis\[0\]\.onUpstreamFailure: expected omit/);
  assert.throws(() => validateConfig({ ...base, apis: [{ name: 'a', path: '/a', servers: ['notes', 'plain'], namespace: { prefix: 'conflicts' } }] }), /apis\[0\]\.namespace\.prefix: expected always/);
  validateConfig({ ...base, apis: [{ name: 'a', path: '/a', servers: ['notes', 'plain'] }] });
});

test('no upstream token reached an agent, a log line, the audit or a file of the data directory in clear', () => {
  rememberUpstreamTokens();
  const upstreamTokens = notes.authorizations.filter((h) => h.startsWith('Bearer ')).map((h) => h.slice(7));
  assert.ok(upstreamTokens.length >= 5);
  const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  assert.ok(files.some((e) => e.name === 'gatehouse.db'));
  const stored = files.map((e) => readFileSync(path.join(e.parentPath, e.name)));
  const logs = gh.logs.text();
  // A connect link is made only for a call that shows it: none for the members Gatehouse opened on its own.
  assert.equal(logs.split('\n').filter((line) => line.includes('sent a connect link')).length, 6, 'one per prompt the tests saw');
  for (const token of secrets) {
    for (const bytes of stored) assert.equal(bytes.indexOf(Buffer.from(token)), -1, 'a token is in a file of the data directory in clear');
    assert.ok(!logs.includes(token), 'a token is in the log');
  }
});
