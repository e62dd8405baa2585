// The gatehouse command line.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { loadListenersTls } from '../http/tls.ts';
import { configJsonSchema } from '../config/json-schema.ts';
import { registerAgentCommands } from './agents.ts';
import { registerCredentialsCommands } from './credentials.ts';
import { registerUserCommands } from './users.ts';
import { registerConnectionCommands } from './connections.ts';
import { registerAclCommands } from './acl.ts';
import { registerLogsCommand } from './logs.ts';
import { registerManagedCommands } from './managed.ts';
import { registerToolsCommands } from './tools.ts';
import { registerAuditCommands } from './audit.ts';

const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

const program = new Command()
  .name('gatehouse')
  .description('An MCP gateway: one URL for your agents, every call authenticated, checked, forwarded and recorded.')
  .version(pkg.version, '-v, --version')
  .showHelpAfterError();

program
  .command('start')
  .description('run Gatehouse from a configuration file (watched and reloaded on change, also on SIGHUP), or in managed mode from the store (--managed, or `managed: true` in the file)')
  .option('-c, --config <file>', 'YAML or JSON configuration file; with --managed, the node settings (listen, store, admin, …)')
  .option('--managed', 'managed mode: servers, APIs and policies live in the store and change through the management API (/api/v1 on the admin listener) or `gatehouse apply`')
  .option('--host <host>', 'override listen.host')
  .option('-p, --port <port>', 'override listen.port', port)
  .option('--no-watch', 'do not reload the file when it changes')
  .action(async (options: { config?: string; managed?: boolean; host?: string; port?: number; watch: boolean }) => {
    // start and demo load the whole gateway: imported when run, so the other commands start fast.
    const { runStart } = await import('./start.ts');
    process.exitCode = await runStart(options);
  });

program
  .command('demo', { isDefault: false })
  .description('run the demo: the bundled server-everything (Streamable HTTP and stdio) behind Gatehouse')
  .option('-p, --port <port>', 'port for Gatehouse (default 8080, or $PORT)', port)
  .action(async (options: { port?: number }) => {
    const { runDemo } = await import('./demo.ts');
    process.exitCode = await runDemo(options);
  });

program
  .command('check')
  .description('validate a configuration file and explain every problem (file, field, expected); exit 1 if invalid')
  .requiredOption('-c, --config <file>', 'YAML or JSON configuration file')
  .action(async (options: { config: string }) => {
    try {
      const config = await loadConfigFile(options.config);
      await loadListenersTls(config, options.config);
      process.stdout.write(`${options.config}: valid (${Object.keys(config.servers).length} servers, ${config.apis.length} APIs)\n`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(error.message + '\n');
      process.exitCode = 1;
    }
  });

program
  .command('schema')
  .description('print the JSON Schema of the configuration file')
  .action(() => {
    process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
  });

registerCredentialsCommands(program);

registerAgentCommands(program);

registerUserCommands(program);

registerConnectionCommands(program);
registerAclCommands(program);
registerLogsCommand(program);
registerManagedCommands(program);
registerToolsCommands(program);
registerAuditCommands(program);

await program.parseAsync(process.argv);
