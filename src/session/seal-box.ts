// One AES-256-GCM box for every value Gatehouse seals with the session key (session ids, request
// states of bridged calls, federated sessions in the shared store): iv | ciphertext | tag in
// base64url. Each use has its own label as associated data, and may have its own key derived from
// the session key, so a value sealed for one use never opens as another. `context` binds a value
// to where it is kept (a store row's id), so a sealed value copied onto another row does not open.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A key of its own for one use of the session key (HKDF-SHA256 with `info`). */
export function deriveKey(sessionKey: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', sessionKey, Buffer.alloc(0), info, 32));
}

export class SealBox {
  private readonly label: Buffer;

  constructor(
    private readonly key: Buffer,
    label: string,
  ) {
    if (key.length !== 32) throw new Error('a sealing key must be 32 bytes');
    this.label = Buffer.from(label, 'utf8');
  }

  seal(text: string, context?: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(this.aad(context));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The text, or undefined when the value is malformed, altered, or sealed with another key, label or context. */
  open(sealed: string, context?: string): string | undefined {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 2) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(this.aad(context));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  private aad(context: string | undefined): Buffer {
    return context === undefined ? this.label : Buffer.concat([this.label, Buffer.from(`\0${context}`, 'utf8')]);
  }
}
