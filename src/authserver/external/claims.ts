// How an external provider's ID token claims name a Gatehouse user: `sub` qualified by the
// provider's name (`<sub>@<name>`: no other provider or local account can claim it), or a
// verified `email`; the groups it gives, from the configured claim; and the user's tenant, from
// `tenantClaim` when configured.
import type { ExternalProviderConfig } from '../../config/oidc-login-schema.ts';
import { usernameProblem } from '../passwords.ts';

/** `tenant` is the tenantClaim's value as given (checked against the declared tenants by the caller). */
export type MappedIdentity = { username: string; groups: string[] | undefined; tenant?: string } | { problem: string };

const MAX_GROUPS = 100;
const MAX_GROUP_LENGTH = 200;

export function mapClaims(provider: Pick<ExternalProviderConfig, 'name' | 'username' | 'groupsClaim'> & Partial<Pick<ExternalProviderConfig, 'tenantClaim'>>, claims: Readonly<Record<string, unknown>>): MappedIdentity {
  let username: string;
  if (provider.username === 'email') {
    if (typeof claims.email !== 'string' || claims.email === '') return { problem: 'the provider gave no email address (ask for the "email" scope)' };
    // An unverified address could be anyone's, including a local user's.
    if (claims.email_verified !== true) return { problem: `the provider has not verified the address ${claims.email}` };
    username = claims.email.toLowerCase();
  } else {
    if (typeof claims.sub !== 'string' || claims.sub === '') return { problem: 'the ID token has no subject' };
    username = `${claims.sub}@${provider.name}`;
  }
  if (usernameProblem(username) !== undefined) return { problem: `"${username.slice(0, 80)}" cannot be a Gatehouse user name (letters, digits, "_", ".", "@", "-"; at most 64)` };
  const groups = provider.groupsClaim === undefined ? undefined : groupsOf(claims[provider.groupsClaim]);
  if (provider.tenantClaim === undefined) return { username, groups };
  const tenant = claims[provider.tenantClaim];
  if (typeof tenant !== 'string' || tenant === '') return { problem: `the provider gave no "${provider.tenantClaim}" claim naming your organisation` };
  return { username, groups, tenant };
}

/** A list of strings or one string (some providers give a single group as a string); anything else is no groups. */
function groupsOf(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  return list.filter((g): g is string => typeof g === 'string' && g !== '' && g.length <= MAX_GROUP_LENGTH).slice(0, MAX_GROUPS);
}
