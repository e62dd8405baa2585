// The management API on users' grants, on a managed-mode Gatehouse with an API on the embedded
// authorization server: GET /users/{name}/grants lists what a person authorized (any role, never
// a token); DELETE /users/{name}/grants/{id} (admins and owners) ends one, and its tokens are
// refused at once; DELETE /users/{name}/grants ends all. A tenant's token does not reach another
// tenant's user (404), a viewer's changes nothing (403), bad paths and ids are 4xx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { LOCAL_EGRESS, startEverything, type RunningEverything } from './helpers/gatehouse.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { pkcePair, playUser, registerClient, tokenRequest } from './helpers/oauth-flow.ts';
import { createUser } from '../src/authserver/users.ts';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:45151/cb';
let gh: ManagedGatehouse;
let everything: RunningEverything;
const tokens = { viewer: '', acmeAdmin: '' };

before(async () => {
  everything = await startEverything();
  gh = await startManaged();
  assert.equal((await gh.call('POST', '/api/v1/tenants', { body: { id: 'acme', name: 'acme', egress: LOCAL_EGRESS } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp` } })).status, 201);
  const api = await gh.call('POST', '/api/v1/apis', { body: { name: 'tools', path: '/mcp', server: 'everything', auth: { type: 'oauth2' } } });
  assert.equal(api.status, 201, JSON.stringify(api.body));
  assert.equal((await gh.call('POST', '/api/v1/deployments', { body: { comment: 'an API on the embedded authorization server' } })).status, 201);
  await createUser(gh.gateway.store, 'pat', PASSWORD);
  tokens.viewer = String((await gh.call('POST', '/api/v1/tokens', { body: { name: 'viewer', role: 'viewer' } })).body.token);
  tokens.acmeAdmin = String((await gh.call('POST', '/api/v1/tokens', { body: { name: 'acme admin', role: 'admin', tenant: 'acme' } })).body.token);
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

async function mcpStatus(token: string): Promise<number> {
  const response = await fetch(gh.mcpUrl('/mcp'), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  await response.body?.cancel();
  return response.status;
}

async function authorize(clientId: string): Promise<{ access: string; refresh: string; id: string }> {
  const origin = gh.gateway.baseUrl();
  const resource = gh.mcpUrl('/mcp');
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'mcp offline_access', resource });
  const { final } = await playUser(`${origin}/oauth/authorize?${query}`, { username: 'pat', password: PASSWORD });
  const answer = await tokenRequest(origin, { grant_type: 'authorization_code', code: final.searchParams.get('code')!, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const access = String(answer.body.access_token);
  return { access, refresh: String(answer.body.refresh_token), id: String(decodeJwt(access).grant_id) };
}

test('grants are listed (viewer too), one is revoked by an admin and its tokens are refused at once, then all; scoping and bad input', async () => {
  const clientId = await registerClient(gh.gateway.baseUrl(), { client_name: 'Managed App', redirect_uris: [REDIRECT], scope: 'mcp offline_access' });
  const one = await authorize(clientId);
  const two = await authorize(clientId);
  assert.equal(await mcpStatus(one.access), 200);

  const listed = await gh.call('GET', '/api/v1/users/pat/grants', { token: tokens.viewer });
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  const items = listed.body.items as Array<Record<string, unknown>>;
  assert.deepEqual(new Set(items.map((g) => g.id)), new Set([one.id, two.id]));
  const first = items.find((g) => g.id === one.id)!;
  assert.deepEqual(Object.keys(first).sort(), ['api', 'clientId', 'clientName', 'createdAt', 'expiresAt', 'id', 'idp', 'lastUsedAt', 'resource', 'scopes']);
  assert.equal(first.clientId, clientId);
  assert.equal(first.clientName, 'Managed App');
  assert.equal(first.api, 'tools');
  assert.equal(first.resource, gh.mcpUrl('/mcp'));
  assert.deepEqual(first.scopes, ['mcp', 'offline_access']);
  assert.ok((first.expiresAt as number) > Date.now());
  assert.ok(!JSON.stringify(listed.body).includes(one.refresh), 'never a token');

  // Who may: a viewer reads only, another tenant's admin does not see the user at all.
  assert.equal((await gh.call('DELETE', `/api/v1/users/pat/grants/${one.id}`, { token: tokens.viewer })).status, 403);
  assert.equal((await gh.call('GET', '/api/v1/users/pat/grants', { token: tokens.acmeAdmin })).status, 404);
  assert.equal((await gh.call('DELETE', `/api/v1/users/pat/grants/${one.id}`, { token: tokens.acmeAdmin })).status, 404);
  assert.equal(await mcpStatus(one.access), 200);

  // Bad input: 4xx, never a crash.
  assert.equal((await gh.call('DELETE', '/api/v1/users/pat/grants/not-a-grant')).status, 404);
  assert.equal((await gh.call('DELETE', '/api/v1/users/nobody/grants/' + one.id)).status, 404);
  assert.equal((await gh.call('GET', `/api/v1/users/pat/grants/${one.id}`)).status, 405);
  assert.equal((await gh.call('PUT', '/api/v1/users/pat/grants', { body: {} })).status, 405);
  assert.equal((await gh.call('GET', `/api/v1/users/pat/grants/${one.id}/more`)).status, 404);

  const revoked = await gh.call('DELETE', `/api/v1/users/pat/grants/${one.id}`);
  assert.equal(revoked.status, 204, JSON.stringify(revoked.body));
  assert.equal(await mcpStatus(one.access), 401);
  assert.equal((await tokenRequest(gh.gateway.baseUrl(), { grant_type: 'refresh_token', refresh_token: one.refresh, client_id: clientId })).body.error, 'invalid_grant');
  assert.equal(await mcpStatus(two.access), 200);
  assert.equal((await gh.call('DELETE', `/api/v1/users/pat/grants/${one.id}`)).status, 404);
  assert.deepEqual(((await gh.call('GET', '/api/v1/users/pat/grants')).body.items as Array<{ id: string }>).map((g) => g.id), [two.id]);

  const all = await gh.call('DELETE', '/api/v1/users/pat/grants');
  assert.equal(all.status, 200);
  assert.deepEqual(all.body, { revoked: 1 });
  assert.equal(await mcpStatus(two.access), 401);
  assert.deepEqual((await gh.call('GET', '/api/v1/users/pat/grants')).body.items, []);

  const userId = (await gh.gateway.store.getUserByName('pat'))!.id;
  const records = await recordsWhen(gh.gateway, {}, (events) => events.filter((e) => e.target === 'grant-revoked').length >= 2);
  const events = records.filter((e) => e.target === 'grant-revoked');
  assert.equal(events.length, 2);
  for (const e of events) {
    assert.equal(e.user, userId);
    assert.equal(e.agent, clientId);
    assert.match(e.reason ?? '', /revoked by admin admin-token \(management API\)/);
  }
});
