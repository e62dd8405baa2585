// The embedded audit log: its own SQLite file (not the store's, so that heavy logging never
// contends with keys and sessions), WAL, one transaction per batch. Opened by the writer thread,
// which owns the only writing connection; `gatehouse logs` opens the file read-only.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AuditEvent } from './event.ts';
import type { AuditSink } from './sink.ts';
import { SqlAuditReader, type SqlExecutor } from './sql-reader.ts';
import { STORED_COLUMNS, TABLE, storedValues, type Row } from './rows.ts';
import { timePrefix } from './ids.ts';
import { CHECKPOINTS, CHECKPOINT_COLUMNS, FIRST_KEPT, PRUNE_CHECKPOINTS, chainSourceOf, chainStoreOf, checkpointValues, type ChainSource } from './chain/chain-sql.ts';
import type { Checkpoint } from './chain/checkpoint.ts';

const BUSY_TIMEOUT_MS = 5000;
/** Rows deleted per statement by retention, so that writes are never held up for long. */
const DELETE_CHUNK = 5000;

// Indexes: id (unique) serves time ranges, paging and get; agent and target the filters used
// most; tenant (partial) a tenant's admin's. Other filters scan the time range. Each index costs about 1.5 µs per record written.
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${TABLE} (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    time INTEGER NOT NULL,
    api TEXT NOT NULL,
    tenant TEXT,
    agent TEXT NOT NULL,
    user_id TEXT,
    client TEXT,
    session TEXT,
    rpc_id TEXT,
    method TEXT NOT NULL,
    feature TEXT NOT NULL,
    target TEXT,
    decision TEXT NOT NULL,
    rule TEXT,
    reason TEXT,
    status INTEGER NOT NULL,
    upstream_status INTEGER,
    error_code INTEGER,
    tool_error INTEGER NOT NULL DEFAULT 0,
    duration_ms REAL NOT NULL,
    upstream_ms REAL,
    lat_bin INTEGER NOT NULL,
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    request TEXT,
    response TEXT,
    trace TEXT,
    server TEXT,
    original_target TEXT
  )`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_agent ON ${TABLE} (agent, id)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_target ON ${TABLE} (target, id)`,
  // The dashboard's tenant filter (a tenant's admin always has it). Partial: a deployment
  // without tenants writes NULL and pays nothing for it.
  `CREATE INDEX IF NOT EXISTS ${TABLE}_tenant ON ${TABLE} (tenant, id) WHERE tenant IS NOT NULL`,
];

/** Columns added since the table was first released, for files made by an earlier version. */
const ADDED_COLUMNS: ReadonlyArray<[string, string]> = [
  ['tool_error', 'INTEGER NOT NULL DEFAULT 0'],
  // Federated APIs (records written before have none: read as NULL).
  ['server', 'TEXT'],
  ['original_target', 'TEXT'],
  // The hash chain (chain/): records written before it have none and are reported as unchained.
  ['node', 'TEXT'],
  ['chain_seq', 'INTEGER'],
  ['prev_hash', 'TEXT'],
  ['hash', 'TEXT'],
];

/** Made after the columns exist (a file of an earlier version gains them first). */
const CHAIN_SCHEMA = [
  // The writer resumes from a node's last record; the verifier walks a node's chain in order.
  `CREATE INDEX IF NOT EXISTS ${TABLE}_chain ON ${TABLE} (node, chain_seq)`,
  `CREATE TABLE IF NOT EXISTS ${CHECKPOINTS} (
    node TEXT NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    time INTEGER NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (node, to_seq)
  )`,
];

function missingColumns(db: Database.Database): Array<[string, string]> {
  const have = new Set((db.prepare(`PRAGMA table_info(${TABLE})`).all() as Array<{ name: string }>).map((c) => c.name));
  return ADDED_COLUMNS.filter(([name]) => !have.has(name));
}

function executor(db: Database.Database): SqlExecutor {
  const statements = new Map<string, Database.Statement>();
  return {
    all: async (sql, params) => {
      let statement = statements.get(sql);
      if (!statement) statements.set(sql, (statement = db.prepare(sql)));
      return statement.all(...params) as Row[];
    },
  };
}

