// Where a config's audit records go, resolved the same way for `start` and `gatehouse logs`:
// relative files are relative to the config file, the default SQLite file sits in the data
// directory beside (not inside) the store.
import path from 'node:path';
import type { ConfigData } from '../config/schema.ts';
import type { SinkSpec } from './sink.ts';

export function auditSinkSpec(config: ConfigData, configPath: string | undefined, dataDir: string): SinkSpec {
  const sink = config.audit.sink;
  const baseDir = configPath ? path.dirname(path.resolve(configPath)) : process.cwd();
  switch (sink.type) {
    case 'sqlite':
      return { type: 'sqlite', file: sink.file ? path.resolve(baseDir, sink.file) : path.join(dataDir, 'audit.db') };
    case 'postgres':
      return { type: 'postgres', url: sink.url, schema: sink.schema };
    case 'jsonl':
      return { type: 'jsonl', path: sink.path === '-' ? '-' : path.resolve(baseDir, sink.path) };
  }
}

export function auditSpillFile(config: ConfigData, configPath: string | undefined, dataDir: string): string {
  const file = config.audit.queue.spillFile;
  const baseDir = configPath ? path.dirname(path.resolve(configPath)) : process.cwd();
  return file ? path.resolve(baseDir, file) : path.join(dataDir, 'audit-spill.jsonl');
}
