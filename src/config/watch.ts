// Hot reload: watches the config file (through its directory, since editors replace files by
// renaming) and on each settled change loads, validates and applies it. A bad edit is refused
// with its errors logged and the running config kept.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { ConfigData } from './schema.ts';
import { loadConfigFile } from './load.ts';

/**
 * `running` is the config the gateway was started with: a change made between that load and the
 * start of watching is applied at once (it raised no event the watcher could see).
 */
export function watchConfig(file: string, apply: (config: ConfigData) => void, log: Logger, running: ConfigData, debounceMs = 250): { close(): void; reload(): Promise<boolean> } {
  const absolute = path.resolve(file);
  const base = path.basename(absolute);
  let timer: NodeJS.Timeout | undefined;
  let last = JSON.stringify(running);
  // One reload at a time, so that two close changes are compared and applied in order.
  let queue: Promise<boolean> = Promise.resolve(true);
  const reload = (): Promise<boolean> => (queue = queue.then(reloadNow));

  const reloadNow = async (): Promise<boolean> => {
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
  let closed = false;
  // After the caller had its chance to close the watcher (--no-watch: SIGHUP only).
  queueMicrotask(() => {
    if (!closed) void reload();
  });
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
    },
    reload,
  };
}
