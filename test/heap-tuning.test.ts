// `gatehouse start` relaunches itself once with a 64 MiB young generation where Node can
// (process.execve, Node 22.15+ on Linux/macOS; src/cli/heap-tuning.ts): the same process id keeps
// serving, with the flag on its command line; an operator's own value is kept. Checked through
// /proc, so Linux only; on an older Node the relaunch cannot happen and the test says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { runCli, writeConfig } from './helpers/gatehouse.ts';
import { freePort, stopCli, waitForLogLines } from './helpers/lifecycle-procs.ts';

const canRelaunch = typeof (process as unknown as { execve?: unknown }).execve === 'function';
const skip = !existsSync('/proc/self/cmdline')
  ? 'reads the process command line from /proc (Linux)'
  : canRelaunch
    ? false
    : `Node ${process.version} has no process.execve (Node 22.15+): start runs with V8's default young generation`;

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');

async function startedWith(env: Record<string, string>): Promise<string[]> {
  const port = await freePort();
  const file = writeConfig(`listen: { host: 127.0.0.1, port: ${port} }\nservers:\n  up: { url: "http://127.0.0.1:9/mcp" }\napis:\n  - { name: a, path: /mcp, server: up, auth: { type: keyless } }\n`);
  const cli = runCli(['start', '--config', file], env);
  try {
    await waitForLogLines(cli, (line) => line.msg === 'gatehouse listening', 'Gatehouse listens');
    // The process the test spawned is the one that serves: execve kept its id.
    return cmdline(cli.child.pid!);
  } finally {
    await stopCli(cli);
  }
}

test('start relaunches itself in place with --max-semi-space-size=64, keeping its process id and arguments', { skip, timeout: 30_000 }, async () => {
  const args = await startedWith({});
  assert.equal(args.filter((arg) => arg.startsWith('--max-semi-space-size')).length, 1, args.join(' '));
  assert.ok(args.includes('--max-semi-space-size=64'), args.join(' '));
  assert.deepEqual(args.slice(-3).slice(0, 1), ['start']);
});

test('a semi-space size in NODE_OPTIONS is the operator\'s: start does not relaunch', { skip, timeout: 30_000 }, async () => {
  const args = await startedWith({ NODE_OPTIONS: '--max-semi-space-size=16' });
  assert.ok(!args.some((arg) => arg.startsWith('--max-semi-space-size')), args.join(' '));
});
