// Generated keys: the documented format, enough randomness, a prefix too short to use.
import { test, type TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { apiKeyPlan, digestKey, generateApiKey, KEY_CACHE_MS, keyPrefix } from './api-key.ts';
import type { AuthContext } from './plan.ts';
import { openSqliteStore } from '../store/sqlite.ts';
import { openPostgresStore } from '../store/postgres.ts';
import type { Store } from '../store/store.ts';
import { postgresRequirement } from '../../test/helpers/requirements.ts';
import { createLogger } from '../log.ts';

const silentLogger = () => createLogger('silent');

test('keys are gh_ and 40 base62 characters, all different; the prefix is 8 characters', () => {
  const keys = new Set(Array.from({ length: 2000 }, () => generateApiKey()));
  assert.equal(keys.size, 2000);
  const counts = new Map<string, number>();
  for (const key of keys) {
    assert.match(key, /^gh_[0-9A-Za-z]{40}$/);
    for (const c of key.slice(3)) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(keyPrefix(key), key.slice(0, 8));
  }
  // 80,000 characters over 62 symbols: every symbol shows up, none wildly more than the others.
  assert.equal(counts.size, 62);
  const mean = 80_000 / 62;
  for (const [c, n] of counts) assert.ok(n > mean * 0.75 && n < mean * 1.25, `symbol ${c} drawn ${n} times`);
});

test('digests are lower-case hex SHA-256 ("test" gives the issue\'s digest)', () => {
  assert.equal(digestKey('test'), '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08');
});

// The plan remembers keys that authenticated. With SQLite it trusts that memory only while no
// other connection (the CLI; here a second store on the same file) has committed anything; with
// Postgres (shared by nodes) for at most KEY_CACHE_MS.
async function revocationCase(t: TestContext, open: () => Promise<Store>, wait: number): Promise<void> {
  const gateway = await open();
  const cli = await open();
  t.after(() => Promise.all([gateway.close(), cli.close()]));
  const now = Date.now();
  const agent = `ci-${randomBytes(4).toString('hex')}`;
  await gateway.createAgent({ id: agent, name: undefined, tenant: undefined, labels: { team: 'a' }, createdAt: now, disabled: false });
  const keys = [`gh_one_${randomBytes(12).toString('hex')}`, `gh_two_${randomBytes(12).toString('hex')}`];
  for (const [i, value] of keys.entries()) {
    await gateway.createApiKey({ id: `key_${agent}_${i}`, agentId: agent, hash: digestKey(value), prefix: keyPrefix(value), api: undefined, createdAt: now, expiresAt: undefined, revokedAt: undefined, lastUsedAt: undefined });
  }
  const plan = apiKeyPlan(gateway, { yieldUnknownBearer: false, configKeys: new Map() }, silentLogger());
  const attempt = (key: string) => plan.authenticate(context(key, 'mcp'));
  const first = await attempt(keys[0]!);
  const second = await attempt(keys[0]!);
  assert.ok('principal' in first && 'principal' in second);
  assert.equal(second.principal, first.principal, 'the second request reuses the remembered principal');

  await cli.revokeApiKey(`key_${agent}_0`, Date.now());
  await laterRequest(wait);
  const revoked = await attempt(keys[0]!);
  assert.ok('error' in revoked && /API key revoked/.test(revoked.error.message), 'revoked in another process: refused');

  assert.ok('principal' in (await attempt(keys[1]!)));
  await cli.setAgentDisabled(agent, true);
  await laterRequest(wait);
  const disabled = await attempt(keys[1]!);
  assert.ok('error' in disabled && /agent disabled/.test(disabled.error.message), 'agent disabled in another process: refused');
}

test('a remembered key is refused from the next request after another process revokes it or disables its agent (SQLite)', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-apikey-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await revocationCase(t, () => openSqliteStore(path.join(dir, 'store.db')), 0);
});

const postgres = postgresRequirement();
test('a remembered key is refused within a second after another node revokes it or disables its agent (Postgres)', { skip: postgres.skip }, async (t) => {
  postgres.check();
  const schema = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  t.after(async () => {
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  await revocationCase(t, () => openPostgresStore(postgres.url!, { schema }), KEY_CACHE_MS + 50);
});

/**
 * Waits as a later request would: SQLite's version is read once per turn of the event loop (an
 * immediate clears it, and immediates run in order, so one queued now runs after it), then `ms`.
 * A bare setTimeout(0) is not enough: whether timers run before immediates differs between Node
 * 20 and 22 (the test failed on 22).
 */
async function laterRequest(ms: number): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

function context(key: string, api: string): AuthContext {
  const req = { headers: { authorization: `Bearer ${key}` }, rawHeaders: ['Authorization', `Bearer ${key}`] } as unknown as IncomingMessage;
  return { req, api, resourceUrl: '', metadataUrl: '', publicBase: '' };
}

test('a remembered key limited to one API is still refused on another', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-apikey-'));
  const store = await openSqliteStore(path.join(dir, 'store.db'));
  try {
    const value = 'gh_scoped_0123456789abcdef';
    await store.createAgent({ id: 'ci', name: undefined, tenant: undefined, labels: {}, createdAt: Date.now(), disabled: false });
    await store.createApiKey({ id: 'key_s', agentId: 'ci', hash: digestKey(value), prefix: keyPrefix(value), api: 'one', createdAt: Date.now(), expiresAt: undefined, revokedAt: undefined, lastUsedAt: undefined });
    const plan = apiKeyPlan(store, { yieldUnknownBearer: false, configKeys: new Map() }, silentLogger());
    const attempt = (api: string) => plan.authenticate(context(value, api));
    assert.ok('principal' in (await attempt('one')));
    const other = await attempt('two');
    assert.ok('error' in other && /not valid for this API/.test(other.error.message));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
