// The chain's SQL, shared by the SQLite and Postgres sinks and the verifier: the checkpoint
// table, and the reads the writer resumes from and the verifier walks. Statements use `?`
// placeholders (SqlExecutor rewrites them for Postgres).
import type { SqlExecutor } from '../sql-reader.ts';
import { TABLE, type Row } from '../rows.ts';
import type { ChainStore } from './chain-writer.ts';
import type { Checkpoint } from './checkpoint.ts';

export const CHECKPOINTS = 'audit_checkpoints';
export const CHECKPOINT_COLUMNS = ['node', 'from_seq', 'to_seq', 'last_hash', 'time', 'public_key', 'signature'] as const;

export function checkpointValues(c: Checkpoint): unknown[] {
  return [c.node, c.fromSeq, c.toSeq, c.lastHash, c.time, c.publicKey, c.signature];
}

export function checkpointOf(row: Row): Checkpoint {
  return {
    node: String(row.node),
    fromSeq: Number(row.from_seq),
    toSeq: Number(row.to_seq),
    lastHash: String(row.last_hash),
    time: Number(row.time),
    publicKey: String(row.public_key),
    signature: String(row.signature),
  };
}

/** Reading what the writer resumes from. */
export function chainStoreOf(db: SqlExecutor): ChainStore {
  return {
    head: async (node) => {
      const [row] = await db.all(`SELECT chain_seq, hash FROM ${TABLE} WHERE node = ? ORDER BY chain_seq DESC LIMIT 1`, [node]);
      return row ? { seq: Number(row.chain_seq), hash: String(row.hash) } : undefined;
    },
    signedTo: async (node) => {
      const [row] = await db.all(`SELECT max(to_seq) AS to_seq FROM ${CHECKPOINTS} WHERE node = ?`, [node]);
      return row?.to_seq === null || row?.to_seq === undefined ? 0 : Number(row.to_seq);
    },
    existing: async (ids) => {
      const found = new Set<string>();
      for (let i = 0; i < ids.length; i += 500) {
        const part = ids.slice(i, i + 500);
        const rows = await db.all(`SELECT id FROM ${TABLE} WHERE id IN (${part.map(() => '?').join(', ')})`, part);
        for (const row of rows) found.add(String(row.id));
      }
      return found;
    },
  };
}

/**
 * Retention removes the oldest records of every chain (a prefix in storage order, which is each
 * node's chain order); checkpoints that end before a node's first remaining record go with them.
 */
export const PRUNE_CHECKPOINTS = `DELETE FROM ${CHECKPOINTS} WHERE to_seq < COALESCE((SELECT min(chain_seq) FROM ${TABLE} e WHERE e.node = ${CHECKPOINTS}.node), to_seq + 1)`;

/**
 * The storage seq of the oldest record (in storage order) recent enough to keep; none when none
 * is. Walks storage order from the oldest, so it reads only the records about to be deleted
 * (SQLite: `+id` keeps the planner off the id index, which would read every newer record).
 */
export const FIRST_KEPT = { sqlite: `SELECT seq FROM ${TABLE} WHERE +id >= ? ORDER BY seq LIMIT 1`, postgres: `SELECT seq FROM ${TABLE} WHERE id >= $1 ORDER BY seq LIMIT 1` };

/** What the verifier reads. */
export interface ChainSource {
  /** False for a table no chaining gateway has opened (no chain columns): every record is unchained. */
  readonly chained: boolean;
  nodes(): Promise<string[]>;
  /** A node's records in chain order (then storage order), after (chainSeq, seq), at most `limit`. */
  page(node: string, after: { chainSeq: number; seq: number }, limit: number): Promise<Row[]>;
  checkpoints(node: string): Promise<Checkpoint[]>;
  /** The first chain seq of a node's records at or after a time. */
  firstSince(node: string, time: number): Promise<number | undefined>;
  /** Records without a link: those before the first chained one (a range), and any after it (each). */
  unchained(limit: number): Promise<{ before: { count: number; firstSeq: number; lastSeq: number; firstId: string; lastId: string } | undefined; after: Row[] }>;
}

export function chainSourceOf(db: SqlExecutor, has: { chained: boolean; checkpoints: boolean }): ChainSource {
  return {
    chained: has.chained,
    nodes: async () => {
      if (!has.chained) return [];
      const rows = await db.all(
        `SELECT DISTINCT node FROM ${TABLE} WHERE node IS NOT NULL${has.checkpoints ? ` UNION SELECT DISTINCT node FROM ${CHECKPOINTS}` : ''}`,
        [],
      );
      return rows.map((r) => String(r.node)).sort();
    },
    page: (node, after, limit) =>
      db.all(`SELECT * FROM ${TABLE} WHERE node = ? AND (chain_seq > ? OR (chain_seq = ? AND seq > ?)) ORDER BY chain_seq, seq LIMIT ${Math.floor(limit)}`, [node, after.chainSeq, after.chainSeq, after.seq]),
    checkpoints: async (node) => (has.checkpoints ? (await db.all(`SELECT * FROM ${CHECKPOINTS} WHERE node = ? ORDER BY from_seq, to_seq`, [node])).map(checkpointOf) : []),
    firstSince: async (node, time) => {
      const [row] = await db.all(`SELECT min(chain_seq) AS s FROM ${TABLE} WHERE node = ? AND time >= ?`, [node, time]);
      return row?.s === null || row?.s === undefined ? undefined : Number(row.s);
    },
    unchained: async (limit) => {
      if (!has.chained) {
        const [all] = await db.all(`SELECT count(*) AS n, min(seq) AS first_seq, max(seq) AS last_seq, min(id) AS first_id, max(id) AS last_id FROM ${TABLE}`, []);
        return { before: rangeOf(all), after: [] };
      }
      const [first] = await db.all(`SELECT min(seq) AS s FROM ${TABLE} WHERE node IS NOT NULL`, []);
      const start = first?.s === null || first?.s === undefined ? undefined : Number(first.s);
      const [before] = await db.all(
        `SELECT count(*) AS n, min(seq) AS first_seq, max(seq) AS last_seq, min(id) AS first_id, max(id) AS last_id FROM ${TABLE} WHERE node IS NULL${start === undefined ? '' : ' AND seq < ?'}`,
        start === undefined ? [] : [start],
      );
      const after = start === undefined ? [] : await db.all(`SELECT * FROM ${TABLE} WHERE node IS NULL AND seq > ? ORDER BY seq LIMIT ${Math.floor(limit)}`, [start]);
      return { before: rangeOf(before), after };
    },
  };
}

function rangeOf(row: Row | undefined): { count: number; firstSeq: number; lastSeq: number; firstId: string; lastId: string } | undefined {
  if (!row || Number(row.n) === 0) return undefined;
  return { count: Number(row.n), firstSeq: Number(row.first_seq), lastSeq: Number(row.last_seq), firstId: String(row.first_id), lastId: String(row.last_id) };
}
