// Reads the final JSON-RPC answer out of the bytes an exchange kept, cheaply enough to run on
// every exchange: only an answer that shows an error object (or a tool result's isError) is
// decoded and parsed. The one detector of failed answers and tool errors for every observer
// (metrics, tracing, audit): an exchange's answer is read once (`finalAnswer`) and shared.
import type { ExchangeRecord } from './record.ts';

export interface Answer {
  error?: { code: number };
  result?: { isError?: unknown };
}

/**
 * What a failed answer must contain, unescaped (so not inside a string): a JSON-RPC error object
 * (its members are only code, message and data) or a tool result's `isError: true`. A successful
 * answer that merely mentions "error" (a tool schema with such a property, say) is not parsed:
 * parsing a long list costs far more than the whole exchange. The markers are ASCII, so they are
 * matched on a Latin-1 view (cheaper to make than UTF-8 text); two regexes with a literal start
 * scan faster than one alternation, and faster than Buffer or string indexOf (measured).
 */
const ERROR_OBJECT = /"error"\s*:\s*\{\s*"(?:code|message|data)"/;
const IS_ERROR_TRUE = /"isError"\s*:\s*true/;

/** Bodies up to this size are first searched by a byte loop: for them, a decode and a regex cost more. */
const SHORT_BODY = 2048;
const QUOTE = 0x22;
const ERROR_NAME = Buffer.from('"error"');
const IS_ERROR_NAME = Buffer.from('"isError"');

function startsAt(body: Buffer, at: number, name: Buffer): boolean {
  if (at + name.length > body.length) return false;
  for (let i = 1; i < name.length; i++) if (body[at + i] !== name[i]) return false;
  return true;
}

/** Whether a short body has an `"error"` (or, for a tool result, `"isError"`) member name at all. */
function namesFailureMember(body: Buffer, toolResult: boolean): boolean {
  for (let at = 0; at < body.length; at++) {
    if (body[at] === QUOTE && (startsAt(body, at, ERROR_NAME) || (toolResult && startsAt(body, at, IS_ERROR_NAME)))) return true;
  }
  return false;
}

const DATA_FIELD = Buffer.from('data:');
const LF = 0x0a;
const SPACE = 0x20;
const OPEN_BRACE = 0x7b;
/** A JSON-RPC error response names "error" after at most "jsonrpc" and "id": within its first bytes. */
const ERROR_WINDOW = 256;

/**
 * The final message of a JSON body, or of an SSE body holding one event (the usual answer to a
 * call): that event's data line runs to the end of the body. Undefined otherwise (several
 * events, or a tail cut inside one): then the whole body is searched.
 */
function soleMessageBytes(body: Buffer): Buffer | undefined {
  if (body[0] === OPEN_BRACE) return body;
  const data = body.indexOf(DATA_FIELD);
  if (data === -1) return undefined;
  const end = body.indexOf(LF, data);
  // After the data line only the blank line that ends the event (LF, or CR LF).
  if (end === -1 || body.length - end > 3) return undefined;
  const start = data + DATA_FIELD.length;
  return body.subarray(body[start] === SPACE ? start + 1 : start, end);
}

/** The text of the last data line of an SSE body, or the body itself when it is JSON. */
function lastDataLine(text: string): string | undefined {
  if (text.startsWith('{') || text.startsWith('[')) return text;
  // SSE: the last data line carries the final message (one data line per event is what MCP servers send).
  const at = text.lastIndexOf('data:');
  if (at === -1) return undefined;
  const end = text.indexOf('\n', at);
  return text.slice(at + 5, end === -1 ? undefined : end).trim();
}

/** One message (an object; a batch is searched whole): its error object sits near its start. */
function messageHasMarker(message: Buffer, toolResult: boolean): boolean {
  if (message[0] !== OPEN_BRACE) return bodyHasMarker(message, toolResult);
  if (ERROR_OBJECT.test(message.toString('latin1', 0, ERROR_WINDOW))) return true;
  return toolResult && IS_ERROR_TRUE.test(message.toString('latin1'));
}

function bodyHasMarker(body: Buffer, toolResult: boolean): boolean {
  const view = body.toString('latin1');
  return ERROR_OBJECT.test(view) || (toolResult && IS_ERROR_TRUE.test(view));
}

/**
 * Whether a body may hold a JSON-RPC error object at all: for a body that is one message, one
 * looked for at its start; otherwise anywhere. False means no request of it failed with an
 * error, so nothing needs decoding (a long list that mentions "error" in a schema included).
 */
export function mayHoldError(body: Buffer): boolean {
  if (body.length <= SHORT_BODY && !namesFailureMember(body, false)) return false;
  const message = soleMessageBytes(body);
  return message ? messageHasMarker(message, false) : bodyHasMarker(body, false);
}

/**
 * The final JSON-RPC response in a body (JSON, or an SSE stream's tail), when it may be a failure.
 * `toolResult`: the answer may be a tool result, whose `isError: true` is a failure (for other
 * methods the member means nothing, and is not searched for). In a body that is one message,
 * an error object is looked for only at its start, where JSON-RPC puts it: a long list is not
 * scanned end to end.
 */
export function answerIn(body: Buffer, toolResult = true): Answer | undefined {
  if (body.length <= SHORT_BODY && !namesFailureMember(body, toolResult)) return undefined;
  const message = soleMessageBytes(body);
  if (!(message ? messageHasMarker(message, toolResult) : bodyHasMarker(body, toolResult))) return undefined;
  const payload = message ? message.toString('utf8') : lastDataLine(body.toString('utf8'));
  if (payload === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined; // a truncated tail: a long answer, not an error (errors are short)
  }
  let found: Answer | undefined;
  for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
    if (typeof message !== 'object' || message === null || 'method' in message) continue;
    const answer = message as { error?: { code?: unknown }; result?: unknown };
    if (answer.error && typeof answer.error.code === 'number') return { error: { code: answer.error.code } };
    if (toolResult && typeof answer.result === 'object' && answer.result !== null) found ??= { result: answer.result as { isError?: unknown } };
  }
  return found;
}

