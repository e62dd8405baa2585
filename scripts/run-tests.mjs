// Runs every *.test.ts under test/ and src/ with Node's test runner (through tsx). Node 20's
// runner does not expand glob patterns itself (Node 21+ does), so the files are listed here.
// Extra arguments are passed on, e.g. `node scripts/run-tests.mjs --test-name-pattern=seal`.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function find(dir) {
  let entries;
  try {
    entries = readdirSync(path.join(root, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : find(relative);
    return entry.isFile() && entry.name.endsWith('.test.ts') ? [relative] : [];
  });
}

// The longest files start first: run in name order, the packed install (minutes) came last and
// ran alone while the other worker sat idle. Longest first, the two workers end close together.
// Measured with per-file durations; a file missing here just runs after these, in name order.
const LONGEST_FIRST = [
  'test/conformance.test.ts',
  'test/packed-install.test.ts',
  // Mostly waiting for fresh TOTP time steps (30 s each): early, so the wait overlaps other files.
  'test/e2e-oauth-totp.test.ts',
  'test/e2e-audit-chain.test.ts',
  'test/start-conflicts.test.ts',
  'test/e2e-credentials.test.ts',
  'test/e2e-auth-api-key.test.ts',
  'test/e2e-audit-logs-cli.test.ts',
  'test/e2e-oauth-users-cli.test.ts',
  'test/e2e-oauth-revocation.test.ts',
  'test/e2e-tool-pinning.test.ts',
  'test/e2e-managed-cli.test.ts',
  'test/e2e-cluster.test.ts',
  'test/e2e-federation-observe.test.ts',
  'test/e2e-management.test.ts',
];
const found = [...find('test'), ...find('src')].sort();
const files = [...LONGEST_FIRST.filter((file) => found.includes(file)), ...found.filter((file) => !LONGEST_FIRST.includes(file))];
if (files.length === 0) {
  process.stderr.write('run-tests: no *.test.ts files under test/ or src/\n');
  process.exit(1);
}
// Every wait has an end: a test that hangs fails after 10 minutes, and a file whose tests are done
// exits even if a handle it leaked (a server a failed hook started) would keep it alive.
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', '--test-force-exit', ...process.argv.slice(2), ...files], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
