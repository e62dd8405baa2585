// The stores a managed-mode test runs on: SQLite in the node's own data directory, and a fresh
// Postgres schema (dropped after) that a second node can share.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface ManagedStore {
  /** Node settings for a fresh store; the cleanup drops it. */
  open(): Promise<{ node: Record<string, unknown>; cleanup: () => Promise<void> }>;
  /** Whether a second node can share the store (Postgres). */
  shared: boolean;
}

export const SQLITE_STORE: ManagedStore = { shared: false, open: async () => ({ node: {}, cleanup: async () => undefined }) };

/** A Postgres schema named `<prefix>_<random>` on the server at `url()` (read when opened: the test may skip). */
export function postgresSchemaStore(url: () => string, prefix: string): ManagedStore {
  return {
    shared: true,
    open: async () => {
      const connectionString = url();
      const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
      return {
        node: { store: { type: 'postgres', url: connectionString, schema } },
        cleanup: async () => {
          const client = new pg.Client({ connectionString });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await client.end();
        },
      };
    },
  };
}
