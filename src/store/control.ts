// The control plane's persistence (managed mode): the draft configuration, the deployed versions
// and the history of changes. Kept apart from `Store` (agents, keys, users, …): its own tables and
// its own migration track (`control_migrations`), so that it evolves without touching the data
// plane's schema. SQLite (control-sqlite.ts) and Postgres (control-postgres.ts) pass the same
// contract (control-contract.ts). Documents are config documents as JSON (src/control/document.ts).
import type { Logger } from '../log.ts';

/** One RFC 6902 operation, as stored in the change history. */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

export type ControlDocument = Record<string, unknown>;

export interface DraftRecord {
  document: ControlDocument;
  /** Starts at 1 with the first write; every write adds one (the draft's ETag). */
  revision: number;
  updatedAt: number;
  updatedBy: string;
}

export interface VersionRecord {
  version: number;
  document: ControlDocument;
  createdAt: number;
  createdBy: string;
  comment: string | undefined;
  /** A rollback: the version whose document this one repeats. */
  rolledBackFrom: number | undefined;
}

export interface ChangeRecord {
  seq: number;
  at: number;
  actor: string;
  /** e.g. "create server", "update api", "deploy", "rollback". */
  action: string;
  /** What was changed, e.g. "servers/weather", "apis/weather", "draft", "versions/3". */
  target: string;
  /** From the document before to the document after (empty for a deploy). */
  patch: PatchOperation[];
  /** The version a deploy or rollback made. */
  version: number | undefined;
}

export interface ChangeInput {
  action: string;
  target: string;
  patch: PatchOperation[];
}

export interface DeployInput {
  actor: string;
  at: number;
  comment?: string | undefined;
  /** Deploy only if the draft is still at this revision (undefined: whatever it is). */
  expectedRevision?: number | undefined;
  /** A rollback: the version to deploy again; the draft becomes its document. */
  rollbackTo?: number | undefined;
  /**
   * A tenant's deploy: this document (the version in force with the tenant's objects of the
   * draft) becomes the version, and the draft is left as it is (other tenants' pending changes
   * stay pending). Refused as stale unless the version in force is still `basedOn`.
   */
  partial?: { readonly document: ControlDocument; readonly basedOn: number | undefined } | undefined;
  change: ChangeInput;
}

/** What an admin may do: owner everything; admin all but admin tokens; viewer read only. */
export type AdminRole = 'owner' | 'admin' | 'viewer';
export const ADMIN_ROLES: readonly AdminRole[] = ['owner', 'admin', 'viewer'];

/** A scoped, revocable API token for the admin listener (automation); only its digest is kept. */
export interface AdminTokenRecord {
  /** Public id, part of the token (`ght_<id>.<secret>`). */
  id: string;
  name: string;
  role: AdminRole;
  /** SHA-256 of the secret part, hex. */
  digest: string;
  createdAt: number;
  createdBy: string;
  expiresAt: number | undefined;
  revokedAt: number | undefined;
  /** The one tenant the token may see and change; undefined: the whole platform. */
  tenant?: string | undefined;
}

/** A row of control_admin_tokens, as both backends read it. */
export interface AdminTokenRow {
  id: string;
  name: string;
  role: string;
  digest: string;
  created_at: number | string;
  created_by: string;
  expires_at: number | string | null;
  revoked_at: number | string | null;
  /** Absent in rows read before the tenants migration ran (never, once it has). */
  tenant?: string | null;
}
export const adminTokenOf = (row: AdminTokenRow): AdminTokenRecord => ({
  id: row.id,
  name: row.name,
  role: row.role as AdminRole,
  digest: row.digest,
  createdAt: Number(row.created_at),
  createdBy: row.created_by,
  expiresAt: row.expires_at === null ? undefined : Number(row.expires_at),
  revokedAt: row.revoked_at === null ? undefined : Number(row.revoked_at),
  ...(typeof row.tenant === 'string' && { tenant: row.tenant }),
});
/**
 * An admin user managed in the store (managed mode): a user of the embedded authorization server
 * with a role on the admin listener, and optionally one tenant. Read on every admin request, so a
 * change applies at the user's next request on every node. Entries of the node file's
 * `admin.users` are not here (they are read from the file).
 */