export function openSqliteSink(file: string): AuditSink {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  // Owner-only before SQLite creates it: payloads may hold personal data. -wal/-shm copy the mode.
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.transaction(() => {
      for (const sql of SCHEMA) db.exec(sql);
      for (const [name, type] of missingColumns(db)) db.exec(`ALTER TABLE ${TABLE} ADD COLUMN ${name} ${type}`);
      for (const sql of CHAIN_SCHEMA) db.exec(sql);
    }).immediate();
  } catch (err) {
    db.close();
    throw err;
  }
  // OR IGNORE: a spill file read back twice (a crash mid-way) does not fail on records already in.
  const insert = db.prepare(`INSERT OR IGNORE INTO ${TABLE} (${STORED_COLUMNS.join(', ')}) VALUES (${STORED_COLUMNS.map(() => '?').join(', ')})`);
  const insertCheckpoint = db.prepare(`INSERT OR IGNORE INTO ${CHECKPOINTS} (${CHECKPOINT_COLUMNS.join(', ')}) VALUES (${CHECKPOINT_COLUMNS.map(() => '?').join(', ')})`);
  // A batch and the checkpoint that covers it are stored together or not at all.
  const writeAll = db.transaction((events: readonly AuditEvent[], checkpoint: Checkpoint | undefined) => {
    for (const event of events) insert.run(...storedValues(event));
    if (checkpoint) insertCheckpoint.run(...checkpointValues(checkpoint));
  });
  const firstKept = db.prepare(FIRST_KEPT.sqlite).pluck();
  const deleteBefore = db.prepare(`DELETE FROM ${TABLE} WHERE seq IN (SELECT seq FROM ${TABLE} WHERE seq < ? ORDER BY seq LIMIT ${DELETE_CHUNK})`);
  const pruneCheckpoints = db.prepare(PRUNE_CHECKPOINTS);
  const cutoff = db.prepare(`SELECT seq FROM ${TABLE} ORDER BY seq DESC LIMIT 1 OFFSET ?`).pluck();
  const deleteUpTo = db.prepare(`DELETE FROM ${TABLE} WHERE seq IN (SELECT seq FROM ${TABLE} WHERE seq <= ? ORDER BY seq LIMIT ${DELETE_CHUNK})`);
  const chunked = async (run: () => number): Promise<number> => {
    let total = 0;
    for (;;) {
      const changes = run();
      total += changes;
      if (changes < DELETE_CHUNK) return total;
      // Let queued batches in between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const sql = executor(db);
  return {
    reader: new SqlAuditReader(sql),
    chain: chainStoreOf(sql),
    chainSource: chainSourceOf(sql, { chained: true, checkpoints: true }),
    write: async (events, checkpoint) => {
      writeAll(events, checkpoint);
    },
    retain: async (maxAge, maxRecords) => {
      // By age: the oldest records in storage order, up to the first one recent enough to keep,
      // so that each node's chain loses a prefix and never a record in its middle (a record
      // stored late with an early time, a long GET stream's, waits for those stored before it).
      const kept = firstKept.get(timePrefix(Date.now() - maxAge)) as number | undefined;
      let deleted = await chunked(() => deleteBefore.run(kept ?? Number.MAX_SAFE_INTEGER).changes);
      const last = cutoff.get(maxRecords) as number | undefined;
      if (last !== undefined) deleted += await chunked(() => deleteUpTo.run(last).changes);
      if (deleted > 0) pruneCheckpoints.run();
      return deleted;
    },
    close: async () => {
      db.close();
    },
  };
}

/** A read-only view of an audit file's chains, for `gatehouse audit verify`. */
export function openSqliteChainSource(file: string): { source: ChainSource; close(): void } {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  const chained = !missingColumns(db).some(([name]) => name === 'hash');
  const checkpoints = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(CHECKPOINTS) !== undefined;
  return { source: chainSourceOf(executor(db), { chained, checkpoints }), close: () => db.close() };
}

/** A read-only view of an audit file, for `gatehouse logs`. */
export function openSqliteReader(file: string): { reader: SqlAuditReader; close(): void } {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  // A file no gateway of this version has opened yet lacks the newer columns: they read as their defaults.
  const missing = missingColumns(db).map(([name]) => name);
  return { reader: new SqlAuditReader(executor(db), { missing }), close: () => db.close() };
}
