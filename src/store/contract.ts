// The behaviour every Store must show, as node:test tests. A backend's test file calls
// storeContract() with a function that opens a fresh store; all tests share that one store and
// use their own ids, so they also pass on a database that already holds data.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AgentRecord, ApiKeyRecord, Store, UserRecord } from './store.ts';
import { StoreConstraintError } from './errors.ts';

const T0 = 1_700_000_000_000; // beyond 32 bits, to catch lossy integer columns
const HOUR = 3_600_000;

function uid(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

function agent(over: Partial<AgentRecord> = {}): AgentRecord {
  return { id: uid('agent'), name: undefined, labels: {}, tenant: undefined, createdAt: T0, disabled: false, ...over };
}

function apiKey(agentId: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const hash = randomUUID().replace(/-/g, '').repeat(2);
  return {
    id: uid('key'),
    agentId,
    hash,
    prefix: 'gh_' + hash.slice(0, 6),
    api: undefined,
    createdAt: T0,
    expiresAt: undefined,
    revokedAt: undefined,
    lastUsedAt: undefined,
    ...over,
  };
}

function user(over: Partial<UserRecord> = {}): UserRecord {
  const passwordHash = 'scrypt$16384$8$1$c2FsdA$aGFzaA';
  return { id: uid('user'), username: uid('name'), passwordHash, createdAt: T0, disabled: false, ...over };
}

const isConstraint = (reason: StoreConstraintError['reason']) => (err: unknown) =>
  err instanceof StoreConstraintError && err.reason === reason;

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });

    test('agents: create and read back every field', async () => {
      const labels = { team: 'payments', tier: 'gold' };
      const full = agent({ name: 'Billing bot', labels, tenant: 'acme', createdAt: T0 + 5, disabled: true });
      const bare = agent();
      await store.createAgent(full);
      await store.createAgent(bare);
      assert.deepEqual(await store.getAgent(full.id), full);
      assert.deepEqual(await store.getAgent(bare.id), bare);
      assert.equal(await store.getAgent(uid('missing')), undefined);
    });

    test('agents: a second create with the same id is refused', async () => {
      const a = agent();
      await store.createAgent(a);
      await assert.rejects(store.createAgent({ ...a, name: 'other' }), isConstraint('duplicate'));
      assert.deepEqual(await store.getAgent(a.id), a);
    });

    test('agents: upsert inserts, then replaces but keeps createdAt and the keys', async () => {
      const a = agent({ name: 'first', labels: { a: '1' } });
      await store.upsertAgent(a);
      assert.deepEqual(await store.getAgent(a.id), a);
      const key = apiKey(a.id);
      await store.createApiKey(key);
      const changed = { ...a, name: undefined, labels: { b: '2' }, tenant: 't', disabled: true, createdAt: T0 + HOUR };
      await store.upsertAgent(changed);
      assert.deepEqual(await store.getAgent(a.id), { ...changed, createdAt: a.createdAt });
      assert.deepEqual(await store.findApiKeyByHash(key.hash), key);
    });

    test('agents: disable and enable', async () => {
      const a = agent();
      await store.createAgent(a);
      assert.equal(await store.setAgentDisabled(a.id, true), true);
      assert.equal((await store.getAgent(a.id))?.disabled, true);
      assert.equal(await store.setAgentDisabled(a.id, false), true);
      assert.equal((await store.getAgent(a.id))?.disabled, false);
      assert.equal(await store.setAgentDisabled(uid('missing'), true), false);
    });

    test('agents: updateAgent writes only while the agent is as expected (a compare-and-set on every field)', async () => {
      // Integer-like label keys come first in a JS object: the stored text must still compare equal.
      const a = agent({ labels: { team: 'ops', '2': 'x' } });
      await store.createAgent(a);
      const next = { ...a, name: 'Named', labels: { team: 'payments' }, disabled: true };
      assert.equal(await store.updateAgent(next, a), true);
      assert.deepEqual(await store.getAgent(a.id), next);
      // The read it was based on is stale now: nothing changes.
      assert.equal(await store.updateAgent({ ...a, name: 'late' }, a), false);
      assert.deepEqual(await store.getAgent(a.id), next);
      for (const stale of [{ name: undefined }, { name: 'Other' }, { labels: { team: 'other' } }, { labels: {} }, { tenant: 'acme' }, { disabled: false }, { createdAt: T0 + 1 }] as Array<Partial<AgentRecord>>) {
        assert.equal(await store.updateAgent({ ...next, name: 'late' }, { ...next, ...stale }), false, `expected ${JSON.stringify(stale)} is stale`);
      }
      assert.deepEqual(await store.getAgent(a.id), next);
      // A name and a tenant, then none again: NULLs compare too.
      const inTenant = { ...next, tenant: 'acme', name: undefined };
      assert.equal(await store.updateAgent(inTenant, next), true);
      assert.equal(await store.updateAgent({ ...inTenant, disabled: false }, inTenant), true);
      assert.deepEqual(await store.getAgent(a.id), { ...inTenant, disabled: false });
      assert.equal(await store.updateAgent(agent(), agent()), false, 'an unknown agent');
    });

    test('agents: of ten updates at once from the same read, exactly one lands', async () => {
      const a = agent();
      await store.createAgent(a);
      const results = await Promise.all([...Array(10).keys()].map((i) => store.updateAgent({ ...a, labels: { writer: String(i) } }, a)));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.deepEqual((await store.getAgent(a.id))?.labels, { writer: String(winner) });
    });

    test('agents: listed by createdAt, ties by id, whatever the insertion order', async () => {
      const base = T0 + 10 * HOUR;
      const tag = randomUUID();
      const made = [
        agent({ id: `${tag}-c`, createdAt: base + 2 }),
        agent({ id: `${tag}-b`, createdAt: base + 1 }),
        agent({ id: `${tag}-a`, createdAt: base + 1 }),
        agent({ id: `${tag}-d`, createdAt: base }),
      ];
      for (const a of made) await store.createAgent(a);
      const ids = async () => (await store.listAgents()).map((a) => a.id).filter((id) => id.startsWith(tag));
      const expected = [`${tag}-d`, `${tag}-a`, `${tag}-b`, `${tag}-c`];
      assert.deepEqual(await ids(), expected);
      await store.setAgentDisabled(`${tag}-d`, true);
      assert.deepEqual(await ids(), expected, 'an update does not move a row');
    });

    test('api keys: create, find by hash, every field kept', async () => {
      const a = agent();
      await store.createAgent(a);
      const full = apiKey(a.id, { api: 'github', expiresAt: T0 + HOUR, revokedAt: T0 + 2, lastUsedAt: T0 + 1 });
      const bare = apiKey(a.id);
      await store.createApiKey(full);
      await store.createApiKey(bare);
      assert.deepEqual(await store.findApiKeyByHash(full.hash), full);
      assert.deepEqual(await store.findApiKeyByHash(bare.hash), bare);
      assert.equal(await store.findApiKeyByHash('0'.repeat(64)), undefined);
    });

    test('api keys: the hash is unique, and so is the id', async () => {
      const a = agent();
      await store.createAgent(a);
      const key = apiKey(a.id);
      await store.createApiKey(key);
      await assert.rejects(store.createApiKey(apiKey(a.id, { hash: key.hash })), isConstraint('duplicate'));
      await assert.rejects(store.createApiKey(apiKey(a.id, { id: key.id })), isConstraint('duplicate'));
      assert.deepEqual(await store.listApiKeys(a.id), [key]);
    });

    test('api keys: a key for an unknown agent is refused', async () => {
      await assert.rejects(store.createApiKey(apiKey(uid('ghost'))), isConstraint('missing-reference'));
    });

    test('api keys: listed per agent and in all, by createdAt then id', async () => {
      const a = agent();
      const b = agent();
      await store.createAgent(a);
      await store.createAgent(b);
      const k3 = apiKey(a.id, { id: uid('k3'), createdAt: T0 + 3 });
      const k1 = apiKey(a.id, { id: uid('k1'), createdAt: T0 + 1 });
      const kb = apiKey(b.id, { createdAt: T0 + 2 });
      for (const k of [k3, k1, kb]) await store.createApiKey(k);
      assert.deepEqual(await store.listApiKeys(a.id), [k1, k3]);
      assert.deepEqual(await store.listApiKeys(b.id), [kb]);
      assert.deepEqual(await store.listApiKeys(uid('nobody')), []);
      const mine = new Set([k1.id, k3.id, kb.id]);
      const all = (await store.listApiKeys()).filter((k) => mine.has(k.id));
      assert.deepEqual(all, [k1, kb, k3]);
    });

    test('api keys: revoke marks once and reports unknown keys', async () => {
      const a = agent();
      await store.createAgent(a);
      const key = apiKey(a.id);
      await store.createApiKey(key);
      assert.equal(await store.revokeApiKey(key.id, T0 + 10), true);
      assert.equal((await store.findApiKeyByHash(key.hash))?.revokedAt, T0 + 10);
      assert.equal(await store.revokeApiKey(key.id, T0 + 20), true);
      assert.equal((await store.findApiKeyByHash(key.hash))?.revokedAt, T0 + 10, 'the first revocation time stays');
      assert.equal(await store.revokeApiKey(uid('missing'), T0), false);
    });

    test('api keys: touch records the last use and never goes back', async () => {
      const a = agent();
      await store.createAgent(a);
      const key = apiKey(a.id);
      await store.createApiKey(key);
      await store.touchApiKey(key.id, T0 + 100);
      assert.equal((await store.findApiKeyByHash(key.hash))?.lastUsedAt, T0 + 100);
      await store.touchApiKey(key.id, T0 + 50);
      assert.equal((await store.findApiKeyByHash(key.hash))?.lastUsedAt, T0 + 100);
      await store.touchApiKey(uid('missing'), T0); // no error
    });

    test('users: create, read by name and id, names unique', async () => {
      const u = user({ disabled: true });
      await store.createUser(u);
      assert.deepEqual(await store.getUserByName(u.username), u);
      assert.deepEqual(await store.getUser(u.id), u);
      assert.equal(await store.getUserByName(uid('nobody')), undefined);
      assert.equal(await store.getUser(uid('nobody')), undefined);
      await assert.rejects(store.createUser(user({ username: u.username })), isConstraint('duplicate'));
      await assert.rejects(store.createUser(user({ id: u.id })), isConstraint('duplicate'));
    });

    test('users: usernames compare exactly (case matters)', async () => {
      const u = user({ username: uid('Alice') });
      await store.createUser(u);
      assert.equal(await store.getUserByName(u.username.toLowerCase()), undefined);
    });

    test('users: listed by createdAt then id; disable by username', async () => {
      const tag = randomUUID();
      const u2 = user({ id: `${tag}-2`, createdAt: T0 + 2 });
      const u1 = user({ id: `${tag}-1`, createdAt: T0 + 2 });
      const u0 = user({ id: `${tag}-0`, createdAt: T0 + 1 });
      for (const u of [u2, u1, u0]) await store.createUser(u);
      const mine = (await store.listUsers()).filter((u) => u.id.startsWith(tag));
      assert.deepEqual(mine, [u0, u1, u2]);
      assert.equal(await store.setUserDisabled(u1.username, true), true);
      assert.equal((await store.getUser(u1.id))?.disabled, true);
      assert.equal(await store.setUserDisabled(u1.username, false), true);
      assert.equal((await store.getUser(u1.id))?.disabled, false);
      assert.equal(await store.setUserDisabled(uid('nobody'), true), false);
      assert.equal((await store.getUser(u1.id))?.passwordChangedAt, undefined);
      assert.equal(await store.setUserPassword(u1.username, 'scrypt$new', T0 + 50), true);
      const changed = await store.getUser(u1.id);
      assert.deepEqual([changed?.passwordHash, changed?.passwordChangedAt], ['scrypt$new', T0 + 50]);
      assert.equal(await store.setUserPassword(uid('nobody'), 'scrypt$x', T0), false);
    });

    test('users: a TOTP secret is set and removed; a time step is accepted once, and only later ones after it', async () => {
      const u = user();
      await store.createUser(u);
      assert.equal('totpSecret' in ((await store.getUser(u.id)) ?? {}), false);
      assert.equal(await store.useTotpStep(u.id, 100), false, 'no secret: no code is accepted');
      assert.equal(await store.setUserTotp(u.username, 'gj1.k.sealed', 99), true);
      const set = await store.getUser(u.id);
      assert.deepEqual([set?.totpSecret, set?.totpLastStep], ['gj1.k.sealed', 99]);
      assert.equal(await store.useTotpStep(u.id, 99), false, 'the enrolment step is spent');
      assert.equal(await store.useTotpStep(u.id, 100), true);
      assert.equal(await store.useTotpStep(u.id, 100), false, 'the same step again');
      assert.equal(await store.useTotpStep(u.id, 98), false, 'an earlier step');
      assert.equal((await store.getUserByName(u.username))?.totpLastStep, 100);
      assert.equal(await store.setUserTotp(u.username, undefined), true);
      const cleared = await store.getUser(u.id);
      assert.deepEqual([cleared?.totpSecret, cleared?.totpLastStep], [undefined, undefined]);
      assert.equal(await store.setUserTotp(uid('nobody'), 'x'), false);
    });

    test('users: a tenant is kept; a user without one reads back without one (the default tenant)', async () => {
      const acme = user({ tenant: 'acme' });
      const platform = user();
      await store.createUser(acme);
      await store.createUser(platform);
      assert.equal((await store.getUserByName(acme.username))?.tenant, 'acme');
      assert.equal((await store.getUser(acme.id))?.tenant, 'acme');
      assert.equal('tenant' in ((await store.getUser(platform.id)) ?? {}), false);
      const listed = new Map((await store.listUsers()).map((u) => [u.id, u.tenant]));
      assert.equal(listed.get(acme.id), 'acme');
      assert.equal(listed.has(platform.id) && listed.get(platform.id), undefined);
    });

    test('users: moved to a tenant and back; deleted once', async () => {
      const u = user();
      await store.createUser(u);
      assert.equal(await store.setUserTenant(u.username, 'globex'), true);
      assert.equal((await store.getUser(u.id))?.tenant, 'globex');
      assert.equal(await store.setUserTenant(u.username, undefined), true);
      assert.equal((await store.getUser(u.id))?.tenant, undefined);
      assert.equal(await store.setUserTenant(uid('nobody'), 'acme'), false);
      assert.equal(await store.deleteUser(u.username), true);
      assert.equal(await store.getUser(u.id), undefined);
      assert.equal(await store.deleteUser(u.username), false);
    });

    test('users: updateUser changes disabled, tenant and TOTP in one write, only while the user is as expected', async () => {
      const u = user();
      await store.createUser(u);
      await store.setUserTotp(u.username, 'gj1.k.sealed', 7);
      const expected = { id: u.id, createdAt: u.createdAt, disabled: false, tenant: undefined, totp: true };
      assert.equal(await store.updateUser(u.username, expected, { disabled: true, tenant: 'acme', resetTotp: true }), true);
      const changed = await store.getUser(u.id);
      assert.deepEqual([changed?.disabled, changed?.tenant, changed?.totpSecret, changed?.totpLastStep], [true, 'acme', undefined, undefined]);
      assert.equal(changed?.passwordHash, u.passwordHash, 'the password is not touched');
      // The read it was based on is stale now.
      assert.equal(await store.updateUser(u.username, expected, { disabled: false, tenant: undefined, resetTotp: false }), false);
      const now = { ...expected, disabled: true, tenant: 'acme', totp: false };
      for (const stale of [{ id: uid('user') }, { createdAt: T0 + 1 }, { disabled: false }, { tenant: undefined }, { tenant: 'globex' }, { totp: true }]) {
        assert.equal(await store.updateUser(u.username, { ...now, ...stale }, { disabled: false, tenant: undefined, resetTotp: false }), false, `expected ${JSON.stringify(stale)} is stale`);
      }
      assert.deepEqual(await store.getUser(u.id), { ...u, disabled: true, tenant: 'acme' });
      // Back to the default tenant; a TOTP secret kept when not reset.
      await store.setUserTotp(u.username, 'gj1.k.other', 9);
      assert.equal(await store.updateUser(u.username, { ...now, totp: true }, { disabled: false, tenant: undefined, resetTotp: false }), true);
      const back = await store.getUser(u.id);
      assert.deepEqual([back?.disabled, back?.tenant, back?.totpSecret, back?.totpLastStep], [false, undefined, 'gj1.k.other', 9]);
      assert.equal(await store.updateUser(uid('nobody'), expected, { disabled: true, tenant: undefined, resetTotp: false }), false);
    });

    test('users: of ten updates at once from the same read, exactly one lands; a delete with a stale expectation deletes nothing', async () => {
      const u = user();
      await store.createUser(u);
      const expected = { id: u.id, createdAt: u.createdAt, disabled: false, tenant: undefined, totp: false };
      const results = await Promise.all([...Array(10).keys()].map((i) => store.updateUser(u.username, expected, { disabled: i % 2 === 0, tenant: `t${i}`, resetTotp: false })));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal((await store.getUser(u.id))?.tenant, `t${winner}`);
      assert.equal(await store.deleteUser(u.username, expected), false);
      assert.ok(await store.getUser(u.id), 'still there');
      const now = { ...expected, disabled: winner % 2 === 0, tenant: `t${winner}` };
      assert.equal(await store.deleteUser(u.username, now), true);
      assert.equal(await store.getUser(u.id), undefined);
      assert.equal(await store.deleteUser(u.username, now), false);
    });

    test('oauth clients: save, read back nested metadata, save again replaces', async () => {
      const clientId = uid('client');
      const metadata = {
        client_name: 'Editor – ✓',
        redirect_uris: ['http://127.0.0.1:9/cb', 'https://example.test/cb'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        nested: { n: 1, ok: true, nothing: null },
      };
      await store.saveOAuthClient({ clientId, metadata, secretHash: undefined, createdAt: T0, usedAt: undefined });
      const saved = { clientId, metadata, secretHash: undefined, createdAt: T0, usedAt: undefined };
      assert.deepEqual(await store.getOAuthClient(clientId), saved);
      const replaced = { clientId, metadata: { client_name: 'v2' }, secretHash: 'ab'.repeat(32), createdAt: T0 + 1, usedAt: T0 + 2 };
      await store.saveOAuthClient(replaced);
      assert.deepEqual(await store.getOAuthClient(clientId), replaced);
      assert.equal(await store.getOAuthClient(uid('missing')), undefined);
    });

    test('oauth clients: the first use is kept; only clients never used and registered before the cut are deleted', async () => {
      const cut = T0 + 1000 * HOUR; // later than every other test's clients
      const used = uid('client');
      const unusedOld = uid('client');
      const unusedNew = uid('client');
      for (const [clientId, createdAt] of [[used, T0], [unusedOld, T0], [unusedNew, cut + 1]] as const) {
        await store.saveOAuthClient({ clientId, metadata: {}, secretHash: undefined, createdAt, usedAt: undefined });
      }
      await store.markOAuthClientUsed(used, T0 + 5);
      await store.markOAuthClientUsed(used, T0 + 9);
      assert.equal((await store.getOAuthClient(used))?.usedAt, T0 + 5, 'the first use stays');
      await store.markOAuthClientUsed(uid('missing'), T0); // no error
      const deleted = await store.deleteUnusedOAuthClients(cut);
      assert.ok(deleted >= 1, String(deleted));
      assert.equal(await store.getOAuthClient(unusedOld), undefined);
      assert.ok(await store.getOAuthClient(used));
      assert.ok(await store.getOAuthClient(unusedNew), 'registered after the cut: kept');
      assert.equal(await store.deleteUnusedOAuthClients(cut), 0);
    });

    test('federated sessions: put, replaced, read back while live, deleted, pruned when expired', async () => {
      const id = uid('fed');
      const state = { v: 1, members: { a: { sessionId: 'x-1', protocolVersion: '2025-06-18' } }, text: 'é ✓' };
      await store.putFederatedSession({ id, api: 'workspace', state, expiresAt: Date.now() + HOUR });
      assert.deepEqual(await store.getFederatedSession(id), { id, api: 'workspace', state, expiresAt: (await store.getFederatedSession(id))!.expiresAt });
      const later = Date.now() + 2 * HOUR;
      const changed = { ...state, members: { a: { sessionId: 'x-2', protocolVersion: '2025-06-18' } } };
      await store.putFederatedSession({ id, api: 'workspace', state: changed, expiresAt: later });
      assert.deepEqual(await store.getFederatedSession(id), { id, api: 'workspace', state: changed, expiresAt: later });
      await store.deleteFederatedSession(id);
      assert.equal(await store.getFederatedSession(id), undefined);
      const old = uid('fed');
      await store.putFederatedSession({ id: old, api: 'workspace', state, expiresAt: T0 });
      assert.equal(await store.getFederatedSession(old), undefined, 'an expired session is not returned');
      assert.ok((await store.pruneFederatedSessions(Date.now())) >= 1);
      await store.putFederatedSession({ id: old, api: 'workspace', state, expiresAt: Date.now() + HOUR });
      assert.equal((await store.getFederatedSession(old))?.id, old, 'pruned, then stored again');
    });

    test('session taints: the first taint is kept with the later expiry; expired ones are not returned and are pruned', async () => {
      const key = uid('taint');
      const now = Date.now();
      await store.putSessionTaint({ key, server: 'web', tool: 'fetch', taintedAt: now, expiresAt: now + HOUR });
      assert.deepEqual(await store.getSessionTaint(key), { key, server: 'web', tool: 'fetch', taintedAt: now, expiresAt: now + HOUR });
      await store.putSessionTaint({ key, server: 'mail', tool: 'read_inbox', taintedAt: now + 5, expiresAt: now + 2 * HOUR });
      assert.deepEqual(await store.getSessionTaint(key), { key, server: 'web', tool: 'fetch', taintedAt: now, expiresAt: now + 2 * HOUR }, 'the first taint stays; the expiry grows');
      await store.putSessionTaint({ key, server: 'web', tool: 'fetch', taintedAt: now + 9, expiresAt: now + 30 });
      assert.equal((await store.getSessionTaint(key))?.expiresAt, now + 2 * HOUR, 'an earlier expiry does not shorten it');
      const old = uid('taint');
      await store.putSessionTaint({ key: old, server: 'web', tool: 'fetch', taintedAt: T0, expiresAt: T0 + 1 });
      assert.equal(await store.getSessionTaint(old), undefined, 'an expired taint is not returned');
      assert.ok((await store.pruneSessionTaints(now)) >= 1);
      assert.equal(await store.getSessionTaint(uid('taint')), undefined);
    });

    test('cluster nodes: registered, heartbeat replaces, listed while seen, dropped when not, deleted', async () => {
      const id = uid('node');
      const now = Date.now();
      await store.putNode({ id, url: 'http://10.0.0.11:8080', startedAt: now, seenAt: now });
      assert.deepEqual(await store.getNode(id, now - 1000), { id, url: 'http://10.0.0.11:8080', startedAt: now, seenAt: now });
      await store.putNode({ id, url: 'http://10.0.0.11:8081', startedAt: now, seenAt: now + 5 });
      assert.equal((await store.getNode(id, now))?.url, 'http://10.0.0.11:8081', 'a heartbeat replaces the row');
      assert.ok((await store.listNodes(now)).some((n) => n.id === id));
      assert.equal(await store.getNode(id, now + 5), undefined, 'not seen after the bound: absent');
      assert.ok(!(await store.listNodes(now + 5)).some((n) => n.id === id));
      const stale = uid('node');
      await store.putNode({ id: stale, url: 'http://10.0.0.12:8080', startedAt: T0, seenAt: T0 });
      assert.ok((await store.pruneNodes(T0)) >= 1);
      assert.equal(await store.getNode(stale, 0), undefined, 'pruned');
      await store.deleteNode(id);
      assert.equal(await store.getNode(id, 0), undefined, 'deleted');
    });

    test('revocations: found while live, the later expiry kept, pruned when expired', async () => {
      const jti = `jti:${uid('t')}`;
      const grant = `grant:${uid('g')}`;
      const soon = Date.now() + 400;
      await store.addRevocation(jti, soon);
      await store.addRevocation(grant, Date.now() + HOUR);
      assert.deepEqual((await store.findRevocations([jti, grant, `jti:${uid('other')}`])).sort(), [grant, jti].sort());
      assert.deepEqual(await store.findRevocations([]), []);
      await store.addRevocation(grant, Date.now() + 10); // an earlier expiry does not shorten it
      await store.addRevocation(jti, Date.now() + 2 * HOUR); // a later one lengthens it
      await new Promise((resolve) => setTimeout(resolve, soon - Date.now() + 50));
      assert.deepEqual((await store.findRevocations([jti, grant])).sort(), [grant, jti].sort());
      const expired = `jti:${uid('t')}`;
      await store.addRevocation(expired, Date.now() - 1);
      assert.deepEqual(await store.findRevocations([expired]), [], 'expired entries are not found');
      assert.ok((await store.pruneRevocations(Date.now())) >= 1);
      await store.addRevocation(expired, Date.now() + HOUR);
      assert.deepEqual(await store.findRevocations([expired]), [expired], 'a pruned id can be added again');
      assert.ok((await store.pruneRevocations(Date.now() + 3 * HOUR)) >= 3);
      assert.deepEqual(await store.findRevocations([jti, grant, expired]), []);
    });

    test('grants: put, get, take once', async () => {
      const payload = { client: 'c', scopes: ['a', 'b'], pkce: { method: 'S256' } };
      const grant = { key: uid('code'), payload, expiresAt: Date.now() + HOUR };
      await store.putGrant(grant);
      assert.deepEqual(await store.getGrant(grant.key), grant);
      assert.deepEqual(await store.getGrant(grant.key), grant, 'get does not consume');
      assert.deepEqual(await store.takeGrant(grant.key), grant);
      assert.equal(await store.takeGrant(grant.key), undefined);
      assert.equal(await store.getGrant(grant.key), undefined);
      assert.equal(await store.takeGrant(uid('missing')), undefined);
    });

    test('grants: listed by key prefix, live ones only, in key order, up to the limit', async () => {
      const prefix = `${uid('list')}:`;
      for (const n of [3, 1, 2]) await store.putGrant({ key: `${prefix}${n}`, payload: { n }, expiresAt: Date.now() + HOUR });
      await store.putGrant({ key: `${prefix}0`, payload: { n: 0 }, expiresAt: Date.now() - 1 });
      await store.putGrant({ key: `${prefix.slice(0, -1)};other`, payload: {}, expiresAt: Date.now() + HOUR });
      assert.deepEqual((await store.listGrants(prefix, 10)).map((g) => g.payload.n), [1, 2, 3]);
      assert.deepEqual((await store.listGrants(prefix, 2)).map((g) => g.payload.n), [1, 2]);
      assert.deepEqual(await store.listGrants(`${uid('none')}:`, 10), []);
    });

    test('grants: put replaces; delete removes', async () => {
      const key = uid('interaction');
      await store.putGrant({ key, payload: { v: 1 }, expiresAt: Date.now() + HOUR });
      const second = { key, payload: { v: 2 }, expiresAt: Date.now() + 2 * HOUR };
      await store.putGrant(second);
      assert.deepEqual(await store.getGrant(key), second);
      await store.deleteGrant(key);
      assert.equal(await store.getGrant(key), undefined);
      await store.deleteGrant(key); // deleting an absent grant is fine
    });

    test('grants: an expired grant is absent to get and take', async () => {
      const key = uid('code');
      await store.putGrant({ key, payload: {}, expiresAt: Date.now() - 1 });
      assert.equal(await store.getGrant(key), undefined);
      assert.equal(await store.takeGrant(key), undefined);
      const soon = { key: uid('code'), payload: {}, expiresAt: Date.now() + 600 };
      await store.putGrant(soon);
      assert.deepEqual(await store.getGrant(soon.key), soon);
      await new Promise((resolve) => setTimeout(resolve, soon.expiresAt - Date.now() + 20));
      assert.equal(await store.getGrant(soon.key), undefined);
      assert.equal(await store.takeGrant(soon.key), undefined);
    });

    test('grants: ten concurrent takes of one code, exactly one wins', async () => {
      for (let round = 0; round < 5; round++) {
        const grant = { key: uid('code'), payload: { round }, expiresAt: Date.now() + HOUR };
        await store.putGrant(grant);
        const results = await Promise.all(Array.from({ length: 10 }, () => store.takeGrant(grant.key)));
        const winners = results.filter((r) => r !== undefined);
        assert.equal(winners.length, 1, `round ${round}: ${winners.length} takers got the grant`);
        assert.deepEqual(winners[0], grant);
      }
    });

    test('grants: add inserts once while the grant lives; ten concurrent adds, exactly one wins; an expired one is replaced', async () => {
      for (let round = 0; round < 5; round++) {
        const grant = { key: uid('jti'), payload: { round }, expiresAt: Date.now() + HOUR };
        const results = await Promise.all(Array.from({ length: 10 }, () => store.addGrant(grant)));
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results.filter(Boolean).length} adds won`);
        assert.deepEqual(await store.getGrant(grant.key), grant);
      }
      const key = uid('jti');
      await store.putGrant({ key, payload: { old: true }, expiresAt: Date.now() - 1 });
      assert.equal(await store.addGrant({ key, payload: { old: false }, expiresAt: Date.now() + HOUR }), true);
      assert.deepEqual((await store.getGrant(key))?.payload, { old: false });
      assert.equal(await store.addGrant({ key, payload: { again: true }, expiresAt: Date.now() + HOUR }), false);
    });

    test('grants: prune removes exactly the expired ones and counts them', async () => {
      const far = Date.now() + 1000 * HOUR; // after every other test's grants
      await store.pruneGrants(far);
      const keys = [uid('a'), uid('b'), uid('c')];
      await store.putGrant({ key: keys[0] ?? '', payload: {}, expiresAt: far + 1 });
      await store.putGrant({ key: keys[1] ?? '', payload: {}, expiresAt: far + 2 });
      await store.putGrant({ key: keys[2] ?? '', payload: {}, expiresAt: far + 3 });
      assert.equal(await store.pruneGrants(far + 2), 2);
      assert.equal(await store.pruneGrants(far + 2), 0);
      assert.equal((await store.getGrant(keys[2] ?? ''))?.expiresAt, far + 3);
      await store.deleteGrant(keys[2] ?? '');
    });

    test('tool pins: first use per tool, a change keeps the approval, approve only the hash shown', async () => {
      const server = uid('srv');
      const one = { tool: 'echo', hash: 'a'.repeat(64), definition: '{"name":"echo"}' };
      const first = await store.recordToolDefinitions(server, [one], T0, 'tool');
      assert.equal(first.length, 1);
      assert.equal(first[0]!.previousHash, undefined);
      assert.deepEqual(first[0]!.record, {
        server, tool: 'echo', hash: one.hash, definition: one.definition, firstSeenAt: T0, lastSeenAt: T0, changedAt: T0,
        approvedHash: one.hash, approvedDefinition: one.definition, approvedAt: T0, approvedBy: 'first use',
      });
      // Seen again, unchanged: only the last sighting moves.
      const again = await store.recordToolDefinitions(server, [one], T0 + HOUR, 'tool');
      assert.equal(again[0]!.previousHash, one.hash);
      assert.equal(again[0]!.record.lastSeenAt, T0 + HOUR);
      assert.equal(again[0]!.record.changedAt, T0);
      // Changed: the new definition is seen, the approved one stays.
      const changed = { ...one, hash: 'b'.repeat(64), definition: '{"description":"x","name":"echo"}' };
      const after = await store.recordToolDefinitions(server, [changed], T0 + 2 * HOUR, 'tool');
      assert.equal(after[0]!.previousHash, one.hash);
      assert.equal(after[0]!.record.hash, changed.hash);
      assert.equal(after[0]!.record.changedAt, T0 + 2 * HOUR);
      assert.equal(after[0]!.record.firstSeenAt, T0);
      assert.equal(after[0]!.record.approvedHash, one.hash);
      assert.equal(after[0]!.record.approvedDefinition, one.definition);
      // An approval of what was shown before the change is stale; of the current one, it holds.
      assert.equal(await store.approveToolPin(server, 'echo', one.hash, T0 + 3 * HOUR, 'cli'), 'stale');
      assert.equal(await store.approveToolPin(server, 'missing', one.hash, T0 + 3 * HOUR, 'cli'), 'missing');
      assert.equal(await store.approveToolPin(server, 'echo', changed.hash, T0 + 3 * HOUR, 'cli'), 'approved');
      const pin = await store.getToolPin(server, 'echo');
      assert.equal(pin?.approvedHash, changed.hash);
      assert.equal(pin?.approvedDefinition, changed.definition);
      assert.equal(pin?.approvedAt, T0 + 3 * HOUR);
      assert.equal(pin?.approvedBy, 'cli');
      assert.equal(await store.getToolPin(server, 'nothing'), undefined);
    });

    test('tool pins: trust "server" approves the first list only; "never" approves nothing; listed by server then tool', async () => {
      const server = uid('srv');
      const tool = (name: string) => ({ tool: name, hash: name.padEnd(64, '0'), definition: JSON.stringify({ name }) });
      const baseline = await store.recordToolDefinitions(server, [tool('b'), tool('a')], T0, 'server');
      assert.deepEqual(baseline.map((r) => [r.record.tool, r.record.approvedHash !== undefined]), [['b', true], ['a', true]]);
      const later = await store.recordToolDefinitions(server, [tool('c')], T0 + 1, 'server');
      assert.equal(later[0]!.record.approvedHash, undefined);
      const other = uid('srv');
      const never = await store.recordToolDefinitions(other, [tool('x')], T0, 'never');
      assert.equal(never[0]!.record.approvedHash, undefined);
      assert.deepEqual((await store.listToolPins(server)).map((p) => p.tool), ['a', 'b', 'c']);
      const all = (await store.listToolPins()).filter((p) => p.server === server || p.server === other);
      assert.deepEqual(all.map((p) => [p.server, p.tool]), [[server, 'a'], [server, 'b'], [server, 'c'], [other, 'x']].sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : 0)));
    });

    test('tool pins: two concurrent first lists of one server make one baseline', async () => {
      const server = uid('srv');
      const seen = [{ tool: 't', hash: 'c'.repeat(64), definition: '{"name":"t"}' }];
      const results = await Promise.all([store.recordToolDefinitions(server, seen, T0, 'server'), store.recordToolDefinitions(server, seen, T0, 'server')]);
      assert.equal(results.filter((r) => r[0]!.previousHash === undefined).length, 1, 'one of them inserted the row');
      assert.equal((await store.getToolPin(server, 't'))?.approvedHash, seen[0]!.hash);
    });

    test('credentials: put, get, replace, list by name, delete', async () => {
      const tag = randomUUID();
      const b = { name: `${tag}-b`, sealed: 'c2VhbGVk-b', updatedAt: T0 };
      const a = { name: `${tag}-a`, sealed: 'c2VhbGVk-a', updatedAt: T0 + 1 };
      await store.putCredential(b);
      await store.putCredential(a);
      assert.deepEqual(await store.getCredential(b.name), b);
      const b2 = { ...b, sealed: 'bmV3', updatedAt: T0 + 5 };
      await store.putCredential(b2);
      assert.deepEqual(await store.getCredential(b.name), b2);
      const mine = (await store.listCredentials()).filter((c) => c.name.startsWith(tag));
      assert.deepEqual(mine, [a, b2]);
      assert.equal(await store.deleteCredential(a.name), true);
      assert.equal(await store.deleteCredential(a.name), false);
      assert.equal(await store.getCredential(a.name), undefined);
    });

    test('credentials: putCredentialIf inserts only when there is none, replaces only the sealed text expected; delete with an expectation likewise', async () => {
      const name = uid('cred');
      const first = { name, sealed: 'c2VhbGVk-1', updatedAt: T0 };
      assert.equal(await store.putCredentialIf(first, 'c2VhbGVk-0'), false, 'nothing to replace');
      assert.equal(await store.putCredentialIf(first, null), true);
      assert.equal(await store.putCredentialIf({ ...first, sealed: 'other' }, null), false, 'it exists now');
      assert.deepEqual(await store.getCredential(name), first);
      const second = { name, sealed: 'c2VhbGVk-2', updatedAt: T0 + 1 };
      assert.equal(await store.putCredentialIf(second, first.sealed), true);
      assert.equal(await store.putCredentialIf({ ...second, sealed: 'late' }, first.sealed), false, 'stale');
      assert.deepEqual(await store.getCredential(name), second);
      assert.equal(await store.deleteCredential(name, first.sealed), false, 'a stale delete');
      assert.deepEqual(await store.getCredential(name), second);
      // Ten replacements at once from the same read: one lands.
      const results = await Promise.all([...Array(10).keys()].map((i) => store.putCredentialIf({ name, sealed: `c2VhbGVk-w${i}`, updatedAt: T0 + 2 }, second.sealed)));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = `c2VhbGVk-w${results.indexOf(true)}`;
      assert.equal((await store.getCredential(name))?.sealed, winner);
      assert.equal(await store.deleteCredential(name, winner), true);
      assert.equal(await store.getCredential(name), undefined);
      // Ten creations at once: one.
      const made = await Promise.all([...Array(10).keys()].map((i) => store.putCredentialIf({ name, sealed: `c2VhbGVk-n${i}`, updatedAt: T0 }, null)));
      assert.equal(made.filter(Boolean).length, 1);
    });

    test('upstream tokens: per (user, server), replace, list per user, delete returns the record', async () => {
      const user = uid('user');
      const other = uid('user');
      const a = { userId: user, server: 'alpha', sealed: 'gj1.k.a', expiresAt: T0 + HOUR, updatedAt: T0 };
      const b = { userId: user, server: 'beta', sealed: 'gj1.k.b', expiresAt: undefined, updatedAt: T0 + 1 };
      const c = { userId: other, server: 'alpha', sealed: 'gj1.k.c', expiresAt: T0, updatedAt: T0 + 2 };
      for (const r of [b, a, c]) await store.putUpstreamToken(r);
      assert.deepEqual(await store.getUpstreamToken(user, 'alpha'), a);
      assert.deepEqual(await store.getUpstreamToken(user, 'beta'), b);
      const a2 = { ...a, sealed: 'gj1.k.a2', expiresAt: T0 + 2 * HOUR, updatedAt: T0 + 9 };
      await store.putUpstreamToken(a2);
      assert.deepEqual(await store.listUpstreamTokens(user), [a2, b]);
      assert.ok((await store.listUpstreamTokens()).some((r) => r.userId === other));
      assert.deepEqual(await store.deleteUpstreamToken(user, 'alpha'), a2);
      assert.equal(await store.deleteUpstreamToken(user, 'alpha'), undefined);
      assert.deepEqual(await store.getUpstreamToken(other, 'alpha'), c, 'another user\'s token is untouched');
    });

    test('upstream clients: one registration per (server, issuer), replaced in place', async () => {
      const server = uid('server');
      const r = { server, issuer: 'https://as.example', sealed: 'gj1.k.r', updatedAt: T0 };
      await store.putUpstreamClient(r);
      assert.deepEqual(await store.getUpstreamClient(server, 'https://as.example'), r);
      assert.equal(await store.getUpstreamClient(server, 'https://other.example'), undefined);
      const r2 = { ...r, sealed: 'gj1.k.r2', updatedAt: T0 + 1 };
      await store.putUpstreamClient(r2);
      assert.deepEqual(await store.getUpstreamClient(server, 'https://as.example'), r2);
    });
  });
}
