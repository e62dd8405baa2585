// The control plane's tables in the embedded SQLite file (the Store's own file: one database to
// back up). A second connection of its own, so that the Store's code stays untouched; WAL lets
// both work side by side. better-sqlite3 is synchronous: each method body is one transaction.
import Database from 'better-sqlite3';
import { openSqliteFile } from './sqlite.ts';
import { CONTROL_SQLITE_MIGRATIONS } from './control-sqlite-schema.ts';
import { ControlConflict, adminTokenOf, adminUserOf, type AdminTokenRecord, type AdminTokenRow, type AdminUserExpected, type AdminUserRecord, type AdminUserRow, type AdminRole, type ChangeInput, type ChangeRecord, type ControlDocument, type ControlStore, type DeployInput, type DraftRecord, type VersionRecord } from './control.ts';

export async function openSqliteControlStore(file: string): Promise<SqliteControlStore> {
  return openSqliteFile(file, (db) => {
    migrate(db);
    return new SqliteControlStore(db);
  });
}

function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS control_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT');
    const current = Number((db.prepare('SELECT coalesce(max(version), 0) AS v FROM control_migrations').get() as { v: number }).v);
    const target = CONTROL_SQLITE_MIGRATIONS.length;
    if (current > target) throw new Error(`The control tables are version ${current}, newer than this Gatehouse supports (${target}); upgrade Gatehouse`);
    for (let version = current + 1; version <= target; version++) {
      db.exec(CONTROL_SQLITE_MIGRATIONS[version - 1]!);
      db.prepare('INSERT INTO control_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
    }
  }).immediate();
}

interface DraftRow {
  document: string;
  revision: number;
  updated_at: number;
  updated_by: string;
}
interface VersionRow {
  version: number;
  document: string;
  created_at: number;
  created_by: string;
  comment: string | null;
  rolled_back_from: number | null;
}
interface ChangeRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  patch: string;
  version: number | null;
}

const draftOf = (row: DraftRow): DraftRecord => ({ document: JSON.parse(row.document) as ControlDocument, revision: row.revision, updatedAt: row.updated_at, updatedBy: row.updated_by });
const versionOf = (row: VersionRow): VersionRecord => ({
  version: row.version,
  document: JSON.parse(row.document) as ControlDocument,
  createdAt: row.created_at,
  createdBy: row.created_by,
  comment: row.comment ?? undefined,
  rolledBackFrom: row.rolled_back_from ?? undefined,
});
const changeOf = (row: ChangeRow): ChangeRecord => ({ seq: row.seq, at: row.at, actor: row.actor, action: row.action, target: row.target, patch: JSON.parse(row.patch) as ChangeRecord['patch'], version: row.version ?? undefined });

export class SqliteControlStore implements ControlStore {
  readonly kind = 'sqlite' as const;
  private readonly sql;

