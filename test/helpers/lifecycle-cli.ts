// A running `gatehouse start` (the built CLI) in front of the real server-everything, over
// Streamable HTTP (/mcp) and stdio (/mcp-stdio), for reload and shutdown tests.
import { writeFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { everythingStdioCommand, runCli, startEverything, writeConfig, type CliProcess, type RunningEverything } from './gatehouse.ts';
import { freePort, isAlive, killIfAlive, stdioChildren, stopCli, waitForLogLines } from './lifecycle-procs.ts';

export interface RunningCli {
  cli: CliProcess;
  everything: RunningEverything;
  file: string;
  port: number;
  url(path: string): string;
  /** Rewrites the config file with extra YAML appended under `apis:` and the given stdio env. */
  writeConfig(options?: { extraApis?: string; stdioEnv?: Record<string, string> }): void;
  /** Runs `fn` after the test, before the CLI is stopped. */
  defer(fn: () => Promise<unknown>): void;
  /** Every stdio child this CLI has had (as seen by `stdioChildren` calls through this object). */
  stdioChildren(): number[];
}

/** YAML for the gateway; `extraApis` is appended to the `apis` list verbatim. */
function configText(port: number, everythingUrl: string, options: { extraApis?: string; stdioEnv?: Record<string, string> } = {}): string {
  const stdio = everythingStdioCommand();
  const env = Object.entries(options.stdioEnv ?? {});
  return [
    'listen:',
    '  host: 127.0.0.1',
    `  port: ${port}`,
    'servers:',
    '  everything:',
    `    url: ${JSON.stringify(everythingUrl)}`,
    '  everything-stdio:',
    `    command: ${JSON.stringify(stdio.command)}`,
    `    args: ${JSON.stringify(stdio.args)}`,
    ...(env.length > 0 ? ['    env:', ...env.map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)] : []),
    'apis:',
    '  - name: everything',
    '    path: /mcp',
    '    server: everything',
    '  - name: everything-stdio',
    '    path: /mcp-stdio',
    '    server: everything-stdio',
    ...(options.extraApis ? [options.extraApis.replace(/\n$/, '')] : []),
    'log:',
    '  level: debug',
    '',
  ].join('\n');
}

/** Starts server-everything and `gatehouse start --config <file>`; both are stopped after the test and the CLI's stdio children checked gone. */
export async function startCliGateway(t: TestContext, args: string[] = []): Promise<RunningCli> {
  const everything = await startEverything();
  const port = await freePort();
  const everythingUrl = `${everything.origin}/mcp`;
  const file = writeConfig(configText(port, everythingUrl));
  const cli = runCli(['start', '--config', file, ...args]);
  const seen = new Set<number>();
  const deferred: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const fn of deferred.reverse()) await fn().catch(() => undefined);
    if (cli.child.exitCode === null && cli.child.signalCode === null) for (const pid of stdioChildren(cli.child.pid)) seen.add(pid);
    await stopCli(cli);
    await everything.close();
    const leaked = [...seen].filter(isAlive);
    killIfAlive(leaked);
    if (leaked.length > 0) throw new Error(`stdio children left running after the CLI stopped: ${leaked.join(', ')}`);
  });
  await waitForLogLines(cli, (l) => l.msg === 'gatehouse listening', 'Gatehouse listens');
  return {
    cli,
    everything,
    file,
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    writeConfig: (options) => writeFileSync(file, configText(port, everythingUrl, options)),
    defer: (fn) => void deferred.push(fn),
    stdioChildren: () => {
      const pids = stdioChildren(cli.child.pid);
      for (const pid of pids) seen.add(pid);
      return pids;
    },
  };
}
