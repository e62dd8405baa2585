// What the store-managing commands (agents, keys, users) share: loading the config only for its
// store settings, opening and closing the store, and turning refusals into a message and an
// exit code (0 done, 1 refused, 2 a config file that does not load).
import { loadConfigFile } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import type { ConfigData } from '../config/schema.ts';
import { dataPaths } from '../data-paths.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';

/** A refusal the user can act on: message on stderr, exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
  }
}

// Variables the store does not need (keys, upstream secrets) may be unset in an operator's shell:
// they are replaced by a placeholder, and refused only if the store settings use them.
const UNSET = 'http://unset-environment-variable.invalid/placeholder';

/** Loads a config file for the parts named by `uses`, tolerating unset variables elsewhere. */
export async function loadForSettings(file: string, uses: (config: ConfigData) => unknown): Promise<ConfigData> {
  const env = new Proxy(process.env, { get: (target, name: string) => target[name] ?? UNSET });
  let config: ConfigData;
  try {
    config = await loadConfigFile(file, env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
  if (JSON.stringify(uses(config) ?? '').includes(UNSET)) {
    throw new CliError(`${file}: the settings this command needs use an environment variable that is not set`, 2);
  }
  return config;
}

export async function withStore<T>(configFile: string, run: (store: Store, config: ConfigData) => Promise<T>): Promise<T> {
  const config = await loadForSettings(configFile, (c) => [c.store, c.dataDir ?? '']);
  const store = await openStore(dataPaths(config, configFile, process.env).store);
  try {
    return await run(store, config);
  } finally {
    await store.close();
  }
}

/**
 * Runs a command body; refusals (CliError, or any error `isRefusal` accepts) become a message
 * on stderr and an exit code, anything else propagates.
 */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void>, isRefusal: (error: unknown) => boolean = () => false): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      if (!(error instanceof CliError) && !isRefusal(error)) throw error;
      process.stderr.write(`gatehouse: ${(error as Error).message}\n`);
      process.exitCode = error instanceof CliError ? error.exitCode : 1;
    }
  };
}
