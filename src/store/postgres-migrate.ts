// Runs a track of Postgres migrations once, even when several nodes start together: the whole
// check-and-apply runs under a session advisory lock keyed by the track and the schema name, and
// each migration commits with its row in the track's table. The store (gatehouse_migrations) and
// the control plane (control_migrations) each have their own track.
import type pg from 'pg';
import { POSTGRES_MIGRATIONS } from './postgres-schema.ts';

export interface MigrationTrack {
  /** Where applied versions are recorded. */
  readonly table: string;
  readonly steps: readonly string[];
  /** First half of the advisory lock key: ASCII letters, so the lock is recognisable in pg_locks. */
  readonly lockClass: number;
  /** The tables with their verb, for the message when the database is newer: "The database schema is". */
  readonly what: string;
}

/** The store's track: "gate" in ASCII. */
export const STORE_TRACK: MigrationTrack = { table: 'gatehouse_migrations', steps: POSTGRES_MIGRATIONS, lockClass: 0x67617465, what: 'The database schema is' };

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function migratePostgres(pool: pg.Pool, schema: string | undefined, track: MigrationTrack = STORE_TRACK): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [track.lockClass, schema ?? '']);
    try {
      await applyMigrations(client, schema, track);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [track.lockClass, schema ?? '']);
    }
  } catch (err) {
    // Destroy the connection rather than return it: that also frees the lock if unlocking failed.
    broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.release(broken);
  }
}

async function applyMigrations(client: pg.PoolClient, schema: string | undefined, track: MigrationTrack): Promise<void> {
  if (schema !== undefined) {
    // Look first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
    const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  }
  await client.query(`CREATE TABLE IF NOT EXISTS ${track.table} (version integer PRIMARY KEY, applied_at bigint NOT NULL)`);
  const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${track.table}`);
  const current = rows[0]?.version ?? 0;
  const target = track.steps.length;
  if (current > target) {
    throw new Error(`${track.what} version ${current}, newer than this Gatehouse supports (${target}); upgrade Gatehouse`);
  }
  for (let version = current + 1; version <= target; version++) {
    await client.query('BEGIN');
    try {
      await client.query(track.steps[version - 1] ?? '');
      await client.query(`INSERT INTO ${track.table} (version, applied_at) VALUES ($1, $2)`, [
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
