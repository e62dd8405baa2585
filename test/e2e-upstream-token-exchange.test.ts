// Token exchange end to end (auth: { type: token-exchange }): an enterprise authorization server
// (oidc-provider, with the RFC 8693 grant registered through its registerGrantType) issues users'
// tokens to the agents' application; the official SDK client presents them to Gatehouse (jwt plan,
// verified against the provider's JWKS); Gatehouse exchanges each for a token of the SDK-built
// upstream, naming the agent in a signed actor token (which the provider checks against the JWKS
// Gatehouse publishes); the upstream verifies it and reports the
// subject and actor it saw. Also: an API-key agent (refused, or under `anonymous: service` sent
// with Gatehouse's own client-credentials token for the upstream), a refused exchange, a stalled
// and an unreachable token endpoint, and no token in any log line or audit record.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { INIT_REQUEST, MCP_HEADERS, raw, startTestGateway, tempDir, type TestGateway } from './helpers/gatehouse.ts';
import { closedPort } from './helpers/http-peers.ts';
import { readAuditFile } from './helpers/audit-db.ts';
import { createRemoteJWKSet } from 'jose';
import { ACTOR_JWKS_PATH } from '../src/credentials/token-exchange/actor-jwks.ts';
import { AGENT_APP, GATEHOUSE_AUDIENCE, startEnterpriseIdp, startExchangeUpstream, type EnterpriseIdp, type ExchangeUpstream } from './helpers/enterprise-idp.ts';

const API_KEY = 'token-exchange-test-api-key-7d2b9c4e';
const CLIENT = { id: 'gatehouse', secret: 'token-exchange-client-secret-3e8f1a6b' };
const ACTOR_ISSUER = 'urn:gatehouse:test';
const actorKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ACTOR_PEM = actorKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let idp: EnterpriseIdp;
let upstream: ExchangeUpstream;
let gh: TestGateway;
let dataDir: string;
/** Every secret of the test: none may appear in a log line, an audit record or a file Gatehouse wrote. */
const secrets = new Set<string>([API_KEY, CLIENT.secret]);

before(async () => {
  let upstreamUrl = '';
  // The authorization server knows Gatehouse's actor key from the JWKS Gatehouse publishes.
  let actorJwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  const actorKey = () => (actorJwks ??= createRemoteJWKSet(new URL(`${gh.origin}${ACTOR_JWKS_PATH}`)));
  idp = await startEnterpriseIdp({ client: CLIENT, actorKey, actorIssuer: ACTOR_ISSUER, resource: () => upstreamUrl });
  upstream = await startExchangeUpstream(() => idp.issuer);
  upstreamUrl = upstream.url;
  dataDir = tempDir();
  const exchange = { type: 'token-exchange', tokenUrl: idp.tokenUrl, client: CLIENT, actor: { type: 'jwt', issuer: ACTOR_ISSUER, privateKey: ACTOR_PEM, keyId: 'gatehouse-actor-1' } } as const;
  const jwt = { type: 'jwt', issuer: idp.issuer, audience: GATEHOUSE_AUDIENCE, jwksUrl: idp.jwksUrl } as const;
  gh = await startTestGateway(
    {
      servers: {
        notes: { url: upstream.url, auth: exchange },
        // The same server with a short wait for the token endpoint, and with an endpoint nobody listens at.
        'notes-slow': { url: upstream.url, auth: { ...exchange, timeout: 1000 } },
        'notes-dead': { url: upstream.url, auth: { ...exchange, tokenUrl: `http://127.0.0.1:${await closedPort()}/token` } },
        // Agents without a user token go out as Gatehouse's own client (client credentials grant).
        'notes-service': { url: upstream.url, auth: { ...exchange, anonymous: 'service', scopes: ['mcp'] } },
      },
      agents: [{ id: 'bot', apiKeys: [{ value: API_KEY }] }],
      apis: [
        { name: 'notes', path: '/mcp', server: 'notes', auth: jwt },
        { name: 'keys', path: '/keys', server: 'notes', auth: { type: 'api-key' } },
        { name: 'slow', path: '/slow', server: 'notes-slow', auth: jwt },
        { name: 'dead', path: '/dead', server: 'notes-dead', auth: jwt },
        { name: 'svc', path: '/svc', server: 'notes-service', auth: jwt },
        { name: 'svc-keys', path: '/svc-keys', server: 'notes-service', auth: { type: 'api-key' } },
        { name: 'svc-open', path: '/svc-open', server: 'notes-service', auth: { type: 'keyless' } },
        { name: 'svc-fed', path: '/svc-fed', servers: ['notes-service'], auth: { type: 'api-key' } },
        // A federated API whose members exchange tokens (the same upstream twice, under two names).
        { name: 'fed', path: '/fed', servers: ['notes', 'notes-slow'], auth: jwt },
      ],
    },
    { dataDir },
  );
});

