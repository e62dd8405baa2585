// Fixed credentials: a bearer token or one header with a value. Nothing to refresh; a 401 from
// the upstream means the secret itself is wrong, which only a config change or `credentials set` fixes.
import type { UpstreamCredentials } from '../upstream/upstream.ts';
import type { SecretCredential } from './secret.ts';

export function staticCredentials(credential: Extract<SecretCredential, { type: 'bearer' | 'header' }>): UpstreamCredentials {
  // Lower-case names: the connectors merge these into lower-cased header maps.
  const headers: Readonly<Record<string, string>> = Object.freeze(
    credential.type === 'bearer' ? { authorization: `Bearer ${credential.token}` } : { [credential.name.toLowerCase()]: credential.value },
  );
  return { headers: () => headers };
}
