// The one answer an agent gets when Gatehouse cannot produce an upstream's credential: a 502
// that says so, naming the server but never the reason's details (those go to the log, also
// without secrets).
import { GatehouseError } from '../errors.ts';

export const CREDENTIAL_UNAVAILABLE = 'could not obtain upstream credential';

export function credentialUnavailable(server: string): GatehouseError {
  return new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${server}" is unavailable: ${CREDENTIAL_UNAVAILABLE}`);
}
