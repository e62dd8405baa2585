// The session sealing key: GATEHOUSE_SESSION_KEY (64 hex chars or base64 of 32 bytes), or a key
// file in the data directory, created with mode 0600 on first start. Nodes that share the key
// serve each other's sessions. The same loader serves the credentials key (src/credentials/).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const decoded = Buffer.from(trimmed, 'base64');
  if (decoded.length === 32) return decoded;
  throw new Error(`${source}: expected 32 bytes as 64 hex characters or base64`);
}

export function loadSessionKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ key: Buffer; source: string }> {
  return loadKey({ envName: 'GATEHOUSE_SESSION_KEY', file: path.join(dataDir, 'session.key') }, env);
}

export interface KeySource {
  /** Environment variable that may hold the key (takes precedence over the file). */
  envName?: string;
  file: string;
}

/** The key from the environment or the key file; undefined when neither exists. */
export async function readKey({ envName, file }: KeySource, env: NodeJS.ProcessEnv = process.env): Promise<{ key: Buffer; source: string } | undefined> {
  const fromEnv = envName === undefined ? undefined : env[envName];
  if (fromEnv && envName) return { key: parseKey(fromEnv, envName), source: envName };
  try {
    return { key: parseKey(await readFile(file, 'utf8'), file), source: file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return undefined;
  }
}

/** As readKey, but a missing file is created with a random key (mode 0600, folder 0700). */
export async function loadKey(where: KeySource, env: NodeJS.ProcessEnv = process.env): Promise<{ key: Buffer; source: string }> {
  const found = await readKey(where, env);
  if (found) return found;
  const { file } = where;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    await writeFile(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    return { key, source: file };
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { key: parseKey(await readFile(file, 'utf8'), file), source: file };
    throw error;
  }
}
