// `approver: user` for 2026-07-28 clients: the call is answered `input_required` with the
// approval question and a request state; the client retries it with the user's answer. The state
// names the held approval and binds it to the API, the principal and the arguments' hash; it is
// sealed (AES-256-GCM, the SealBox the bridge's request states use) under a key of this process,
// as the approvals themselves live in this node's memory: a client can neither read nor forge it.
import { randomBytes } from 'node:crypto';
import { SealBox } from '../../session/seal-box.ts';

export interface ApprovalStateClaims {
  readonly api: string;
  /** The principal's binding key. */
  readonly sub: string;
  /** The held approval's id. */
  readonly a: string;
  /** SHA-256 of the arguments asked about. */
  readonly h: string;
  /** Expiry, ms since the epoch. */
  readonly exp: number;
}

export const APPROVAL_STATE_PREFIX = 'gha1.';

export class ApprovalStateSealer {
  private readonly box = new SealBox(randomBytes(32), 'gatehouse-approval-state-v1');

  seal(claims: ApprovalStateClaims): string {
    return APPROVAL_STATE_PREFIX + this.box.seal(JSON.stringify(claims));
  }

  /** The claims, or undefined when the state is malformed, tampered with or sealed by another process. */
  unseal(state: string): ApprovalStateClaims | undefined {
    if (!state.startsWith(APPROVAL_STATE_PREFIX) || state.length > 2048) return undefined;
    const text = this.box.open(state.slice(APPROVAL_STATE_PREFIX.length));
    if (text === undefined) return undefined;
    try {
      const claims = JSON.parse(text) as ApprovalStateClaims;
      if (typeof claims.api !== 'string' || typeof claims.sub !== 'string' || typeof claims.a !== 'string' || typeof claims.h !== 'string' || typeof claims.exp !== 'number') return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}