/** Methods whose result is a tool result (`isError` means a failure); a batch may hold one. */
const TOOL_RESULT_METHODS: ReadonlySet<string> = new Set(['tools/call', 'tasks/result']);

export function carriesToolResult(method: string): boolean {
  return TOOL_RESULT_METHODS.has(method);
}

function mayCarryToolResult(record: ExchangeRecord): boolean {
  const messages = record.messages;
  if (messages.length !== 1) return true;
  const message = messages[0]!;
  return !('method' in message) || TOOL_RESULT_METHODS.has(message.method);
}

/**
 * The last JSON-RPC response the client got, when it may be a failure (else undefined): answers
 * a policy gave, or the kept tail of the body (JSON, or an SSE stream's last event). Cheap for a
 * plain success: a body without a failure marker is not parsed. Read once per exchange: the
 * observers that ask after the first get the same answer.
 */
export function finalAnswer(record: ExchangeRecord, status: number): Answer | undefined {
  if (record.answerRead) return record.answer;
  let answer: Answer | undefined;
  // A policy's answer is a JSON-RPC response: the same shape as Answer, with result unknown.
  if (record.answered) answer = (record.answered.find((r) => r.error !== undefined) ?? record.answered[0]) as Answer | undefined;
  else if (status !== 202 && record.bytesOut > 0) answer = answerIn(record.responseBytes(), mayCarryToolResult(record));
  record.answerRead = true;
  record.answer = answer;
  return answer;
}

/**
 * Ids (as text) of the tool results marked `isError: true` in a body of several answers (a batch,
 * JSON or SSE): where one final answer does not say which request failed. The same marker gates
 * the parse, so a body without one costs a regex test.
 */
export function toolErrorIds(body: Buffer): Set<string> {
  const ids = new Set<string>();
  const view = body.toString('latin1');
  if (!IS_ERROR_TRUE.test(view)) return ids;
  const text = body.toString('utf8');
  const trimmed = text.trimStart();
  const documents = trimmed.startsWith('{') || trimmed.startsWith('[') ? [text] : [...text.matchAll(/^data: ?(.*)$/gm)].map((m) => m[1]!);
  for (const document of documents) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(document);
    } catch {
      continue; // a cut tail
    }
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      if (typeof message !== 'object' || message === null || 'method' in message) continue;
      const { id, result } = message as { id?: unknown; result?: unknown };
      if (typeof result !== 'object' || result === null || (result as { isError?: unknown }).isError !== true) continue;
      if (typeof id === 'string' || typeof id === 'number') ids.add(String(id));
    }
  }
  return ids;
}
