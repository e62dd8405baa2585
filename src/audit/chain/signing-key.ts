// The key a node signs its audit checkpoints with, and the id its chain goes by. The key comes
// from GATEHOUSE_AUDIT_SIGNING_KEY (a PEM private key, or base64 of its PKCS#8 DER form) or from
// <dataDir>/audit-signing.key, created once with mode 0600. The node id lives in
// <dataDir>/audit-node-id: stable across restarts (the chain resumes where the node left it) and
// distinct between data directories (one running Gatehouse per data directory). It is not the
// cluster's node id, which is new on every start.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const SIGNING_KEY_ENV = 'GATEHOUSE_AUDIT_SIGNING_KEY';

/** A key that is not an Ed25519 key: a start-up failure the operator fixes (cli/start-failure.ts). */
export class SigningKeyError extends Error {}

export interface SigningKey {
  privateKey: KeyObject;
  /** DER SubjectPublicKeyInfo, base64: what checkpoints carry. */
  publicKey: string;
  /** Where it came from (the variable's name or the file), for logs. */
  source: string;
}

/** An Ed25519 private key from PEM or base64 PKCS#8 DER; the error names `source`. */
export function parsePrivateKey(text: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    const trimmed = text.trim();
    key = trimmed.startsWith('-----BEGIN') ? createPrivateKey(trimmed) : createPrivateKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new SigningKeyError(`${source}: expected an Ed25519 private key, PEM or base64 of PKCS#8 DER (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`${source}: expected an Ed25519 key, got ${key.asymmetricKeyType ?? 'an unknown type'}`);
  return key;
}

/** A public key (PEM or base64 SPKI DER), or the public half of a private key, as checkpoints carry it. */
export function parsePublicKey(text: string, source: string): string {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(trimmed)) key = createPublicKey(createPrivateKey(trimmed));
    else if (trimmed.startsWith('-----BEGIN')) key = createPublicKey(trimmed);
    else key = createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
  } catch (err) {
    throw new Error(`${source}: expected an Ed25519 public key, PEM or base64 of its DER form (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${source}: expected an Ed25519 key, got ${key.asymmetricKeyType ?? 'an unknown type'}`);
  return spki(key);
}

function spki(key: KeyObject): string {
  return (key.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64');
}

function signingKey(privateKey: KeyObject, source: string): SigningKey {
  return { privateKey, publicKey: spki(createPublicKey(privateKey)), source };
}

/** Writes `content` to a new owner-only file; when another process made it first, reads theirs. */
async function createOnce(file: string, content: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, content, { mode: 0o600, flag: 'wx' });
    return content;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFile(file, 'utf8');
    throw error;
  }
}

async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function loadSigningKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<SigningKey> {
  const fromEnv = env[SIGNING_KEY_ENV];
  if (fromEnv) return signingKey(parsePrivateKey(fromEnv, SIGNING_KEY_ENV), SIGNING_KEY_ENV);
  const file = path.join(dataDir, 'audit-signing.key');
  let pem = await readIfThere(file);
  if (pem === undefined) {
    const { privateKey } = generateKeyPairSync('ed25519');
    pem = await createOnce(file, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  }
  return signingKey(parsePrivateKey(pem, file), file);
}

export async function loadChainNodeId(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'audit-node-id');
  const found = (await readIfThere(file))?.trim();
  if (found) return found;
  return (await createOnce(file, `${randomBytes(6).toString('base64url')}\n`)).trim();
}
