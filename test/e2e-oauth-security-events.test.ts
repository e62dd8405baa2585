// The authorization server's security events: client registrations, tokens issued, refreshes,
// revocations, replayed codes and reused refresh tokens are logged and recorded in the audit log
// (as records with feature "auth"), naming the client, the user, the API and the address, never
// a token. Dynamic registration, which anyone can reach, is bounded: metadata size, attempts per
// address, and clients that never complete an authorization expire.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pkcePair, playUser, registerClient, startOAuthGateway, tokenRequest, USER, type OAuthSetup } from './helpers/oauth-flow.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { tempDir } from './helpers/gatehouse.ts';
import type { AuditEvent } from '../src/audit/event.ts';

const REDIRECT = 'http://127.0.0.1:9995/callback';
let setup: OAuthSetup;
let origin: string;

before(async () => {
  setup = await startOAuthGateway();
  origin = setup.gh.origin;
});
after(async () => {
  await setup?.close();
});

async function tokensFor(clientId: string): Promise<{ access: string; refresh: string; code: string; verifier: string }> {
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'mcp offline_access', resource: setup.url, state: crypto.randomUUID() });
  const { final } = await playUser(`${origin}/oauth/authorize?${query}`);
  const code = final.searchParams.get('code')!;
  const answer = await tokenRequest(origin, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource: setup.url });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return { access: String(answer.body.access_token), refresh: String(answer.body.refresh_token), code, verifier };
}

function revoke(clientId: string, token: string): Promise<Response> {
  return fetch(`${origin}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: clientId }).toString() });
}

test('registrations, refreshes, revocations, code replays and refresh-token reuse are logged and audited (none were)', async () => {
  const userId = (await setup.gh.gateway.store.getUserByName(USER.username))!.id;
  const clientId = await registerClient(origin, { client_name: 'Audited App', redirect_uris: [REDIRECT], scope: 'mcp offline_access' });
  const refused = await fetch(`${origin}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['javascript:alert(1)'] }) });
  assert.equal(refused.status, 400);

  const first = await tokensFor(clientId);
  const refreshed = await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: first.refresh, client_id: clientId });
  assert.equal(refreshed.status, 200);
  const reused = await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: first.refresh, client_id: clientId });
  assert.equal(reused.body.error, 'invalid_grant');

  const second = await tokensFor(clientId);
  const replay = await tokenRequest(origin, { grant_type: 'authorization_code', code: second.code, code_verifier: second.verifier, client_id: clientId, redirect_uri: REDIRECT, resource: setup.url });
  assert.equal(replay.body.error, 'invalid_grant');

  const third = await tokensFor(clientId);
  assert.equal((await revoke(clientId, third.access)).status, 200);
  assert.equal((await revoke(clientId, third.refresh)).status, 200);

  const kinds = ['client-registered', 'registration-refused', 'tokens-issued', 'token-refreshed', 'refresh-token-reused', 'code-replayed', 'token-revoked'];
  const records = await recordsWhen(setup.gh.gateway, {}, (events) => kinds.every((k) => events.some((e) => e.feature === 'auth' && e.target === k)) && events.filter((e) => e.target === 'token-revoked').length === 2);
  const auth = records.filter((e) => e.feature === 'auth');
  const one = (kind: string): AuditEvent => {
    const found = auth.filter((e) => e.target === kind && (kind === 'registration-refused' || e.agent === clientId));
    assert.ok(found.length >= 1, `${kind}: ${JSON.stringify(auth.map((e) => [e.target, e.agent]))}`);
    return found[0]!;
  };
  const pick = <K extends keyof AuditEvent>(e: AuditEvent, ...keys: K[]) => Object.fromEntries(keys.map((k) => [k, e[k]]));
  const shape = ['api', 'agent', 'user', 'method', 'decision', 'status', 'clientAddress'] as const;
  assert.deepEqual(pick(one('client-registered'), ...shape), { api: '(authorization server)', agent: clientId, user: undefined, method: '/oauth/register', decision: 'allowed', status: 201, clientAddress: '127.0.0.1' });
  assert.match(one('client-registered').reason!, /"Audited App".*127\.0\.0\.1:9995\/callback/);
  assert.deepEqual(pick(one('registration-refused'), 'api', 'agent', 'method', 'decision', 'status', 'rule'), { api: '(authorization server)', agent: '(unauthenticated)', method: '/oauth/register', decision: 'denied', status: 400, rule: 'authorization-server:registration-refused' });
  assert.match(one('registration-refused').reason!, /javascript:/);
  for (const [kind, decision, status, method] of [
    ['tokens-issued', 'allowed', 200, '/oauth/token'],
    ['token-refreshed', 'allowed', 200, '/oauth/token'],
    ['refresh-token-reused', 'denied', 400, '/oauth/token'],
    ['code-replayed', 'denied', 400, '/oauth/token'],
    ['token-revoked', 'allowed', 200, '/oauth/revoke'],
  ] as const) {
    assert.deepEqual(pick(one(kind), ...shape), { api: 'everything', agent: clientId, user: userId, method, decision, status, clientAddress: '127.0.0.1' }, kind);
  }
  assert.deepEqual(auth.filter((e) => e.target === 'token-revoked').map((e) => e.reason).sort(), ['access token revoked', 'refresh token revoked: its grant ended, with its access tokens']);

  // The log has each of them, the alarming ones at warn; no token appears in the log or the audit.
  const logged = setup.gh.logs.lines.filter((l) => typeof l.event === 'object' && l.event !== null) as Array<{ level: number; event: { kind: string } }>;
  for (const kind of kinds) assert.ok(logged.some((l) => l.event.kind === kind), `logged: ${kind}`);
  for (const kind of ['registration-refused', 'refresh-token-reused', 'code-replayed']) assert.ok(logged.filter((l) => l.event.kind === kind).every((l) => l.level === 40), `${kind} at warn`);
  const everything = setup.gh.logs.text() + JSON.stringify(records);
  for (const secret of [first.access, first.refresh, second.code, third.access, third.refresh, String(refreshed.body.refresh_token)]) {
    assert.ok(!everything.includes(secret), 'no token, code or secret is logged or audited');
  }
});

