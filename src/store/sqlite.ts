// The embedded store: one SQLite file through better-sqlite3. WAL lets readers run beside the
// writer; busy_timeout makes a second process wait for the lock instead of failing. Statements
// are prepared once when the store opens. better-sqlite3 is synchronous, so every statement is
// atomic with respect to this process's other calls; `DELETE … RETURNING` keeps takeGrant
// atomic across processes sharing the file too.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type {
  AgentRecord,
  ApiKeyRecord,
  CredentialRecord,
  FederatedSessionRecord,
  SessionTaintRecord,
  NodeRecord,
  OAuthClientRecord,
  OAuthGrantRecord,
  FirstUseTrust,
  SeenTool,
  Store,
  ToolApproval,
  ToolPinRecord,
  UpstreamClientRecord,
  UpstreamTokenRecord,
  UserChange,
  UserExpected,
  UserRecord,
} from './store.ts';
import { SQLITE_MIGRATIONS } from './sqlite-schema.ts';
import { errorCode, guarded, type ConstraintReason } from './errors.ts';
import * as rows from './rows.ts';
import { SqliteUpstreamTokens } from './sqlite-upstream-tokens.ts';
import { SqliteToolPins } from './sqlite-tool-pins.ts';

const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) a SQLite file as every store here wants it — owner-only, WAL, a
 * busy timeout — and runs `setUp` on it; `':memory:'` gives a private in-memory one. Closed again
 * when `setUp` throws.
 */
