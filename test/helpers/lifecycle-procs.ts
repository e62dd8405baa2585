// Helpers for lifecycle tests: finding and watching processes (stdio children of Gatehouse)
// through /proc, mapping an MCP session id to its stdio child, waiting on conditions, free ports
// and reading a running CLI's JSON log lines.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { SessionSealer } from '../../src/session/seal.ts';
import type { CliProcess, LogCapture } from './gatehouse.ts';

interface ProcStat {
  pid: number;
  ppid: number;
  state: string;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may contain spaces and parentheses.
    const close = text.lastIndexOf(')');
    const [state, ppid] = text.slice(close + 2).split(' ');
    return { pid, ppid: Number(ppid), state: state ?? '?' };
  } catch {
    return undefined;
  }
}

/** Whether `pid` names a running (not exited, not zombie) process. */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Live processes whose parent is `parent`. */
export function childPids(parent: number = process.pid): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.ppid === parent && stat.state !== 'Z' && stat.state !== 'X') out.push(stat.pid);
  }
  return out.sort((a, b) => a - b);
}

/** The command line of a process, arguments joined by spaces ('' if it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Children of `parent` that run server-everything over stdio. */
export function stdioChildren(parent: number = process.pid): number[] {
  return childPids(parent).filter((pid) => /server-everything\S*\s+stdio\b/.test(commandLine(pid)));
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The channel id inside a sealed channel-session id (needs the gateway's session key). */
export function channelIdOf(sessionId: string, keyHex: string): string {
  const claims = new SessionSealer(Buffer.from(keyHex, 'hex')).unseal(sessionId);
  if (!claims?.ch) throw new Error('session id does not name a channel session');
  return claims.ch;
}

/** The pid of the stdio child started for a session, from Gatehouse's debug log. */
export function stdioPidOf(logs: LogCapture, sessionId: string, keyHex: string): number {
  const ch = channelIdOf(sessionId, keyHex);
  const line = logs.lines.find((l) => l.msg === 'started stdio server' && l.session === ch);
  if (!line || typeof line.pid !== 'number') throw new Error(`no "started stdio server" log line for session ${ch}`);
  return line.pid;
}

/** The JSON log lines a CLI child has written so far. */
export function cliLogLines(cli: CliProcess): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of cli.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line: not complete yet
    }
  }
  return out;
}

/** Waits until the CLI has logged at least `count` lines matching `match`; returns them. */
export async function waitForLogLines(
  cli: CliProcess,
  match: (line: Record<string, unknown>) => boolean,
  what: string,
  count = 1,
  timeoutMs = 15_000,
): Promise<Array<Record<string, unknown>>> {
  let found: Array<Record<string, unknown>> = [];
  await waitUntil(
    () => {
      if (cli.child.exitCode !== null) throw new Error(`CLI exited (${cli.child.exitCode}) before ${what}: ${cli.output()}`);
      found = cliLogLines(cli).filter(match);
      return found.length >= count;
    },
    `${what} (output so far: ${cli.output().slice(-2000)})`,
    timeoutMs,
  );
  return found;
}

/** Stops a CLI child: SIGTERM, then SIGKILL if it lingers. Resolves once it has exited. */
export async function stopCli(cli: CliProcess): Promise<void> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
  cli.child.kill('SIGTERM');
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), 15_000);
  await cli.exited;
  clearTimeout(timer);
}

/** SIGKILLs processes that are still alive (cleanup of leaks a failed test left behind). */
export function killIfAlive(pids: Iterable<number>): void {
  for (const pid of pids) {
    if (!isAlive(pid)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