test('dynamic registration is bounded: metadata size (413), registrations per address (429), clients that never complete an authorization expire', async () => {
  const dataDir = tempDir();
  const limits = { trustProxy: true, authorizationServer: { registration: { maxMetadataBytes: '2kb', perAddress: 3, window: '1h', unusedClientTtl: '1h' } } };
  const bounded = await startOAuthGateway(limits, { dataDir });
  const at = bounded.gh.origin;
  try {
    const register = (body: Record<string, unknown>, forwardedFor?: string) =>
      fetch(`${at}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
        body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', ...body }),
      });
    const huge = await register({ client_name: 'x'.repeat(3000) });
    assert.equal(huge.status, 413);
    assert.deepEqual(await huge.json(), { error: 'invalid_client_metadata', error_description: 'client metadata larger than 2048 bytes' });
    const used = (await (await register({ client_name: 'used' })).json()) as { client_id: string };
    const unused = (await (await register({ client_name: 'unused' })).json()) as { client_id: string };
    const limited = await register({ client_name: 'one too many' });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 3000, 'retry after most of the hour');
    assert.equal(((await limited.json()) as { error: string }).error, 'too_many_requests');
    // Behind the trusted proxy, the address the proxy saw counts: another client has its own
    // allowance, and a forged first X-Forwarded-For entry does not make a new one.
    assert.equal((await register({}, '203.0.113.7')).status, 201);
    assert.equal((await register({}, '198.51.100.1, 127.0.0.1')).status, 429);

    // One client completes an authorization, the other never does.
    const { verifier, challenge } = await pkcePair();
    const authorize = (origin: string, clientId: string) =>
      `${origin}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', resource: bounded.url, state: crypto.randomUUID() })}`;
    const { final } = await playUser(authorize(at, used.client_id));
    const exchanged = await tokenRequest(at, { grant_type: 'authorization_code', code: final.searchParams.get('code')!, code_verifier: verifier, client_id: used.client_id, redirect_uri: REDIRECT, resource: bounded.url });
    assert.equal(exchanged.status, 200);
    assert.ok((await bounded.gh.gateway.store.getOAuthClient(used.client_id))?.usedAt, 'its first use is recorded');

    // An hour and a minute later (the records are aged in the store): the unused client is
    // refused at once, and deleted by the next pruning (a freshly started node prunes first thing).
    const store = bounded.gh.gateway.store;
    for (const id of [used.client_id, unused.client_id]) {
      const record = (await store.getOAuthClient(id))!;
      await store.saveOAuthClient({ ...record, createdAt: record.createdAt - 61 * 60_000 });
    }
    const gone = await fetch(authorize(at, unused.client_id), { redirect: 'manual' });
    assert.equal(gone.status, 400);
    assert.match(await gone.text(), /unknown client_id/);
    assert.equal((await fetch(authorize(at, used.client_id), { redirect: 'manual' })).status, 303, 'the client that completed an authorization stays');

    // Another node on the same store (one running Gatehouse per data directory).
    const next = await startOAuthGateway({ ...limits, store: { type: 'sqlite', file: path.join(dataDir, 'gatehouse.db') } }, { dataDir: tempDir() });
    try {
      assert.equal((await fetch(`${next.gh.origin}/.well-known/oauth-authorization-server`)).status, 200);
      const deleted = await waitFor(async () => (await store.getOAuthClient(unused.client_id)) === undefined);
      assert.ok(deleted, 'the unused client was deleted from the store');
      assert.ok(await store.getOAuthClient(used.client_id));
      assert.ok(next.gh.logs.lines.some((l) => (l.event as { kind?: string } | undefined)?.kind === 'clients-expired'), 'the expiry is logged');
    } finally {
      await next.close();
    }
  } finally {
    await bounded.close();
  }
});

/** Polls `condition` every 50 ms for up to 5 s. */
async function waitFor(condition: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
