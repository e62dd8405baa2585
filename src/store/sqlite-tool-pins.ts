// tool_pins on SQLite (see store.ts, recordToolDefinitions and approveToolPin). better-sqlite3 is
// synchronous: each method is one transaction, atomic against other processes on the file.
import type Database from 'better-sqlite3';
import type { FirstUseTrust, SeenTool, ToolApproval, ToolPinRecord } from './store.ts';
import { TOOL_PIN_COLUMNS, TRUSTED_FIRST_USE, toToolPin, trustsNewTool, type ToolPinRow } from './tool-pin-rows.ts';

export class SqliteToolPins {
  readonly #q;
  readonly #record;
  readonly #approve;

  constructor(db: Database.Database) {
    const q = {
      serverKnown: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM tool_pins WHERE server = ? LIMIT 1'),
      get: db.prepare<[string, string], ToolPinRow>(`SELECT ${TOOL_PIN_COLUMNS} FROM tool_pins WHERE server = ? AND tool = ?`),
      list: db.prepare<[], ToolPinRow>(`SELECT ${TOOL_PIN_COLUMNS} FROM tool_pins ORDER BY server, tool`),
      listServer: db.prepare<[string], ToolPinRow>(`SELECT ${TOOL_PIN_COLUMNS} FROM tool_pins WHERE server = ? ORDER BY tool`),
      insert: db.prepare(
        `INSERT INTO tool_pins (${TOOL_PIN_COLUMNS}) VALUES (@server, @tool, @hash, @definition, @at, @at, @at, @approved_hash, @approved_definition, @approved_at, @approved_by)`,
      ),
      seen: db.prepare<[number, string, string]>('UPDATE tool_pins SET last_seen_at = max(last_seen_at, ?) WHERE server = ? AND tool = ?'),
      changed: db.prepare<[string, string, number, number, string, string]>(
        'UPDATE tool_pins SET hash = ?, definition = ?, changed_at = ?, last_seen_at = max(last_seen_at, ?) WHERE server = ? AND tool = ?',
      ),
      approve: db.prepare<[number, string, string, string, string]>(
        'UPDATE tool_pins SET approved_hash = hash, approved_definition = definition, approved_at = ?, approved_by = ? WHERE server = ? AND tool = ? AND hash = ?',
      ),
    };
    this.#q = q;
    this.#record = db.transaction((server: string, tools: readonly SeenTool[], at: number, trust: FirstUseTrust) => {
      const serverKnown = q.serverKnown.get(server) !== undefined;
      const out: Array<{ previousHash: string | undefined; record: ToolPinRecord }> = [];
      for (const seen of tools) {
        const before = q.get.get(server, seen.tool);
        if (before === undefined) {
          const approved = trustsNewTool(trust, serverKnown);
          q.insert.run({
            server,
            tool: seen.tool,
            hash: seen.hash,
            definition: seen.definition,
            at,
            approved_hash: approved ? seen.hash : null,
            approved_definition: approved ? seen.definition : null,
            approved_at: approved ? at : null,
            approved_by: approved ? TRUSTED_FIRST_USE : null,
          });
        } else if (before.hash === seen.hash) q.seen.run(at, server, seen.tool);
        else q.changed.run(seen.hash, seen.definition, at, at, server, seen.tool);
        out.push({ previousHash: before?.hash, record: toToolPin(q.get.get(server, seen.tool)!) });
      }
      return out;
    });
    this.#approve = db.transaction((server: string, tool: string, hash: string, at: number, by: string): ToolApproval => {
      if (q.approve.run(at, by, server, tool, hash).changes > 0) return 'approved';
      return q.get.get(server, tool) === undefined ? 'missing' : 'stale';
    });
  }

  record(server: string, tools: readonly SeenTool[], at: number, trust: FirstUseTrust): Array<{ previousHash: string | undefined; record: ToolPinRecord }> {
    return this.#record.immediate(server, tools, at, trust);
  }

  list(server?: string): ToolPinRecord[] {
    return (server === undefined ? this.#q.list.all() : this.#q.listServer.all(server)).map(toToolPin);
  }

  get(server: string, tool: string): ToolPinRecord | undefined {
    const row = this.#q.get.get(server, tool);
    return row && toToolPin(row);
  }

  approve(server: string, tool: string, hash: string, at: number, by: string): ToolApproval {
    return this.#approve.immediate(server, tool, hash, at, by);
  }
}
