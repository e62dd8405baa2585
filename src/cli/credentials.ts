// gatehouse credentials set | list | delete | rotate-key: the sealed store of upstream secrets.
// Secrets come in on stdin only (never as arguments, which other users can read in the process
// list and which stay in shell history) and never go out: no command prints a secret.
import { chmod, rename, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { Name, type ConfigData } from '../config/schema.ts';
import { dataPaths } from '../data-paths.ts';
import { openStore } from '../store/open.ts';
import { loadKey, parseKey } from '../session/key.ts';
import { CredentialVault } from '../credentials/vault.ts';
import type { Store } from '../store/store.ts';
import { resealTotpSecrets } from '../authserver/second-factor.ts';
import { CREDENTIALS_KEY_ENV, credentialsKeySource, keyId } from '../credentials/key.ts';
import { parseSecretCredential } from '../credentials/secret.ts';
import { UnsealError } from '../credentials/seal.ts';

/** A mistake in how the command was called: exit 2, like a bad config. */
class UsageError extends Error {}

interface Context {
  config: ConfigData;
  configFile: string;
  vault: CredentialVault;
  keyFile: string;
  store: Store;
}

export function registerCredentialsCommands(program: Command): void {
  const credentials = program
    .command('credentials')
    .description('upstream credentials sealed in the store (AES-256-GCM): set, list, delete, rotate-key');

  credentials
    .command('set <name>')
    .description('store the credential of server <name> (used by `credential: { type: stored }`); the secret is read from stdin')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store and the credentials key)')
    .option('--bearer-stdin', 'a bearer token, sent as Authorization: Bearer <token>')
    .option('--header <name>', 'a header to send the secret in (e.g. X-Api-Key); give the value with --value-stdin')
    .option('--value-stdin', 'read the --header value from stdin')
    .option('--client-credentials', 'an OAuth client-credentials grant; Gatehouse fetches and refreshes the token itself')
    .option('--token-url <url>', 'token endpoint of the grant')
    .option('--client-id <id>', 'client id of the grant')
    .option('--client-secret-stdin', 'read the client secret of the grant from stdin')
    .option('--scope <scope>', 'scope to ask for (space-separated)')
    .option('--audience <audience>', 'audience to ask for (some authorization servers need it)')
    .action((name: string, options: SetOptions) => run(options.config, (ctx) => set(ctx, name, options)));

  credentials
    .command('list')
    .description('list stored credentials: name, type, last update, key id (never a secret)')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store and the credentials key)')
    .option('--json', 'print JSON')
    .action((options: { config: string; json?: boolean }) => run(options.config, (ctx) => list(ctx, options.json === true)));

  credentials
    .command('delete <name>')
    .description('delete a stored credential')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store and the credentials key)')
    .action((name: string, options: { config: string }) => run(options.config, (ctx) => remove(ctx, name)));

  credentials
    .command('rotate-key')
    .description(`re-seal every stored credential under a new credentials key (from the key file, or ${CREDENTIALS_KEY_ENV} with --new-key-stdin)`)
    .requiredOption('-c, --config <file>', 'configuration file (locates the store and the credentials key)')
    .option('--new-key-stdin', 'read the new key (64 hex characters or base64 of 32 bytes) from stdin instead of generating one')
    .action((options: { config: string; newKeyStdin?: boolean }) => run(options.config, (ctx) => rotateKey(ctx, options.newKeyStdin === true)));
}

async function run(configFile: string, command: (ctx: Context) => Promise<number>): Promise<void> {
  try {
    const config = await loadConfigFile(configFile);
    const { dataDir, store: spec } = dataPaths(config, configFile, process.env);
    const source = credentialsKeySource(dataDir);
    const store = await openStore(spec);
    try {
      process.exitCode = await command({ config, configFile, vault: new CredentialVault(store, source), keyFile: source.file, store });
    } finally {
      await store.close();
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(error.message + '\n');
      process.exitCode = 2;
    } else if (error instanceof UsageError || error instanceof UnsealError) {
      process.stderr.write(`gatehouse credentials: ${error.message}\n`);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    } else {
      throw error;
    }
  }
}

interface SetOptions {
  config: string;
  bearerStdin?: boolean;
  header?: string;
  valueStdin?: boolean;
  clientCredentials?: boolean;
  tokenUrl?: string;
  clientId?: string;
  clientSecretStdin?: boolean;
  scope?: string;
  audience?: string;
}

