#!/usr/bin/env node
// Entry point: runs the compiled CLI (built by `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('gatehouse: the compiled code is missing; run `npm run build` in the gatehouse folder\n');
  process.exit(1);
}
// `start` and `demo` get a larger young generation where Node can relaunch (src/cli/heap-tuning.ts).
const { relaunchWithTunedHeap } = await import('../dist/cli/heap-tuning.js');
relaunchWithTunedHeap();
await import('../dist/cli/main.js');
