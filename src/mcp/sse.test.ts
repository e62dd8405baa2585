import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, formatSseEvent, type SseEvent } from './sse.ts';

function parseAll(chunks: readonly string[], maxEventBytes?: number): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event), maxEventBytes);
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

const STREAM =
  ': a comment first\n' +
  'event: message\n' +
  'id: s1.1\n' +
  'data: {"jsonrpc":"2.0","method":"notifications/progress"}\n' +
  '\n' +
  'id: s1.2\n' +
  'data: line one\n' +
  'data:line two\n' +
  'data:  leading space kept after the first\n' +
  '\n' +
  'retry: 1500\n' +
  'data: héllo wörld ✓\n' +
  '\n';

const EXPECTED: SseEvent[] = [
  { event: 'message', id: 's1.1', data: '{"jsonrpc":"2.0","method":"notifications/progress"}' },
  { id: 's1.2', data: 'line one\nline two\n leading space kept after the first' },
  // The last event id stays in force for later events (per the SSE spec).
  { id: 's1.2', retry: 1500, data: 'héllo wörld ✓' },
];

test('parses events, comments, ids, retry and multi-line data', () => {
  assert.deepEqual(parseAll([STREAM]), EXPECTED);
});

test('an event split at every position of the stream parses the same', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepEqual(parseAll([STREAM.slice(0, i), STREAM.slice(i)]), EXPECTED, `split at ${i}`);
  }
});

test('one character at a time parses the same', () => {
  assert.deepEqual(parseAll([...STREAM]), EXPECTED);
});

test('CRLF, CR and LF line ends, mixed, at every split', () => {
  for (const eol of ['\r\n', '\r', '\n']) {
    const text = STREAM.replace(/\n/g, eol);
    assert.deepEqual(parseAll([text]), EXPECTED, JSON.stringify(eol));
    for (let i = 0; i <= text.length; i++) {
      assert.deepEqual(parseAll([text.slice(0, i), text.slice(i)]), EXPECTED, `${JSON.stringify(eol)} split at ${i}`);
    }
  }
  // Mixed within one stream; a CRLF split between its CR and LF is one line end, not two.
  const mixed = 'data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r';
  assert.deepEqual(parseAll([mixed]), [{ data: 'a\nb\nc' }, { data: 'd' }]);
  assert.deepEqual(parseAll(['data: a\r', '\ndata: b\r', '\n\r', '\n']), [{ data: 'a\nb' }]);
});

test('regression: an event ended by CR line ends is dispatched at once, not held until more bytes arrive', () => {
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event));
  parser.push('data: now\r\r');
  assert.deepEqual(events, [{ data: 'now' }]);
  parser.push('\ndata: next\r\n\r\n');
  assert.deepEqual(events, [{ data: 'now' }, { data: 'next' }]);
});

test('comments, unknown fields, bad retry and ids with NUL are ignored; blank lines alone dispatch nothing', () => {
  const events = parseAll([':keep-alive\n\n\n', 'foo: bar\ndata: x\nretry: soon\nid: a\0b\n\n', 'data\n\n', 'event: ping\n\n']);
  assert.deepEqual(events, [{ data: 'x' }, { data: '' }, { event: 'ping', data: '' }]);
});

test('an event without a trailing blank line is not dispatched', () => {
  assert.deepEqual(parseAll(['data: pending\n']), []);
  assert.deepEqual(parseAll(['data: done\n\ndata: pending']), [{ data: 'done' }]);
});

test('an event larger than maxEventBytes throws RangeError, whether split or in one line', () => {
  assert.throws(() => parseAll(['data: ' + 'x'.repeat(100) + '\n'], 50), RangeError);
  assert.throws(() => parseAll(['data: ' + 'x'.repeat(30) + '\n', 'data: ' + 'y'.repeat(30) + '\n'], 50), RangeError);
  // A line still waiting for its end counts too, so an endless line cannot grow memory.
  assert.throws(() => parseAll(['data: ' + 'x'.repeat(40), 'x'.repeat(40)], 50), RangeError);
  // Within the limit, and the limit applies per event, not per stream.
  const ok = parseAll(['data: ' + 'x'.repeat(40) + '\n\n', 'data: ' + 'y'.repeat(40) + '\n\n'], 50);
  assert.equal(ok.length, 2);
});

test('formatSseEvent round-trips through SseParser', () => {
  const cases: Array<[string, { event?: string; id?: string }]> = [
    ['{"jsonrpc":"2.0","id":1,"result":{}}', { event: 'message', id: 'p1.1' }],
    ['plain', {}],
    ['multi\nline\n\ndata', { id: '7' }],
    ['', { event: 'message' }],
    [' leading space', {}],
    ['trailing newline\n', { event: 'message' }],
  ];
  for (const [data, options] of cases) {
    const text = formatSseEvent(data, options);
    assert.ok(text.endsWith('\n\n'), 'an event ends with a blank line');
    const [event, ...rest] = parseAll([text]);
    assert.equal(rest.length, 0);
    const expected: SseEvent = { data };
    if (options.event) expected.event = options.event;
    if (options.id) expected.id = options.id;
    assert.deepEqual(event, expected, JSON.stringify(data));
  }
});

test('formatSseEvent output', () => {
  assert.equal(formatSseEvent('{"a":1}', { event: 'message', id: 's.1' }), 'event: message\nid: s.1\ndata: {"a":1}\n\n');
  assert.equal(formatSseEvent('a\nb'), 'data: a\ndata: b\n\n');
});

test('a block with only id or retry is passed on with empty data; comments go to onComment', () => {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const parser = new SseParser((event) => events.push(event), undefined, (text) => comments.push(text));
  parser.push(': keep-alive\n\nid: 7\n\nretry: 3000\n\n:x\ndata: a\n\n');
  assert.deepEqual(events, [{ id: '7', data: '' }, { id: '7', retry: 3000, data: '' }, { id: '7', data: 'a' }]);
  assert.deepEqual(comments, [' keep-alive', 'x']);
});

test('formatSseEvent writes retry, and an empty id (it resets the last event id)', () => {
  assert.equal(formatSseEvent('', { id: 'p.1', retry: 2000 }), 'id: p.1\nretry: 2000\ndata: \n\n');
  assert.equal(formatSseEvent('x', { id: '' }), 'id: \ndata: x\n\n');
});
