// Tenants on the MCP path, against the real server-everything and the official SDK client: an
// agent (API key or JWT) of one tenant is refused on another tenant's API exactly as an unknown
// credential is, never reaches its sessions, and every audit record carries the API's tenant
// (filterable in the store's reader and the dashboard API).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { INIT_REQUEST, LOCAL_EGRESS, MCP_HEADERS, raw, rawSession, sessionHeaders, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { recordsWhen } from './helpers/audit-db.ts';

const ALICE_KEY = 'alice-acme-key-0123456789abcdef';
const GINA_KEY = 'gina-globex-key-0123456789abcdef';
const ADMIN_TOKEN = 'tenants-admin-token-0123456789';

let everything: RunningEverything;
let issuer: TestIssuer;
let gh: TestGateway;

before(async () => {
  everything = await startEverything();
  issuer = await startTestIssuer();
  const jwt = { type: 'jwt' as const, issuer: issuer.issuer, audience: 'gatehouse', jwksUrl: issuer.jwksUrl, principalClaim: 'client_id' };
  gh = await startTestGateway({
    tenants: [{ id: 'acme', name: 'Acme', pathPrefix: '/acme', egress: LOCAL_EGRESS }, { id: 'globex', egress: LOCAL_EGRESS }],
    servers: {
      'acme-everything': { url: `${everything.origin}/mcp`, tenant: 'acme' },
      'globex-everything': { url: `${everything.origin}/mcp`, tenant: 'globex' },
    },
    apis: [
      { name: 'acme-tools', path: '/acme/mcp', server: 'acme-everything', tenant: 'acme', auth: [{ type: 'api-key' }, jwt] },
      { name: 'globex-tools', path: '/globex/mcp', server: 'globex-everything', tenant: 'globex', auth: [{ type: 'api-key' }, jwt] },
    ],
    agents: [
      { id: 'alice', tenant: 'acme', apiKeys: [{ value: ALICE_KEY }] },
      { id: 'gina', tenant: 'globex', apiKeys: [{ value: GINA_KEY }] },
    ],
    admin: { token: ADMIN_TOKEN },
    metrics: { labels: { tenant: true } },
  });
});

after(async () => {
  await gh?.close();
  await issuer?.close();
  await everything?.close();
});

const bearer = (token: string) => ({ ...MCP_HEADERS, authorization: `Bearer ${token}` });

