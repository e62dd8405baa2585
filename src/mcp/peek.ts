// Reads what a relay needs to know of a JSON-RPC message from its bytes, without decoding it:
// whether it is a response, and to which id. Only the top level is read; nested values are
// skipped, strings by indexOf, so a large tool result costs a few steps, not a parse.
import type { JsonRpcId } from './jsonrpc.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * The id of the JSON-RPC response in `bytes[start, end)`, or undefined when the text is a
 * request, a notification, a response with id null, or no JSON object. It reads the top level
 * only, and no more of it than it needs: members in order until it knows (a "method" key: no
 * response; "result" or "error", and the id: a response). When the answer comes before the id,
 * as the SDK writes them (`{"result":…,"jsonrpc":"2.0","id":1}`), it reads the short members at
 * the end backwards rather than skip over the answer. The text is taken to be one complete JSON
 * value (a complete SSE event's data); what may be cut short is for a decoder to judge.
 */
export function responseIdOf(bytes: Buffer, start = 0, end = bytes.length): JsonRpcId | undefined {
  let i = skipSpace(bytes, start, end);
  if (bytes[i] !== OPEN_BRACE) return undefined;
  i = skipSpace(bytes, i + 1, end);
  if (bytes[i] === CLOSE_BRACE) return undefined;
  let id: JsonRpcId | undefined;
  let answers = false;
  for (;;) {
    if (bytes[i] !== QUOTE) return undefined;
    const keyEnd = closingQuote(bytes, i, end);
    if (keyEnd === -1) return undefined;
    const key = keyAt(bytes, i, keyEnd);
    if (key === KEY_METHOD) return undefined;
    if (key === KEY_ANSWER) {
      if (id !== undefined) return id;
      answers = true;
      const trailing = trailingId(bytes, start, end);
      if (trailing !== null) return trailing;
    }
    i = skipSpace(bytes, keyEnd + 1, end);
    if (bytes[i] !== COLON) return undefined;
    const valueStart = skipSpace(bytes, i + 1, end);
    const valueEnd = skipValue(bytes, valueStart, end);
    if (valueEnd === -1) return undefined;
    if (key === KEY_ID) {
      id = idOf(bytes, valueStart, valueEnd);
      if (answers && id !== undefined) return id;
    }
    i = skipSpace(bytes, valueEnd, end);
    if (bytes[i] === COMMA) i = skipSpace(bytes, i + 1, end);
    else if (bytes[i] === CLOSE_BRACE) return answers ? id : undefined;
    else return undefined;
  }
}

/**
 * The id among the members at the end of the object in `bytes[start, end)`, read backwards while
 * their values are strings or other primitives; undefined when a "method" comes first; null when
 * it cannot tell without reading forward (a container value, more than a few members, odd text).
 */
function trailingId(bytes: Buffer, start: number, end: number): JsonRpcId | undefined | null {
  let i = skipSpaceBack(bytes, end - 1, start);
  if (bytes[i] !== CLOSE_BRACE) return null;
  for (let members = 0; members < 4; members++) {
    i = skipSpaceBack(bytes, i - 1, start);
    const valueEnd = i + 1;
    let valueStart = i;
    if (bytes[i] === QUOTE) {
      valueStart = openingQuote(bytes, i, Math.max(start, i - 256));
      if (valueStart === -1) return null;
    } else {
      while (valueStart >= start && isPrimitiveByte(bytes[valueStart]!)) valueStart--;
      valueStart++;
      if (valueStart === valueEnd) return null;
    }
    i = skipSpaceBack(bytes, valueStart - 1, start);
    if (bytes[i] !== COLON) return null;
    i = skipSpaceBack(bytes, i - 1, start);
    if (bytes[i] !== QUOTE) return null;
    const keyOpen = openingQuote(bytes, i, Math.max(start, i - 64));
    if (keyOpen === -1) return null;
    const key = keyAt(bytes, keyOpen, i);
    if (key === KEY_METHOD) return undefined;
    if (key === KEY_ID) return idOf(bytes, valueStart, valueEnd);
    i = skipSpaceBack(bytes, keyOpen - 1, start);
    if (bytes[i] !== COMMA) return null;
  }
  return null;
}

/** Digits, letters (true, false, null, exponents), signs and the decimal point. */
function isPrimitiveByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x2d || b === 0x2b || b === 0x2e;
}

