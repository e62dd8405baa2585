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

const files = [...find('test'), ...find('src')].sort();
if (files.length === 0) {
  process.stderr.write('run-tests: no *.test.ts files under test/ or src/\n');
  process.exit(1);
}
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...process.argv.slice(2), ...files], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
