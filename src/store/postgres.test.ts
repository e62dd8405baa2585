// Runs against GATEHOUSE_TEST_POSTGRES_URL in fresh random schemas, dropped afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { storeContract } from './contract.ts';
import { openPostgresStore } from './postgres.ts';
import { POSTGRES_MIGRATIONS } from './postgres-schema.ts';
import { openStore } from './open.ts';
import { postgresRequirement } from '../../test/helpers/requirements.ts';

const postgres = postgresRequirement();
const url = postgres.url;

if (url === undefined) {
  // Skipped with one line on a machine without Postgres; a failure when GATEHOUSE_REQUIRE_POSTGRES=1.
  test('postgres store contract', { skip: postgres.skip }, () => postgres.check());
} else {
  const schemas: string[] = [];
  const freshSchema = (): string => {
    const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
    schemas.push(name);
    return name;
  };
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  after(async () => {
    await admin(async (client) => {
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    });
  });

  const contractSchema = freshSchema();
  storeContract('postgres', () => openPostgresStore(url, { schema: contractSchema }));

  describe('postgres store migrations', () => {
    test('two stores migrating one new schema at once both succeed, migrations applied once', async () => {
      const schema = freshSchema();
      const stores = await Promise.all([
        openPostgresStore(url, { schema }),
        openPostgresStore(url, { schema }),
        openStore({ type: 'postgres', url, schema }),
      ]);
      try {
        await stores[0]?.putGrant({ key: 'code:x', payload: {}, expiresAt: Date.now() + 60_000 });
        const taken = await Promise.all(stores.flatMap((s) => [s.takeGrant('code:x'), s.takeGrant('code:x')]));
        assert.equal(taken.filter((g) => g !== undefined).length, 1, 'one winner across nodes');
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
      const { rows } = await admin((client) =>
        client.query<{ version: number }>(`SELECT version FROM "${schema}".gatehouse_migrations ORDER BY version`),
      );
      assert.deepEqual(
        rows.map((r) => r.version),
        POSTGRES_MIGRATIONS.map((_, i) => i + 1),
      );
    });

    test('tables live in the chosen schema only', async () => {
      const schema = freshSchema();
      const store = await openPostgresStore(url, { schema });
      await store.close();
      const { rows } = await admin((client) =>
        client.query<{ table_name: string }>(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
          [schema],
        ),
      );
      assert.deepEqual(
        rows.map((r) => r.table_name),
        ['agents', 'api_keys', 'cluster_nodes', 'credentials', 'federated_sessions', 'gatehouse_migrations', 'oauth_clients', 'oauth_grants', 'revoked_tokens', 'session_taints', 'tool_pins', 'upstream_clients', 'upstream_tokens', 'users'],
      );
    });

    test('refuses a schema written by a newer version', async () => {
      const schema = freshSchema();
      await (await openPostgresStore(url, { schema })).close();
      await admin((client) =>
        client.query(`INSERT INTO "${schema}".gatehouse_migrations (version, applied_at) VALUES ($1, 0)`, [
          POSTGRES_MIGRATIONS.length + 1,
        ]),
      );
      await assert.rejects(openPostgresStore(url, { schema }), /newer than this Gatehouse supports/);
    });

    test('refuses a schema name that is not a plain identifier', async () => {
      await assert.rejects(openPostgresStore(url, { schema: 'x"; DROP TABLE y; --' }), /not a plain identifier/);
    });
  });
}
