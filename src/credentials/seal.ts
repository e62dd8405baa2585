// Sealing a secret credential for the store: AES-256-GCM over its JSON, with the record's name
// as additional authenticated data, so a sealed value copied onto another name does not open.
// Format: gc1.<key id>.<base64url(iv | ciphertext | tag)>; the key id says which key opens it
// (key rotation, and a clear message when the wrong key is in use).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { keyId } from './key.ts';
import { parseSecretCredential, type SecretCredential } from './secret.ts';

const VERSION = 'gc1';

function aad(name: string): Buffer {
  return Buffer.from(`gatehouse-credential-v1\0${name}`, 'utf8');
}

export function sealCredential(key: Buffer, name: string, credential: SecretCredential): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(name));
  const body = Buffer.concat([cipher.update(JSON.stringify(credential), 'utf8'), cipher.final()]);
  return `${VERSION}.${keyId(key)}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The id of the key a sealed value needs, or undefined if it is not in a known format. */
export function sealedKeyId(sealed: string): string | undefined {
  const [version, id] = sealed.split('.');
  return version === VERSION && id ? id : undefined;
}

/** Why a sealed value did not open; the message never contains any part of the value. */
export class UnsealError extends Error {
  override readonly name = 'UnsealError';
}

export function unsealCredential(key: Buffer, name: string, sealed: string): SecretCredential {
  const parts = sealed.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) throw new UnsealError(`credential "${name}" is not in a known sealed format`);
  if (parts[1] !== keyId(key)) throw new UnsealError(`credential "${name}" was sealed with key ${parts[1]}, but the current key is ${keyId(key)}`);
  const raw = Buffer.from(parts[2]!, 'base64url');
  let text: string;
  try {
    if (raw.length < 12 + 16 + 2) throw new Error('short');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(aad(name));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    text = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    throw new UnsealError(`credential "${name}" does not open with key ${keyId(key)}: it was altered or sealed for another name`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UnsealError(`credential "${name}" holds no valid JSON`);
  }
  const checked = parseSecretCredential(parsed);
  if (!checked.ok) throw new UnsealError(`credential "${name}" is not a valid credential (${checked.problems.join('; ')})`);
  return checked.credential;
}
