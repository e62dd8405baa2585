// Starts and stops the benchmark targets, each in its own process so its CPU can be read from
// /proc. Every process started here is registered and killed by stopAll() (also on exit).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEverything, everythingStdioCommand, type RunningEverything } from '../src/demo/everything.ts';
import { childPids } from './proc.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = path.join(ROOT, 'bench');
const START_TIMEOUT_MS = 30_000;

export interface Target {
  readonly name: string;
  /** MCP endpoint the load client talks to. */
  readonly url: URL;
  /** Process whose CPU counts as this target's (the proxy; for `direct`, the upstream). */
  readonly pid: number;
  /** The MCP server process behind it. */
  readonly upstreamPid: number;
  /** One line on how it is set up. */
  readonly setup: string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
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

/** Stops every process started by this module and removes temp files. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map(stopChild));
  for (const cleanup of cleanups.splice(0)) cleanup();
}

process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0)) cleanup();
});
// Turn signals into a normal exit so the 'exit' handler above kills the children.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** A free TCP port on 127.0.0.1 (tiny race between closing and reuse; fine on a bench box). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connection to the port succeeds; rejects if the child exits or on timeout. */
async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`exited with ${child.exitCode ?? child.signalCode} before listening: ${stderr().slice(-1500)}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not listening on ${port} after ${START_TIMEOUT_MS} ms: ${stderr().slice(-1500)}`);
}

/** Spawns a node process in the repo root, keeps the tail of its stderr, waits for its port. */
async function spawnNode(args: string[], port: number, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const child = track(
    spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] }),
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  try {
    await waitForPort(port, child, () => stderr);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return child;
}

export async function startUpstream(): Promise<RunningEverything> {
  const upstream = await startEverything({ transport: 'streamableHttp' });
  track(upstream.child);
  return upstream;
}

export function direct(upstream: RunningEverything): Target {
  return {
    name: 'direct',
    url: new URL('/mcp', upstream.origin),
    pid: upstream.child.pid!,
    upstreamPid: upstream.child.pid!,
    setup: 'server-everything over Streamable HTTP, no proxy (CPU column = the upstream itself)',
    stop: async () => {},
  };
}

export async function floor(upstream: RunningEverything): Promise<Target> {
  const port = await freePort();
  const child = await spawnNode(
    ['--import', 'tsx', path.join(BENCH, 'floor-proxy.ts'), '--upstream', upstream.origin, '--port', String(port)],
    port,
  );
  return {
    name: 'floor',
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    pid: child.pid!,
    upstreamPid: upstream.child.pid!,
    setup: 'bare node:http streaming reverse proxy (bench/floor-proxy.ts), keep-alive upstream Agent',
    stop: () => stopChild(child),
  };
}

export async function gatehouse(upstream: RunningEverything): Promise<Target> {
  const bin = path.join(ROOT, 'bin', 'gatehouse.js');
  if (!existsSync(bin)) throw new Error('bin/gatehouse.js does not exist');
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'gatehouse.yaml');
  writeFileSync(
    config,
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      'servers:',
      '  everything:',
      `    url: ${upstream.origin}/mcp`,
      'apis:',
      '  - name: everything',
      '    path: /mcp',
      '    server: everything',
      '    auth: { type: keyless }',
      '',
    ].join('\n'),
  );
  const env = { GATEHOUSE_SESSION_KEY: randomBytes(32).toString('hex'), GATEHOUSE_DATA_DIR: path.join(dir, 'data') };
  const child = await spawnNode([bin, 'start', '--config', config], port, env);
  return {
    name: 'gatehouse',
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    pid: child.pid!,
    upstreamPid: upstream.child.pid!,
    setup: 'Gatehouse (bin/gatehouse.js start), keyless API, empty policy chain, HTTP upstream',
    stop: () => stopChild(child),
  };
}

export async function mcpProxy(upstream: RunningEverything): Promise<Target> {
  const port = await freePort();
  const child = await spawnNode(
    // --no-warnings: the MCP SDK v2 HTTP client transport it uses piles up abort listeners on one
    // signal and past 1500 Node prints a MaxListenersExceededWarning per request; printing those
    // would charge mcp-proxy about a third more CPU for what is a side issue (see README).
    ['--no-warnings', '--import', 'tsx', path.join(BENCH, 'mcp-proxy-http.ts'), '--upstream', `${upstream.origin}/mcp`, '--port', String(port)],
    port,
  );
  return {
    name: 'mcp-proxy',
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    pid: child.pid!,
    upstreamPid: upstream.child.pid!,
    setup:
      'mcp-proxy library composed as its CLI does, upstream over Streamable HTTP (bench/mcp-proxy-http.ts); ' +
      'all downstream sessions share ONE upstream session; run with --no-warnings',
    stop: () => stopChild(child),
  };
}

export async function mcpProxyStdio(): Promise<Target> {
  const port = await freePort();
  const bin = path.join(ROOT, 'node_modules', 'mcp-proxy', 'dist', 'bin', 'mcp-proxy.mjs');
  const stdio = everythingStdioCommand();
  const child = await spawnNode(
    [bin, '--host', '127.0.0.1', '--port', String(port), '--server', 'stream', '--', stdio.command, ...stdio.args],
    port,
  );
  const upstreamPid = childPids(child.pid!)[0];
  if (upstreamPid === undefined) {
    await stopChild(child);
    throw new Error('mcp-proxy CLI started but its stdio server process was not found');
  }
  return {
    name: 'mcp-proxy-stdio',
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    pid: child.pid!,
    upstreamPid,
    setup:
      'mcp-proxy CLI as shipped, spawning server-everything over stdio (its own upstream process); ' +
      'NOT apples-to-apples: no upstream HTTP hop, one shared upstream session',
    stop: () => stopChild(child),
  };
}
