import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heapFlagsFor } from './heap-tuning.ts';

const view = (args: string[], execArgv: string[] = [], nodeOptions?: string) => ({ argv: ['/usr/bin/node', '/opt/gatehouse/bin/gatehouse.js', ...args], execArgv, nodeOptions });

test('start and demo get a 64 MiB semi-space; other commands are left alone', () => {
  assert.deepEqual(heapFlagsFor(view(['start', '--config', 'g.yaml'])), ['--max-semi-space-size=64']);
  assert.deepEqual(heapFlagsFor(view(['demo'])), ['--max-semi-space-size=64']);
  assert.deepEqual(heapFlagsFor(view(['--log-level', 'debug', 'start'])), undefined, 'the first word is an option value here, not the command');
  assert.equal(heapFlagsFor(view(['check', 'start.yaml'])), undefined);
  assert.equal(heapFlagsFor(view([])), undefined);
  assert.equal(heapFlagsFor(view(['--help'])), undefined);
});

test('a semi-space size the operator gave, on the command line or in NODE_OPTIONS, is kept (and no relaunch loops)', () => {
  assert.equal(heapFlagsFor(view(['start'], ['--max-semi-space-size=16'])), undefined);
  assert.equal(heapFlagsFor(view(['start'], ['--max-semi-space-size', '16'])), undefined);
  assert.equal(heapFlagsFor(view(['start'], [], '--enable-source-maps --max-semi-space-size=8')), undefined);
  assert.deepEqual(heapFlagsFor(view(['start'], ['--enable-source-maps'], '--max-old-space-size=512')), ['--max-semi-space-size=64']);
});
