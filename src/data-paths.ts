// Where a configuration keeps its data: apart from gateway.ts so that the CLI's store and audit
// commands do not load the whole gateway to find a file.
import path from 'node:path';
import type { ConfigData } from './config/schema.ts';
import type { StoreSpec } from './store/open.ts';

/**
 * Where a config's data lives: the data directory (key files, the SQLite file) and the store.
 * The CLI commands that work on the store resolve them the same way as `start`.
 */
export function dataPaths(config: ConfigData, configPath: string | undefined, env: NodeJS.ProcessEnv, dataDirOverride?: string): { dataDir: string; store: StoreSpec } {
  const baseDir = configPath ? path.dirname(path.resolve(configPath)) : process.cwd();
  const dataDir = dataDirOverride ?? env.GATEHOUSE_DATA_DIR ?? path.resolve(baseDir, config.dataDir ?? '.gatehouse');
  const store: StoreSpec = config.store.type === 'postgres' ? config.store : { type: 'sqlite', file: config.store.file ? path.resolve(baseDir, config.store.file) : path.join(dataDir, 'gatehouse.db') };
  return { dataDir, store };
}
