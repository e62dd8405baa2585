// gatehouse users …: people who sign in at the embedded authorization server, kept in the store
// the configuration file names (same resolution as `start`). Passwords are never prompted for
// (scripts and containers have no terminal): they come from stdin (--password-stdin) or, with a
// warning, from --password. Only the scrypt hash is stored; nothing prints a password.
// Exit codes: 0 done, 1 refused (bad name or password, duplicate, unknown user), 2 a config file
// that does not load.
import type { Command } from 'commander';
import { action as runAction, CliError, withStore } from './store-access.ts';
import { disconnectUser } from './connections.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';
import { createExternalUser, createUser, setPassword, UserInputError } from '../authserver/users.ts';
import { totpQrText } from '../authserver/totp.ts';
import { SecondFactor } from '../authserver/second-factor.ts';
import { CredentialVault } from '../credentials/vault.ts';
import { credentialsKeySource } from '../credentials/key.ts';
import { dataPaths } from '../data-paths.ts';
import type { ConfigData } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import { apiOfResource, UserGrants, type UserGrant } from '../authserver/grants.ts';
import { TokenDenylist } from '../authserver/revocation.ts';

/** Bad names or passwords are the user's to fix, not crashes. */
const action = <A extends unknown[]>(body: (...args: A) => Promise<void>) => runAction(body, (error) => error instanceof UserInputError);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is what `echo` and here-strings add; it is not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface Options {
  config: string;
}

interface PasswordOptions {
  passwordStdin?: boolean;
  password?: string;
}

