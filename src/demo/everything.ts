// Starts the bundled @modelcontextprotocol/server-everything as a child process, pinned to
// loopback (it binds every interface by default). Used by the demo, the tests and the benchmark.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Absolute path of server-everything's entry script. */
export function everythingEntry(): string {
  const pkg = require.resolve('@modelcontextprotocol/server-everything/package.json');
  return path.join(path.dirname(pkg), 'dist', 'index.js');
}

/** Absolute path of the preload that forces `listen()` onto 127.0.0.1. */
export function loopbackPreload(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/demo or dist/demo → repo root → assets
  return path.resolve(here, '..', '..', 'assets', 'loopback-only.cjs');
}

export interface RunningEverything {
  /** Base URL, e.g. http://127.0.0.1:3001 */
  readonly origin: string;
  readonly port: number;
  readonly child: ChildProcess;
  close(): Promise<void>;
}

export type EverythingTransport = 'streamableHttp' | 'sse';

/** Command and args that run server-everything over stdio. */
export function everythingStdioCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: [everythingEntry(), 'stdio'] };
}

/**
 * Starts server-everything over HTTP on 127.0.0.1. `port` 0 picks a free port.
 * Resolves once the server listens; rejects if it exits first or does not start in time.
 */
export function startEverything(
  options: { transport?: EverythingTransport; port?: number; quiet?: boolean; timeoutMs?: number } = {},
): Promise<RunningEverything> {
  const transport = options.transport ?? 'streamableHttp';
  const child = spawn(
    process.execPath,
    ['--require', loopbackPreload(), everythingEntry(), transport],
    {
      env: { ...process.env, PORT: String(options.port ?? 0) },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server-everything did not start within ${options.timeoutMs ?? 20000} ms: ${stderr}`));
    }, options.timeoutMs ?? 20000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`server-everything exited with ${code} before listening: ${stderr}`));
    };
    child.once('exit', onExit);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (stderr.length < 8192) stderr += chunk;
      const match = /GATEHOUSE_LISTENING port=(\d+)/.exec(stderr);
      if (match && timer) {
        clearTimeout(timer);
        child.off('exit', onExit);
        const port = Number(match[1]);
        stderr = '';
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        resolve({
          origin: `http://127.0.0.1:${port}`,
          port,
          child,
          close: () => stopChild(child),
        });
      }
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
