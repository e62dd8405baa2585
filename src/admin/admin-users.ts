// Who of the authorization server's users is an admin, and with which role: the node file's
// `admin.users`, and in managed mode the entries kept in the control store (/api/v1/admins).
// Used by every way an admin user signs in (the password form and "Sign in with Gatehouse") and
// by every request of a signed-in admin user, so that a change to what an entry may say (a
// tenant, say) is made here only, and a stored entry's change applies at the user's next request.
import type { AdminRole, AdminUserRecord } from '../store/control.ts';
import type { AdminConfig } from './schema.ts';

export type AdminUserEntry = AdminConfig['users'][number];

/** An admin user's entry in the control store, by username (managed mode). */
export type StoredAdminLookup = (username: string) => Promise<AdminUserRecord | undefined>;

export interface AdminGrant {
  readonly role: AdminRole;
  /** The one tenant; undefined: the whole platform. */
  readonly tenant: string | undefined;
  /** node: the node file's admin.users; store: managed through the API. */
  readonly source: 'node' | 'store';
}

/** The role `username` has on the admin listener, or undefined when it is not listed. A plain name is an owner. */
export function adminRoleOf(users: readonly AdminUserEntry[], username: string): AdminRole | undefined {
  for (const entry of users) {
    if (typeof entry === 'string') {
      if (entry === username) return 'owner';
    } else if (entry.user === username) {
      return entry.role;
    }
  }
  return undefined;
}

/** The role and tenant `username` has on the admin listener, or undefined when it is not listed (no tenant: the whole platform). */
export function adminGrantOf(users: readonly AdminUserEntry[], username: string): { role: AdminRole; tenant: string | undefined } | undefined {
  const role = adminRoleOf(users, username);
  if (role === undefined) return undefined;
  const entry = users.find((e) => typeof e !== 'string' && e.user === username);
  return { role, tenant: entry !== undefined && typeof entry !== 'string' ? entry.tenant : undefined };
}

/**
 * The grant of a user of the authorization server: the node file's entry first (it cannot be
 * changed through the API), then a stored one. A stored entry names the user's id as well: a user
 * deleted and made again under the same name is not an admin until an owner says so again.
 */
export async function resolveAdminGrant(users: readonly AdminUserEntry[], stored: StoredAdminLookup | undefined, user: { readonly id: string; readonly username: string }): Promise<AdminGrant | undefined> {
  const fromFile = adminGrantOf(users, user.username);
  if (fromFile) return { ...fromFile, source: 'node' };
  const entry = await stored?.(user.username);
  if (!entry || entry.userId !== user.id) return undefined;
  return { role: entry.role, tenant: entry.tenant, source: 'store' };
}
