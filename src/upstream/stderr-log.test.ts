import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { StderrLog, type StderrLimits } from './stderr-log.ts';

function capture(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

const HOUR: StderrLimits = { maxLines: 10, maxBytes: 1024 * 1024, interval: 3_600_000, maxLineBytes: 50 };

async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

test('lines over the budget of an interval are dropped, counted, and said once', async () => {
  const { log, lines } = capture();
  const dropped = { lines: 0, bytes: 0 };
  const stderr = new StderrLog(log, HOUR, dropped);
  stderr.write(Buffer.from(Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join('')));
  stderr.close();
  await settle();
  const logged = lines.filter((l) => l.level === 30);
  assert.deepEqual(logged.map((l) => l.msg), Array.from({ length: 10 }, (_, i) => `line ${i}`));
  assert.equal(dropped.lines, 990);
  const warning = lines.filter((l) => l.level === 40);
  assert.equal(warning.length, 1);
  assert.equal(warning[0]!.droppedLines, 990);
  assert.equal(warning[0]!.droppedBytes, dropped.bytes);
});

test('the byte budget applies as well as the line budget', async () => {
  const { log, lines } = capture();
  const dropped = { lines: 0, bytes: 0 };
  const stderr = new StderrLog(log, { ...HOUR, maxLines: 1000, maxBytes: 100 }, dropped);
  stderr.write(Buffer.from('a'.repeat(40) + '\n' + 'b'.repeat(40) + '\n' + 'c'.repeat(40) + '\n'));
  stderr.close();
  await settle();
  assert.deepEqual(lines.filter((l) => l.level === 30).map((l) => l.msg), ['a'.repeat(40), 'b'.repeat(40)]);
  assert.deepEqual(dropped, { lines: 1, bytes: 40 });
});

test('a long line is cut at maxLineBytes, also when it arrives in pieces; a line split across chunks is one line', async () => {
  const { log, lines } = capture();
  const dropped = { lines: 0, bytes: 0 };
  const stderr = new StderrLog(log, HOUR, dropped);
  stderr.write(Buffer.from('x'.repeat(30)));
  stderr.write(Buffer.from('x'.repeat(30)));
  stderr.write(Buffer.from('x'.repeat(40) + '\nhel'));
  stderr.write(Buffer.from('lo\nunterminated'));
  stderr.close();
  await settle();
  const logged = lines.filter((l) => l.level === 30);
  assert.deepEqual(logged.map((l) => l.msg), ['x'.repeat(50), 'hello', 'unterminated']);
  assert.equal(logged[0]!.truncatedBytes, 50);
  assert.deepEqual(dropped, { lines: 0, bytes: 50 });
});

test('a new interval starts a new budget', async () => {
  const { log, lines } = capture();
  const dropped = { lines: 0, bytes: 0 };
  const stderr = new StderrLog(log, { ...HOUR, maxLines: 1, interval: 20 }, dropped);
  stderr.write(Buffer.from('one\ntwo\n'));
  await new Promise((resolve) => setTimeout(resolve, 40));
  stderr.write(Buffer.from('three\n'));
  stderr.close();
  await settle();
  assert.deepEqual(lines.filter((l) => l.level === 30).map((l) => l.msg), ['one', 'three']);
  assert.equal(dropped.lines, 1);
  assert.equal(lines.filter((l) => l.level === 40).length, 1, 'the dropped line of the first interval was said when it ended');
});
