// The multi-node store: Postgres through a pg Pool. Queries are named, so each connection prepares
// each statement once. bigint times come back as strings and are turned into numbers by the row
// mappers (milliseconds fit a double exactly). `DELETE … RETURNING` makes takeGrant single-use
// even when several nodes race for the same code.
import pg from 'pg';
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
import { errorCode, guarded, type ConstraintReason } from './errors.ts';
import { migratePostgres, quoteIdent } from './postgres-migrate.ts';
import * as rows from './rows.ts';
import { PostgresUpstreamTokens } from './postgres-upstream-tokens.ts';
import { PostgresToolPins } from './postgres-tool-pins.ts';

export interface PostgresStoreOptions {
  /** Schema holding the tables, created if absent; every connection puts it on its search_path. */
  schema?: string;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`Postgres schema "${schema}" is not a plain identifier (letters, digits, _; at most 63)`);
  }
  const pool = new pg.Pool({ connectionString: url });
  // An idle connection that dies (server restart) is dropped by the pool and replaced on next use;
  // without a listener the error would end the process.
  pool.on('error', () => undefined);
  if (schema !== undefined) {
    const setPath = `SET search_path TO ${quoteIdent(schema)}`;
    // Queued on the new connection before the pool hands it to anyone.
    pool.on('connect', (client) => void client.query(setPath).catch(() => undefined));
  }
  try {
    await migratePostgres(pool, schema);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return new PostgresStore(pool);
}

function classify(err: unknown): ConstraintReason | undefined {
  const code = errorCode(err);
  if (code === '23505') return 'duplicate';
  if (code === '23503') return 'missing-reference';
  return undefined;
}

const AGENT = 'id, name, labels, tenant, created_at, disabled';
const KEY = 'id, agent_id, hash, prefix, api, created_at, expires_at, revoked_at, last_used_at';
const USER = 'id, username, password_hash, created_at, disabled, password_changed_at, tenant, totp_secret, totp_last_step';
const USER_EXPECTED = 'id = $2 AND created_at = $3 AND disabled = $4 AND tenant IS NOT DISTINCT FROM $5 AND (totp_secret IS NOT NULL) = $6';

