// The control plane's tables in Postgres (shared by nodes). Migrations run under their own
// advisory lock key and record themselves in control_migrations. A deploy takes a row lock on
// the draft (SELECT … FOR UPDATE) so that two nodes deploying at once get consecutive versions.
import pg from 'pg';
import { migratePostgres, quoteIdent, type MigrationTrack } from './postgres-migrate.ts';
import { CONTROL_POSTGRES_MIGRATIONS } from './control-postgres-schema.ts';
import { deployChannel, watchDeploys } from './control-postgres-watch.ts';
import type { Logger } from '../log.ts';
import { ControlConflict, adminTokenOf, adminUserOf, type AdminRole, type AdminTokenRecord, type AdminTokenRow, type AdminUserExpected, type AdminUserRecord, type AdminUserRow, type ChangeInput, type ChangeRecord, type ControlDocument, type ControlStore, type DeployInput, type DraftRecord, type VersionRecord } from './control.ts';

/** "ctrl" in ASCII: apart from the Store's lock ("gate"). */
const LOCK_CLASS = 0x6374726c;

/** The control tables' migrations, on their own track and lock. */
const CONTROL_TRACK: MigrationTrack = { table: 'control_migrations', steps: CONTROL_POSTGRES_MIGRATIONS, lockClass: LOCK_CLASS, what: 'The control tables are' };
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export async function openPostgresControlStore(url: string, schema?: string): Promise<PostgresControlStore> {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error(`Postgres schema "${schema}" is not a plain identifier (letters, digits, _; at most 63)`);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  if (schema !== undefined) {
    const setPath = `SET search_path TO ${quoteIdent(schema)}`;
    pool.on('connect', (client) => void client.query(setPath).catch(() => undefined));
  }
  try {
    await migratePostgres(pool, schema, CONTROL_TRACK);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return new PostgresControlStore(pool, url, schema);
}

interface DraftRow {
  document: ControlDocument;
  revision: number;
  updated_at: string;
  updated_by: string;
}
interface VersionRow {
  version: number;
  document: ControlDocument;
  created_at: string;
  created_by: string;
  comment: string | null;
  rolled_back_from: number | null;
}
interface ChangeRow {
  seq: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  patch: ChangeRecord['patch'];
  version: number | null;
}

const draftOf = (row: DraftRow): DraftRecord => ({ document: row.document, revision: row.revision, updatedAt: Number(row.updated_at), updatedBy: row.updated_by });
const versionOf = (row: VersionRow): VersionRecord => ({
  version: row.version,
  document: row.document,
  createdAt: Number(row.created_at),
  createdBy: row.created_by,
  comment: row.comment ?? undefined,
  rolledBackFrom: row.rolled_back_from ?? undefined,
});
const changeOf = (row: ChangeRow): ChangeRecord => ({ seq: Number(row.seq), at: Number(row.at), actor: row.actor, action: row.action, target: row.target, patch: row.patch, version: row.version ?? undefined });

const DRAFT = 'SELECT document, revision, updated_at, updated_by FROM control_draft WHERE id = 1';

export class PostgresControlStore implements ControlStore {
  readonly kind = 'postgres' as const;

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly schema: string | undefined,
  ) {}

  /** Every node hears each deploy at once (LISTEN/NOTIFY); see control-postgres-watch.ts. */
  watch(onDeploy: (version: number) => void, log?: Logger): () => Promise<void> {
    return watchDeploys(this.url, this.schema, onDeploy, log);
  }

  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // The draft row is the lock every writer takes first; before the first write there is no
      // row, so writers serialize on a transaction-scoped advisory lock instead.
      await client.query('SELECT pg_advisory_xact_lock($1, 1)', [LOCK_CLASS]);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async getDraft(): Promise<DraftRecord | undefined> {
    const { rows } = await this.pool.query<DraftRow>(DRAFT);
    return rows[0] && draftOf(rows[0]);
  }

  async saveDraft(document: ControlDocument, expectedRevision: number, actor: string, at: number, change: ChangeInput): Promise<DraftRecord> {
    return this.transaction(async (client) => {
      await writeDraft(client, document, expectedRevision, actor, at);
      await insertChange(client, at, actor, change, undefined);
      const { rows } = await client.query<DraftRow>(DRAFT);
      return draftOf(rows[0]!);
    });
  }

  async deploy(input: DeployInput): Promise<VersionRecord> {
    return this.transaction(async (client) => {
      const draft = (await client.query<DraftRow>(DRAFT)).rows[0];
      const revision = draft?.revision ?? 0;
      if (input.expectedRevision !== undefined && input.expectedRevision !== revision) throw new ControlConflict(`the draft changed (revision ${revision}, expected ${input.expectedRevision})`, 'stale');
      let document: ControlDocument;
      if (input.partial !== undefined) {
        const current = (await client.query<{ v: number | null }>('SELECT max(version) AS v FROM control_versions')).rows[0]?.v ?? undefined;
        if (input.partial.basedOn !== current) throw new ControlConflict(`another deploy came first (version ${current ?? 'none'}, expected ${input.partial.basedOn ?? 'none'})`, 'stale');
        document = input.partial.document;
      } else if (input.rollbackTo !== undefined) {
        const target = (await client.query<VersionRow>('SELECT * FROM control_versions WHERE version = $1', [input.rollbackTo])).rows[0];
        if (!target) throw new ControlConflict(`no version ${input.rollbackTo}`, 'missing');
        document = target.document;
        await writeDraft(client, document, revision, input.actor, input.at);
      } else {
        if (!draft) throw new ControlConflict('there is no draft to deploy: change something first', 'empty');
        document = draft.document;
      }
      const latest = (await client.query<{ v: number | null }>('SELECT max(version) AS v FROM control_versions')).rows[0]?.v ?? 0;
      const next = latest + 1;
      const { rows } = await client.query<VersionRow>(
        'INSERT INTO control_versions (version, document, created_at, created_by, comment, rolled_back_from) VALUES ($1, $2::json, $3, $4, $5, $6) RETURNING *',
        [next, JSON.stringify(document), input.at, input.actor, input.comment ?? null, input.rollbackTo ?? null],
      );
      await insertChange(client, input.at, input.actor, input.change, next);
      // Delivered to every listening node when the transaction commits.
      await client.query('SELECT pg_notify($1, $2)', [deployChannel(this.schema), String(next)]);
      return versionOf(rows[0]!);
    });
  }

  async getVersion(version: number): Promise<VersionRecord | undefined> {
    const { rows } = await this.pool.query<VersionRow>('SELECT * FROM control_versions WHERE version = $1', [version]);
    return rows[0] && versionOf(rows[0]);
  }

  async listVersions(): Promise<VersionRecord[]> {
    const { rows } = await this.pool.query<VersionRow>('SELECT * FROM control_versions ORDER BY version DESC');
    return rows.map(versionOf);
  }

  async latestVersion(): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ v: number | null }>('SELECT max(version) AS v FROM control_versions');
    return rows[0]?.v ?? undefined;
  }

  async listChanges(limit: number): Promise<ChangeRecord[]> {
    const { rows } = await this.pool.query<ChangeRow>('SELECT * FROM control_changes ORDER BY seq DESC LIMIT $1', [limit]);
    return rows.map(changeOf);
  }

  async createAdminToken(t: AdminTokenRecord): Promise<void> {
    await this.pool.query('INSERT INTO control_admin_tokens (id, name, role, digest, created_at, created_by, expires_at, tenant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [t.id, t.name, t.role, t.digest, t.createdAt, t.createdBy, t.expiresAt ?? null, t.tenant ?? null]);
  }

  async getAdminToken(id: string): Promise<AdminTokenRecord | undefined> {
    const { rows } = await this.pool.query<AdminTokenRow>('SELECT * FROM control_admin_tokens WHERE id = $1', [id]);
    return rows[0] && adminTokenOf(rows[0]);
  }

  async listAdminTokens(): Promise<AdminTokenRecord[]> {
    const { rows } = await this.pool.query<AdminTokenRow>('SELECT * FROM control_admin_tokens ORDER BY created_at DESC, id');
    return rows.map(adminTokenOf);
  }

  async revokeAdminToken(id: string, at: number): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE control_admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
    return rowCount === 1;
  }

  async getAdminUser(username: string): Promise<AdminUserRecord | undefined> {
    const { rows } = await this.pool.query<AdminUserRow>('SELECT * FROM control_admin_users WHERE username = $1', [username]);
    return rows[0] && adminUserOf(rows[0]);
  }

  async listAdminUsers(): Promise<AdminUserRecord[]> {
    const { rows } = await this.pool.query<AdminUserRow>('SELECT * FROM control_admin_users ORDER BY username');
    return rows.map(adminUserOf);
  }

  async createAdminUser(u: AdminUserRecord, change: ChangeInput): Promise<boolean> {
    return this.transaction(async (client) => {
      const { rowCount } = await client.query(
        'INSERT INTO control_admin_users (username, user_id, role, tenant, created_at, created_by, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (username) DO NOTHING',
        [u.username, u.userId, u.role, u.tenant ?? null, u.createdAt, u.createdBy, u.updatedAt, u.updatedBy],
      );
      if (rowCount !== 1) return false;
      await insertChange(client, u.createdAt, u.createdBy, change, undefined);
      return true;
    });
  }

  async updateAdminUser(username: string, expected: AdminUserExpected, next: { role: AdminRole; tenant: string | undefined; at: number; actor: string }, change: ChangeInput): Promise<boolean> {
    return this.transaction(async (client) => {
      const { rowCount } = await client.query(
        'UPDATE control_admin_users SET role = $1, tenant = $2, updated_at = $3, updated_by = $4 WHERE username = $5 AND role = $6 AND tenant IS NOT DISTINCT FROM $7',
        [next.role, next.tenant ?? null, next.at, next.actor, username, expected.role, expected.tenant ?? null],
      );
      if (rowCount !== 1) return false;
      await insertChange(client, next.at, next.actor, change, undefined);
      return true;
    });
  }

  async deleteAdminUser(username: string, expected: AdminUserExpected | undefined, actor: string, at: number, change: ChangeInput): Promise<boolean> {
    return this.transaction(async (client) => {
      const { rowCount } =
        expected === undefined
          ? await client.query('DELETE FROM control_admin_users WHERE username = $1', [username])
          : await client.query('DELETE FROM control_admin_users WHERE username = $1 AND role = $2 AND tenant IS NOT DISTINCT FROM $3', [username, expected.role, expected.tenant ?? null]);
      if (rowCount !== 1) return false;
      await insertChange(client, at, actor, change, undefined);
      return true;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function writeDraft(client: pg.PoolClient, document: ControlDocument, expectedRevision: number, actor: string, at: number): Promise<void> {
  const current = (await client.query<{ revision: number }>('SELECT revision FROM control_draft WHERE id = 1')).rows[0];
  if ((current?.revision ?? 0) !== expectedRevision) throw new ControlConflict(`the draft changed (revision ${current?.revision ?? 0}, expected ${expectedRevision})`, 'stale');
  const text = JSON.stringify(document);
  if (current) await client.query('UPDATE control_draft SET document = $1::json, revision = revision + 1, updated_at = $2, updated_by = $3 WHERE id = 1', [text, at, actor]);
  else await client.query('INSERT INTO control_draft (id, document, revision, updated_at, updated_by) VALUES (1, $1::json, 1, $2, $3)', [text, at, actor]);
}

async function insertChange(client: pg.PoolClient, at: number, actor: string, change: ChangeInput, version: number | undefined): Promise<void> {
  await client.query('INSERT INTO control_changes (at, actor, action, target, patch, version) VALUES ($1, $2, $3, $4, $5::json, $6)', [at, actor, change.action, change.target, JSON.stringify(change.patch), version ?? null]);
}