async function set(ctx: Context, name: string, o: SetOptions): Promise<number> {
  if (!Name.safeParse(name).success) throw new UsageError(`"${name}" is not a valid name: expected letters, digits, "_", "." or "-" (max 64), starting with a letter or digit`);
  const kinds = [o.bearerStdin === true, o.header !== undefined, o.clientCredentials === true].filter(Boolean).length;
  if (kinds !== 1) throw new UsageError('expected exactly one of --bearer-stdin, --header NAME --value-stdin, or --client-credentials');
  if (o.valueStdin && o.header === undefined) throw new UsageError('--value-stdin goes with --header NAME');
  const grantOptions = [o.tokenUrl, o.clientId, o.clientSecretStdin, o.scope, o.audience].some((v) => v !== undefined);
  if (grantOptions && !o.clientCredentials) throw new UsageError('--token-url, --client-id, --client-secret-stdin, --scope and --audience go with --client-credentials');

  let input: unknown;
  if (o.bearerStdin) {
    input = { type: 'bearer', token: await readStdin('bearer token') };
  } else if (o.header !== undefined) {
    if (!o.valueStdin) throw new UsageError('--header NAME needs --value-stdin (the value is read from stdin)');
    input = { type: 'header', name: o.header, value: await readStdin(`value of ${o.header}`) };
  } else {
    if (o.tokenUrl === undefined || o.clientId === undefined || !o.clientSecretStdin) {
      throw new UsageError('--client-credentials needs --token-url URL, --client-id ID and --client-secret-stdin');
    }
    input = { type: 'client-credentials', tokenUrl: o.tokenUrl, clientId: o.clientId, clientSecret: await readStdin('client secret'), scope: o.scope, audience: o.audience };
  }
  const checked = parseSecretCredential(input);
  if (!checked.ok) throw new UsageError(`the credential is not valid: ${checked.problems.join('; ')}`);
  const key = await ctx.vault.set(name, checked.credential);
  process.stdout.write(`stored credential "${name}" (${checked.credential.type}), sealed with key ${key.id} from ${key.source}\n`);
  const users = Object.entries(ctx.config.servers)
    .filter(([server, def]) => 'credential' in def && def.credential?.type === 'stored' && (def.credential.name ?? server) === name)
    .map(([server]) => server);
  if (users.length === 0) {
    process.stdout.write(`note: no server in ${ctx.configFile} uses it yet; give one \`credential: { type: stored${name in ctx.config.servers ? '' : `, name: ${name}`} }\`\n`);
  }
  return 0;
}

async function list(ctx: Context, json: boolean): Promise<number> {
  const rows = await ctx.vault.list();
  if (json) {
    const out = rows.map((r) => ({ name: r.name, type: r.type ?? null, keyId: r.keyId ?? null, updatedAt: new Date(r.updatedAt).toISOString(), ...(r.problem ? { problem: r.problem } : {}) }));
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write('no stored credentials\n');
    return 0;
  }
  const table = [['NAME', 'TYPE', 'UPDATED', 'KEY'], ...rows.map((r) => [r.name, r.type ?? '?', new Date(r.updatedAt).toISOString(), r.keyId ?? '?'])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) process.stdout.write(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
  for (const r of rows) if (r.problem) process.stdout.write(`! ${r.problem}\n`);
  return 0;
}

async function remove(ctx: Context, name: string): Promise<number> {
  if (!(await ctx.vault.delete(name))) {
    process.stderr.write(`gatehouse credentials: no stored credential named "${name}"\n`);
    return 1;
  }
  process.stdout.write(`deleted credential "${name}" (a running Gatehouse stops using it at its next check, within 30 s, or at the upstream's next 401)\n`);
  return 0;
}

async function rotateKey(ctx: Context, newKeyFromStdin: boolean): Promise<number> {
  const current = await ctx.vault.key();
  if (!current) throw new UsageError(`there is no credentials key yet (${CREDENTIALS_KEY_ENV} or ${ctx.keyFile}): nothing to rotate`);
  const fromEnv = current.source === CREDENTIALS_KEY_ENV;
  if (fromEnv && !newKeyFromStdin) throw new UsageError(`the key comes from ${CREDENTIALS_KEY_ENV}: give the new key with --new-key-stdin, then set the variable to it`);
  // The new key goes to <key file>.new until every record is re-sealed, then replaces the key
  // file. Interrupted, the command picks the same .new file up again and finishes the job.
  const pending = `${ctx.keyFile}.new`;
  let next: Buffer;
  if (newKeyFromStdin) {
    next = parseKey(await readStdin('new key'), 'the new key on stdin');
    if (!fromEnv) {
      await writeFile(pending, next.toString('hex') + '\n', { mode: 0o600 });
      await chmod(pending, 0o600);
    }
  } else {
    next = (await loadKey({ file: pending })).key;
  }
  if (keyId(next) === current.id) throw new UsageError('the new key is the current key');
  const { resealed, unchanged } = await ctx.vault.rekey(next);
  // Users' TOTP secrets are sealed under the same key: without them, those users could not sign in.
  const totp = await resealTotpSecrets(ctx.store, current.key, next);
  if (!fromEnv) await rename(pending, ctx.keyFile);
  process.stdout.write(`re-sealed ${resealed} credential(s)${unchanged ? ` (${unchanged} already were)` : ''}${totp > 0 ? ` and ${totp} user TOTP secret(s)` : ''} with key ${keyId(next)}\n`);
  process.stdout.write(
    fromEnv
      ? `now set ${CREDENTIALS_KEY_ENV} to the new key wherever Gatehouse runs, and restart it\n`
      : `the new key is in ${ctx.keyFile}; a running Gatehouse picks it up by itself\n`,
  );
  return 0;
}

/** The whole of stdin, less one trailing line break (what `echo` or a here-string adds). */
async function readStdin(what: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`Type or paste the ${what}, then press Ctrl-D (input is shown; a pipe is better):\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (text === '') throw new UsageError(`expected the ${what} on stdin; it was empty`);
  return text;
}
