// gatehouse start --config FILE
import { loadConfigFile } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { watchConfig } from '../config/watch.ts';
import { startGateway } from '../gateway.ts';
import { runUntilSignalled } from './lifecycle.ts';

export async function runStart(options: { config: string; host?: string; port?: number; watch: boolean }): Promise<number> {
  let config;
  try {
    config = await loadConfigFile(options.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(error.message + '\n');
    return 2;
  }
  const overrides = (c: typeof config) => ({
    ...c,
    listen: { host: options.host ?? c.listen.host, port: options.port ?? c.listen.port },
  });
  const gateway = await startGateway({ config: overrides(config), configPath: options.config });
  const watcher = watchConfig(options.config, (next) => gateway.reload(overrides(next)), gateway.log, config);
  if (!options.watch) watcher.close();
  return runUntilSignalled(gateway, { onStop: async () => watcher.close(), onReload: () => watcher.reload() });
}
