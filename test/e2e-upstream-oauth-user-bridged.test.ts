// Per-user upstream OAuth for 2026-07-28 clients of a 2025 server, bridged (auth: oauth-user):
// the bridged upstream session is opened and used with the caller's own token. The upstream is
// an SDK-built 2025 server that verifies each token against oidc-provider (its authorization
// server) and says whose it is; the agents are two users of a second issuer speaking 2026-07-28
// over raw HTTP. The test plays each person through the connect link over HTTP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MCP_HEADERS, raw, startTestGateway, tempDir, type TestGateway } from './helpers/gatehouse.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { followInBrowser, type UpstreamIdp, type UserUpstream, startIdpWithUpstream } from './helpers/upstream-idp.ts';

const MODERN = '2026-07-28';
const API_KEY = 'oauth-user-bridged-api-key-7d2b41c9';
let agents: TestIssuer;
let idp: UpstreamIdp;
let upstream: UserUpstream;
let gh: TestGateway;
let dataDir: string;
/** Every token of the test (agents' and upstream's): none may appear in a log, the audit or the store in clear. */
const secrets = new Set<string>([API_KEY]);

before(async () => {
  agents = await startTestIssuer();
  ({ idp, upstream } = await startIdpWithUpstream());
  dataDir = tempDir();
  gh = await startTestGateway(
    {
      servers: { notes: { url: upstream.url, auth: { type: 'oauth-user' } } },
      agents: [{ id: 'bot', apiKeys: [{ value: API_KEY }] }],
      apis: [
        { name: 'notes', path: '/mcp', server: 'notes', auth: { type: 'oauth2', issuer: agents.issuer } },
        { name: 'keys', path: '/keys', server: 'notes', auth: { type: 'api-key' } },
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

interface Answer {
  result?: Record<string, unknown> & { content?: Array<{ text: string }> };
  error?: { code: number; message: string };
}

interface Prompt {
  key: string;
  url: string;
  requestState: string;
}

async function agentToken(user: string): Promise<string> {
  const token = await agents.sign({ sub: user, aud: gh.url('notes'), scope: 'mcp' });
  secrets.add(token);
  return token;
}

/** A 2026-07-28 `tools/call whoami` (no session: everything rides in the request). */
async function whoami(token: string, retry: Record<string, unknown> = {}, api = 'notes'): Promise<{ status: number; answer: Answer; text: string }> {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { url: {} } }, 'io.modelcontextprotocol/clientInfo': { name: 'bridged-user', version: '1' } };
  const headers = { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'whoami' };
  const response = await raw(gh.url(api), { headers, body: { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'whoami', arguments: {}, ...retry, _meta: envelope } } });
  return { status: response.status, answer: response.messages.at(-1) as Answer, text: response.text };
}

/** The connect prompt of an `input_required` answer. */
function promptOf(answer: Answer): Prompt {
  assert.equal(answer.error, undefined, JSON.stringify(answer.error));
  assert.equal(answer.result?.resultType, 'input_required', JSON.stringify(answer));
  const requests = answer.result!.inputRequests as Record<string, { method: string; params: { mode: string; url: string } }>;
  const entries = Object.entries(requests);
  assert.equal(entries.length, 1);
  const [key, request] = entries[0]!;
  assert.equal(request.method, 'elicitation/create');
  assert.equal(request.params.mode, 'url');
  assert.ok(request.params.url.startsWith(`${gh.origin}/-/connect/notes?ticket=`), request.params.url);
  return { key, url: request.params.url, requestState: String(answer.result!.requestState) };
}

/** The person opens the link and signs in at the upstream as `account`. */
async function connect(url: string, account: string): Promise<void> {
  idp.loginAs = account;
  const page = await followInBrowser(url);
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Connected/);
}

/** The retry of a prompt once the person connected. */
function retryOf(prompt: Prompt): Record<string, unknown> {
  return { inputResponses: { [prompt.key]: { action: 'accept' } }, requestState: prompt.requestState };
}

function textOf(answer: Answer): string {
  assert.equal(answer.error, undefined, JSON.stringify(answer.error));
  assert.equal(answer.result?.resultType, 'complete', JSON.stringify(answer));
  return answer.result!.content![0]!.text;
}

function rememberUpstreamTokens(): void {
  for (const header of upstream.authorizations) if (header.startsWith('Bearer ')) secrets.add(header.slice('Bearer '.length));
}

test('two users through the bridge: each gets input_required with a connect link first, then their own upstream token on their own bridged session', { timeout: 60_000 }, async () => {
  const grace = await agentToken('grace');
  const heidi = await agentToken('heidi');

  const first = await whoami(grace);
  assert.equal(first.status, 200, first.text);
  const gracePrompt = promptOf(first.answer);
  assert.ok(!upstream.authorizations.some((h) => h.startsWith('Bearer ')), 'no token went upstream before the person connected');

  // A retry before the person connected: asked again, with a new link.
  const early = await whoami(grace, retryOf(gracePrompt));
  assert.equal(early.status, 200, early.text);
  promptOf(early.answer);

  await connect(gracePrompt.url, 'grace-up');
  assert.equal(textOf((await whoami(grace, retryOf(gracePrompt))).answer), 'grace-up');

  // Another user is never served on grace's session or with her token.
  const heidiPrompt = promptOf((await whoami(heidi)).answer);
  await connect(heidiPrompt.url, 'heidi-up');
  assert.equal(textOf((await whoami(heidi, retryOf(heidiPrompt))).answer), 'heidi-up');
  assert.equal(textOf((await whoami(grace)).answer), 'grace-up');
  assert.equal(textOf((await whoami(heidi)).answer), 'heidi-up');
  rememberUpstreamTokens();
  const opened = gh.logs.text().split('\n').filter((line) => line.includes('opened a bridged upstream session'));
  assert.equal(opened.length, 2, 'one bridged session per user (a prompt on initialize opens none)');
});

test('server/discover of a user who has not connected yet gets the connect prompt too: the bridge answers it from the server\'s initialize, which needs the user\'s token', async () => {
  const token = await agentToken('judy');
  const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
  const headers = { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' };
  const response = await raw(gh.url('notes'), { headers, body: { jsonrpc: '2.0', id: 2, method: 'server/discover', params: { _meta: envelope } } });
  assert.equal(response.status, 200, response.text);
  promptOf(response.messages.at(-1) as Answer);
});

test('a short-lived upstream token is refreshed under the bridged session, which keeps serving its user', { timeout: 60_000 }, async () => {
  const ivan = await agentToken('ivan');
  const prompt = promptOf((await whoami(ivan)).answer);
  idp.accessTokenTtl = 3;
  try {
    await connect(prompt.url, 'ivan-up');
  } finally {
    idp.accessTokenTtl = 3600;
  }
  assert.equal(textOf((await whoami(ivan, retryOf(prompt))).answer), 'ivan-up');
  const refreshes = idp.counts.refreshGrants;
  const firstToken = upstream.authorizations.at(-1);
  // Past the token's use-until time: the next call waits for a refresh on the same session.
  await new Promise((resolve) => setTimeout(resolve, 3_200));
  assert.equal(textOf((await whoami(ivan)).answer), 'ivan-up');
  assert.ok(idp.counts.refreshGrants > refreshes, 'the token was refreshed');
  assert.notEqual(upstream.authorizations.at(-1), firstToken, 'the refreshed token went upstream');
  rememberUpstreamTokens();
});

test('a revoked connection is asked for again through the bridge, and connecting again serves the retry', { timeout: 60_000 }, async () => {
  const grace = await agentToken('grace');
  assert.equal(textOf((await whoami(grace)).answer), 'grace-up');
  const outcome = await gh.gateway.credentialConnections().revoke('grace', 'notes');
  assert.equal(outcome.deleted, true);
  const prompt = promptOf((await whoami(grace)).answer);
  await connect(prompt.url, 'grace-up-2');
  assert.equal(textOf((await whoami(grace, retryOf(prompt))).answer), 'grace-up-2');
  rememberUpstreamTokens();
});

test('an agent acting for no user (an API key) is refused with 403 (-32044) through the bridge, and nothing goes upstream', async () => {
  const seen = upstream.authorizations.length;
  const response = await whoami(API_KEY, {}, 'keys');
  assert.equal(response.status, 403, response.text);
  assert.equal(response.answer.error?.code, -32044);
  assert.match(response.answer.error!.message, /acts for no user/);
  assert.ok(upstream.authorizations.slice(seen).every((h) => h === ''), 'nothing but unauthenticated probes reached the upstream');
});

test('the agent never sees an upstream token; none is in the log, the audit or the store in clear', async () => {
  rememberUpstreamTokens();
  const upstreamTokens = upstream.authorizations.filter((h) => h.startsWith('Bearer ')).map((h) => h.slice(7));
  assert.ok(upstreamTokens.length >= 4);
  const agentTokens = [...secrets].filter((s) => !upstreamTokens.includes(s));
  for (const header of upstream.authorizations) for (const token of agentTokens) assert.ok(!header.includes(token), 'an agent credential reached the upstream');
  const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  assert.ok(files.some((e) => e.name === 'gatehouse.db'));
  const stored = files.map((e) => readFileSync(path.join(e.parentPath, e.name)));
  const logs = gh.logs.text();
  for (const token of secrets) {
    for (const bytes of stored) assert.equal(bytes.indexOf(Buffer.from(token)), -1, 'a token is in a file of the data directory in clear');
    assert.ok(!logs.includes(token), 'a token is in the log');
  }
});