async function sdkClient(api: string, token: string): Promise<{ client: Client; close(): Promise<void> }> {
  const client = new Client({ name: 'tenant-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(gh.url(api)), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return { client, close: async () => (await transport.terminateSession().catch(() => undefined), await client.close()) };
}

test('an agent reaches its own tenant\'s API with the SDK client', async () => {
  const { client, close } = await sdkClient('acme-tools', ALICE_KEY);
  try {
    const result = await client.callTool({ name: 'echo', arguments: { message: 'acme' } });
    assert.equal((result.content as Array<{ text: string }>)[0]?.text, 'Echo: acme');
  } finally {
    await close();
  }
});

test('an agent\'s API key on another tenant\'s API is refused exactly as an unknown key (401, same challenge and body)', async () => {
  const foreign = await raw(gh.url('globex-tools'), { headers: bearer(ALICE_KEY), body: INIT_REQUEST });
  const unknown = await raw(gh.url('globex-tools'), { headers: bearer('never-issued-key-0123456789abcdef'), body: INIT_REQUEST });
  assert.equal(foreign.status, 401);
  assert.equal(foreign.status, unknown.status);
  assert.equal(foreign.headers.get('www-authenticate'), unknown.headers.get('www-authenticate'));
  assert.equal(foreign.text, unknown.text);
  // (The API's later jwt plan gets the unknown bearer token and says it is not a JWT.)
  assert.match(foreign.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  // The other way round too, and with the SDK client.
  await assert.rejects(sdkClient('acme-tools', GINA_KEY), /401|Unauthorized/);
});

test('a revoked or disabled agent of another tenant is still just unknown there (nothing tells it apart)', async () => {
  await gh.gateway.store.createAgent({ id: 'carl', name: undefined, labels: {}, tenant: 'globex', createdAt: Date.now(), disabled: true });
  const { digestKey, keyPrefix } = await import('../src/auth/api-key.ts');
  const key = 'carl-globex-disabled-key-0123456789';
  await gh.gateway.store.createApiKey({ id: 'key_carl', agentId: 'carl', hash: digestKey(key), prefix: keyPrefix(key), api: undefined, createdAt: Date.now(), expiresAt: undefined, revokedAt: Date.now(), lastUsedAt: undefined });
  const foreign = await raw(gh.url('acme-tools'), { headers: bearer(key), body: INIT_REQUEST });
  const unknown = await raw(gh.url('acme-tools'), { headers: bearer('never-issued-key-0123456789abcdef'), body: INIT_REQUEST });
  assert.equal(foreign.status, 401);
  assert.equal(foreign.headers.get('www-authenticate'), unknown.headers.get('www-authenticate'));
  assert.equal(foreign.text, unknown.text);
  const own = await raw(gh.url('globex-tools'), { headers: bearer(key), body: INIT_REQUEST });
  assert.match(own.headers.get('www-authenticate') ?? '', /error_description="API key revoked"/, 'on its own tenant\'s API the reason is given');
});

test('a session of one tenant\'s API is never served on another tenant\'s API, whoever asks (sealed with its API)', async () => {
  const sessionId = await rawSession(gh.url('acme-tools'), { authorization: `Bearer ${ALICE_KEY}` });
  const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
  const own = await raw(gh.url('acme-tools'), { headers: { ...sessionHeaders(sessionId), authorization: `Bearer ${ALICE_KEY}` }, body: listTools });
  assert.equal(own.status, 200);
  // Globex's agent with Acme's session id on Globex's API: the session does not exist there.
  const stolen = await raw(gh.url('globex-tools'), { headers: { ...sessionHeaders(sessionId), authorization: `Bearer ${GINA_KEY}` }, body: listTools });
  assert.equal(stolen.status, 404);
  // Globex's agent on Acme's API with the session id: refused before the session is looked at.
  const intruder = await raw(gh.url('acme-tools'), { headers: { ...sessionHeaders(sessionId), authorization: `Bearer ${GINA_KEY}` }, body: listTools });
  assert.equal(intruder.status, 401);
  // Acme's agent carrying its own session to Globex's API: refused as unknown.
  const carried = await raw(gh.url('globex-tools'), { headers: { ...sessionHeaders(sessionId), authorization: `Bearer ${ALICE_KEY}` }, body: listTools });
  assert.equal(carried.status, 401);
});

test('JWT: a token naming another tenant (claim) or another tenant\'s agent (subject) is refused; one of no tenant serves the API\'s', async () => {
  const foreignClaim = await issuer.sign({ aud: 'gatehouse', client_id: 'robot', tenant: 'globex' });
  const refused = await raw(gh.url('acme-tools'), { headers: bearer(foreignClaim), body: INIT_REQUEST });
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  assert.doesNotMatch(refused.text + (refused.headers.get('www-authenticate') ?? ''), /globex/, 'the refusal does not name the other tenant');
  // Exactly what a token for another audience gets (it used to say "not valid for this API").
  const elsewhere = await raw(gh.url('acme-tools'), { headers: bearer(await issuer.sign({ aud: 'another-api', client_id: 'robot' })), body: INIT_REQUEST });
  assert.equal(refused.headers.get('www-authenticate'), elsewhere.headers.get('www-authenticate'));
  assert.equal(refused.text, elsewhere.text);
  const foreignAgent = await raw(gh.url('acme-tools'), { headers: bearer(await issuer.sign({ aud: 'gatehouse', client_id: 'gina' })), body: INIT_REQUEST });
  assert.equal(foreignAgent.status, 401);
  assert.equal(foreignAgent.headers.get('www-authenticate'), elsewhere.headers.get('www-authenticate'));
  assert.equal(foreignAgent.text, elsewhere.text);
  const plain = await issuer.sign({ aud: 'gatehouse', client_id: 'robot' });
  const { client, close } = await sdkClient('acme-tools', plain);
  try {
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'echo'));
  } finally {
    await close();
  }
  const own = await issuer.sign({ aud: 'gatehouse', client_id: 'robot', tenant: 'acme' });
  assert.equal((await raw(gh.url('acme-tools'), { headers: bearer(own), body: INIT_REQUEST })).status, 200);
});

test('every audit record carries the API\'s tenant, refusals included; the reader and the dashboard API filter by it', async () => {
  const { client, close } = await sdkClient('globex-tools', GINA_KEY);
  try {
    await client.callTool({ name: 'echo', arguments: { message: 'globex' } });
  } finally {
    await close();
  }
  await raw(gh.url('globex-tools'), { headers: bearer(ALICE_KEY), body: INIT_REQUEST });
  const globex = await recordsWhen(gh.gateway, { tenant: 'globex' }, (events) => events.some((e) => e.target === 'echo') && events.some((e) => e.status === 401));
  assert.ok(globex.length > 0);
  assert.ok(globex.every((e) => e.tenant === 'globex' && e.api === 'globex-tools'));
  assert.ok(globex.some((e) => e.agent === 'gina' && e.target === 'echo'));
  const acme = await recordsWhen(gh.gateway, { tenant: 'acme' }, (events) => events.some((e) => e.agent === 'alice'));
  assert.ok(acme.length > 0 && acme.every((e) => e.tenant === 'acme' && e.api === 'acme-tools'));
  const all = await recordsWhen(gh.gateway, {}, () => true);
  assert.ok(all.every((e) => e.tenant === 'acme' || e.tenant === 'globex'), 'no record without a tenant');

  const response = await fetch(`${gh.gateway.admin!.url.replace(/\/$/, '')}/api/logs?tenant=globex`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(response.status, 200);
  const items = ((await response.json()) as { records: Array<{ tenant: string }> }).records;
  assert.ok(items.length > 0);
  assert.ok(items.every((e) => e.tenant === 'globex'));
});

test('with metrics.labels.tenant, request counts carry the API\'s tenant (off by default)', async () => {
  const { client, close } = await sdkClient('acme-tools', ALICE_KEY);
  try {
    await client.listTools();
  } finally {
    await close();
  }
  const text = await (await fetch(`${gh.gateway.admin!.url.replace(/\/$/, '')}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  const lines = text.split('\n').filter((l) => l.startsWith('gatehouse_requests_total{'));
  assert.ok(lines.some((l) => /api="acme-tools",method="tools\/list".*tenant="acme"/.test(l)), lines.join('\n'));
  assert.ok(lines.every((l) => /tenant="(acme|globex|unknown)"/.test(l)), lines.join('\n'));
});
