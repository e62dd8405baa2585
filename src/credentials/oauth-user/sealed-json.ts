// Sealing any JSON value under the credentials key: AES-256-GCM with the purpose and the record's
// name as additional authenticated data, so a sealed value copied to another user, server or use
// does not open. Format: gj1.<key id>.<base64url(iv | ciphertext | tag)> (the key id as in seal.ts).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { keyId } from '../key.ts';
import { UnsealError } from '../seal.ts';

const VERSION = 'gj1';

function aad(purpose: string, name: string): Buffer {
  return Buffer.from(`gatehouse-${purpose}-v1\0${name}`, 'utf8');
}

export function sealJson(key: Buffer, purpose: string, name: string, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(purpose, name));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return `${VERSION}.${keyId(key)}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The id of the key a sealed value needs, or undefined if it is not in this format. */
export function sealedJsonKeyId(sealed: string): string | undefined {
  const [version, id] = sealed.split('.');
  return version === VERSION && id ? id : undefined;
}

/** The value, or UnsealError (whose message never holds any part of the value). */
export function unsealJson(key: Buffer, purpose: string, name: string, sealed: string): unknown {
  const parts = sealed.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) throw new UnsealError(`${purpose} "${name}" is not in a known sealed format`);
  if (parts[1] !== keyId(key)) throw new UnsealError(`${purpose} "${name}" was sealed with key ${parts[1]}, but the current key is ${keyId(key)}`);
  const raw = Buffer.from(parts[2]!, 'base64url');
  try {
    if (raw.length < 12 + 16 + 2) throw new Error('short');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(aad(purpose, name));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return JSON.parse(Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8')) as unknown;
  } catch {
    throw new UnsealError(`${purpose} "${name}" does not open with key ${keyId(key)}: it was altered or sealed for another name`);
  }
}
