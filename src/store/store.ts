// Persistence behind one interface: agents and their API keys, users of the embedded
// authorization server, OAuth clients/codes/refresh tokens, sealed upstream credentials.
// Implementations: SQLite (embedded default, src/store/sqlite.ts) and Postgres
// (src/store/postgres.ts), both passing the same contract suite (src/store/contract.ts).
// Times are milliseconds since the epoch. Secrets are never stored in clear: API keys as
// SHA-256 hex digests, passwords as scrypt hashes, credentials sealed by the caller.

export interface AgentRecord {
  id: string;
  name: string | undefined;
  /** Free-form labels for policies (e.g. team: payments). */
  labels: Record<string, string>;
  tenant: string | undefined;
  createdAt: number;
  disabled: boolean;
}

export interface ApiKeyRecord {
  /** Public identifier of the key (shown in lists, used to revoke); not the secret. */
  id: string;
  agentId: string;
  /** SHA-256 hex digest of the key. */
  hash: string;
  /** Shown in lists to recognise a key: the first characters of the key. */
  prefix: string;
  /** API name the key is limited to, or undefined for every API. */
  api: string | undefined;
  createdAt: number;
  expiresAt: number | undefined;
  revokedAt: number | undefined;
  lastUsedAt: number | undefined;
}

export interface UserRecord {
  id: string;
  username: string;
  /** scrypt hash in the form scrypt$N$r$p$salt$hash (base64url parts). */
  passwordHash: string;
  createdAt: number;
  disabled: boolean;
  /** When the password was last set by a change or reset (grants from before it are refused). */
  passwordChangedAt?: number | undefined;
  /** The tenant the user belongs to; absent for the default tenant (the platform's users). */
  tenant?: string | undefined;
  /** The TOTP secret of a user with two-factor sign-in, sealed by src/authserver/second-factor.ts; absent without. */
  totpSecret?: string | undefined;
  /** The last TOTP time step a code was accepted at (a code is good once). */
  totpLastStep?: number | undefined;
}

/**
 * What a conditional change of a user expects it still to be, as read: every field the management
 * API's ETag of a user covers (its id and creation time tell a user deleted and made again apart).
 */
export interface UserExpected {
  id: string;
  createdAt: number;
  disabled: boolean;
  tenant: string | undefined;
  /** Whether it has a TOTP secret (never the secret). */
  totp: boolean;
}

/** What a management change sets on a user at once. */
export interface UserChange {
  disabled: boolean;
  /** Undefined: the default tenant. */
  tenant: string | undefined;
  /** Removes the TOTP secret (and its last step). */
  resetTotp: boolean;
}

export interface OAuthClientRecord {
  clientId: string;
  /** The full RFC 7591 client metadata as registered (JSON). */
  metadata: Record<string, unknown>;
  /** Confidential clients: SHA-256 hex digest of the secret. */
  secretHash: string | undefined;
  createdAt: number;
  /** When a token was first issued to it; undefined for a client that never completed an authorization. */
  usedAt: number | undefined;
}

/** Short-lived, single-use records of the authorization server (codes, login/consent state). */
export interface OAuthGrantRecord {
  /** Lookup key, e.g. "code:<sha256 of the code>" or "refresh:<sha256>" or "interaction:<id>". */
  key: string;
  /** What the grant carries (client, user, scopes, resource, PKCE challenge, …). */
  payload: Record<string, unknown>;
  expiresAt: number;
}

export interface CredentialRecord {
  /** Server name the credential belongs to. */
  name: string;
  /** AES-256-GCM sealed JSON, base64url. */
  sealed: string;
  updatedAt: number;
}

/** A session (or a sessionless principal) that got untrusted content (policy/taint/). */
export interface SessionTaintRecord {
  /** A hash of the API and the session id (or the principal): no session id is stored. */
  key: string;
  /** The server and tool whose result tainted it. */
  server: string;
  tool: string;
  taintedAt: number;
  expiresAt: number;
}

/** A federated session any node can continue (federation/session-store.ts). */
/** One user's token for one upstream server (auth: oauth-user), sealed by src/credentials/oauth-user/. */
export interface UpstreamTokenRecord {
  userId: string;
  server: string;
  /** AES-256-GCM sealed JSON (access and refresh token, expiry, issuer); never clear text. */
  sealed: string;
  /** When the access token expires (ms), if known: lets a listing show it without unsealing. */
  expiresAt: number | undefined;
  updatedAt: number;
}

/** Gatehouse's own client registration at an upstream's authorization server (RFC 7591), sealed. */
export interface UpstreamClientRecord {
  server: string;
  issuer: string;
  sealed: string;
  updatedAt: number;
}

export interface FederatedSessionRecord {
  /** The channel id sealed in the client's session id. */
  id: string;
  api: string;
  /** Members' upstream sessions and initialize answers, the client's initialize params. */
  state: Record<string, unknown>;
  expiresAt: number;
}

