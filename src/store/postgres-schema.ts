// Postgres schema, as an ordered list of migrations. Migration i (0-based) is version i + 1 in
// the table gatehouse_migrations. Append new migrations; never edit one that has shipped.
// Times are bigint milliseconds since the epoch. Identifier columns use the "C" collation so
// ordering and uniqueness compare bytes, exactly as SQLite does.

export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE agents (
    id          text COLLATE "C" PRIMARY KEY,
    name        text,
    labels      jsonb   NOT NULL DEFAULT '{}'::jsonb,
    tenant      text,
    created_at  bigint  NOT NULL,
    disabled    boolean NOT NULL DEFAULT false
  );
  CREATE INDEX agents_created_idx ON agents (created_at, id);

  CREATE TABLE api_keys (
    id            text COLLATE "C" PRIMARY KEY,
    agent_id      text COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    hash          text COLLATE "C" NOT NULL,
    prefix        text   NOT NULL,
    api           text,
    created_at    bigint NOT NULL,
    expires_at    bigint,
    revoked_at    bigint,
    last_used_at  bigint
  );
  CREATE UNIQUE INDEX api_keys_hash_idx ON api_keys (hash);
  CREATE INDEX api_keys_agent_idx ON api_keys (agent_id, created_at, id);
  CREATE INDEX api_keys_created_idx ON api_keys (created_at, id);

  CREATE TABLE users (
    id             text COLLATE "C" PRIMARY KEY,
    username       text COLLATE "C" NOT NULL,
    password_hash  text    NOT NULL,
    created_at     bigint  NOT NULL,
    disabled       boolean NOT NULL DEFAULT false
  );
  CREATE UNIQUE INDEX users_username_idx ON users (username);
  CREATE INDEX users_created_idx ON users (created_at, id);

  CREATE TABLE oauth_clients (
    client_id    text COLLATE "C" PRIMARY KEY,
    metadata     jsonb  NOT NULL,
    secret_hash  text,
    created_at   bigint NOT NULL
  );

  CREATE TABLE oauth_grants (
    key         text COLLATE "C" PRIMARY KEY,
    payload     jsonb  NOT NULL,
    expires_at  bigint NOT NULL
  );
  CREATE INDEX oauth_grants_expires_idx ON oauth_grants (expires_at);

  CREATE TABLE credentials (
    name        text COLLATE "C" PRIMARY KEY,
    sealed      text   NOT NULL,
    updated_at  bigint NOT NULL
  );
  `,
  // 2: the authorization server's token denylist (revoked access tokens and grants), and when a
  // client was first used (clients that never complete an authorization expire).
  `
  CREATE TABLE revoked_tokens (
    id          text COLLATE "C" PRIMARY KEY,
    expires_at  bigint NOT NULL
  );
  CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

  ALTER TABLE oauth_clients ADD COLUMN used_at bigint;
  CREATE INDEX oauth_clients_unused_idx ON oauth_clients (created_at) WHERE used_at IS NULL;
  `,
  // 3: federated sessions whose servers are all Streamable HTTP (see the SQLite schema).
  `
  CREATE TABLE federated_sessions (
    id          text COLLATE "C" PRIMARY KEY,
    api         text   NOT NULL,
    state       jsonb  NOT NULL,
    expires_at  bigint NOT NULL
  );
  CREATE INDEX federated_sessions_expires_idx ON federated_sessions (expires_at);
  `,
  // 4: the cluster's node registry (see the SQLite schema).
  `
  CREATE TABLE cluster_nodes (
    id          text COLLATE "C" PRIMARY KEY,
    url         text   NOT NULL,
    started_at  bigint NOT NULL,
    seen_at     bigint NOT NULL
  );
  `,
  // 5 (tool pinning): each tool's definition per server (see the SQLite schema).
  `
  CREATE TABLE tool_pins (
    server               text COLLATE "C" NOT NULL,
    tool                 text COLLATE "C" NOT NULL,
    hash                 text   NOT NULL,
    definition           text   NOT NULL,
    first_seen_at        bigint NOT NULL,
    last_seen_at         bigint NOT NULL,
    changed_at           bigint NOT NULL,
    approved_hash        text,
    approved_definition  text,
    approved_at          bigint,
    approved_by          text,
    PRIMARY KEY (server, tool)
  );
  `,
  // 6 (taint policy): tainted sessions (see the SQLite schema).
  `
  CREATE TABLE session_taints (
    key         text COLLATE "C" PRIMARY KEY,
    server      text   NOT NULL,
    tool        text   NOT NULL,
    tainted_at  bigint NOT NULL,
    expires_at  bigint NOT NULL
  );
  CREATE INDEX session_taints_expires_idx ON session_taints (expires_at);
  `,
  // 7 (auth: oauth-user): users' sealed upstream tokens and Gatehouse's upstream client registrations (see the SQLite schema).
  `
  CREATE TABLE upstream_tokens (
    user_id     text COLLATE "C" NOT NULL,
    server      text COLLATE "C" NOT NULL,
    sealed      text   NOT NULL,
    expires_at  bigint,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (user_id, server)
  );

  CREATE TABLE upstream_clients (
    server      text COLLATE "C" NOT NULL,
    issuer      text COLLATE "C" NOT NULL,
    sealed      text   NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (server, issuer)
  );
  `,
  // 8 (password change and reset): see the SQLite schema.
  `
  ALTER TABLE users ADD COLUMN password_changed_at bigint;
  `,
  // 9 (tenants own users): see the SQLite schema.
  `
  ALTER TABLE users ADD COLUMN tenant text;
  `,
  // 10 (two-factor sign-in): see the SQLite schema.
  `
  ALTER TABLE users ADD COLUMN totp_secret text;
  ALTER TABLE users ADD COLUMN totp_last_step bigint;
  `,
];
