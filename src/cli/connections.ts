// gatehouse connections list | revoke | connect: users' connections to per-user upstream servers
// (auth: oauth-user). Never prints a token. `revoke` deletes the sealed tokens and revokes them at
// the upstream (RFC 7009) where it supports that; `connect` prints a single-use link that connects
// a user's account (e.g. the service user of `anonymous: service`).
import type { Command } from 'commander';
import pino from 'pino';
import type { ConfigData } from '../config/schema.ts';
import { dataPaths } from '../data-paths.ts';
import type { Store } from '../store/store.ts';
import { CredentialVault } from '../credentials/vault.ts';
import { credentialsKeySource } from '../credentials/key.ts';
import { UserConnections } from '../credentials/oauth-user/connections.ts';
import { action, CliError, withStore } from './store-access.ts';

interface Options {
  config: string;
  user?: string;
  json?: boolean;
}

/** Gatehouse's public base URL as its running listener shows it (publicUrl, else the listen address). */
function baseOf(config: ConfigData): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const host = config.listen.host;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `${config.listen.tls ? 'https' : 'http'}://${shown}:${config.listen.port}`;
}

function connectionsOf(store: Store, config: ConfigData, configFile: string): UserConnections {
  const { dataDir } = dataPaths(config, configFile, process.env);
  const log = pino({ level: 'warn' }, pino.destination(2));
  const connections = new UserConnections(store, new CredentialVault(store, credentialsKeySource(dataDir)), log, () => baseOf(config));
  connections.setPublicBase(() => baseOf(config));
  for (const [name, server] of Object.entries(config.servers)) if ('url' in server && server.auth?.type === 'oauth-user') connections.forServer(name, server.url, server.auth);
  return connections;
}

/** Ends every upstream connection of a user (a disabled user); how many there were. */
export function disconnectUser(store: Store, config: ConfigData, configFile: string, userId: string): Promise<number> {
  return connectionsOf(store, config, configFile).revokeUser(userId);
}

export function registerConnectionCommands(program: Command): void {
  const connections = program.command('connections').description('users\' connections to per-user upstream servers (auth: oauth-user): list, revoke, connect');

  connections
    .command('list')
    .description('list connections: user, server, token expiry, last update (never a token)')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store and the credentials key)')
    .option('--user <id>', 'only this user\'s connections (the user id, the `sub` of their tokens)')
    .option('--json', 'print JSON')
    .action(
      action(async (options: Options) => {
        const rows = await withStore(options.config, (store, config) => connectionsOf(store, config, options.config).list(options.user));
        const view = rows.map((r) => ({ user: r.userId, server: r.server, expires: r.expiresAt === undefined ? '-' : new Date(r.expiresAt).toISOString(), updated: new Date(r.updatedAt).toISOString(), problem: r.problem ?? '' }));
        if (options.json) return void process.stdout.write(JSON.stringify(view, null, 2) + '\n');
        if (view.length === 0) return void process.stdout.write('no connections\n');
        const table = [['USER', 'SERVER', 'TOKEN EXPIRES', 'UPDATED', 'PROBLEM'], ...view.map((r) => [r.user, r.server, r.expires, r.updated, r.problem])];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
        process.stdout.write(table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
      }),
    );

  connections
    .command('revoke <user> <server>')
    .description('delete a user\'s connection to a server and revoke its tokens upstream (RFC 7009) where supported')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store, the credentials key and the server)')
    .action(
      action(async (user: string, server: string, options: Options) => {
        const outcome = await withStore(options.config, (store, config) => connectionsOf(store, config, options.config).revoke(user, server));
        if (!outcome.deleted) throw new CliError(`user "${user}" has no connection to "${server}"`);
        const upstream = outcome.revokedUpstream === undefined ? 'the upstream offers no revocation' : outcome.revokedUpstream ? 'revoked upstream' : 'the upstream did not confirm the revocation (see the log line above)';
        process.stdout.write(`revoked connection of ${user} to ${server} (${upstream})\n`);
      }),
    );

  connections
    .command('connect <server>')
    .description('print a single-use link that connects <user>\'s account at <server> (e.g. the serviceUser of `anonymous: service`)')
    .requiredOption('-c, --config <file>', 'configuration file')
    .requiredOption('--user <id>', 'the user the connection is for')
    .action(
      action(async (server: string, options: Options) => {
        const link = await withStore(options.config, async (store, config) => {
          const definition = config.servers[server];
          if (!definition || !('url' in definition) || definition.auth?.type !== 'oauth-user') throw new CliError(`no server "${server}" with auth: { type: oauth-user } in ${options.config}`, 2);
          const issued = await connectionsOf(store, config, options.config).tickets.issue(baseOf(config), options.user!, server, definition.auth.connectTtl, undefined);
          return issued.url;
        });
        process.stdout.write(`${link}\n`);
      }),
    );
}