/** Statement texts by name; the name is also the prepared statement's name on each connection. */
const SQL = {
  insertAgent: `INSERT INTO agents (${AGENT}) VALUES ($1, $2, $3::jsonb, $4, $5, $6)`,
  upsertAgent: `INSERT INTO agents (${AGENT}) VALUES ($1, $2, $3::jsonb, $4, $5, $6)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, labels = excluded.labels,
      tenant = excluded.tenant, disabled = excluded.disabled`,
  getAgent: `SELECT ${AGENT} FROM agents WHERE id = $1`,
  listAgents: `SELECT ${AGENT} FROM agents ORDER BY created_at, id`,
  setAgentDisabled: 'UPDATE agents SET disabled = $2 WHERE id = $1',
  // A compare-and-set: a concurrent UPDATE of the row makes this one wait and then test the WHERE
  // against the row as that one left it (READ COMMITTED), so of two only one matches.
  updateAgentIf: `UPDATE agents SET name = $2, labels = $3::jsonb, tenant = $4, disabled = $5
    WHERE id = $1 AND name IS NOT DISTINCT FROM $6 AND labels = $7::jsonb AND tenant IS NOT DISTINCT FROM $8 AND created_at = $9 AND disabled = $10`,

  insertKey: `INSERT INTO api_keys (${KEY}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  keyByHash: `SELECT ${KEY} FROM api_keys WHERE hash = $1`,
  listKeys: `SELECT ${KEY} FROM api_keys ORDER BY created_at, id`,
  listAgentKeys: `SELECT ${KEY} FROM api_keys WHERE agent_id = $1 ORDER BY created_at, id`,
  revokeKey: 'UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1',
  touchKey: 'UPDATE api_keys SET last_used_at = greatest(coalesce(last_used_at, 0), $2) WHERE id = $1',

  insertUser: `INSERT INTO users (${USER}) VALUES ($1, $2, $3, $4, $5, NULL, $6, NULL, NULL)`,
  userByName: `SELECT ${USER} FROM users WHERE username = $1`,
  userById: `SELECT ${USER} FROM users WHERE id = $1`,
  listUsers: `SELECT ${USER} FROM users ORDER BY created_at, id`,
  setUserDisabled: 'UPDATE users SET disabled = $2 WHERE username = $1',
  setUserPassword: 'UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE username = $1',
  setUserTenant: 'UPDATE users SET tenant = $2 WHERE username = $1',
  setUserTotp: 'UPDATE users SET totp_secret = $2, totp_last_step = $3 WHERE username = $1',
  useTotpStep: 'UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $2)',
  deleteUser: 'DELETE FROM users WHERE username = $1',
  // Compare-and-set on what the management API's ETag of a user covers (UserExpected: $2 to $6).
  deleteUserIf: `DELETE FROM users WHERE username = $1 AND ${USER_EXPECTED}`,
  updateUserIf: `UPDATE users SET disabled = $7, tenant = $8,
      totp_secret = CASE WHEN $9::boolean THEN NULL ELSE totp_secret END,
      totp_last_step = CASE WHEN $9::boolean THEN NULL ELSE totp_last_step END
    WHERE username = $1 AND ${USER_EXPECTED}`,

  saveClient: `INSERT INTO oauth_clients (client_id, metadata, secret_hash, created_at, used_at) VALUES ($1, $2::jsonb, $3, $4, $5)
    ON CONFLICT (client_id) DO UPDATE SET metadata = excluded.metadata,
      secret_hash = excluded.secret_hash, created_at = excluded.created_at, used_at = excluded.used_at`,
  getClient: 'SELECT client_id, metadata, secret_hash, created_at, used_at FROM oauth_clients WHERE client_id = $1',
  markClientUsed: 'UPDATE oauth_clients SET used_at = coalesce(used_at, $1) WHERE client_id = $2',
  deleteUnusedClients: 'DELETE FROM oauth_clients WHERE used_at IS NULL AND created_at < $1',

  putGrant: `INSERT INTO oauth_grants (key, payload, expires_at) VALUES ($1, $2::jsonb, $3)
    ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at`,
  addGrant: `INSERT INTO oauth_grants (key, payload, expires_at) VALUES ($1, $2::jsonb, $3)
    ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at WHERE oauth_grants.expires_at <= $4`,
  getGrant: 'SELECT key, payload, expires_at FROM oauth_grants WHERE key = $1 AND expires_at > $2',
  // An expired grant is deleted too (it could never be used again) but not returned.
  takeGrant: 'DELETE FROM oauth_grants WHERE key = $1 RETURNING key, payload, expires_at',
  deleteGrant: 'DELETE FROM oauth_grants WHERE key = $1',
  listGrants: 'SELECT key, payload, expires_at FROM oauth_grants WHERE key >= $1 AND key < $2 AND expires_at > $3 ORDER BY key LIMIT $4',
  pruneGrants: 'DELETE FROM oauth_grants WHERE expires_at <= $1',

  addRevocation: `INSERT INTO revoked_tokens (id, expires_at) VALUES ($1, $2)
    ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(revoked_tokens.expires_at, excluded.expires_at)`,
  findRevocations: 'SELECT id FROM revoked_tokens WHERE id = ANY($1::text[]) AND expires_at > $2',
  pruneRevocations: 'DELETE FROM revoked_tokens WHERE expires_at <= $1',

  putSessionTaint: `INSERT INTO session_taints (key, server, tool, tainted_at, expires_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (key) DO UPDATE SET expires_at = GREATEST(session_taints.expires_at, excluded.expires_at)`,
  getSessionTaint: 'SELECT key, server, tool, tainted_at, expires_at FROM session_taints WHERE key = $1 AND expires_at > $2',
  pruneSessionTaints: 'DELETE FROM session_taints WHERE expires_at <= $1',
  putFederatedSession: `INSERT INTO federated_sessions (id, api, state, expires_at) VALUES ($1, $2, $3::jsonb, $4)
    ON CONFLICT (id) DO UPDATE SET api = excluded.api, state = excluded.state, expires_at = excluded.expires_at`,
  getFederatedSession: 'SELECT id, api, state, expires_at FROM federated_sessions WHERE id = $1 AND expires_at > $2',
  deleteFederatedSession: 'DELETE FROM federated_sessions WHERE id = $1',
  pruneFederatedSessions: 'DELETE FROM federated_sessions WHERE expires_at <= $1',

  putNode: `INSERT INTO cluster_nodes (id, url, started_at, seen_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (id) DO UPDATE SET url = excluded.url, started_at = excluded.started_at, seen_at = excluded.seen_at`,
  listNodes: 'SELECT id, url, started_at, seen_at FROM cluster_nodes WHERE seen_at > $1 ORDER BY id',
  getNode: 'SELECT id, url, started_at, seen_at FROM cluster_nodes WHERE id = $1 AND seen_at > $2',
  deleteNode: 'DELETE FROM cluster_nodes WHERE id = $1',
  pruneNodes: 'DELETE FROM cluster_nodes WHERE seen_at <= $1',

  putCredential: `INSERT INTO credentials (name, sealed, updated_at) VALUES ($1, $2, $3)
    ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
  getCredential: 'SELECT name, sealed, updated_at FROM credentials WHERE name = $1',
  listCredentials: 'SELECT name, sealed, updated_at FROM credentials ORDER BY name',
  deleteCredential: 'DELETE FROM credentials WHERE name = $1',
  // Compare-and-set on the sealed text (what the management API's ETag of a credential digests).
  replaceCredentialIf: 'UPDATE credentials SET sealed = $2, updated_at = $3 WHERE name = $1 AND sealed = $4',
  insertCredentialIfNone: 'INSERT INTO credentials (name, sealed, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING',
  deleteCredentialIf: 'DELETE FROM credentials WHERE name = $1 AND sealed = $2',
} as const;

type Param = string | number | boolean | null | readonly string[];

function agentParams(a: AgentRecord): Param[] {
  return [a.id, a.name ?? null, JSON.stringify(a.labels), a.tenant ?? null, a.createdAt, a.disabled];
}

/** A user's name and expected state, $1 to $6 of deleteUserIf and updateUserIf. */
function userExpectedParams(username: string, e: UserExpected): Param[] {
  return [username, e.id, e.createdAt, e.disabled, e.tenant ?? null, e.totp];
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #pins: PostgresToolPins;
  readonly #tokens: PostgresUpstreamTokens;
  #closed = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
    this.#pins = new PostgresToolPins(pool);
    this.#tokens = new PostgresUpstreamTokens(pool);
  }

  async #query<R extends pg.QueryResultRow>(name: keyof typeof SQL, values: Param[]): Promise<pg.QueryResult<R>> {
    return this.#pool.query<R>({ name: `gatehouse_${name}`, text: SQL[name], values });
  }

  async #one<R extends pg.QueryResultRow>(name: keyof typeof SQL, values: Param[]): Promise<R | undefined> {
    return (await this.#query<R>(name, values)).rows[0];
  }

  async #changed(name: keyof typeof SQL, values: Param[]): Promise<number> {
    return (await this.#query(name, values)).rowCount ?? 0;
  }

  agentsVersion(): undefined {
    return undefined; // shared by nodes: no cheap way to tell; callers cache briefly
  }

  async createAgent(agent: AgentRecord): Promise<void> {
    await guarded(`agent "${agent.id}"`, classify, () => this.#query('insertAgent', agentParams(agent)));
  }

  async upsertAgent(agent: AgentRecord): Promise<void> {
    await this.#query('upsertAgent', agentParams(agent));
  }

  async updateAgent(agent: AgentRecord, expected: AgentRecord): Promise<boolean> {
    const values = [agent.id, agent.name ?? null, JSON.stringify(agent.labels), agent.tenant ?? null, agent.disabled, expected.name ?? null, JSON.stringify(expected.labels), expected.tenant ?? null, expected.createdAt, expected.disabled];
    return (await this.#changed('updateAgentIf', values)) > 0;
  }

  async getAgent(id: string): Promise<AgentRecord | undefined> {
    const row = await this.#one<rows.AgentRow>('getAgent', [id]);
    return row && rows.toAgent(row);
  }

  async listAgents(): Promise<AgentRecord[]> {
    return (await this.#query<rows.AgentRow>('listAgents', [])).rows.map(rows.toAgent);
  }

  async setAgentDisabled(id: string, disabled: boolean): Promise<boolean> {
    return (await this.#changed('setAgentDisabled', [id, disabled])) > 0;
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    const values = [
      key.id,
      key.agentId,
      key.hash,
      key.prefix,
      key.api ?? null,
      key.createdAt,
      key.expiresAt ?? null,
      key.revokedAt ?? null,
      key.lastUsedAt ?? null,
    ];
    await guarded(`API key "${key.id}"`, classify, () => this.#query('insertKey', values));
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.#one<rows.ApiKeyRow>('keyByHash', [hash]);
    return row && rows.toApiKey(row);
  }

  async listApiKeys(agentId?: string): Promise<ApiKeyRecord[]> {
    const result =
      agentId === undefined
        ? await this.#query<rows.ApiKeyRow>('listKeys', [])
        : await this.#query<rows.ApiKeyRow>('listAgentKeys', [agentId]);
    return result.rows.map(rows.toApiKey);
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    return (await this.#changed('revokeKey', [id, at])) > 0;
  }

  async touchApiKey(id: string, at: number): Promise<void> {
    await this.#query('touchKey', [id, at]);
  }

  async createUser(user: UserRecord): Promise<void> {
    const values = [user.id, user.username, user.passwordHash, user.createdAt, user.disabled, user.tenant ?? null];
    await guarded(`user "${user.username}"`, classify, () => this.#query('insertUser', values));
  }

  async getUserByName(username: string): Promise<UserRecord | undefined> {
    const row = await this.#one<rows.UserRow>('userByName', [username]);
    return row && rows.toUser(row);
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const row = await this.#one<rows.UserRow>('userById', [id]);
    return row && rows.toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.#query<rows.UserRow>('listUsers', [])).rows.map(rows.toUser);
  }

  async setUserDisabled(username: string, disabled: boolean): Promise<boolean> {
    return (await this.#changed('setUserDisabled', [username, disabled])) > 0;
  }

  async setUserPassword(username: string, passwordHash: string, at: number): Promise<boolean> {
    return (await this.#changed('setUserPassword', [username, passwordHash, at])) > 0;
  }

  async setUserTenant(username: string, tenant: string | undefined): Promise<boolean> {
    return (await this.#changed('setUserTenant', [username, tenant ?? null])) > 0;
  }

  async setUserTotp(username: string, sealedSecret: string | undefined, lastStep?: number): Promise<boolean> {
    return (await this.#changed('setUserTotp', [username, sealedSecret ?? null, sealedSecret === undefined ? null : (lastStep ?? null)])) > 0;
  }

  async useTotpStep(userId: string, step: number): Promise<boolean> {
    return (await this.#changed('useTotpStep', [userId, step])) > 0;
  }

  async updateUser(username: string, expected: UserExpected, change: UserChange): Promise<boolean> {
    return (await this.#changed('updateUserIf', [...userExpectedParams(username, expected), change.disabled, change.tenant ?? null, change.resetTotp])) > 0;
  }

  async deleteUser(username: string, expected?: UserExpected): Promise<boolean> {
    if (expected === undefined) return (await this.#changed('deleteUser', [username])) > 0;
    return (await this.#changed('deleteUserIf', userExpectedParams(username, expected))) > 0;
  }

  async saveOAuthClient(client: OAuthClientRecord): Promise<void> {
    const metadata = JSON.stringify(client.metadata);
    await this.#query('saveClient', [client.clientId, metadata, client.secretHash ?? null, client.createdAt, client.usedAt ?? null]);
  }

  async markOAuthClientUsed(clientId: string, at: number): Promise<void> {
    await this.#query('markClientUsed', [at, clientId]);
  }

  async deleteUnusedOAuthClients(createdBefore: number): Promise<number> {
    return this.#changed('deleteUnusedClients', [createdBefore]);
  }

  async getOAuthClient(clientId: string): Promise<OAuthClientRecord | undefined> {
    const row = await this.#one<rows.OAuthClientRow>('getClient', [clientId]);
    return row && rows.toOAuthClient(row);
  }

  async putGrant(grant: OAuthGrantRecord): Promise<void> {
    await this.#query('putGrant', [grant.key, JSON.stringify(grant.payload), grant.expiresAt]);
  }

  async addGrant(grant: OAuthGrantRecord): Promise<boolean> {
    return (await this.#changed('addGrant', [grant.key, JSON.stringify(grant.payload), grant.expiresAt, Date.now()])) > 0;
  }

  async getGrant(key: string): Promise<OAuthGrantRecord | undefined> {
    const row = await this.#one<rows.GrantRow>('getGrant', [key, Date.now()]);
    return row && rows.toGrant(row);
  }

  async takeGrant(key: string): Promise<OAuthGrantRecord | undefined> {
    const row = await this.#one<rows.GrantRow>('takeGrant', [key]);
    const grant = row && rows.toGrant(row);
    return grant && rows.isLive(grant, Date.now()) ? grant : undefined;
  }

  async listGrants(prefix: string, limit: number): Promise<OAuthGrantRecord[]> {
    return (await this.#query<rows.GrantRow>('listGrants', [prefix, `${prefix}\uffff`, Date.now(), limit])).rows.map(rows.toGrant);
  }

  async deleteGrant(key: string): Promise<void> {
    await this.#query('deleteGrant', [key]);
  }

  async pruneGrants(now: number): Promise<number> {
    return this.#changed('pruneGrants', [now]);
  }

  async putSessionTaint(record: SessionTaintRecord): Promise<void> {
    await this.#query('putSessionTaint', [record.key, record.server, record.tool, record.taintedAt, record.expiresAt]);
  }

  async getSessionTaint(key: string): Promise<SessionTaintRecord | undefined> {
    const row = await this.#one<{ key: string; server: string; tool: string; tainted_at: string | number; expires_at: string | number }>('getSessionTaint', [key, Date.now()]);
    return row && { key: row.key, server: row.server, tool: row.tool, taintedAt: Number(row.tainted_at), expiresAt: Number(row.expires_at) };
  }

  async pruneSessionTaints(now: number): Promise<number> {
    return this.#changed('pruneSessionTaints', [now]);
  }

  async putFederatedSession(record: FederatedSessionRecord): Promise<void> {
    await this.#query('putFederatedSession', [record.id, record.api, JSON.stringify(record.state), record.expiresAt]);
  }

  async getFederatedSession(id: string): Promise<FederatedSessionRecord | undefined> {
    const row = await this.#one<{ id: string; api: string; state: Record<string, unknown>; expires_at: string | number }>('getFederatedSession', [id, Date.now()]);
    return row && { id: row.id, api: row.api, state: row.state, expiresAt: Number(row.expires_at) };
  }

  async deleteFederatedSession(id: string): Promise<void> {
    await this.#query('deleteFederatedSession', [id]);
  }

  async pruneFederatedSessions(now: number): Promise<number> {
    return this.#changed('pruneFederatedSessions', [now]);
  }

  async addRevocation(id: string, expiresAt: number): Promise<void> {
    await this.#query('addRevocation', [id, expiresAt]);
  }

  async findRevocations(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return (await this.#query<{ id: string }>('findRevocations', [ids, Date.now()])).rows.map((r) => r.id);
  }

  async pruneRevocations(now: number): Promise<number> {
    return this.#changed('pruneRevocations', [now]);
  }

  async putNode(record: NodeRecord): Promise<void> {
    await this.#query('putNode', [record.id, record.url, record.startedAt, record.seenAt]);
  }

  async listNodes(seenAfter: number): Promise<NodeRecord[]> {
    return (await this.#query<rows.NodeRow>('listNodes', [seenAfter])).rows.map(rows.toNode);
  }

  async getNode(id: string, seenAfter: number): Promise<NodeRecord | undefined> {
    const row = await this.#one<rows.NodeRow>('getNode', [id, seenAfter]);
    return row && rows.toNode(row);
  }

  async deleteNode(id: string): Promise<void> {
    await this.#query('deleteNode', [id]);
  }

  async pruneNodes(seenBefore: number): Promise<number> {
    return this.#changed('pruneNodes', [seenBefore]);
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
    await this.#query('putCredential', [record.name, record.sealed, record.updatedAt]);
  }

  async getCredential(name: string): Promise<CredentialRecord | undefined> {
    const row = await this.#one<rows.CredentialRow>('getCredential', [name]);
    return row && rows.toCredential(row);
  }

  async listCredentials(): Promise<CredentialRecord[]> {
    return (await this.#query<rows.CredentialRow>('listCredentials', [])).rows.map(rows.toCredential);
  }

  async putCredentialIf(record: CredentialRecord, expectedSealed: string | null): Promise<boolean> {
    if (expectedSealed === null) return (await this.#changed('insertCredentialIfNone', [record.name, record.sealed, record.updatedAt])) > 0;
    return (await this.#changed('replaceCredentialIf', [record.name, record.sealed, record.updatedAt, expectedSealed])) > 0;
  }

  async deleteCredential(name: string, expectedSealed?: string): Promise<boolean> {
    if (expectedSealed === undefined) return (await this.#changed('deleteCredential', [name])) > 0;
    return (await this.#changed('deleteCredentialIf', [name, expectedSealed])) > 0;
  }

  async putUpstreamToken(record: UpstreamTokenRecord): Promise<void> {
    await this.#tokens.put(record);
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
    await this.#tokens.putClient(record);
  }

  async getUpstreamClient(server: string, issuer: string): Promise<UpstreamClientRecord | undefined> {
    return this.#tokens.getClient(server, issuer);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