/** A running Gatehouse node of a cluster (cluster/registry.ts): where other nodes reach it. */
export interface NodeRecord {
  /** The node's random id, sealed as `node` in the sessions it owns. */
  id: string;
  /** Base URL other nodes forward requests to (cluster.advertiseUrl). */
  url: string;
  startedAt: number;
  /** Its last heartbeat. */
  seenAt: number;
}

/**
 * The pinned definition of one tool of one server (src/pinning/): what was last seen, and the
 * definition an operator (or trust on first use) approved. A renamed tool is another row.
 */
export interface ToolPinRecord {
  server: string;
  tool: string;
  /** SHA-256 hex of the canonical JSON of the definition last seen. */
  hash: string;
  /** That definition, canonical JSON text. */
  definition: string;
  /** When the tool was first seen, and last seen (refreshed at most every few minutes). */
  firstSeenAt: number;
  lastSeenAt: number;
  /** When the definition last seen was first seen (the last change). */
  changedAt: number;
  /** The approved definition's hash and text; undefined when none was ever approved. */
  approvedHash: string | undefined;
  approvedDefinition: string | undefined;
  approvedAt: number | undefined;
  /** Who approved: "first use", "cli", "admin-token", "user:<name>", … */
  approvedBy: string | undefined;
}

/** One tool of a `tools/list` answer, as recorded by recordToolDefinitions. */
export interface SeenTool {
  tool: string;
  hash: string;
  definition: string;
}

/**
 * Whose first definitions are approved as they are seen: every new tool's (`tool`), only those of
 * the first list ever recorded for the server (`server`: later tools need an approval), or none.
 */
export type FirstUseTrust = 'tool' | 'server' | 'never';

export type ToolApproval = 'approved' | 'stale' | 'missing';