after(async () => {
  await gh?.close();
  await upstream?.close();
  await idp?.close();
});

interface Agent {
  client: Client;
  transport?: StreamableHTTPClientTransport;
  close(): Promise<void>;
}

/** The SDK client with `bearer` (a user's token, or an API key) on the API `api`. */
async function agentWith(bearer: string, api = 'notes'): Promise<Agent> {
  secrets.add(bearer);
  const client = new Client({ name: 'token-exchange-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(gh.url(api)), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } });
  await client.connect(transport);
  return { client, transport, close: () => client.close() };
}

async function agentFor(user: string, api = 'notes'): Promise<Agent> {
  return agentWith(await idp.userToken(user), api);
}

/** The SDK client on a keyless API. */
async function keylessAgent(api: string): Promise<Agent> {
  const client = new Client({ name: 'token-exchange-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url(api))));
  return { client, close: () => client.close() };
}

async function whoami(agent: Agent): Promise<{ sub: string; act: { sub: string }; client: string }> {
  const result = await agent.client.callTool({ name: 'whoami', arguments: {} });
  return JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as { sub: string; act: { sub: string }; client: string };
}

/** An initialize on `api` with `bearer`, over plain HTTP: the status and the JSON-RPC error, if any. */
async function initializeWith(bearer: string, api: string): Promise<{ status: number; error?: { code: number; message: string; data: { code: string } } }> {
  secrets.add(bearer);
  const answer = await raw(gh.url(api), { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${bearer}` }, body: INIT_REQUEST });
  const message = answer.messages[0] as { error?: { code: number; message: string; data: { code: string } } } | undefined;
  return { status: answer.status, ...(message?.error && { error: message.error }) };
}

test('the upstream sees the user as subject and the agent as actor, with a token issued for it', async () => {
  const alice = await agentFor('alice');
  try {
    const seen = await whoami(alice);
    assert.equal(seen.sub, 'alice');
    assert.deepEqual(seen.act, { sub: AGENT_APP }, 'the actor is the agent the user token was issued to');
    assert.equal(seen.client, CLIENT.id, 'issued to Gatehouse\'s client at the authorization server');
    assert.equal(idp.exchanges.get('alice'), 1);
  } finally {
    await alice.close();
  }
});

test('2026-07-28 clients bridged to this 2025 server: each user\'s bridged session carries a token exchanged for that user', async () => {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const bridged = async (user: string) => {
    const token = await idp.userToken(user);
    secrets.add(token);
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami' };
    const answer = await raw(gh.url('notes'), { headers, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {}, _meta: envelope } } });
    assert.equal(answer.status, 200, answer.text);
    const result = (answer.messages[0] as { result?: { resultType: string; content: Array<{ text: string }> } }).result;
    assert.equal(result?.resultType, 'complete', answer.text);
    return JSON.parse(result.content[0]!.text) as { sub: string; act: { sub: string } };
  };
  const judy = await bridged('judy');
  const kim = await bridged('kim');
  assert.equal(judy.sub, 'judy');
  assert.deepEqual(judy.act, { sub: AGENT_APP });
  assert.equal(kim.sub, 'kim');
  assert.equal((await bridged('judy')).sub, 'judy', 'each user stays on their own session');
});

test('a federated API: each member hop carries a token exchanged for the session\'s own user', async () => {
  const lee = await agentFor('lee', 'fed');
  const mia = await agentFor('mia', 'fed');
  try {
    const call = async (agent: Agent, name: string) => {
      const result = await agent.client.callTool({ name, arguments: {} });
      return JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as { sub: string; act: { sub: string } };
    };
    assert.equal((await call(lee, 'notes__whoami')).sub, 'lee');
    assert.equal((await call(mia, 'notes__whoami')).sub, 'mia');
    assert.equal((await call(lee, 'notes-slow__whoami')).sub, 'lee');
    assert.deepEqual((await call(mia, 'notes-slow__whoami')).act, { sub: AGENT_APP });
  } finally {
    await lee.close();
    await mia.close();
  }
});

test('Gatehouse publishes its actor key as a JWKS: public members only, with its kid and algorithm', async () => {
  const response = await fetch(`${gh.origin}${ACTOR_JWKS_PATH}`, { signal: AbortSignal.timeout(5000) });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/jwk-set+json');
  const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
  assert.equal(keys.length, 1, 'three servers share one key: published once');
  const [key] = keys;
  assert.deepEqual({ kty: key!.kty, crv: key!.crv, kid: key!.kid, alg: key!.alg, use: key!.use }, { kty: 'EC', crv: 'P-256', kid: 'gatehouse-actor-1', alg: 'ES256', use: 'sig' });
  assert.equal(key!.d, undefined, 'no private member');
  assert.deepEqual(Object.keys(key!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  assert.equal((await fetch(`${gh.origin}${ACTOR_JWKS_PATH}`, { method: 'POST', signal: AbortSignal.timeout(5000) })).status, 405);
});

test('two users get different tokens, each naming its own user', async () => {
  const alice = await agentFor('alice');
  const bob = await agentFor('bob');
  try {
    const before = upstream.authorizations.length;
    assert.equal((await whoami(alice)).sub, 'alice');
    const aliceHeader = upstream.authorizations.at(-1)!;
    assert.equal((await whoami(bob)).sub, 'bob');
    const bobHeader = upstream.authorizations.at(-1)!;
    assert.ok(upstream.authorizations.length > before);
    assert.notEqual(aliceHeader, bobHeader, 'each user\'s calls carry a token of their own');
    assert.equal(idp.exchanges.get('bob'), 1);
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
});

test('calls within the issued token\'s lifetime exchange nothing more: a second session, a new user token, concurrent calls', async () => {
  const before = idp.exchanges.get('alice');
  assert.equal(before, 1, 'alice exchanged once so far (initialize and calls of the first test)');
  // A new token of the same user for the same agent: the cache is per (subject, agent, server).
  const alice = await agentFor('alice');
  try {
    for (let i = 0; i < 3; i++) assert.equal((await whoami(alice)).sub, 'alice');
    assert.equal(idp.exchanges.get('alice'), 1);
  } finally {
    await alice.close();
  }
  // A user's first calls arriving together share one exchange.
  const dave = await Promise.all(Array.from({ length: 4 }, async () => agentWith(await idp.userToken('dave'))));
  try {
    const seen = await Promise.all(dave.map((agent) => whoami(agent)));
    assert.deepEqual(new Set(seen.map((s) => s.sub)), new Set(['dave']));
    assert.equal(idp.exchanges.get('dave'), 1, 'four sessions opened at once caused one exchange');
  } finally {
    await Promise.all(dave.map((agent) => agent.close()));
  }
});

test('an issued token is exchanged again once it is near its expiry', async () => {
  idp.exchangedTtl = 6; // used for half its life: 3 s from the exchange
  const started = Date.now();
  try {
    const carol = await agentFor('carol'); // the initialize makes the exchange, between started and connected
    const connected = Date.now();
    try {
      assert.equal((await whoami(carol)).sub, 'carol');
      assert.equal((await whoami(carol)).sub, 'carol');
      assert.ok(Date.now() - started < 2500, 'the calls ran well within the token\'s 3 s (a machine this slow cannot tell)');
      assert.equal(idp.exchanges.get('carol'), 1, 'the initialize and two calls: one exchange');
      await new Promise((resolve) => setTimeout(resolve, connected + 3300 - Date.now()));
      assert.equal((await whoami(carol)).sub, 'carol');
      assert.equal(idp.exchanges.get('carol'), 2, 'the aging token was replaced before use');
    } finally {
      await carol.close();
    }
  } finally {
    idp.exchangedTtl = 3600;
  }
});

test('an issued token the upstream refuses (401) is dropped: the call is retried once with a new exchange', async () => {
  const grace = await agentFor('grace');
  try {
    assert.equal((await whoami(grace)).sub, 'grace');
    const first = upstream.authorizations.at(-1)!.replace(/^Bearer /, '');
    assert.equal(idp.exchanges.get('grace'), 1);
    upstream.revoked.add(first);
    const before = upstream.authorizations.length;
    assert.equal((await whoami(grace)).sub, 'grace', 'the agent saw no failure');
    const sent = upstream.authorizations.slice(before).map((h) => h.replace(/^Bearer /, ''));
    assert.deepEqual(sent.length, 2, 'the refused token, then one retry');
    assert.equal(sent[0], first);
    assert.notEqual(sent[1], first);
    assert.equal(idp.exchanges.get('grace'), 2, 'one new exchange');
    assert.equal((await whoami(grace)).sub, 'grace');
    assert.equal(idp.exchanges.get('grace'), 2, 'the new token is cached in turn');
  } finally {
    await grace.close();
  }
});

test('an API-key agent has no user token to exchange: refused with a clear error', async () => {
  const answer = await initializeWith(API_KEY, 'keys');
  assert.equal(answer.status, 403);
  assert.equal(answer.error?.code, -32044);
  assert.equal(answer.error?.data.code, 'GH_UPSTREAM_USER_REQUIRED');
  assert.match(answer.error!.message, /Server "notes" is called with a token exchanged for the caller's own user token, and this agent presented none/);
});

test('anonymous: service: API-key and keyless agents reach the upstream as Gatehouse\'s client, for the upstream\'s audience, with one grant shared', async () => {
  assert.equal(idp.serviceGrants.length, 0);
  const exchangesBefore = [...idp.exchanges.values()].reduce((a, b) => a + b, 0);
  // Sessions opened at once: their initializes share one grant.
  const agents = await Promise.all([agentWith(API_KEY, 'svc-keys'), agentWith(API_KEY, 'svc-keys'), keylessAgent('svc-open'), keylessAgent('svc-open')]);
  try {
    for (const agent of agents) {
      for (let i = 0; i < 2; i++) {
        // Verified by the upstream: signed by the authorization server, audience its own URL.
        const seen = await whoami(agent);
        assert.equal(seen.client, CLIENT.id, 'issued to Gatehouse\'s client');
        assert.equal(seen.act, undefined, 'no actor: nobody acts for a user');
        assert.equal(seen.sub, CLIENT.id, 'no user: the subject is the client itself');
      }
    }
    assert.deepEqual(idp.serviceGrants, [{ resource: upstream.url, scope: 'mcp' }], 'one client credentials grant for four sessions and eight calls, for the upstream and the configured scopes');
    assert.equal([...idp.exchanges.values()].reduce((a, b) => a + b, 0), exchangesBefore, 'no token exchange for them');
    const sent = new Set(upstream.authorizations.slice(-8));
    assert.deepEqual(sent, new Set([`Bearer ${idp.serviceTokens[0]}`]), 'every call carried the one service token');
  } finally {
    await Promise.all(agents.map((agent) => agent.close()));
  }
  // The audit says which calls went out as the service identity.
  await gh.gateway.audit?.flush();
  const records = readAuditFile(path.join(dataDir, 'audit.db'));
  const calls = records.filter((r) => (r.api === 'svc-keys' || r.api === 'svc-open') && r.method === 'tools/call');
  assert.equal(calls.length, 8);
  for (const record of calls) assert.match(String(record.trace), /"policy":"upstream-identity".*to the server as Gatehouse's service identity \(client gatehouse\), not as a user/);
  assert.ok(calls.every((r) => r.decision === 'allowed' && r.rule === undefined), 'the note decides nothing');
  // The SDK client's standalone stream (GET) went out as the service identity as well.
  const streams = records.filter((r) => r.api === 'svc-keys' && r.method === 'GET');
  assert.ok(streams.length > 0, 'the GET streams were audited');
  for (const record of streams) assert.match(String(record.trace), /upstream-identity/, 'a GET stream record');
  assert.match(gh.logs.text(), /"identity":"service","client":"gatehouse".*obtained an upstream token/, 'the grant was logged as the service identity\'s');
});

test('anonymous: service: a 2026-07-28 client with an API key, bridged to this 2025 server, goes out as the service identity too', async () => {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const headers = { ...MCP_HEADERS, authorization: `Bearer ${API_KEY}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami' };
  const answer = await raw(gh.url('svc-keys'), { headers, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {}, _meta: envelope } } });
  assert.equal(answer.status, 200, answer.text);
  const result = (answer.messages[0] as { result?: { content: Array<{ text: string }> } }).result;
  const seen = JSON.parse(result!.content[0]!.text) as { sub: string; client: string; act?: unknown };
  assert.deepEqual([seen.sub, seen.client, seen.act], [CLIENT.id, CLIENT.id, undefined]);
  await gh.gateway.audit?.flush();
  const record = readAuditFile(path.join(dataDir, 'audit.db')).filter((r) => r.api === 'svc-keys' && r.method === 'tools/call').at(-1);
  assert.match(String(record?.trace), /upstream-identity/, 'the bridged call is marked too');
});

test('anonymous: service: a federated API\'s member hop goes out as the service identity too, and its audit records say so', async () => {
  const agent = await agentWith(API_KEY, 'svc-fed');
  let sessionId: string | undefined;
  try {
    const result = await agent.client.callTool({ name: 'notes-service__whoami', arguments: {} });
    const seen = JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as { sub: string; client: string; act?: unknown };
    assert.deepEqual([seen.sub, seen.client, seen.act], [CLIENT.id, CLIENT.id, undefined]);
    sessionId = agent.transport?.sessionId;
    // The session ended by the client (DELETE): that record carries the note too.
    await agent.transport?.terminateSession();
  } finally {
    await agent.close();
  }
  assert.ok(sessionId);
  await gh.gateway.audit?.flush();
  const records = readAuditFile(path.join(dataDir, 'audit.db')).filter((r) => r.api === 'svc-fed');
  const note = /"policy":"upstream-identity".*to the server as Gatehouse's service identity \(client gatehouse\), not as a user/;
  const call = records.find((r) => r.method === 'tools/call');
  assert.match(String(call?.trace), note, 'the call routed to the member');
  assert.equal(call?.server, 'notes-service');
  // Messages for no one member (initialize, a merged list) name the members that went as the service.
  const initialize = records.find((r) => r.method === 'initialize');
  assert.match(String(initialize?.trace), /notes-service: service identity \(client gatehouse\)/);
  const ended = records.find((r) => r.method === 'DELETE');
  assert.match(String(ended?.trace), /notes-service: service identity/, 'the DELETE record');
});

test('anonymous: service: a user-bearing agent on the same server still gets its own exchanged token', async () => {
  const grants = idp.serviceGrants.length;
  const nina = await agentFor('nina', 'svc');
  try {
    const seen = await whoami(nina);
    assert.equal(seen.sub, 'nina');
    assert.deepEqual(seen.act, { sub: AGENT_APP });
    assert.equal(idp.exchanges.get('nina'), 1);
    assert.equal(idp.serviceGrants.length, grants, 'no service token for a user');
  } finally {
    await nina.close();
  }
  await gh.gateway.audit?.flush();
  const mine = readAuditFile(path.join(dataDir, 'audit.db')).filter((r) => r.api === 'svc');
  assert.ok(mine.length > 0);
  for (const record of mine) assert.doesNotMatch(String(record.trace), /upstream-identity/, 'a user\'s call is not marked as the service identity\'s');
});

test('anonymous: service: a service token the upstream refuses (401) is dropped and fetched again once', async () => {
  const agent = await agentWith(API_KEY, 'svc-keys');
  try {
    await whoami(agent);
    const grants = idp.serviceGrants.length;
    const current = upstream.authorizations.at(-1)!.replace(/^Bearer /, '');
    assert.ok(idp.serviceTokens.includes(current));
    upstream.revoked.add(current);
    assert.equal((await whoami(agent)).client, CLIENT.id, 'the agent saw no failure');
    assert.equal(idp.serviceGrants.length, grants + 1, 'one new grant');
    await whoami(agent);
    assert.equal(idp.serviceGrants.length, grants + 1, 'the new token is cached in turn');
  } finally {
    await agent.close();
  }
});

test('an exchange the authorization server refuses (invalid_grant) is a clear 403, asked anew on the next call', async () => {
  idp.refused.add('mallory');
  try {
    const token = await idp.userToken('mallory');
    const answer = await initializeWith(token, 'notes');
    assert.equal(answer.status, 403);
    assert.equal(answer.error?.code, -32048);
    assert.equal(answer.error?.data.code, 'GH_TOKEN_EXCHANGE_REFUSED');
    assert.match(answer.error!.message, /Server "notes": the authorization server refused to exchange this user's token for it \(invalid_grant\)/);
    idp.refused.delete('mallory');
    assert.equal((await initializeWith(token, 'notes')).status, 200, 'a refusal is not cached');
  } finally {
    idp.refused.delete('mallory');
  }
});

test('a token endpoint that does not answer in time is a 504 after auth.timeout, and a later call works', async () => {
  const token = await idp.userToken('erin');
  idp.stall = true;
  let answer: Awaited<ReturnType<typeof initializeWith>>;
  const started = Date.now();
  try {
    answer = await initializeWith(token, 'slow');
  } finally {
    idp.stall = false;
  }
  const waited = Date.now() - started;
  assert.equal(answer.status, 504);
  assert.equal(answer.error?.code, -32016);
  assert.equal(answer.error?.data.code, 'GH_UPSTREAM_TIMEOUT');
  assert.match(answer.error!.message, /did not answer the token exchange within 1000 ms/);
  assert.ok(waited >= 900 && waited < 5000, `answered after ${waited} ms`);
  assert.equal((await initializeWith(token, 'slow')).status, 200, 'the timed-out exchange left nothing stuck');
});

test('an unreachable token endpoint is a 502 naming the server, at once', async () => {
  const started = Date.now();
  const answer = await initializeWith(await idp.userToken('frank'), 'dead');
  assert.equal(answer.status, 502);
  assert.equal(answer.error?.code, -32010);
  assert.equal(answer.error?.data.code, 'GH_UPSTREAM_UNAVAILABLE');
  assert.match(answer.error!.message, /Upstream "notes-dead" is unavailable: could not obtain upstream credential/);
  assert.ok(Date.now() - started < 5000);
});

test('no token passthrough, and no token in any log line, audit record or file Gatehouse wrote', async () => {
  for (const token of idp.tokens) secrets.add(token);
  // The actor key's base64 lines.
  for (const line of ACTOR_PEM.split('\n')) if (line.length > 40) secrets.add(line);
  // Gatehouse's era probes act for nobody and go without a token (''): every token sent is an exchanged one.
  const sent = upstream.authorizations.filter((h) => h !== '').map((h) => h.replace(/^Bearer /, ''));
  assert.ok(sent.length > 10);
  for (const token of sent) assert.ok(idp.exchanged.includes(token) || idp.serviceTokens.includes(token), 'every token the upstream got was issued by an exchange or to the service identity');
  assert.ok(idp.serviceTokens.length >= 2 && sent.some((t) => idp.serviceTokens.includes(t)));
  for (const token of idp.userTokens) assert.ok(!sent.includes(token), 'a user\'s own token reached the upstream');
  await gh.gateway.audit?.flush();
  const auditFile = path.join(dataDir, 'audit.db');
  const records = readAuditFile(auditFile).map((record) => JSON.stringify(record));
  assert.ok(records.length > 10, 'the calls were audited');
  const files = readdirSync(dataDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name)));
  const logs = gh.logs.text();
  assert.match(logs, /exchanged a user's token for the upstream/, 'the exchanges were logged (without their tokens)');
  for (const secret of secrets) {
    assert.ok(!logs.includes(secret), 'a secret is in the log');
    for (const record of records) assert.ok(!record.includes(secret), 'a secret is in an audit record');
    for (const bytes of files) assert.equal(bytes.indexOf(Buffer.from(secret)), -1, 'a secret is in a file of the data directory');
  }
});
