// Where the credentials key lives: GATEHOUSE_CREDENTIALS_KEY (64 hex characters or base64 of 32
// bytes), else <dataDir>/credentials.key, mode 0600. It is a separate key from the session key so
// that either can be rotated, or shared between nodes, on its own.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { KeySource } from '../session/key.ts';

export const CREDENTIALS_KEY_ENV = 'GATEHOUSE_CREDENTIALS_KEY';

export function credentialsKeySource(dataDir: string): KeySource {
  return { envName: CREDENTIALS_KEY_ENV, file: path.join(dataDir, 'credentials.key') };
}

/** A short public name of a key (recorded beside each sealed value, shown by `credentials list`); reveals nothing usable. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('gatehouse-credentials-key-id\0').update(key).digest('hex').slice(0, 12);
}