export interface AdminUserRecord {
  username: string;
  /** The authorization server's id of the user when the entry was made: a user deleted and made again under the same name does not inherit it. */
  userId: string;
  role: AdminRole;
  /** The one tenant this user sees and changes; undefined: the whole platform. */
  tenant?: string | undefined;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  updatedBy: string;
}

/** What a change of an admin user expects to find (its role and tenant as read): a compare-and-set. */
export interface AdminUserExpected {
  role: AdminRole;
  tenant: string | undefined;
}

/** A row of control_admin_users, as both backends read it. */
export interface AdminUserRow {
  username: string;
  user_id: string;
  role: string;
  tenant: string | null;
  created_at: number | string;
  created_by: string;
  updated_at: number | string;
  updated_by: string;
}
export const adminUserOf = (row: AdminUserRow): AdminUserRecord => ({
  username: row.username,
  userId: row.user_id,
  role: row.role as AdminRole,
  ...(row.tenant !== null && { tenant: row.tenant }),
  createdAt: Number(row.created_at),
  createdBy: row.created_by,
  updatedAt: Number(row.updated_at),
  updatedBy: row.updated_by,
});

/** Refusals the callers turn into HTTP answers (412, 404, 409). */
export class ControlConflict extends Error {
  override readonly name = 'ControlConflict';
  constructor(
    message: string,
    readonly reason: 'stale' | 'missing' | 'empty',
  ) {
    super(message);
  }
}

export interface ControlStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Undefined before the first write. */
  getDraft(): Promise<DraftRecord | undefined>;
  /**
   * Replaces the draft if it is still at `expectedRevision` (0: no draft yet) and records the
   * change, in one transaction. Returns the new draft; throws ControlConflict('stale') otherwise.
   */
  saveDraft(document: ControlDocument, expectedRevision: number, actor: string, at: number, change: ChangeInput): Promise<DraftRecord>;
  /**
   * Makes the draft (or, for a rollback, an earlier version's document, which also becomes the
   * draft) the next numbered version, and records the change, in one transaction.
   */
  deploy(input: DeployInput): Promise<VersionRecord>;
  getVersion(version: number): Promise<VersionRecord | undefined>;
  /** Newest first, without documents' contents being needed by callers (they are included). */
  listVersions(): Promise<VersionRecord[]>;
  /** The newest version, the one in force; undefined before the first deploy. */
  latestVersion(): Promise<number | undefined>;
  /** Newest first. */
  listChanges(limit: number): Promise<ChangeRecord[]>;
  createAdminToken(token: AdminTokenRecord): Promise<void>;
  getAdminToken(id: string): Promise<AdminTokenRecord | undefined>;
  /** Newest first, revoked ones included. */
  listAdminTokens(): Promise<AdminTokenRecord[]>;
  /** Revokes a live token; false when it is unknown or already revoked. */
  revokeAdminToken(id: string, at: number): Promise<boolean>;
  getAdminUser(username: string): Promise<AdminUserRecord | undefined>;
  /** By username. */
  listAdminUsers(): Promise<AdminUserRecord[]>;
  /** Adds an entry and records the change, in one transaction; false when the username has one already. */
  createAdminUser(user: AdminUserRecord, change: ChangeInput): Promise<boolean>;
  /**
   * Sets an entry's role and tenant if it still has the `expected` ones, and records the change,
   * in one transaction; false when it is gone or changed (another node's write came first).
   */
  updateAdminUser(username: string, expected: AdminUserExpected, next: { role: AdminRole; tenant: string | undefined; at: number; actor: string }, change: ChangeInput): Promise<boolean>;
  /** Removes an entry (if it still has the `expected` role and tenant, when given) and records the change; false when there was none to remove. */
  deleteAdminUser(username: string, expected: AdminUserExpected | undefined, actor: string, at: number, change: ChangeInput): Promise<boolean>;
  /**
   * Calls `onDeploy` soon after any node deploys (Postgres: LISTEN/NOTIFY); returns the function
   * that stops. Absent where nothing announces deploys (SQLite: one machine, polled).
   */
  watch?(onDeploy: (version: number) => void, log?: Logger): () => Promise<void>;
  close(): Promise<void>;
}