export function openSqliteFile<T>(file: string, setUp: (db: Database.Database) => T): T {
  if (file !== ':memory:') {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
    // Create the file owner-only before SQLite does; its -wal and -shm files copy these permissions.
    fs.closeSync(fs.openSync(file, 'a', 0o600));
  }
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return setUp(db);
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Opens (creating if needed) the store in `file`; `':memory:'` gives a private in-memory one. */
export async function openSqliteStore(file: string): Promise<SqliteStore> {
  return openSqliteFile(file, (db) => {
    db.pragma('foreign_keys = ON');
    migrateSqlite(db);
    return new SqliteStore(db);
  });
}

export function migrateSqlite(db: Database.Database): void {
  const target = SQLITE_MIGRATIONS.length;
  const version = (): number => Number(db.pragma('user_version', { simple: true }));
  if (version() === target) return;
  // IMMEDIATE takes the write lock before reading the version, so two processes cannot both migrate.
  db.transaction(() => {
    const current = version();
    if (current > target) {
      throw new Error(
        `The database schema is version ${current}, newer than this Gatehouse supports (${target}); upgrade Gatehouse`,
      );
    }
    for (const sql of SQLITE_MIGRATIONS.slice(current)) db.exec(sql);
    db.pragma(`user_version = ${target}`);
  }).immediate();
}

function classify(err: unknown): ConstraintReason | undefined {
  const code = errorCode(err);
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'duplicate';
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'missing-reference';
  return undefined;
}

const AGENT = 'id, name, labels, tenant, created_at, disabled';
const KEY = 'id, agent_id, hash, prefix, api, created_at, expires_at, revoked_at, last_used_at';
const USER = 'id, username, password_hash, created_at, disabled, password_changed_at, tenant, totp_secret, totp_last_step';
const USER_EXPECTED = 'id = @e_id AND created_at = @e_created_at AND disabled = @e_disabled AND tenant IS @e_tenant AND (totp_secret IS NOT NULL) = @e_totp';

function prepare(db: Database.Database) {
  return {
    insertAgent: db.prepare(
      `INSERT INTO agents (${AGENT}) VALUES (@id, @name, @labels, @tenant, @created_at, @disabled)`,
    ),
    upsertAgent: db.prepare(
      `INSERT INTO agents (${AGENT}) VALUES (@id, @name, @labels, @tenant, @created_at, @disabled)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, labels = excluded.labels,
         tenant = excluded.tenant, disabled = excluded.disabled`,
    ),
    // Differs between two reads on this connection when another connection committed meanwhile.
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    getAgent: db.prepare<[string], rows.AgentRow>(`SELECT ${AGENT} FROM agents WHERE id = ?`),
    listAgents: db.prepare<[], rows.AgentRow>(`SELECT ${AGENT} FROM agents ORDER BY created_at, id`),
    setAgentDisabled: db.prepare<[number, string]>('UPDATE agents SET disabled = ? WHERE id = ?'),
    // A compare-and-set: `IS` compares NULLs too; labels are the text agentParams wrote (JSON.stringify of what toAgent read gives it back).
    updateAgentIf: db.prepare(
      `UPDATE agents SET name = @name, labels = @labels, tenant = @tenant, disabled = @disabled
       WHERE id = @id AND name IS @e_name AND labels = @e_labels AND tenant IS @e_tenant AND created_at = @e_created_at AND disabled = @e_disabled`,
    ),

    insertKey: db.prepare(
      `INSERT INTO api_keys (${KEY})
       VALUES (@id, @agent_id, @hash, @prefix, @api, @created_at, @expires_at, @revoked_at, @last_used_at)`,
    ),
    keyByHash: db.prepare<[string], rows.ApiKeyRow>(`SELECT ${KEY} FROM api_keys WHERE hash = ?`),
    listKeys: db.prepare<[], rows.ApiKeyRow>(`SELECT ${KEY} FROM api_keys ORDER BY created_at, id`),
    listAgentKeys: db.prepare<[string], rows.ApiKeyRow>(
      `SELECT ${KEY} FROM api_keys WHERE agent_id = ? ORDER BY created_at, id`,
    ),
    revokeKey: db.prepare<[number, string]>('UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?'),
    touchKey: db.prepare<[number, string]>(
      'UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?',
    ),

    insertUser: db.prepare(
      `INSERT INTO users (${USER}) VALUES (@id, @username, @password_hash, @created_at, @disabled, NULL, @tenant, NULL, NULL)`,
    ),
    userByName: db.prepare<[string], rows.UserRow>(`SELECT ${USER} FROM users WHERE username = ?`),
    userById: db.prepare<[string], rows.UserRow>(`SELECT ${USER} FROM users WHERE id = ?`),
    listUsers: db.prepare<[], rows.UserRow>(`SELECT ${USER} FROM users ORDER BY created_at, id`),
    setUserDisabled: db.prepare<[number, string]>('UPDATE users SET disabled = ? WHERE username = ?'),
    setUserPassword: db.prepare<[string, number, string]>('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?'),
    setUserTenant: db.prepare<[string | null, string]>('UPDATE users SET tenant = ? WHERE username = ?'),
    setUserTotp: db.prepare<[string | null, number | null, string]>('UPDATE users SET totp_secret = ?, totp_last_step = ? WHERE username = ?'),
    useTotpStep: db.prepare<[number, string, number]>('UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < ?)'),
    deleteUser: db.prepare<[string]>('DELETE FROM users WHERE username = ?'),
    // Compare-and-set on what the management API's ETag of a user covers (UserExpected).
    updateUserIf: db.prepare(
      `UPDATE users SET disabled = @disabled, tenant = @tenant,
         totp_secret = CASE WHEN @reset_totp THEN NULL ELSE totp_secret END,
         totp_last_step = CASE WHEN @reset_totp THEN NULL ELSE totp_last_step END
       WHERE username = @username AND ${USER_EXPECTED}`,
    ),
    deleteUserIf: db.prepare(`DELETE FROM users WHERE username = @username AND ${USER_EXPECTED}`),

    saveClient: db.prepare<[string, string, string | null, number, number | null]>(
      `INSERT INTO oauth_clients (client_id, metadata, secret_hash, created_at, used_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET metadata = excluded.metadata,
         secret_hash = excluded.secret_hash, created_at = excluded.created_at, used_at = excluded.used_at`,
    ),
    getClient: db.prepare<[string], rows.OAuthClientRow>(
      'SELECT client_id, metadata, secret_hash, created_at, used_at FROM oauth_clients WHERE client_id = ?',
    ),
    markClientUsed: db.prepare<[number, string]>('UPDATE oauth_clients SET used_at = coalesce(used_at, ?) WHERE client_id = ?'),
    deleteUnusedClients: db.prepare<[number]>('DELETE FROM oauth_clients WHERE used_at IS NULL AND created_at < ?'),

    putGrant: db.prepare<[string, string, number]>(
      `INSERT INTO oauth_grants (key, payload, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at`,
    ),
    addGrant: db.prepare<[string, string, number, number]>(
      `INSERT INTO oauth_grants (key, payload, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at WHERE oauth_grants.expires_at <= ?`,
    ),
    getGrant: db.prepare<[string], rows.GrantRow>('SELECT key, payload, expires_at FROM oauth_grants WHERE key = ?'),
    takeGrant: db.prepare<[string], rows.GrantRow>(
      'DELETE FROM oauth_grants WHERE key = ? RETURNING key, payload, expires_at',
    ),
    deleteGrant: db.prepare<[string]>('DELETE FROM oauth_grants WHERE key = ?'),
    // A range on the primary key, not LIKE: a prefix holding % or _ means itself.
    listGrants: db.prepare<[string, string, number, number], rows.GrantRow>('SELECT key, payload, expires_at FROM oauth_grants WHERE key >= ? AND key < ? AND expires_at > ? ORDER BY key LIMIT ?'),
    pruneGrants: db.prepare<[number]>('DELETE FROM oauth_grants WHERE expires_at <= ?'),

    addRevocation: db.prepare<[string, number]>(
      `INSERT INTO revoked_tokens (id, expires_at) VALUES (?, ?)
       ON CONFLICT (id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
    ),
    findRevocations: db.prepare<[string, number], { id: string }>(
      'SELECT id FROM revoked_tokens WHERE id IN (SELECT value FROM json_each(?)) AND expires_at > ?',
    ),
    pruneRevocations: db.prepare<[number]>('DELETE FROM revoked_tokens WHERE expires_at <= ?'),

    putSessionTaint: db.prepare<[string, string, string, number, number]>(
      `INSERT INTO session_taints (key, server, tool, tainted_at, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = max(session_taints.expires_at, excluded.expires_at)`,
    ),
    getSessionTaint: db.prepare<[string, number], { key: string; server: string; tool: string; tainted_at: number; expires_at: number }>(
      'SELECT key, server, tool, tainted_at, expires_at FROM session_taints WHERE key = ? AND expires_at > ?',
    ),
    pruneSessionTaints: db.prepare<[number]>('DELETE FROM session_taints WHERE expires_at <= ?'),
    putFederatedSession: db.prepare<[string, string, string, number]>(
      `INSERT INTO federated_sessions (id, api, state, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET api = excluded.api, state = excluded.state, expires_at = excluded.expires_at`,
    ),
    getFederatedSession: db.prepare<[string, number], { id: string; api: string; state: string; expires_at: number }>(
      'SELECT id, api, state, expires_at FROM federated_sessions WHERE id = ? AND expires_at > ?',
    ),
    deleteFederatedSession: db.prepare<[string]>('DELETE FROM federated_sessions WHERE id = ?'),
    pruneFederatedSessions: db.prepare<[number]>('DELETE FROM federated_sessions WHERE expires_at <= ?'),

    putNode: db.prepare<[string, string, number, number]>(
      `INSERT INTO cluster_nodes (id, url, started_at, seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, started_at = excluded.started_at, seen_at = excluded.seen_at`,
    ),
    listNodes: db.prepare<[number], rows.NodeRow>('SELECT id, url, started_at, seen_at FROM cluster_nodes WHERE seen_at > ? ORDER BY id'),
    getNode: db.prepare<[string, number], rows.NodeRow>('SELECT id, url, started_at, seen_at FROM cluster_nodes WHERE id = ? AND seen_at > ?'),
    deleteNode: db.prepare<[string]>('DELETE FROM cluster_nodes WHERE id = ?'),
    pruneNodes: db.prepare<[number]>('DELETE FROM cluster_nodes WHERE seen_at <= ?'),

    putCredential: db.prepare<[string, string, number]>(
      `INSERT INTO credentials (name, sealed, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
    ),
    getCredential: db.prepare<[string], rows.CredentialRow>(
      'SELECT name, sealed, updated_at FROM credentials WHERE name = ?',
    ),
    listCredentials: db.prepare<[], rows.CredentialRow>(
      'SELECT name, sealed, updated_at FROM credentials ORDER BY name',
    ),
    deleteCredential: db.prepare<[string]>('DELETE FROM credentials WHERE name = ?'),
    // Compare-and-set on the sealed text (what the management API's ETag of a credential digests).
    replaceCredentialIf: db.prepare<[string, number, string, string]>('UPDATE credentials SET sealed = ?, updated_at = ? WHERE name = ? AND sealed = ?'),
    insertCredentialIfNone: db.prepare<[string, string, number]>('INSERT INTO credentials (name, sealed, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING'),
    deleteCredentialIf: db.prepare<[string, string]>('DELETE FROM credentials WHERE name = ? AND sealed = ?'),
  };
}

function agentParams(a: AgentRecord) {
  return {
    id: a.id,
    name: a.name ?? null,
    labels: JSON.stringify(a.labels),
    tenant: a.tenant ?? null,
    created_at: a.createdAt,
    disabled: a.disabled ? 1 : 0,
  };
}

/** The named parameters of a user's expected state (see USER_EXPECTED). */
function userExpectedParams(e: UserExpected) {
  return { e_id: e.id, e_created_at: e.createdAt, e_disabled: e.disabled ? 1 : 0, e_tenant: e.tenant ?? null, e_totp: e.totp ? 1 : 0 };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #q: ReturnType<typeof prepare>;
  readonly #pins: SqliteToolPins;
  readonly #tokens: SqliteUpstreamTokens;

  /** agentsVersion(): bumped by this store's writes and when another connection committed. */
  #version = 0;
  #dataVersion: number | undefined;
  #versionAsked = false;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#q = prepare(db);
    this.#pins = new SqliteToolPins(db);
    this.#tokens = new SqliteUpstreamTokens(db);
  }

  agentsVersion(): number {
    // Asked once per turn of the event loop: requests read together in one turn cannot be
    // ordered against another process's commit anyway, and each ask takes a file lock.
    if (this.#versionAsked) return this.#version;
    this.#versionAsked = true;
    setImmediate(() => {
      this.#versionAsked = false;
    });
    const current = this.#q.dataVersion.get();
    if (current !== this.#dataVersion) {
      this.#dataVersion = current;
      this.#version++;
    }
    return this.#version;
  }

  async createAgent(agent: AgentRecord): Promise<void> {
    this.#version++;
    await guarded(`agent "${agent.id}"`, classify, () => this.#q.insertAgent.run(agentParams(agent)));
  }

  async upsertAgent(agent: AgentRecord): Promise<void> {
    this.#version++;
    this.#q.upsertAgent.run(agentParams(agent));
  }

  async updateAgent(agent: AgentRecord, expected: AgentRecord): Promise<boolean> {
    const was = agentParams(expected);
    const changed = this.#q.updateAgentIf.run({ ...agentParams(agent), e_name: was.name, e_labels: was.labels, e_tenant: was.tenant, e_created_at: was.created_at, e_disabled: was.disabled }).changes > 0;
    if (changed) this.#version++;
    return changed;
  }

  async getAgent(id: string): Promise<AgentRecord | undefined> {
    const row = this.#q.getAgent.get(id);
    return row && rows.toAgent(row);
  }

  async listAgents(): Promise<AgentRecord[]> {
    return this.#q.listAgents.all().map(rows.toAgent);
  }

  async setAgentDisabled(id: string, disabled: boolean): Promise<boolean> {
    this.#version++;
    return this.#q.setAgentDisabled.run(disabled ? 1 : 0, id).changes > 0;
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    this.#version++;
    const params = {
      id: key.id,
      agent_id: key.agentId,
      hash: key.hash,
      prefix: key.prefix,
      api: key.api ?? null,
      created_at: key.createdAt,
      expires_at: key.expiresAt ?? null,
      revoked_at: key.revokedAt ?? null,
      last_used_at: key.lastUsedAt ?? null,
    };
    await guarded(`API key "${key.id}"`, classify, () => this.#q.insertKey.run(params));
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.#q.keyByHash.get(hash);
    return row && rows.toApiKey(row);
  }

  async listApiKeys(agentId?: string): Promise<ApiKeyRecord[]> {
    const found = agentId === undefined ? this.#q.listKeys.all() : this.#q.listAgentKeys.all(agentId);
    return found.map(rows.toApiKey);
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    this.#version++;
    return this.#q.revokeKey.run(at, id).changes > 0;
  }

  async touchApiKey(id: string, at: number): Promise<void> {
    this.#q.touchKey.run(at, id);
  }

  async createUser(user: UserRecord): Promise<void> {
    const params = {
      id: user.id,
      username: user.username,
      password_hash: user.passwordHash,
      created_at: user.createdAt,
      disabled: user.disabled ? 1 : 0,
      tenant: user.tenant ?? null,
    };
    await guarded(`user "${user.username}"`, classify, () => this.#q.insertUser.run(params));
  }

  async getUserByName(username: string): Promise<UserRecord | undefined> {
    const row = this.#q.userByName.get(username);
    return row && rows.toUser(row);
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const row = this.#q.userById.get(id);
    return row && rows.toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.#q.listUsers.all().map(rows.toUser);
  }

  async setUserDisabled(username: string, disabled: boolean): Promise<boolean> {
    return this.#q.setUserDisabled.run(disabled ? 1 : 0, username).changes > 0;
  }

  async setUserPassword(username: string, passwordHash: string, at: number): Promise<boolean> {
    return this.#q.setUserPassword.run(passwordHash, at, username).changes > 0;
  }

  async setUserTenant(username: string, tenant: string | undefined): Promise<boolean> {
    return this.#q.setUserTenant.run(tenant ?? null, username).changes > 0;
  }

  async setUserTotp(username: string, sealedSecret: string | undefined, lastStep?: number): Promise<boolean> {
    return this.#q.setUserTotp.run(sealedSecret ?? null, sealedSecret === undefined ? null : (lastStep ?? null), username).changes > 0;
  }

  async useTotpStep(userId: string, step: number): Promise<boolean> {
    return this.#q.useTotpStep.run(step, userId, step).changes > 0;
  }

  async updateUser(username: string, expected: UserExpected, change: UserChange): Promise<boolean> {
    const params = { username, disabled: change.disabled ? 1 : 0, tenant: change.tenant ?? null, reset_totp: change.resetTotp ? 1 : 0, ...userExpectedParams(expected) };
    return this.#q.updateUserIf.run(params).changes > 0;
  }

  async deleteUser(username: string, expected?: UserExpected): Promise<boolean> {
    if (expected === undefined) return this.#q.deleteUser.run(username).changes > 0;
    return this.#q.deleteUserIf.run({ username, ...userExpectedParams(expected) }).changes > 0;
  }

  async saveOAuthClient(client: OAuthClientRecord): Promise<void> {
    const metadata = JSON.stringify(client.metadata);
    this.#q.saveClient.run(client.clientId, metadata, client.secretHash ?? null, client.createdAt, client.usedAt ?? null);
  }

  async getOAuthClient(clientId: string): Promise<OAuthClientRecord | undefined> {
    const row = this.#q.getClient.get(clientId);
    return row && rows.toOAuthClient(row);
  }

  async markOAuthClientUsed(clientId: string, at: number): Promise<void> {
    this.#q.markClientUsed.run(at, clientId);
  }

  async deleteUnusedOAuthClients(createdBefore: number): Promise<number> {
    return this.#q.deleteUnusedClients.run(createdBefore).changes;
  }

  async putGrant(grant: OAuthGrantRecord): Promise<void> {
    this.#q.putGrant.run(grant.key, JSON.stringify(grant.payload), grant.expiresAt);
  }

  async addGrant(grant: OAuthGrantRecord): Promise<boolean> {
    return this.#q.addGrant.run(grant.key, JSON.stringify(grant.payload), grant.expiresAt, Date.now()).changes > 0;
  }

  async getGrant(key: string): Promise<OAuthGrantRecord | undefined> {
    const row = this.#q.getGrant.get(key);
    const grant = row && rows.toGrant(row);
    return grant && rows.isLive(grant, Date.now()) ? grant : undefined;
  }

  async takeGrant(key: string): Promise<OAuthGrantRecord | undefined> {
    // An expired grant is deleted too: it could never be used again.
    const row = this.#q.takeGrant.get(key);
    const grant = row && rows.toGrant(row);
    return grant && rows.isLive(grant, Date.now()) ? grant : undefined;
  }

  async listGrants(prefix: string, limit: number): Promise<OAuthGrantRecord[]> {
    return this.#q.listGrants.all(prefix, `${prefix}\uffff`, Date.now(), limit).map(rows.toGrant);
  }

  async deleteGrant(key: string): Promise<void> {
    this.#q.deleteGrant.run(key);
  }

  async pruneGrants(now: number): Promise<number> {
    return this.#q.pruneGrants.run(now).changes;
  }

  async addRevocation(id: string, expiresAt: number): Promise<void> {
    this.#q.addRevocation.run(id, expiresAt);
  }

  async findRevocations(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.#q.findRevocations.all(JSON.stringify(ids), Date.now()).map((r) => r.id);
  }

  async pruneRevocations(now: number): Promise<number> {
    return this.#q.pruneRevocations.run(now).changes;
  }

  async putSessionTaint(record: SessionTaintRecord): Promise<void> {
    this.#q.putSessionTaint.run(record.key, record.server, record.tool, record.taintedAt, record.expiresAt);
  }

  async getSessionTaint(key: string): Promise<SessionTaintRecord | undefined> {
    const row = this.#q.getSessionTaint.get(key, Date.now());
    return row && { key: row.key, server: row.server, tool: row.tool, taintedAt: row.tainted_at, expiresAt: row.expires_at };
  }

  async pruneSessionTaints(now: number): Promise<number> {
    return this.#q.pruneSessionTaints.run(now).changes;
  }

  async putFederatedSession(record: FederatedSessionRecord): Promise<void> {
    this.#q.putFederatedSession.run(record.id, record.api, JSON.stringify(record.state), record.expiresAt);
  }

  async getFederatedSession(id: string): Promise<FederatedSessionRecord | undefined> {
    const row = this.#q.getFederatedSession.get(id, Date.now());
    return row && { id: row.id, api: row.api, state: JSON.parse(row.state) as Record<string, unknown>, expiresAt: row.expires_at };
  }

  async deleteFederatedSession(id: string): Promise<void> {
    this.#q.deleteFederatedSession.run(id);
  }

  async pruneFederatedSessions(now: number): Promise<number> {
    return this.#q.pruneFederatedSessions.run(now).changes;
  }

  async putNode(record: NodeRecord): Promise<void> {
    this.#q.putNode.run(record.id, record.url, record.startedAt, record.seenAt);
  }

  async listNodes(seenAfter: number): Promise<NodeRecord[]> {
    return this.#q.listNodes.all(seenAfter).map(rows.toNode);
  }

  async getNode(id: string, seenAfter: number): Promise<NodeRecord | undefined> {
    const row = this.#q.getNode.get(id, seenAfter);
    return row && rows.toNode(row);
  }

  async deleteNode(id: string): Promise<void> {
    this.#q.deleteNode.run(id);
  }

  async pruneNodes(seenBefore: number): Promise<number> {
    return this.#q.pruneNodes.run(seenBefore).changes;
  }

  async recordToolDefinitions(server: string, tools: readonly SeenTool[], at: number, trust: FirstUseTrust): Promise<Array<{ previousHash: string | undefined; record: ToolPinRecord }>> {
    return this.#pins.record(server, tools, at, trust);
  }

  async listToolPins(server?: string): Promise<ToolPinRecord[]> {
    return this.#pins.list(server);
  }

  async getToolPin(server: string, tool: string): Promise<ToolPinRecord | undefined> {
    return this.#pins.get(server, tool);
  }

  async approveToolPin(server: string, tool: string, hash: string, at: number, by: string): Promise<ToolApproval> {
    return this.#pins.approve(server, tool, hash, at, by);
  }

  async putCredential(record: CredentialRecord): Promise<void> {
    this.#q.putCredential.run(record.name, record.sealed, record.updatedAt);
  }

  async getCredential(name: string): Promise<CredentialRecord | undefined> {
    const row = this.#q.getCredential.get(name);
    return row && rows.toCredential(row);
  }

  async listCredentials(): Promise<CredentialRecord[]> {
    return this.#q.listCredentials.all().map(rows.toCredential);
  }

  async putCredentialIf(record: CredentialRecord, expectedSealed: string | null): Promise<boolean> {
    const run = expectedSealed === null ? this.#q.insertCredentialIfNone.run(record.name, record.sealed, record.updatedAt) : this.#q.replaceCredentialIf.run(record.sealed, record.updatedAt, record.name, expectedSealed);
    return run.changes > 0;
  }

  async deleteCredential(name: string, expectedSealed?: string): Promise<boolean> {
    return (expectedSealed === undefined ? this.#q.deleteCredential.run(name) : this.#q.deleteCredentialIf.run(name, expectedSealed)).changes > 0;
  }

  async putUpstreamToken(record: UpstreamTokenRecord): Promise<void> {
    this.#tokens.put(record);
  }

  async getUpstreamToken(userId: string, server: string): Promise<UpstreamTokenRecord | undefined> {
    return this.#tokens.get(userId, server);
  }

  async listUpstreamTokens(userId?: string): Promise<UpstreamTokenRecord[]> {
    return this.#tokens.list(userId);
  }

  async deleteUpstreamToken(userId: string, server: string): Promise<UpstreamTokenRecord | undefined> {
    return this.#tokens.delete(userId, server);
  }

  async putUpstreamClient(record: UpstreamClientRecord): Promise<void> {
    this.#tokens.putClient(record);
  }

  async getUpstreamClient(server: string, issuer: string): Promise<UpstreamClientRecord | undefined> {
    return this.#tokens.getClient(server, issuer);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
