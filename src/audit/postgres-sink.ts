// The audit log in Postgres, for deployments with several gateways or a database to report from.
// A batch is one INSERT of many rows (json_populate_recordset over one JSON parameter: one round
// trip, no 65535-parameter limit); records already in (a spill file read back twice) are skipped. The table is created at open under an advisory lock, so
// several gateways starting together do not race.
import pg from 'pg';
import type { AuditSink } from './sink.ts';
import { SqlAuditReader, type SqlExecutor } from './sql-reader.ts';
import { STORED_COLUMNS, TABLE, storedValues, type Row } from './rows.ts';
import { quoteIdent } from '../store/postgres-migrate.ts';
import { timePrefix } from './ids.ts';
import { CHECKPOINTS, CHECKPOINT_COLUMNS, FIRST_KEPT, PRUNE_CHECKPOINTS, chainSourceOf, chainStoreOf, checkpointValues, type ChainSource } from './chain/chain-sql.ts';

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
  ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS node text;
  ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS chain_seq bigint;
  ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS prev_hash text;
  ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS hash text;
  CREATE INDEX IF NOT EXISTS ${TABLE}_chain ON ${TABLE} (node, chain_seq);
  CREATE TABLE IF NOT EXISTS ${CHECKPOINTS} (
    node text NOT NULL,
    from_seq bigint NOT NULL,
    to_seq bigint NOT NULL,
    last_hash text NOT NULL,
    time bigint NOT NULL,
    public_key text NOT NULL,
    signature text NOT NULL,
    PRIMARY KEY (node, to_seq)
  );
  CREATE INDEX IF NOT EXISTS ${TABLE}_agent ON ${TABLE} (agent, id);
  CREATE INDEX IF NOT EXISTS ${TABLE}_target ON ${TABLE} (target, id);
  CREATE INDEX IF NOT EXISTS ${TABLE}_tenant ON ${TABLE} (tenant, id) WHERE tenant IS NOT NULL;
`;

// In the batch's order (WITH ORDINALITY … ORDER BY): seq, the storage order, follows each node's chain order.
const INSERT = `INSERT INTO ${TABLE} (${STORED_COLUMNS.join(', ')}) SELECT ${STORED_COLUMNS.join(', ')} FROM json_populate_recordset(NULL::${TABLE}, $1::json) WITH ORDINALITY ORDER BY ordinality ON CONFLICT (id) DO NOTHING`;
const INSERT_CHECKPOINT = `INSERT INTO ${CHECKPOINTS} (${CHECKPOINT_COLUMNS.join(', ')}) VALUES (${CHECKPOINT_COLUMNS.map((_, i) => `$${i + 2}`).join(', ')}) ON CONFLICT DO NOTHING`;
// A batch and the checkpoint over it in one statement: stored together or not at all.
const INSERT_WITH_CHECKPOINT = `WITH batch AS (${INSERT} RETURNING 1) ${INSERT_CHECKPOINT}`;

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
    chain: chainStoreOf(db),
    chainSource: chainSourceOf(db, { chained: true, checkpoints: true }),
    write: async (events, checkpoint) => {
      const rows = events.map((event) => {
        const values = storedValues(event);
        const row: Record<string, unknown> = {};
        STORED_COLUMNS.forEach((column, i) => (row[column] = noNul(values[i])));
        return row;
      });
      if (checkpoint) await pool.query(INSERT_WITH_CHECKPOINT, [JSON.stringify(rows), ...checkpointValues(checkpoint)]);
      else await pool.query(INSERT, [JSON.stringify(rows)]);
    },
    retain: async (maxAge, maxRecords) => {
      // By age: a prefix in storage order, as in the SQLite sink (each node's chain loses its oldest records only).
      const kept = await pool.query<{ seq: string }>(FIRST_KEPT.postgres, [timePrefix(Date.now() - maxAge)]);
      let deleted = await chunked(`DELETE FROM ${TABLE} WHERE seq IN (SELECT seq FROM ${TABLE} WHERE seq < $1 ORDER BY seq LIMIT ${DELETE_CHUNK})`, kept.rows[0]?.seq ?? String(Number.MAX_SAFE_INTEGER));
      const { rows } = await pool.query<{ seq: string }>(`SELECT seq FROM ${TABLE} ORDER BY seq DESC LIMIT 1 OFFSET $1`, [maxRecords]);
      if (rows[0]) deleted += await chunked(`DELETE FROM ${TABLE} WHERE seq IN (SELECT seq FROM ${TABLE} WHERE seq <= $1 ORDER BY seq LIMIT ${DELETE_CHUNK})`, rows[0].seq);
      if (deleted > 0) await pool.query(PRUNE_CHECKPOINTS);
      return deleted;
    },
    close: () => pool.end(),
  };
}

/** Reading the chains only (`gatehouse audit verify`): no table creation, one connection. */
export async function openPostgresChainSource(url: string, schema: string | undefined): Promise<{ source: ChainSource; close(): Promise<void> }> {
  const pool = newPool(url, schema, 1);
  try {
    const db: SqlExecutor = { all: async (sql, params) => (await pool.query<Row>(numbered(sql), params as unknown[])).rows };
    const [found] = await db.all(
      `SELECT to_regclass(?) IS NOT NULL AS events, to_regclass(?) IS NOT NULL AS checkpoints,
        EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = 'hash') AS chained`,
      [TABLE, CHECKPOINTS, TABLE],
    );
    if (!found?.events) throw new Error(`no ${TABLE} table in ${schema === undefined ? 'the search_path' : `schema ${schema}`}: no gateway has written this audit log yet`);
    return { source: chainSourceOf(db, { chained: found.chained === true, checkpoints: found.checkpoints === true }), close: () => pool.end() };
  } catch (err) {
    await pool.end();
    throw err;
  }
}

/** Reading only (`gatehouse logs`): no table creation, one connection. */
export function openPostgresReader(url: string, schema: string | undefined): { reader: SqlAuditReader; close(): Promise<void> } {
  const pool = newPool(url, schema, 1);
  const db: SqlExecutor = { all: async (sql, params) => (await pool.query<Row>(numbered(sql), params as unknown[])).rows };
  return { reader: new SqlAuditReader(db), close: () => pool.end() };
}
