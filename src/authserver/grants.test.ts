// The index of a user's grants over the real stores: SQLite, and Postgres when
// GATEHOUSE_TEST_POSTGRES_URL names one (in a fresh schema, dropped afterwards). One user's
// prefix never reaches another's (u1 / u10), revoked and pre-password-change grants are not
// listed, a revocation denylists the grant for every node sharing the store (after the
// one-second verdict cache) and deletes its refresh token.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Store, UserRecord } from '../store/store.ts';
import { openSqliteStore } from '../store/sqlite.ts';
import { openPostgresStore } from '../store/postgres.ts';
import { postgresRequirement } from '../../test/helpers/requirements.ts';
import { TokenDenylist } from './revocation.ts';
import { grantKeys, type GrantInfo } from './tokens.ts';
import { recordGrant, UserGrants } from './grants.ts';
import type { AuthEventKind } from './events.ts';

const user = (id: string, extra: Partial<UserRecord> = {}): UserRecord => ({ id, username: `name-${id}`, passwordHash: 'x', createdAt: 0, disabled: false, ...extra });

function info(userId: string, clientId: string, authTime = Date.now()): GrantInfo {
  return { clientId, userId, username: `name-${userId}`, scopes: ['mcp', 'offline_access'], resource: 'http://gh.example/mcp', issuer: 'http://gh.example', familyId: randomUUID(), authTime };
}

function contract(name: string, open: () => Promise<Store>): void {
  describe(`user grants (${name})`, () => {
    test('listed per user, newest first; revoked ones leave the list and the denylist names them on every node', async () => {
      const store = await open();
      const other = await open();
      try {
        const events: Array<[AuthEventKind, string]> = [];
        const grants = new UserGrants(store, new TokenDenylist(store), (kind, fields) => events.push([kind, fields.detail]), (r) => (r.endsWith('/mcp') ? 'tools' : undefined));
        const now = Date.now();
        const a = info('u1', 'app-a', now - 2000);
        const b = info('u1', 'app-b', now - 1000);
        const c = info('u10', 'app-a');
        for (const g of [a, b, c]) await recordGrant(store, g, { clientName: `client ${g.clientId}`, accessExpiresAt: now + 60_000, refreshExpiresAt: now + 3_600_000 });
        // A live refresh token of grant a, as the token endpoint leaves it.
        await store.putGrant({ key: grantKeys.refreshByHash('h-a'), payload: { ...a }, expiresAt: now + 3_600_000 });
        await store.putGrant({ key: grantKeys.family(a.familyId), payload: { refresh: 'h-a' }, expiresAt: now + 3_600_000 });

        const listed = await grants.list(user('u1'));
        assert.deepEqual(listed.map((g) => g.id), [b.familyId, a.familyId], 'u1 only (not u10), newest first');
        assert.equal(listed[0]!.clientName, 'client app-b');
        assert.equal(listed[0]!.api, 'tools');
        assert.equal(listed[0]!.expiresAt, now + 3_600_000);
        assert.deepEqual((await grants.list(user('u10'))).map((g) => g.id), [c.familyId]);

        // Another node sharing the store (its own denylist and verdict cache).
        const elsewhere = new TokenDenylist(other);
        const claims = { jti: 'j1', grant_id: a.familyId, sub: 'u1' };
        assert.equal(await grants.revoke(user('u10'), a.familyId, { who: 'test', endpoint: 'test' }), false, 'not u10\'s grant');
        assert.equal(await grants.revoke(user('u1'), a.familyId, { who: 'the test', endpoint: 'test' }), true);
        assert.equal(await store.getGrant(grantKeys.refreshByHash('h-a')), undefined, 'its refresh token is gone');
        assert.deepEqual(await store.findRevocations([`grant:${a.familyId}`]), [`grant:${a.familyId}`]);
        assert.equal(await elsewhere.refusal(claims), 'token revoked');
        assert.deepEqual((await grants.list(user('u1'))).map((g) => g.id), [b.familyId]);
        assert.equal(await grants.revoke(user('u1'), a.familyId, { who: 'the test', endpoint: 'test' }), false, 'once');
        assert.equal(await grants.revoke(user('u1'), 'not-a-uuid', { who: 'the test', endpoint: 'test' }), false);
        assert.deepEqual(events.map(([k]) => k), ['grant-revoked']);
        assert.match(events[0]![1], /revoked by the test/);

        // An index entry a racing refresh wrote back after the revocation is not listed.
        await recordGrant(store, a, { clientName: undefined, accessExpiresAt: now + 60_000, refreshExpiresAt: undefined });
        assert.deepEqual((await grants.list(user('u1'))).map((g) => g.id), [b.familyId]);
        // Grants from before a password change are over.
        assert.deepEqual(await grants.list(user('u1', { passwordChangedAt: now - 500 })), []);
        assert.deepEqual((await grants.list(user('u1', { passwordChangedAt: now - 1500 }))).map((g) => g.id), [b.familyId], 'one made after the change stays');
        assert.equal(await grants.revokeAll(user('u10'), { who: 'all', endpoint: 'test' }, 'app-b'), 0, 'by client');
        assert.equal(await grants.revokeAll(user('u10'), { who: 'all', endpoint: 'test' }), 1);
        assert.deepEqual(await grants.list(user('u10')), []);
      } finally {
        await store.close();
        await other.close();
      }
    });
  });
}

const sqliteFile = path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-grants-')), 'gatehouse.db');
contract('sqlite', async () => openSqliteStore(sqliteFile));

const postgres = postgresRequirement();
if (postgres.url === undefined) {
  test('user grants (postgres)', { skip: postgres.skip }, () => postgres.check());
} else {
  const url = postgres.url;
  const schema = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  after(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });
  contract('postgres', () => openPostgresStore(url, { schema }));
}