function skipSpaceBack(bytes: Buffer, i: number, start: number): number {
  while (i >= start) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) break;
    i--;
  }
  return i;
}

/** The index of the quote that opens the string closed at `close`, or -1 before `limit`. */
function openingQuote(bytes: Buffer, close: number, limit: number): number {
  // Inside a string every quote is escaped: the first one that is not is where it opens.
  for (let at = close - 1; at >= limit; at--) if (bytes[at] === QUOTE && !escaped(bytes, at)) return at;
  return -1;
}

function skipSpace(bytes: Buffer, i: number, end: number): number {
  while (i < end) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) break;
    i++;
  }
  return i;
}

/** The index of the quote that closes the string opened at `open`, or -1 before `end`. */
function closingQuote(bytes: Uint8Array, open: number, end: number): number {
  // Keys and ids are short: a loop finds their end sooner than a native call would.
  const near = Math.min(end, open + 33);
  for (let at = open + 1; at < near; at++) if (bytes[at] === QUOTE && !escaped(bytes, at)) return at;
  for (let at = bytes.indexOf(QUOTE, near); at !== -1 && at < end; at = bytes.indexOf(QUOTE, at + 1)) if (!escaped(bytes, at)) return at;
  return -1;
}

/** Whether the quote at `at` is escaped (an odd number of backslashes before it). */
function escaped(bytes: Uint8Array, at: number): boolean {
  let backslashes = 0;
  for (let j = at - 1; bytes[j] === BACKSLASH; j--) backslashes++;
  return backslashes % 2 === 1;
}

/** Where the value starting at `i` ends (exclusive), or -1 when it does not end before `end`. */
function skipValue(bytes: Buffer, i: number, end: number): number {
  if (i >= end) return -1;
  const first = bytes[i];
  if (first === QUOTE) {
    const close = closingQuote(bytes, i, end);
    return close === -1 ? -1 : close + 1;
  }
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (; i < end; i++) {
      const b = bytes[i]!;
      if (b === QUOTE) {
        i = closingQuote(bytes, i, end);
        if (i === -1) return -1;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (--depth === 0) return i + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  const start = i;
  while (i < end) {
    const b = bytes[i]!;
    if (b === COMMA || b === CLOSE_BRACE || b === CLOSE_BRACKET || b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) break;
    i++;
  }
  return i === start ? -1 : i;
}

const KEY_OTHER = 0;
const KEY_ID = 1;
const KEY_METHOD = 2;
/** "result" or "error". */
const KEY_ANSWER = 3;

const ID = Buffer.from('id');
const METHOD = Buffer.from('method');
const RESULT = Buffer.from('result');
const ERROR = Buffer.from('error');

/** Which of the keys read here is between the quotes at `open` and `close`, compared byte by byte. */
function keyAt(bytes: Buffer, open: number, close: number): number {
  const length = close - open - 1;
  if (length <= 6) {
    if (same(bytes, open + 1, length, ID)) return KEY_ID;
    if (same(bytes, open + 1, length, METHOD)) return KEY_METHOD;
    if (same(bytes, open + 1, length, RESULT) || same(bytes, open + 1, length, ERROR)) return KEY_ANSWER;
  }
  // An escaped key ("\u0069d") means what it decodes to; the longest read here is 36 bytes so.
  if (length > 36 || !hasBackslash(bytes, open + 1, close)) return KEY_OTHER;
  const key = JSON.parse(bytes.toString('utf8', open, close + 1)) as string;
  return key === 'id' ? KEY_ID : key === 'method' ? KEY_METHOD : key === 'result' || key === 'error' ? KEY_ANSWER : KEY_OTHER;
}

function hasBackslash(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] === BACKSLASH) return true;
  return false;
}

function same(bytes: Buffer, at: number, length: number, key: Buffer): boolean {
  if (length !== key.length) return false;
  for (let i = 0; i < length; i++) if (bytes[at + i] !== key[i]) return false;
  return true;
}

function idOf(bytes: Buffer, start: number, end: number): JsonRpcId | undefined {
  // The usual id, a small non-negative integer, without a decode.
  let value = 0;
  let i = start;
  for (; i < end && i - start < 15; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  if (i === end && i > start && (bytes[start] !== 0x30 || end - start === 1)) return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8', start, end));
  } catch {
    return undefined;
  }
  return typeof parsed === 'string' || typeof parsed === 'number' ? parsed : undefined;
}
