// The control plane's Postgres tables, on their own migration track (table control_migrations,
// Documents are `json`, not `jsonb`: jsonb reorders keys, and an exported file should read in the order it was written.
// apart from gatehouse_migrations). Append; never edit a shipped step.

export const CONTROL_POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE control_draft (
    id          integer NOT NULL PRIMARY KEY CHECK (id = 1),
    document    json    NOT NULL,
    revision    integer NOT NULL,
    updated_at  bigint  NOT NULL,
    updated_by  text    NOT NULL
  );

  CREATE TABLE control_versions (
    version           integer NOT NULL PRIMARY KEY,
    document          json    NOT NULL,
    created_at        bigint  NOT NULL,
    created_by        text    NOT NULL,
    comment           text,
    rolled_back_from  integer
  );

  CREATE TABLE control_changes (
    seq      bigserial NOT NULL PRIMARY KEY,
    at       bigint    NOT NULL,
    actor    text      NOT NULL,
    action   text      NOT NULL,
    target   text      NOT NULL,
    patch    json      NOT NULL,
    version  integer
  );
  `,
  // 2: API tokens of the admin listener (see the SQLite schema).
  `
  CREATE TABLE control_admin_tokens (
    id          text COLLATE "C" PRIMARY KEY,
    name        text   NOT NULL,
    role        text   NOT NULL,
    digest      text   NOT NULL,
    created_at  bigint NOT NULL,
    created_by  text   NOT NULL,
    expires_at  bigint,
    revoked_at  bigint
  );
  `,
  // 3 (tenants): an API token may be scoped to one tenant (NULL: the whole platform).
  `
  ALTER TABLE control_admin_tokens ADD COLUMN tenant text;
  `,
  // 4: admin users managed through the API (see the SQLite schema).
  `
  CREATE TABLE control_admin_users (
    username    text COLLATE "C" PRIMARY KEY,
    user_id     text   NOT NULL,
    role        text   NOT NULL,
    tenant      text,
    created_at  bigint NOT NULL,
    created_by  text   NOT NULL,
    updated_at  bigint NOT NULL,
    updated_by  text   NOT NULL
  );
  `,
];
