// Hot reload: watches the config file (through its directory, since editors replace files by
// renaming) and on each settled change loads, validates and applies it. A bad edit is refused
// with its errors logged and the running config kept.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { ConfigData } from './schema.ts';
import { loadConfigFile } from './load.ts';

export function watchConfig(file: string, apply: (config: ConfigData) => void, log: Logger, debounceMs = 250): { close(): void; reload(): Promise<boolean> } {
  const absolute = path.resolve(file);
  const base = path.basename(absolute);
  let timer: NodeJS.Timeout | undefined;
  let last = '';

  const reload = async (): Promise<boolean> => {
    try {
      const config = await loadConfigFile(absolute);
      const text = JSON.stringify(config);
      if (text === last) return true;
      apply(config);
      last = text;
      log.info({ file: absolute }, 'configuration reloaded');
      return true;
    } catch (error) {
      log.error({ file: absolute, problems: (error as Error).message }, 'configuration change refused; the running configuration stays in force');
      return false;
    }
  };

  // Remember what is running so that a touch without changes does nothing.
  void loadConfigFile(absolute).then((c) => (last = JSON.stringify(c)), () => undefined);

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path.dirname(absolute), { persistent: false }, (_event, name) => {
      if (name !== null && name !== base) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), debounceMs);
    });
  } catch (error) {
    log.warn({ err: (error as Error).message }, 'cannot watch the configuration file; send SIGHUP to reload');
  }
  return {
    close: () => {
      clearTimeout(timer);
      watcher?.close();
    },
    reload,
  };
}
