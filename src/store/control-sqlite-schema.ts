// The control plane's SQLite tables, on their own migration track (table control_migrations, not
// PRAGMA user_version, which belongs to the Store's schema). Append; never edit a shipped step.

export const CONTROL_SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE control_draft (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    document    TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL
  ) STRICT;

  CREATE TABLE control_versions (
    version           INTEGER NOT NULL PRIMARY KEY,
    document          TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    created_by        TEXT    NOT NULL,
    comment           TEXT,
    rolled_back_from  INTEGER
  ) STRICT;

  CREATE TABLE control_changes (
    seq      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    target   TEXT    NOT NULL,
    patch    TEXT    NOT NULL,
    version  INTEGER
  ) STRICT;
  `,
  // 2: API tokens of the admin listener (automation), scoped by role and revocable.
  `
  CREATE TABLE control_admin_tokens (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    digest      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
  ) STRICT;
  `,
  // 3 (tenants): an API token may be scoped to one tenant (NULL: the whole platform).
  `
  ALTER TABLE control_admin_tokens ADD COLUMN tenant TEXT;
  `,
  // 4: admin users managed through the API (users of the authorization server with a role on the
  // admin listener); the node file's admin.users are not stored.
  `
  CREATE TABLE control_admin_users (
    username    TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    tenant      TEXT,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL
  ) STRICT;
  `,
];