export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /**
   * A number that changes whenever agents or API keys may have changed since it was last read:
   * a commit by another process (the CLI, for SQLite) or a write through this store. Undefined
   * when the store cannot tell cheaply (Postgres, shared by nodes): callers then trust what they
   * read for a short time only.
   */
  agentsVersion(): number | undefined;

  createAgent(agent: AgentRecord): Promise<void>;
  /** Inserts or replaces (used for agents declared in config). */
  upsertAgent(agent: AgentRecord): Promise<void>;
  /**
   * Sets an agent's name, labels, tenant and disabled flag only if it is still `expected` (every
   * field as read, what the management API's ETag covers), in one statement: false when it
   * changed or is gone (another node's write came first). Compare-and-set across nodes.
   */
  updateAgent(agent: AgentRecord, expected: AgentRecord): Promise<boolean>;
  getAgent(id: string): Promise<AgentRecord | undefined>;
  listAgents(): Promise<AgentRecord[]>;
  setAgentDisabled(id: string, disabled: boolean): Promise<boolean>;

  createApiKey(key: ApiKeyRecord): Promise<void>;
  /** Looks a key up by its digest (an index lookup: no comparison of secrets in user code). */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(agentId?: string): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; returns false if no such key. */
  revokeApiKey(id: string, at: number): Promise<boolean>;
  touchApiKey(id: string, at: number): Promise<void>;

  createUser(user: UserRecord): Promise<void>;
  getUserByName(username: string): Promise<UserRecord | undefined>;
  getUser(id: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  setUserDisabled(username: string, disabled: boolean): Promise<boolean>;
  /** Sets a user's password hash and when it changed; false for an unknown user. */
  setUserPassword(username: string, passwordHash: string, at: number): Promise<boolean>;
  /**
   * Sets (sealed) or removes (undefined) a user's TOTP secret, with the last time step already
   * used (the enrolment's confirming code), or none; false for an unknown user.
   */
  setUserTotp(username: string, sealedSecret: string | undefined, lastStep?: number): Promise<boolean>;
  /**
   * Records that a TOTP code of time step `step` was accepted for the user, if no code of that
   * step or a later one was (atomic: of two nodes given the same code, one wins). False when the
   * step is spent, or the user has no TOTP secret.
   */
  useTotpStep(userId: string, step: number): Promise<boolean>;
  /** Moves a user to a tenant (undefined: the default tenant); false for an unknown user. */
  setUserTenant(username: string, tenant: string | undefined): Promise<boolean>;
  /**
   * Applies a management change to a user only if it is still `expected`, in one statement:
   * false when it changed or is gone (another node's write came first).
   */
  updateUser(username: string, expected: UserExpected, change: UserChange): Promise<boolean>;
  /**
   * Deletes a user (only if it is still `expected`, when given); false when there was none to
   * delete, or it changed. Its grants are refused afterwards (no user).
   */
  deleteUser(username: string, expected?: UserExpected): Promise<boolean>;

  /** Inserts or replaces (every field). */
  saveOAuthClient(client: OAuthClientRecord): Promise<void>;
  getOAuthClient(clientId: string): Promise<OAuthClientRecord | undefined>;
  /** Records the client's first use (a later call keeps the first time). */
  markOAuthClientUsed(clientId: string, at: number): Promise<void>;
  /** Deletes clients never used that were registered before `createdBefore`; returns how many. */
  deleteUnusedOAuthClients(createdBefore: number): Promise<number>;

  putGrant(grant: OAuthGrantRecord): Promise<void>;
  /**
   * Inserts the grant unless a live one holds its key (an expired one is replaced), atomically:
   * true when it was added. What is to be used once (an assertion's jti) is remembered this way.
   */
  addGrant(grant: OAuthGrantRecord): Promise<boolean>;
  getGrant(key: string): Promise<OAuthGrantRecord | undefined>;
  /** Deletes and returns the grant atomically: single use (codes, state). Undefined if absent or expired. */
  takeGrant(key: string): Promise<OAuthGrantRecord | undefined>;
  deleteGrant(key: string): Promise<void>;
  /** The live grants whose key starts with `prefix` (at most `limit`, by key). */
  listGrants(prefix: string, limit: number): Promise<OAuthGrantRecord[]>;
  /** Removes expired grants; returns how many. */
  pruneGrants(now: number): Promise<number>;

  /**
   * Adds to the denylist of the authorization server's tokens (e.g. "jti:<id>", "grant:<id>"),
   * until `expiresAt`, when what it names has expired anyway. Adding an id again keeps the later expiry.
   */
  addRevocation(id: string, expiresAt: number): Promise<void>;
  /** Which of `ids` are on the denylist (and not past their expiry). */
  findRevocations(ids: readonly string[]): Promise<string[]>;
  /** Removes expired denylist entries; returns how many. */
  pruneRevocations(now: number): Promise<number>;

  /** Records a taint; a key tainted already keeps its first record (and the later expiry). */
  putSessionTaint(record: SessionTaintRecord): Promise<void>;
  /** The taint of a key, unless expired. */
  getSessionTaint(key: string): Promise<SessionTaintRecord | undefined>;
  /** Removes expired taints; returns how many. */
  pruneSessionTaints(now: number): Promise<number>;

  /** Inserts or replaces a federated session. */
  putFederatedSession(record: FederatedSessionRecord): Promise<void>;
  /** A federated session that has not expired. */
  getFederatedSession(id: string): Promise<FederatedSessionRecord | undefined>;
  deleteFederatedSession(id: string): Promise<void>;
  /** Deletes expired federated sessions; returns how many. */
  pruneFederatedSessions(now: number): Promise<number>;

  /** Inserts or replaces a node's row (its heartbeat). */
  putNode(record: NodeRecord): Promise<void>;
  /** Nodes whose last heartbeat is after `seenAfter`, by id. */
  listNodes(seenAfter: number): Promise<NodeRecord[]>;
  /** One node, when its last heartbeat is after `seenAfter`. */
  getNode(id: string, seenAfter: number): Promise<NodeRecord | undefined>;
  deleteNode(id: string): Promise<void>;
  /** Deletes nodes not seen since `seenBefore`; returns how many. */
  pruneNodes(seenBefore: number): Promise<number>;

  /**
   * Records the tools of one list of a server, atomically: new rows get their first definition
   * approved per `trust`; a changed definition replaces the one seen (the approved one stays).
   * Returns each tool's row after the write and the hash seen before it (undefined when new).
   */
  recordToolDefinitions(server: string, tools: readonly SeenTool[], at: number, trust: FirstUseTrust): Promise<Array<{ previousHash: string | undefined; record: ToolPinRecord }>>;
  /** Every pinned tool, or a server's, by server then tool. */
  listToolPins(server?: string): Promise<ToolPinRecord[]>;
  getToolPin(server: string, tool: string): Promise<ToolPinRecord | undefined>;
  /**
   * Approves the definition last seen, only if its hash is `hash` (what the approver was shown):
   * `stale` when the definition changed since, `missing` when no such tool was seen.
   */
  approveToolPin(server: string, tool: string, hash: string, at: number, by: string): Promise<ToolApproval>;

  putCredential(record: CredentialRecord): Promise<void>;
  /**
   * Replaces the credential only if its sealed text is still `expectedSealed` (null: inserts it
   * only if there is none), in one statement; false otherwise (another write came first).
   */
  putCredentialIf(record: CredentialRecord, expectedSealed: string | null): Promise<boolean>;
  getCredential(name: string): Promise<CredentialRecord | undefined>;
  listCredentials(): Promise<CredentialRecord[]>;
  /** Deletes a credential (only if its sealed text is still `expectedSealed`, when given); false when none was deleted. */
  deleteCredential(name: string, expectedSealed?: string): Promise<boolean>;

  putUpstreamToken(record: UpstreamTokenRecord): Promise<void>;
  getUpstreamToken(userId: string, server: string): Promise<UpstreamTokenRecord | undefined>;
  /** Every user's tokens, or one user's; ordered by user, then server. */
  listUpstreamTokens(userId?: string): Promise<UpstreamTokenRecord[]>;
  /** Deletes and returns the record (so that its token can be revoked upstream); undefined if none. */
  deleteUpstreamToken(userId: string, server: string): Promise<UpstreamTokenRecord | undefined>;
  putUpstreamClient(record: UpstreamClientRecord): Promise<void>;
  getUpstreamClient(server: string, issuer: string): Promise<UpstreamClientRecord | undefined>;

  close(): Promise<void>;
}
