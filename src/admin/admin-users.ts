// Who of the authorization server's users is an admin, and with which role: `admin.users`.
// One function, used by both ways an admin user signs in (the password form and "Sign in with
// Gatehouse"), so that a change to what an entry may say (a tenant, say) is made here only.
import type { AdminRole } from '../store/control.ts';
import type { AdminConfig } from './schema.ts';

export type AdminUserEntry = AdminConfig['users'][number];

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
