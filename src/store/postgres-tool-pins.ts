// tool_pins on Postgres (see store.ts). Recording a list runs in one transaction that first takes
// a transaction-level advisory lock on the server's name, so two nodes recording the same
// server's list at once see each other's rows: one alert per change, one first-use baseline.
import type pg from 'pg';
import type { FirstUseTrust, SeenTool, ToolApproval, ToolPinRecord } from './store.ts';
import { TOOL_PIN_COLUMNS, TRUSTED_FIRST_USE, toToolPin, trustsNewTool, type ToolPinRow } from './tool-pin-rows.ts';

/** Advisory lock class of tool pinning: "pins" in ASCII. */
const LOCK_CLASS = 0x70696e73;

export class PostgresToolPins {
  constructor(private readonly pool: pg.Pool) {}

  async record(server: string, tools: readonly SeenTool[], at: number, trust: FirstUseTrust): Promise<Array<{ previousHash: string | undefined; record: ToolPinRecord }>> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, server]);
      const known = await client.query('SELECT 1 FROM tool_pins WHERE server = $1 LIMIT 1', [server]);
      const serverKnown = (known.rowCount ?? 0) > 0;
      const out: Array<{ previousHash: string | undefined; record: ToolPinRecord }> = [];
      for (const seen of tools) {
        const before = (await client.query<{ hash: string }>('SELECT hash FROM tool_pins WHERE server = $1 AND tool = $2', [server, seen.tool])).rows[0];
        let row: ToolPinRow | undefined;
        if (before === undefined) {
          const approved = trustsNewTool(trust, serverKnown);
          row = (
            await client.query<ToolPinRow>(
              `INSERT INTO tool_pins (${TOOL_PIN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $5, $5, $6, $7, $8, $9) RETURNING ${TOOL_PIN_COLUMNS}`,
              [server, seen.tool, seen.hash, seen.definition, at, approved ? seen.hash : null, approved ? seen.definition : null, approved ? at : null, approved ? TRUSTED_FIRST_USE : null],
            )
          ).rows[0];
        } else if (before.hash === seen.hash) {
          row = (await client.query<ToolPinRow>(`UPDATE tool_pins SET last_seen_at = greatest(last_seen_at, $3) WHERE server = $1 AND tool = $2 RETURNING ${TOOL_PIN_COLUMNS}`, [server, seen.tool, at])).rows[0];
        } else {
          row = (
            await client.query<ToolPinRow>(
              `UPDATE tool_pins SET hash = $3, definition = $4, changed_at = $5, last_seen_at = greatest(last_seen_at, $5) WHERE server = $1 AND tool = $2 RETURNING ${TOOL_PIN_COLUMNS}`,
              [server, seen.tool, seen.hash, seen.definition, at],
            )
          ).rows[0];
        }
        out.push({ previousHash: before?.hash, record: toToolPin(row!) });
      }
      await client.query('COMMIT');
      return out;
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      await client.query('ROLLBACK').catch(() => undefined); // the original error matters more
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async list(server?: string): Promise<ToolPinRecord[]> {
    const result =
      server === undefined
        ? await this.pool.query<ToolPinRow>(`SELECT ${TOOL_PIN_COLUMNS} FROM tool_pins ORDER BY server, tool`)
        : await this.pool.query<ToolPinRow>(`SELECT ${TOOL_PIN_COLUMNS} FROM tool_pins WHERE server = $1 ORDER BY tool`, [server]);
    return result.rows.map(toToolPin);
  }

  async get(server: string, tool: string): Promise<ToolPinRecord | undefined> {
    const row = (await this.pool.query<ToolPinRow>(`SELECT ${TOOL_PIN_COLUMNS} FROM tool_pins WHERE server = $1 AND tool = $2`, [server, tool])).rows[0];
    return row && toToolPin(row);
  }

  async approve(server: string, tool: string, hash: string, at: number, by: string): Promise<ToolApproval> {
    const updated = await this.pool.query(
      'UPDATE tool_pins SET approved_hash = hash, approved_definition = definition, approved_at = $3, approved_by = $4 WHERE server = $1 AND tool = $2 AND hash = $5',
      [server, tool, at, by, hash],
    );
    if ((updated.rowCount ?? 0) > 0) return 'approved';
    return (await this.get(server, tool)) === undefined ? 'missing' : 'stale';
  }
}
