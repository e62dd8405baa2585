// Runs the Postgres migrations once, even when several nodes start together: the whole check-and-
// apply runs under a session advisory lock keyed by the schema name, and each migration commits
// with its row in gatehouse_migrations.
import type pg from 'pg';
import { POSTGRES_MIGRATIONS } from './postgres-schema.ts';

/** First half of the advisory lock key: "gate" in ASCII, so the lock is recognisable in pg_locks. */
const LOCK_CLASS = 0x67617465;

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function migratePostgres(pool: pg.Pool, schema: string | undefined): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, schema ?? '']);
    try {
      await applyMigrations(client, schema);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, schema ?? '']);
    }
  } catch (err) {
    // Destroy the connection rather than return it: that also frees the lock if unlocking failed.
    broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.release(broken);
  }
}

async function applyMigrations(client: pg.PoolClient, schema: string | undefined): Promise<void> {
  if (schema !== undefined) {
    // Look first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
    const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  }
  await client.query(
    'CREATE TABLE IF NOT EXISTS gatehouse_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)',
  );
  const { rows } = await client.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM gatehouse_migrations',
  );
  const current = rows[0]?.version ?? 0;
  const target = POSTGRES_MIGRATIONS.length;
  if (current > target) {
    throw new Error(
      `The database schema is version ${current}, newer than this Gatehouse supports (${target}); upgrade Gatehouse`,
    );
  }
  for (let version = current + 1; version <= target; version++) {
    await client.query('BEGIN');
    try {
      await client.query(POSTGRES_MIGRATIONS[version - 1] ?? '');
      await client.query('INSERT INTO gatehouse_migrations (version, applied_at) VALUES ($1, $2)', [
        version,
        Date.now(),
      ]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined); // the original error matters more
      throw err;
    }
  }
}
