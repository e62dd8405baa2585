// A credential Gatehouse recognised and then refused (a revoked or expired API key, a key of a
// disabled agent, a key for another API): the refusal carries whose credential it was, so that
// the audit log and metrics name the agent instead of "(unauthenticated)". The client's answer
// is the same as for any refusal; the key itself is never named, only its id.
import { GatehouseError } from '../errors.ts';

export interface Claimant {
  /** The agent the credential belongs to. */
  readonly agent: string;
  /** The API key's id (never the key). */
  readonly keyId?: string;
}

export class RefusedCredential extends GatehouseError {
  constructor(
    refusal: GatehouseError,
    readonly claimant: Claimant,
  ) {
    super(refusal.code, refusal.message, refusal.headers === undefined ? undefined : { ...refusal.headers });
  }
}

/** Whose recognised credential an error refused, if it is such a refusal. */
export function claimantOf(error: unknown): Claimant | undefined {
  return error instanceof RefusedCredential ? error.claimant : undefined;
}
