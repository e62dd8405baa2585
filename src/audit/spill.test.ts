// Spill files left behind are read back oldest first: records are stored, and hash-chained, in
// the order they were spilled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SpillFile } from './spill.ts';

test('spill files left by several runs are read back oldest first (they were sorted as text: pid 999 after pid 1000)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-spill-'));
  const file = path.join(dir, 'audit-spill.jsonl');
  const names = [
    `${file}.1000-1780000002000-0.ingest`, // a later run, pid 1000
    `${file}.999-1780000001000-1.ingest`, // an earlier run, pid 999: its second hand-over
    `${file}.999-1780000001000-0.ingest`, // …and its first, the same millisecond
    `${file}.12-1780000000500-7.ingest`,
  ];
  for (const name of names) writeFileSync(name, '{}\n');
  writeFileSync(file, '{}\n'); // the live file of the last run: newest of all
  const found = new SpillFile(file).leftovers();
  assert.deepEqual(found.slice(0, 4), [names[3], names[2], names[1], names[0]]);
  assert.equal(found.length, 5);
  assert.match(path.basename(found[4]!), new RegExp(`^audit-spill\\.jsonl\\.${process.pid}-\\d+-0\\.ingest$`), 'the live file, renamed, comes last');
});
