// The authorization server's signing key (ES256): a private JWK in <dataDir>/oauth-signing-key.json
// (mode 0600), created on first use. The file holds a list so an older key can be kept for
// verification after a rotation; the first entry signs. Nodes that share the data directory (or
// a copy of the file) verify each other's tokens.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JWTVerifyGetKey } from 'jose';

export const SIGNING_ALG = 'ES256';
export const KEY_FILE = 'oauth-signing-key.json';

export interface SigningKeys {
  /** Signs with the current key. */
  readonly signer: { kid: string; key: CryptoKey };
  /** Public keys, as served at the JWKS endpoint. */
  readonly jwks: { keys: JWK[] };
  readonly verify: JWTVerifyGetKey;
}

function publicPart(jwk: JWK): JWK {
  const { d: _private, ...rest } = jwk;
  return rest;
}

async function createKeyFile(file: string): Promise<JWK[]> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const entry: JWK = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: SIGNING_ALG, use: 'sig' };
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, JSON.stringify({ keys: [entry] }, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    return [entry];
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(file);
    throw error;
  }
}

async function readKeyFile(file: string): Promise<JWK[]> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { keys?: unknown };
  const keys = Array.isArray(parsed.keys) ? (parsed.keys as JWK[]) : [];
  if (keys.length === 0 || keys.some((k) => k.kty !== 'EC' || k.crv !== 'P-256' || typeof k.d !== 'string' || typeof k.kid !== 'string')) {
    throw new Error(`${file}: expected {"keys": [<private P-256 JWK with kid>, …]}`);
  }
  return keys;
}

export async function loadSigningKeys(dataDir: string): Promise<SigningKeys> {
  const file = path.join(dataDir, KEY_FILE);
  let keys: JWK[];
  try {
    keys = await readKeyFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    keys = await createKeyFile(file);
  }
  const current = keys[0]!;
  const key = (await importJWK(current, SIGNING_ALG)) as CryptoKey;
  const jwks = { keys: keys.map(publicPart) };
  return { signer: { kid: current.kid!, key }, jwks, verify: createLocalJWKSet(jwks) };
}