  constructor(private readonly db: Database.Database) {
    this.sql = {
      draft: db.prepare('SELECT document, revision, updated_at, updated_by FROM control_draft WHERE id = 1'),
      insertDraft: db.prepare('INSERT INTO control_draft (id, document, revision, updated_at, updated_by) VALUES (1, ?, 1, ?, ?)'),
      updateDraft: db.prepare('UPDATE control_draft SET document = ?, revision = revision + 1, updated_at = ?, updated_by = ? WHERE id = 1 AND revision = ?'),
      version: db.prepare('SELECT * FROM control_versions WHERE version = ?'),
      versions: db.prepare('SELECT * FROM control_versions ORDER BY version DESC'),
      latest: db.prepare('SELECT max(version) AS v FROM control_versions'),
      insertVersion: db.prepare('INSERT INTO control_versions (version, document, created_at, created_by, comment, rolled_back_from) VALUES (?, ?, ?, ?, ?, ?)'),
      insertChange: db.prepare('INSERT INTO control_changes (at, actor, action, target, patch, version) VALUES (?, ?, ?, ?, ?, ?)'),
      changes: db.prepare('SELECT * FROM control_changes ORDER BY seq DESC LIMIT ?'),
      insertToken: db.prepare('INSERT INTO control_admin_tokens (id, name, role, digest, created_at, created_by, expires_at, revoked_at, tenant) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)'),
      token: db.prepare('SELECT * FROM control_admin_tokens WHERE id = ?'),
      tokens: db.prepare('SELECT * FROM control_admin_tokens ORDER BY created_at DESC, id'),
      revokeToken: db.prepare('UPDATE control_admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      adminUser: db.prepare('SELECT * FROM control_admin_users WHERE username = ?'),
      adminUsers: db.prepare('SELECT * FROM control_admin_users ORDER BY username'),
      insertAdminUser: db.prepare('INSERT INTO control_admin_users (username, user_id, role, tenant, created_at, created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING'),
      // `tenant IS ?`: NULL matches NULL (a platform entry).
      updateAdminUser: db.prepare('UPDATE control_admin_users SET role = ?, tenant = ?, updated_at = ?, updated_by = ? WHERE username = ? AND role = ? AND tenant IS ?'),
      deleteAdminUser: db.prepare('DELETE FROM control_admin_users WHERE username = ?'),
      deleteAdminUserIf: db.prepare('DELETE FROM control_admin_users WHERE username = ? AND role = ? AND tenant IS ?'),
    };
  }

  async getDraft(): Promise<DraftRecord | undefined> {
    const row = this.sql.draft.get() as DraftRow | undefined;
    return row && draftOf(row);
  }

  async saveDraft(document: ControlDocument, expectedRevision: number, actor: string, at: number, change: ChangeInput): Promise<DraftRecord> {
    return this.db
      .transaction(() => {
        this.writeDraft(document, expectedRevision, actor, at);
        this.sql.insertChange.run(at, actor, change.action, change.target, JSON.stringify(change.patch), null);
        return draftOf(this.sql.draft.get() as DraftRow);
      })
      .immediate();
  }

  private writeDraft(document: ControlDocument, expectedRevision: number, actor: string, at: number): void {
    const text = JSON.stringify(document);
    const current = this.sql.draft.get() as DraftRow | undefined;
    if ((current?.revision ?? 0) !== expectedRevision) throw new ControlConflict(`the draft changed (revision ${current?.revision ?? 0}, expected ${expectedRevision})`, 'stale');
    if (current) this.sql.updateDraft.run(text, at, actor, expectedRevision);
    else this.sql.insertDraft.run(text, at, actor);
  }

  async deploy(input: DeployInput): Promise<VersionRecord> {
    return this.db
      .transaction(() => {
        const draftRow = this.sql.draft.get() as DraftRow | undefined;
        const revision = draftRow?.revision ?? 0;
        if (input.expectedRevision !== undefined && input.expectedRevision !== revision) throw new ControlConflict(`the draft changed (revision ${revision}, expected ${input.expectedRevision})`, 'stale');
        let document: string;
        const current = (this.sql.latest.get() as { v: number | null }).v ?? undefined;
        if (input.partial !== undefined) {
          if (input.partial.basedOn !== current) throw new ControlConflict(`another deploy came first (version ${current ?? 'none'}, expected ${input.partial.basedOn ?? 'none'})`, 'stale');
          document = JSON.stringify(input.partial.document);
        } else if (input.rollbackTo !== undefined) {
          const target = this.sql.version.get(input.rollbackTo) as VersionRow | undefined;
          if (!target) throw new ControlConflict(`no version ${input.rollbackTo}`, 'missing');
          document = target.document;
          this.writeDraft(JSON.parse(document) as ControlDocument, revision, input.actor, input.at);
        } else {
          if (!draftRow) throw new ControlConflict('there is no draft to deploy: change something first', 'empty');
          document = draftRow.document;
        }
        const next = Number((this.sql.latest.get() as { v: number | null }).v ?? 0) + 1;
        this.sql.insertVersion.run(next, document, input.at, input.actor, input.comment ?? null, input.rollbackTo ?? null);
        this.sql.insertChange.run(input.at, input.actor, input.change.action, input.change.target, JSON.stringify(input.change.patch), next);
        return versionOf(this.sql.version.get(next) as VersionRow);
      })
      .immediate();
  }

  async getVersion(version: number): Promise<VersionRecord | undefined> {
    const row = this.sql.version.get(version) as VersionRow | undefined;
    return row && versionOf(row);
  }

  async listVersions(): Promise<VersionRecord[]> {
    return (this.sql.versions.all() as VersionRow[]).map(versionOf);
  }

  async latestVersion(): Promise<number | undefined> {
    const v = (this.sql.latest.get() as { v: number | null }).v;
    return v ?? undefined;
  }

  async listChanges(limit: number): Promise<ChangeRecord[]> {
    return (this.sql.changes.all(limit) as ChangeRow[]).map(changeOf);
  }

  async createAdminToken(t: AdminTokenRecord): Promise<void> {
    this.sql.insertToken.run(t.id, t.name, t.role, t.digest, t.createdAt, t.createdBy, t.expiresAt ?? null, t.tenant ?? null);
  }

  async getAdminToken(id: string): Promise<AdminTokenRecord | undefined> {
    const row = this.sql.token.get(id) as AdminTokenRow | undefined;
    return row && adminTokenOf(row);
  }

  async listAdminTokens(): Promise<AdminTokenRecord[]> {
    return (this.sql.tokens.all() as AdminTokenRow[]).map(adminTokenOf);
  }

  async revokeAdminToken(id: string, at: number): Promise<boolean> {
    return this.sql.revokeToken.run(at, id).changes === 1;
  }

  async getAdminUser(username: string): Promise<AdminUserRecord | undefined> {
    const row = this.sql.adminUser.get(username) as AdminUserRow | undefined;
    return row && adminUserOf(row);
  }

  async listAdminUsers(): Promise<AdminUserRecord[]> {
    return (this.sql.adminUsers.all() as AdminUserRow[]).map(adminUserOf);
  }

  async createAdminUser(u: AdminUserRecord, change: ChangeInput): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (this.sql.insertAdminUser.run(u.username, u.userId, u.role, u.tenant ?? null, u.createdAt, u.createdBy, u.updatedAt, u.updatedBy).changes !== 1) return false;
        this.sql.insertChange.run(u.createdAt, u.createdBy, change.action, change.target, JSON.stringify(change.patch), null);
        return true;
      })
      .immediate();
  }

  async updateAdminUser(username: string, expected: AdminUserExpected, next: { role: AdminRole; tenant: string | undefined; at: number; actor: string }, change: ChangeInput): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (this.sql.updateAdminUser.run(next.role, next.tenant ?? null, next.at, next.actor, username, expected.role, expected.tenant ?? null).changes !== 1) return false;
        this.sql.insertChange.run(next.at, next.actor, change.action, change.target, JSON.stringify(change.patch), null);
        return true;
      })
      .immediate();
  }

  async deleteAdminUser(username: string, expected: AdminUserExpected | undefined, actor: string, at: number, change: ChangeInput): Promise<boolean> {
    return this.db
      .transaction(() => {
        const gone = expected === undefined ? this.sql.deleteAdminUser.run(username) : this.sql.deleteAdminUserIf.run(username, expected.role, expected.tenant ?? null);
        if (gone.changes !== 1) return false;
        this.sql.insertChange.run(at, actor, change.action, change.target, JSON.stringify(change.patch), null);
        return true;
      })
      .immediate();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
