// gatehouse start --config FILE
import { loadConfigFile, validateConfig } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { watchConfig } from '../config/watch.ts';
import { startGateway, type Gateway } from '../gateway.ts';
import { runUntilSignalled } from './lifecycle.ts';
import { explainStartFailure } from './start-failure.ts';
import { declaresManaged, runManaged } from './start-managed.ts';

export async function runStart(options: { config?: string; managed?: boolean; host?: string; port?: number; watch: boolean }): Promise<number> {
  if (options.managed || (options.config !== undefined && (await declaresManaged(options.config)))) return runManaged(options);
  if (options.config === undefined) {
    process.stderr.write('gatehouse start: give --config <file>, or --managed to run from the store\n');
    return 2;
  }
  return runFromFile({ ...options, config: options.config });
}

async function runFromFile(options: { config: string; host?: string; port?: number; watch: boolean }): Promise<number> {
  let config;
  try {
    config = await loadConfigFile(options.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(error.message + '\n');
    return 2;
  }
  // --port moves the admin listener too when admin.port is not set: its default is the next port.
  const overrides = (c: typeof config) => ({
    ...c,
    listen: { ...c.listen, host: options.host ?? c.listen.host, port: options.port ?? c.listen.port },
  });
  let gateway: Gateway;
  try {
    gateway = await startGateway({ config: overrides(config), configPath: options.config });
  } catch (error) {
    // The overridden config is checked again (e.g. --host 0.0.0.0 in front of a keyless API).
    if (error instanceof ConfigError) {
      process.stderr.write(error.message + '\n');
      return 2;
    }
    const line = explainStartFailure(error, {
      command: 'gatehouse start',
      portHint: options.port === undefined ? `choose another port (listen.port in ${options.config}, or --port)` : 'choose another --port',
      adminPortHint: config.admin.port === undefined ? `the admin listener takes the port after the MCP one: choose another ${options.port === undefined ? 'listen.port (or --port)' : '--port'}, or set admin.port` : `change admin.port in ${options.config} (or admin.enabled: false)`,
    });
    if (line === undefined) throw error;
    process.stderr.write(line + '\n');
    return 1;
  }
  // The file with the command line's overrides is checked as a whole, as at start.
  const watcher = watchConfig(options.config, (next) => gateway.reload(validateConfig(overrides(next), options.config)), gateway.log, config);
  if (!options.watch) watcher.close();
  return runUntilSignalled(gateway, { onStop: async () => watcher.close(), onReload: () => watcher.reload() });
}
