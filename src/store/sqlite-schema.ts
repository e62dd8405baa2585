// SQLite schema, as an ordered list of migrations. Migration i (0-based) brings the database from
// `PRAGMA user_version` i to i + 1. Append new migrations; never edit one that has shipped.
// Tables are STRICT (declared types are enforced); times are INTEGER milliseconds since the epoch.

export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE agents (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT,
    labels      TEXT    NOT NULL DEFAULT '{}',
    tenant      TEXT,
    created_at  INTEGER NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE INDEX agents_created_idx ON agents (created_at, id);

  CREATE TABLE api_keys (
    id            TEXT    NOT NULL PRIMARY KEY,
    agent_id      TEXT    NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    hash          TEXT    NOT NULL,
    prefix        TEXT    NOT NULL,
    api           TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    last_used_at  INTEGER
  ) STRICT;
  CREATE UNIQUE INDEX api_keys_hash_idx ON api_keys (hash);
  CREATE INDEX api_keys_agent_idx ON api_keys (agent_id, created_at, id);
  CREATE INDEX api_keys_created_idx ON api_keys (created_at, id);

  CREATE TABLE users (
    id             TEXT    NOT NULL PRIMARY KEY,
    username       TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE UNIQUE INDEX users_username_idx ON users (username);
  CREATE INDEX users_created_idx ON users (created_at, id);

  CREATE TABLE oauth_clients (
    client_id    TEXT    NOT NULL PRIMARY KEY,
    metadata     TEXT    NOT NULL,
    secret_hash  TEXT,
    created_at   INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE oauth_grants (
    key         TEXT    NOT NULL PRIMARY KEY,
    payload     TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX oauth_grants_expires_idx ON oauth_grants (expires_at);

  CREATE TABLE credentials (
    name        TEXT    NOT NULL PRIMARY KEY,
    sealed      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;
  `,
  // 2: the authorization server's token denylist (revoked access tokens and grants), and when a
  // client was first used (clients that never complete an authorization expire).
  `
  CREATE TABLE revoked_tokens (
    id          TEXT    NOT NULL PRIMARY KEY,
    expires_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

  ALTER TABLE oauth_clients ADD COLUMN used_at INTEGER;
  CREATE INDEX oauth_clients_unused_idx ON oauth_clients (created_at) WHERE used_at IS NULL;
  `,
  // 3: federated sessions whose servers are all Streamable HTTP: what any node needs to continue
  // one (its members' upstream session ids and initialize answers), keyed by the random channel
  // id sealed in the client's session id.
  `
  CREATE TABLE federated_sessions (
    id          TEXT    NOT NULL PRIMARY KEY,
    api         TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX federated_sessions_expires_idx ON federated_sessions (expires_at);
  `,
  // 4: the cluster's node registry: each running node's id (sealed in the sessions it owns), the
  // URL other nodes forward those sessions' requests to, and its last heartbeat.
  `
  CREATE TABLE cluster_nodes (
    id          TEXT    NOT NULL PRIMARY KEY,
    url         TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    seen_at     INTEGER NOT NULL
  ) STRICT;
  `,
  // 5 (tool pinning): each tool's definition per server, last seen and approved (src/pinning/).
  `
  CREATE TABLE tool_pins (
    server               TEXT    NOT NULL,
    tool                 TEXT    NOT NULL,
    hash                 TEXT    NOT NULL,
    definition           TEXT    NOT NULL,
    first_seen_at        INTEGER NOT NULL,
    last_seen_at         INTEGER NOT NULL,
    changed_at           INTEGER NOT NULL,
    approved_hash        TEXT,
    approved_definition  TEXT,
    approved_at          INTEGER,
    approved_by          TEXT,
    PRIMARY KEY (server, tool)
  ) STRICT;
  `,
  // 6 (taint policy): sessions that got a result of a tool marked untrustedOutput, by a hash of
  // the API and session id (policy/taint/).
  `
  CREATE TABLE session_taints (
    key         TEXT    NOT NULL PRIMARY KEY,
    server      TEXT    NOT NULL,
    tool        TEXT    NOT NULL,
    tainted_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX session_taints_expires_idx ON session_taints (expires_at);
  `,
  // 7 (auth: oauth-user): each user's sealed token per upstream server, and Gatehouse's own
  // dynamic registration at each upstream's authorization server (src/credentials/oauth-user/).
  `
  CREATE TABLE upstream_tokens (
    user_id     TEXT    NOT NULL,
    server      TEXT    NOT NULL,
    sealed      TEXT    NOT NULL,
    expires_at  INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, server)
  ) STRICT;

  CREATE TABLE upstream_clients (
    server      TEXT    NOT NULL,
    issuer      TEXT    NOT NULL,
    sealed      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (server, issuer)
  ) STRICT;
  `,
  // 8 (password change and reset): when a user's password was last set; grants from before it are refused.
  `
  ALTER TABLE users ADD COLUMN password_changed_at INTEGER;
  `,
  // 9 (tenants own users): the user's tenant; NULL is the default tenant (the platform's users).
  `
  ALTER TABLE users ADD COLUMN tenant TEXT;
  `,
  // 10 (two-factor sign-in): the user's TOTP secret, sealed under the credentials key (never in
  // clear), and the last time step a code was accepted at (a code is good once).
  `
  ALTER TABLE users ADD COLUMN totp_secret TEXT;
  ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
  `,
];
