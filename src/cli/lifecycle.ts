// Signals for a running gateway: SIGTERM/SIGINT drain and stop, SIGHUP reloads.
import type { Gateway } from '../gateway.ts';

export function runUntilSignalled(gateway: Gateway, options: { onStop?: () => Promise<void>; onReload?: () => Promise<unknown> } = {}): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        gateway.log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      gateway.log.info({ signal }, 'draining');
      void gateway
        .close()
        .then(() => options.onStop?.())
        .then(
          () => resolve(0),
          (error: unknown) => {
            gateway.log.error({ err: error }, 'error during shutdown');
            resolve(1);
          },
        );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // SIGHUP: the config file (or the store's newest version), then the TLS files.
    if (options.onReload) process.on('SIGHUP', () => void options.onReload!().finally(() => gateway.reloadTls()));
  });
}
