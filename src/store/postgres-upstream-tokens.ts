// upstream_tokens and upstream_clients on Postgres (see store.ts, auth: oauth-user).
import type pg from 'pg';
import type { UpstreamClientRecord, UpstreamTokenRecord } from './store.ts';
import { CLIENT_COLUMNS, TOKEN_COLUMNS, toUpstreamClient, toUpstreamToken, type UpstreamClientRow, type UpstreamTokenRow } from './upstream-token-rows.ts';

export class PostgresUpstreamTokens {
  constructor(private readonly pool: pg.Pool) {}

  async put(r: UpstreamTokenRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO upstream_tokens (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, server) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
      [r.userId, r.server, r.sealed, r.expiresAt ?? null, r.updatedAt],
    );
  }

  async get(userId: string, server: string): Promise<UpstreamTokenRecord | undefined> {
    const row = (await this.pool.query<UpstreamTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM upstream_tokens WHERE user_id = $1 AND server = $2`, [userId, server])).rows[0];
    return row && toUpstreamToken(row);
  }

  async list(userId?: string): Promise<UpstreamTokenRecord[]> {
    const result =
      userId === undefined
        ? await this.pool.query<UpstreamTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM upstream_tokens ORDER BY user_id, server`)
        : await this.pool.query<UpstreamTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM upstream_tokens WHERE user_id = $1 ORDER BY server`, [userId]);
    return result.rows.map(toUpstreamToken);
  }

  async delete(userId: string, server: string): Promise<UpstreamTokenRecord | undefined> {
    const row = (await this.pool.query<UpstreamTokenRow>(`DELETE FROM upstream_tokens WHERE user_id = $1 AND server = $2 RETURNING ${TOKEN_COLUMNS}`, [userId, server])).rows[0];
    return row && toUpstreamToken(row);
  }

  async putClient(r: UpstreamClientRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO upstream_clients (${CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4)
       ON CONFLICT (server, issuer) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
      [r.server, r.issuer, r.sealed, r.updatedAt],
    );
  }

  async getClient(server: string, issuer: string): Promise<UpstreamClientRecord | undefined> {
    const row = (await this.pool.query<UpstreamClientRow>(`SELECT ${CLIENT_COLUMNS} FROM upstream_clients WHERE server = $1 AND issuer = $2`, [server, issuer])).rows[0];
    return row && toUpstreamClient(row);
  }
}