/** The password given one way: stdin, or (with a warning) the command line. */
async function passwordOf(options: PasswordOptions, verb: string): Promise<string> {
  if (options.passwordStdin && options.password !== undefined) throw new CliError('give the password one way: --password-stdin or --password');
  if (options.passwordStdin) return readStdin();
  if (options.password !== undefined) {
    process.stderr.write('gatehouse: warning: a password on the command line can be seen in shell history and the process list; prefer --password-stdin\n');
    return options.password;
  }
  throw new CliError(`give the password with --password-stdin (e.g. \`printf %s "$PW" | gatehouse users ${verb} NAME --password-stdin -c FILE\`) or --password`);
}

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('manage the users who sign in at the embedded OAuth authorization server');

  users
    .command('create <username>')
    .description('create a user; the password comes from stdin (--password-stdin) or --password, or --external for none')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--password <password>', 'the password (visible in shell history and the process list; prefer --password-stdin)')
    .option('--external', 'no password: the user signs in only through an external OpenID Connect provider (authorizationServer.externalProviders)')
    .option('--tenant <id>', "the user's tenant (one of tenants[].id); it gets tokens for that tenant's APIs only. Default: the default tenant")
    .action(
      action(async (username: string, options: Options & PasswordOptions & { external?: boolean; tenant?: string }) => {
        if (options.external && (options.passwordStdin || options.password !== undefined)) throw new CliError('--external creates a user without a password: give no password with it');
        const password = options.external ? undefined : await passwordOf(options, 'create');
        const user = await withStore(options.config, (store, config) => {
          const tenant = options.tenant;
          const declared = config.tenants.map((t) => t.id);
          if (tenant !== undefined && tenant !== DEFAULT_TENANT && !declared.includes(tenant)) {
            throw new CliError(`--tenant: no tenant "${tenant}" in ${options.config}; expected ${declared.length > 0 ? `one of ${declared.join(', ')} or ` : ''}${DEFAULT_TENANT}`);
          }
          return password === undefined ? createExternalUser(store, username, tenant) : createUser(store, username, password, tenant);
        });
        process.stdout.write(`created user ${user.username} (id ${user.id})${user.tenant !== undefined ? ` in tenant ${user.tenant}` : ''}${password === undefined ? ', without a password (external sign-in only)' : ''}\n`);
      }),
    );

  users
    .command('passwd <username>')
    .description("set a user's password (a change, or a reset by the operator); sign-ins and refresh tokens from before it stop working")
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .option('--password-stdin', 'read the new password from standard input')
    .option('--password <password>', 'the new password (visible in shell history and the process list; prefer --password-stdin)')
    .action(
      action(async (username: string, options: Options & PasswordOptions) => {
        const password = await passwordOf(options, 'passwd');
        await withStore(options.config, (store) => setPassword(store, username, password));
        process.stdout.write(`password of ${username} set; its earlier authorizations and refresh tokens no longer work\n`);
      }),
    );

  users
    .command('list')
    .description('list users (never their passwords)')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .option('--json', 'print JSON')
    .action(
      action(async (options: Options & { json?: boolean }) => {
        const list = await withStore(options.config, (store) => store.listUsers());
        const rows = list.map((u) => ({ username: u.username, id: u.id, tenant: u.tenant ?? DEFAULT_TENANT, created: iso(u.createdAt), status: u.disabled ? 'disabled' : 'active', totp: u.totpSecret !== undefined }));
        if (options.json) return void process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        if (rows.length === 0) return void process.stdout.write('no users\n');
        const table = [['USERNAME', 'ID', 'TENANT', 'CREATED', 'STATUS', '2FA'], ...rows.map((r) => [r.username, r.id, r.tenant, r.created, r.status, r.totp ? 'totp' : '-'])];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
        process.stdout.write(table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
      }),
    );

  const totp = users.command('totp').description('two-factor sign-in (TOTP) of a user: enable (prints the secret once) or disable');
  const secondFactor = (store: Store, config: ConfigData, configFile: string) =>
    new SecondFactor(store, new CredentialVault(store, credentialsKeySource(dataPaths(config, configFile, process.env).dataDir)));

  totp
    .command('enable <username>')
    .description('give a user a new TOTP secret (replacing any earlier one) and print it once, as an otpauth:// URI and in base32, for their authenticator app; from then on they sign in with a code after the password')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store and the credentials key)')
    .action(
      action(async (username: string, options: Options) => {
        const enrolment = await withStore(options.config, async (store, config) => {
          const user = await store.getUserByName(username);
          if (!user) throw new CliError(`no user named "${username}"`);
          return secondFactor(store, config, options.config).enable(user);
        });
        // The only time the secret is shown: the store keeps it sealed under the credentials key.
        process.stdout.write(`two-factor sign-in enabled for ${username}; give them this once (it is not shown again):\n${enrolment.uri}\nsecret (base32): ${enrolment.secret}\n`);
        // At a terminal, also as a QR code to scan from the screen; a pipe gets the lines above only.
        if (process.stdout.isTTY) process.stdout.write(await totpQrText(enrolment.uri));
      }),
    );

  totp
    .command('disable <username>')
    .description("remove a user's TOTP secret: they sign in with their password alone (e.g. after losing their phone)")
    .requiredOption('-c, --config <file>', 'configuration file (locates the store and the credentials key)')
    .action(
      action(async (username: string, options: Options) => {
        await withStore(options.config, async (store, config) => {
          if (!(await secondFactor(store, config, options.config).disable(username))) throw new CliError(`no user named "${username}"`);
        });
        process.stdout.write(`two-factor sign-in disabled for ${username}\n`);
      }),
    );

  // Grants: what the user authorized applications to do, at the embedded authorization server.
  // The store directly, as the other commands: a revocation is refused by every node within a
  // second (their verdict cache), as after `users disable`.
  const grantsOf = (store: Store, config: ConfigData) =>
    new UserGrants(store, new TokenDenylist(store), () => undefined, apiOfResource(config.apis));
  const userNamed = async (store: Store, username: string) => {
    const user = await store.getUserByName(username);
    if (!user) throw new CliError(`no user named "${username}"`);
    return user;
  };

  users
    .command('grants <username>')
    .description('list the applications (OAuth clients) a user authorized: grant id, client, API, scopes, when authorized and last used (never a token)')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .option('--json', 'print JSON')
    .action(
      action(async (username: string, options: Options & { json?: boolean }) => {
        const list: UserGrant[] = await withStore(options.config, async (store, config) => grantsOf(store, config).list(await userNamed(store, username)));
        if (options.json) {
          const rows = list.map((g) => ({ ...g, clientName: g.clientName ?? null, api: g.api ?? null, idp: g.idp ?? null, createdAt: iso(g.createdAt), lastUsedAt: iso(g.lastUsedAt), expiresAt: iso(g.expiresAt) }));
          return void process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        }
        if (list.length === 0) return void process.stdout.write(`${username} has authorized no application\n`);
        const table = [['GRANT', 'CLIENT', 'API', 'SCOPES', 'AUTHORIZED', 'LAST USED'], ...list.map((g) => [g.id, g.clientName ? `${g.clientName} (${g.clientId})` : g.clientId, g.api ?? g.resource, g.scopes.join(' ') || '-', iso(g.createdAt), iso(g.lastUsedAt)])];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
        process.stdout.write(table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
      }),
    );

  users
    .command('revoke-grant <username> [grantId]')
    .description("end a user's grant (or all of them with --all): its refresh token and access tokens stop working; the application must ask the user again")
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .option('--all', "end all the user's grants")
    .action(
      action(async (username: string, grantId: string | undefined, options: Options & { all?: boolean }) => {
        if (options.all && grantId !== undefined) throw new CliError('give a grant id or --all, not both');
        if (!options.all && grantId === undefined) throw new CliError(`give the grant id (see \`gatehouse users grants ${username} -c FILE\`) or --all`);
        const by = { who: 'an operator (gatehouse users revoke-grant)', endpoint: 'gatehouse users revoke-grant' };
        const count = await withStore(options.config, async (store, config) => {
          const user = await userNamed(store, username);
          const grants = grantsOf(store, config);
          if (options.all) return grants.revokeAll(user, by);
          if (!(await grants.revoke(user, grantId!, by))) throw new CliError(`${username} has no grant "${grantId}" (see \`gatehouse users grants ${username} -c FILE\`)`);
          return 1;
        });
        process.stdout.write(options.all ? `ended ${count} grant${count === 1 ? '' : 's'} of ${username}\n` : `ended grant ${grantId} of ${username}: its tokens no longer work\n`);
      }),
    );

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    users
      .command(`${verb} <username>`)
      .description(disabled ? 'stop a user from signing in and from refreshing tokens (access tokens already issued run until they expire)' : 'let a disabled user sign in again')
      .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
      .action(
        action(async (username: string, options: Options) => {
          const ended = await withStore(options.config, async (store, config) => {
            if (!(await store.setUserDisabled(username, disabled))) throw new CliError(`no user named "${username}"`);
            // A disabled user's upstream connections end too (deleted, revoked upstream where supported).
            const user = disabled ? await store.getUserByName(username) : undefined;
            return user ? await disconnectUser(store, config, options.config, user.id) : 0;
          });
          process.stdout.write(`${verb}d user ${username}${ended > 0 ? ` (ended ${ended} upstream connection${ended === 1 ? '' : 's'})` : ''}\n`);
        }),
      );
  }
}
