import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseEventGate } from './sse-relay.ts';

/** Feeds `chunks` through a gate; returns what it let through, and whether it overflowed. */
function gate(chunks: readonly string[], max = 1000): { passed: string; overflow: boolean; rest: string } {
  const g = new SseEventGate(max);
  let passed = '';
  for (const chunk of chunks) {
    const { out, overflow } = g.take(Buffer.from(chunk));
    if (out) passed += out.toString();
    if (overflow) return { passed, overflow: true, rest: '' };
  }
  return { passed, overflow: false, rest: g.rest()?.toString() ?? '' };
}

/** Every way of cutting `text` in two. */
function splits(text: string): string[][] {
  return Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]);
}

const EVENTS = 'event: message\nid: 1\ndata: {"a":1}\n\nid: 2\ndata: {"b":2}\n\n';

test('complete events pass as they are, however the stream is cut', () => {
  for (const chunks of splits(EVENTS)) {
    assert.deepEqual(gate(chunks), { passed: EVENTS, overflow: false, rest: '' }, JSON.stringify(chunks));
  }
  // CRLF: an event ends at the CR of its blank line; the LF after it follows with the next bytes.
  const crlf = EVENTS.replaceAll('\n', '\r\n');
  for (const chunks of splits(crlf)) {
    const result = gate(chunks);
    assert.equal(result.passed + result.rest, crlf, JSON.stringify(chunks));
    assert.ok(result.passed.endsWith('data: {"b":2}\r\n\r'), JSON.stringify(chunks));
  }
});

test('an incomplete last event is held back and handed over at the end', () => {
  assert.deepEqual(gate(['data: 1\n\ndata: 2\n']), { passed: 'data: 1\n\n', overflow: false, rest: 'data: 2\n' });
});

test('an event over the limit stops the stream after the complete events before it', () => {
  const big = `data: ${'x'.repeat(200)}\n\n`;
  for (const chunks of splits(`data: 1\n\n${big}`)) {
    const result = gate(chunks, 100);
    assert.equal(result.overflow, true, JSON.stringify(chunks));
    assert.equal(result.passed, 'data: 1\n\n');
  }
  // Exactly at the limit passes, in LF and CRLF streams alike.
  const fits = `data: ${'x'.repeat(93)}\n\n`; // 100 bytes before the blank line
  assert.equal(gate([fits], 101).overflow, false);
  assert.equal(gate([fits.replaceAll('\n', '\r\n')], 102).overflow, false);
});
