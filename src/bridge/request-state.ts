// The `requestState` of an `input_required` result Gatehouse writes for a 2025 server: sealed
// (AES-256-GCM, a key derived from the session key, its own associated data) so that a client
// can neither read nor forge it, and bound to the API and principal it was issued to. It names
// the bridged upstream session and the call that waits there for the client's answers — a 2025
// server keeps the call open while it waits, so the state is a pointer, not the work itself.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

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
const AAD = Buffer.from('gatehouse-request-state-v1');

export class RequestStateSealer {
  private readonly key: Buffer;

  constructor(sessionKey: Buffer) {
    // A key of its own: a request state can never be taken for a session id, nor the reverse.
    this.key = Buffer.from(hkdfSync('sha256', sessionKey, Buffer.alloc(0), 'gatehouse request state', 32));
  }

  seal(claims: RequestStateClaims): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The claims, or undefined when the state is malformed, tampered with or sealed with another key. */
  unseal(state: string): RequestStateClaims | undefined {
    if (!state.startsWith(PREFIX) || state.length > 2048) return undefined;
    const raw = Buffer.from(state.slice(PREFIX.length), 'base64url');
    if (raw.length < 12 + 16 + 2) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const claims = JSON.parse(Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8')) as RequestStateClaims;
      if (typeof claims.api !== 'string' || typeof claims.sub !== 'string' || typeof claims.s !== 'string' || typeof claims.c !== 'number') return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}
