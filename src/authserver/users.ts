// Users of the embedded authorization server: creation (CLI and self-registration) and login.
// The store keeps only scrypt hashes; a disabled user cannot log in or refresh tokens.
import { randomUUID } from 'node:crypto';
import type { Store, UserRecord } from '../store/store.ts';
import { StoreConstraintError } from '../store/errors.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';
import { dummyHash, hashPassword, passwordProblem, usernameProblem, verifyPassword } from './passwords.ts';

export class UserInputError extends Error {
  override readonly name = 'UserInputError';
}

/** Creates a user (of `tenant`, the default one when absent); throws UserInputError for a bad name, a weak password or a taken name. */
export async function createUser(store: Store, username: string, password: string, tenant?: string): Promise<UserRecord> {
  const problem = usernameProblem(username) ?? passwordProblem(password);
  if (problem) throw new UserInputError(problem);
  return insertUser(store, username, await hashPassword(password), tenant);
}

/** The password hash of a user without a password: it never verifies (verifyPassword refuses it), so they sign in only through an external provider. */
export const NO_PASSWORD = 'external';

/** Creates a user without a password (external sign-in only); throws UserInputError for a bad or taken name. */
export async function createExternalUser(store: Store, username: string, tenant?: string): Promise<UserRecord> {
  const problem = usernameProblem(username);
  if (problem) throw new UserInputError(problem);
  return insertUser(store, username, NO_PASSWORD, tenant);
}

/** Stores a new user; a taken name is the caller's mistake (UserInputError). */
async function insertUser(store: Store, username: string, passwordHash: string, tenant: string | undefined): Promise<UserRecord> {
  // The default tenant's users carry none (as agents do), so that older records mean the same.
  const user: UserRecord = { id: randomUUID(), username, passwordHash, createdAt: Date.now(), disabled: false, ...(tenant !== undefined && tenant !== DEFAULT_TENANT && { tenant }) };
  try {
    await store.createUser(user);
  } catch (error) {
    if (error instanceof StoreConstraintError && error.reason === 'duplicate') throw new UserInputError(`user "${username}" already exists`);
    throw error;
  }
  return user;
}

/**
 * Sets a user's password (a change or an operator's reset); throws UserInputError for a weak
 * password or an unknown user. Refresh tokens and codes from before it stop working (provider.ts).
 */
export async function setPassword(store: Store, username: string, password: string, at = Date.now()): Promise<void> {
  const problem = passwordProblem(password);
  if (problem) throw new UserInputError(problem);
  if (!(await store.setUserPassword(username, await hashPassword(password), at))) throw new UserInputError(`no user named "${username}"`);
}

/** The user if the name and password match an enabled account. Same cost whether or not the name exists. */
export async function checkLogin(store: Store, username: string, password: string): Promise<UserRecord | undefined> {
  const user = usernameProblem(username) === undefined ? await store.getUserByName(username) : undefined;
  const ok = await verifyPassword(password.slice(0, 1024), user?.passwordHash ?? (await dummyHash()));
  return ok && user && !user.disabled ? user : undefined;
}
