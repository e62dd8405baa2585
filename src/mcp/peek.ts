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
 * request, a notification, a response with id null, or not one complete JSON object.
 */
export function responseIdOf(bytes: Uint8Array, start = 0, end = bytes.length): JsonRpcId | undefined {
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
    const key = keyOf(bytes, i, keyEnd);
    i = skipSpace(bytes, keyEnd + 1, end);
    if (bytes[i] !== COLON) return undefined;
    const valueStart = skipSpace(bytes, i + 1, end);
    const valueEnd = skipValue(bytes, valueStart, end);
    if (valueEnd === -1) return undefined;
    if (key === 'method') return undefined;
    if (key === 'id') id = idOf(bytes, valueStart, valueEnd);
    else if (key === 'result' || key === 'error') answers = true;
    i = skipSpace(bytes, valueEnd, end);
    if (bytes[i] === COMMA) i = skipSpace(bytes, i + 1, end);
    else if (bytes[i] === CLOSE_BRACE) return answers ? id : undefined;
    else return undefined;
  }
}

function skipSpace(bytes: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) break;
    i++;
  }
  return i;
}

/** The index of the quote that closes the string opened at `open`, or -1 before `end`. */
function closingQuote(bytes: Uint8Array, open: number, end: number): number {
  for (let at = bytes.indexOf(QUOTE, open + 1); at !== -1 && at < end; at = bytes.indexOf(QUOTE, at + 1)) {
    let backslashes = 0;
    for (let j = at - 1; bytes[j] === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

/** Where the value starting at `i` ends (exclusive), or -1 when it does not end before `end`. */
function skipValue(bytes: Uint8Array, i: number, end: number): number {
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

/** The key between the quotes at `open` and `close`, when it may be one read here ('' otherwise). */
function keyOf(bytes: Uint8Array, open: number, close: number): string {
  // The keys read here have at most 6 characters, 36 when every one is escaped ("\u006d…").
  if (close - open - 1 > 36) return '';
  const raw = Buffer.from(bytes.buffer, bytes.byteOffset + open, close + 1 - open);
  // An escaped key ("\u0069d") means what it decodes to.
  return raw.includes(BACKSLASH) ? (JSON.parse(raw.toString('utf8')) as string) : raw.toString('latin1', 1, raw.length - 1);
}

function idOf(bytes: Uint8Array, start: number, end: number): JsonRpcId | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}
