// The audit log in Postgres, for deployments with several gateways or a database to report from.
// A batch is one INSERT of many rows (json_populate_recordset over one JSON parameter: one round
// trip, no 65535-parameter limit); records already in (a spill file read back twice) are skipped. The table is created at open under an advisory lock, so
// several gateways starting together do not race.
import pg from 'pg';
import type { AuditSink } from './sink.ts';
import { SqlAuditReader, type SqlExecutor } from './sql-reader.ts';
import { COLUMNS, TABLE, rowValues, type Row } from './rows.ts';
import { quoteIdent } from '../store/postgres-migrate.ts';
import { timePrefix } from './ids.ts';

/** "gaud" in ASCII: recognisable in pg_locks, apart from the store's lock. */
const LOCK_CLASS = 0x67617564;
const DELETE_CHUNK = 5000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS ${TABLE} (
    seq bigserial PRIMARY KEY,
    id text COLLATE "C" NOT NULL UNIQUE,
    time bigint NOT NULL,
    api text NOT NULL,
    tenant text,
    agent text NOT NULL,
    user_id text,
    client text,
    session text,
    rpc_id text,
    method text NOT NULL,
    feature text NOT NULL,
    target text,
    decision text NOT NULL,
    rule text,
    reason text,
    status integer NOT NULL,
    upstream_status integer,
    error_code integer,
    tool_error integer NOT NULL DEFAULT 0,
    duration_ms double precision NOT NULL,
    upstream_ms double precision,
    lat_bin integer NOT NULL,
    bytes_in bigint NOT NULL,
    bytes_out bigint NOT NULL,
    request text,
    response text,
    trace text,
    server text,
    original_target text
  );
  ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS tool_error integer NOT NULL DEFAULT 0;
  ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS server text;
  ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS original_target text;
  CREATE INDEX IF NOT EXISTS ${TABLE}_agent ON ${TABLE} (agent, id);
  CREATE INDEX IF NOT EXISTS ${TABLE}_target ON ${TABLE} (target, id);
  CREATE INDEX IF NOT EXISTS ${TABLE}_tenant ON ${TABLE} (tenant, id) WHERE tenant IS NOT NULL;
`;

const INSERT = `INSERT INTO ${TABLE} (${COLUMNS.join(', ')}) SELECT ${COLUMNS.join(', ')} FROM json_populate_recordset(NULL::${TABLE}, $1::json) ON CONFLICT (id) DO NOTHING`;

/** `?` placeholders to `$n` (the shared SQL never has a `?` inside a literal). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Postgres text cannot hold NUL characters; a payload that has one keeps a visible mark instead. */
function noNul(value: unknown): unknown {
  return typeof value === 'string' && value.includes('\u0000') ? value.replace(/\u0000/g, '\\u0000') : value;
}

/** A pool whose connections start with the schema on their search_path (set at connection startup, no extra query). */
function newPool(url: string, schema: string | undefined, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, ...(schema !== undefined && { options: `-c search_path=${quoteIdent(schema)}` }) });
  // A connection that dies while idle is replaced on next use; without a listener the error would end the thread.
  pool.on('error', () => undefined);
  return pool;
}

export async function openPostgresSink(url: string, schema: string | undefined): Promise<AuditSink> {
  const pool = newPool(url, schema, 3);
  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, schema ?? '']);
      try {
        if (schema !== undefined) {
          const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
          if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
          await client.query(`SET search_path TO ${quoteIdent(schema)}`);
        }
        await client.query(SCHEMA);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, schema ?? '']);
      }
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end();
    throw err;
  }
  const db: SqlExecutor = {
    all: async (sql, params) => (await pool.query<Row>(numbered(sql), params as unknown[])).rows,
  };
  const chunked = async (sql: string, param: unknown): Promise<number> => {
    let total = 0;
    for (;;) {
      const { rowCount } = await pool.query(sql, [param]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < DELETE_CHUNK) return total;
    }
  };
  return {
    reader: new SqlAuditReader(db),
    write: async (events) => {
      const rows = events.map((event) => {
        const values = rowValues(event);
        const row: Record<string, unknown> = {};
        COLUMNS.forEach((column, i) => (row[column] = noNul(values[i])));
        return row;
      });
      await pool.query(INSERT, [JSON.stringify(rows)]);
    },
    retain: async (maxAge, maxRecords) => {
      let deleted = await chunked(`DELETE FROM ${TABLE} WHERE seq IN (SELECT seq FROM ${TABLE} WHERE id < $1 ORDER BY seq LIMIT ${DELETE_CHUNK})`, timePrefix(Date.now() - maxAge));
      const { rows } = await pool.query<{ seq: string }>(`SELECT seq FROM ${TABLE} ORDER BY seq DESC LIMIT 1 OFFSET $1`, [maxRecords]);
      if (rows[0]) deleted += await chunked(`DELETE FROM ${TABLE} WHERE seq IN (SELECT seq FROM ${TABLE} WHERE seq <= $1 ORDER BY seq LIMIT ${DELETE_CHUNK})`, rows[0].seq);
      return deleted;
    },
    close: () => pool.end(),
  };
}

/** Reading only (`gatehouse logs`): no table creation, one connection. */
export function openPostgresReader(url: string, schema: string | undefined): { reader: SqlAuditReader; close(): Promise<void> } {
  const pool = newPool(url, schema, 1);
  const db: SqlExecutor = { all: async (sql, params) => (await pool.query<Row>(numbered(sql), params as unknown[])).rows };
  return { reader: new SqlAuditReader(db), close: () => pool.end() };
}
