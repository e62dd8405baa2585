// How deeply JSON text nests, measured before anything recursive touches it. V8 parses deep JSON
// fine but serializes it recursively: JSON.stringify of an array nested ~5,000 deep overflows the
// stack, and so would any recursive walk of the value (policies, redaction). Gatehouse refuses
// such messages up front, with a limit (`limits.maxJsonDepth`) far above what MCP messages need.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether `text` nests objects and arrays more than `limit` levels deep. Brackets inside strings
 * do not count: strings are skipped with indexOf, so the cost is in the structure, not in the
 * text. Text that is not JSON may get either answer; the JSON parser refuses it afterwards.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  // Each level takes at least one character: short text cannot be too deep.
  if (text.length <= limit) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i === -1) return false;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that closes the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1); at !== -1; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    for (let j = at - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}
