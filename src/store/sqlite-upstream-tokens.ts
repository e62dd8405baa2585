// upstream_tokens and upstream_clients on SQLite (see store.ts, auth: oauth-user).
import type Database from 'better-sqlite3';
import type { UpstreamClientRecord, UpstreamTokenRecord } from './store.ts';
import { CLIENT_COLUMNS, TOKEN_COLUMNS, toUpstreamClient, toUpstreamToken, type UpstreamClientRow, type UpstreamTokenRow } from './upstream-token-rows.ts';

export class SqliteUpstreamTokens {
  readonly #q;

  constructor(db: Database.Database) {
    this.#q = {
      put: db.prepare<[string, string, string, number | null, number]>(
        `INSERT INTO upstream_tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, server) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
      ),
      get: db.prepare<[string, string], UpstreamTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM upstream_tokens WHERE user_id = ? AND server = ?`),
      list: db.prepare<[], UpstreamTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM upstream_tokens ORDER BY user_id, server`),
      listUser: db.prepare<[string], UpstreamTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM upstream_tokens WHERE user_id = ? ORDER BY server`),
      delete: db.prepare<[string, string], UpstreamTokenRow>(`DELETE FROM upstream_tokens WHERE user_id = ? AND server = ? RETURNING ${TOKEN_COLUMNS}`),
      putClient: db.prepare<[string, string, string, number]>(
        `INSERT INTO upstream_clients (${CLIENT_COLUMNS}) VALUES (?, ?, ?, ?)
         ON CONFLICT (server, issuer) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
      ),
      getClient: db.prepare<[string, string], UpstreamClientRow>(`SELECT ${CLIENT_COLUMNS} FROM upstream_clients WHERE server = ? AND issuer = ?`),
    };
  }

  put(r: UpstreamTokenRecord): void {
    this.#q.put.run(r.userId, r.server, r.sealed, r.expiresAt ?? null, r.updatedAt);
  }

  get(userId: string, server: string): UpstreamTokenRecord | undefined {
    const row = this.#q.get.get(userId, server);
    return row && toUpstreamToken(row);
  }

  list(userId?: string): UpstreamTokenRecord[] {
    return (userId === undefined ? this.#q.list.all() : this.#q.listUser.all(userId)).map(toUpstreamToken);
  }

  delete(userId: string, server: string): UpstreamTokenRecord | undefined {
    const row = this.#q.delete.get(userId, server);
    return row && toUpstreamToken(row);
  }

  putClient(r: UpstreamClientRecord): void {
    this.#q.putClient.run(r.server, r.issuer, r.sealed, r.updatedAt);
  }

  getClient(server: string, issuer: string): UpstreamClientRecord | undefined {
    const row = this.#q.getClient.get(server, issuer);
    return row && toUpstreamClient(row);
  }
}
