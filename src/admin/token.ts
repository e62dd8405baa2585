// The admin token: `admin.token` from the config, else a random token kept in
// <dataDir>/admin.token (mode 0600, folder 0700), created on first start and reused after, so
// that scripts and a browser's sign-in keep working across restarts.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';

export interface AdminToken {
  readonly token: string;
  /** "config", or the file it was read from or written to. */
  readonly source: string;
  /** A short, non-reversible id of the token for logs (never the token). */
  readonly id: string;
  /** The token file can be read by group or others (worth a warning). */
  readonly exposed?: boolean;
}

const MIN_LENGTH = 16;

export async function loadAdminToken(configured: string | undefined, dataDir: string): Promise<AdminToken> {
  if (configured !== undefined) return withId(configured, 'config');
  const file = path.join(dataDir, 'admin.token');
  const existing = await readToken(file);
  if (existing !== undefined) return { ...withId(existing.token, file), exposed: existing.exposed };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // A recognisable prefix lets secret scanners find a token pasted where it should not be.
  const token = `gha_${randomBytes(32).toString('base64url')}`;
  try {
    await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' });
    return withId(token, file);
  } catch (error) {
    // Another process sharing the data directory created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const theirs = await readToken(file);
    if (theirs === undefined) throw new Error(`${file}: expected an admin token of at least ${MIN_LENGTH} characters`);
    return withId(theirs.token, file);
  }
}

async function readToken(file: string): Promise<{ token: string; exposed: boolean } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const token = text.trim();
  if (token.length < MIN_LENGTH) throw new Error(`${file}: expected an admin token of at least ${MIN_LENGTH} characters (delete the file to have a new one generated)`);
  const exposed = process.platform !== 'win32' && ((await stat(file)).mode & 0o077) !== 0;
  return { token, exposed };
}

function withId(token: string, source: string): AdminToken {
  return { token, source, id: createHash('sha256').update(token).digest('hex').slice(0, 8) };
}
