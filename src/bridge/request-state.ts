// The `requestState` of an `input_required` result Gatehouse writes for a 2025 server: sealed
// (AES-256-GCM, a key derived from the session key, its own associated data) so that a client
// can neither read nor forge it, and bound to the API and principal it was issued to. It names
// the bridged upstream session and the call that waits there for the client's answers — a 2025
// server keeps the call open while it waits, so the state is a pointer, not the work itself.
import { deriveKey, SealBox } from '../session/seal-box.ts';

export interface RequestStateClaims {
  /** API the call was made on. */
  readonly api: string;
  /** The principal's binding key. */
  readonly sub: string;
  /** Node whose bridged session holds the call. */
  readonly node: string;
  /** Bridged session id on that node. */
  readonly s: string;
  /** The call's id in that session. */
  readonly c: number;
  /** Expiry, ms since the epoch. */
  readonly exp: number;
}

const PREFIX = 'ghs1.';

export class RequestStateSealer {
  private readonly box: SealBox;

  constructor(sessionKey: Buffer) {
    // A key of its own: a request state can never be taken for a session id, nor the reverse.
    this.box = new SealBox(deriveKey(sessionKey, 'gatehouse request state'), 'gatehouse-request-state-v1');
  }

  seal(claims: RequestStateClaims): string {
    return PREFIX + this.box.seal(JSON.stringify(claims));
  }

  /** The claims, or undefined when the state is malformed, tampered with or sealed with another key. */
  unseal(state: string): RequestStateClaims | undefined {
    if (!state.startsWith(PREFIX) || state.length > 2048) return undefined;
    const text = this.box.open(state.slice(PREFIX.length));
    if (text === undefined) return undefined;
    try {
      const claims = JSON.parse(text) as RequestStateClaims;
      if (typeof claims.api !== 'string' || typeof claims.sub !== 'string' || typeof claims.s !== 'string' || typeof claims.c !== 'number') return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}
