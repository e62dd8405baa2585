// What metrics and traces say about one exchange, read from its ExchangeRecord: the method
// label (bounded: client input never becomes a label value as is), whether Gatehouse refused it,
// whether it failed, and the JSON-RPC error code of the answer.
import type { ErrorCode } from '../errors.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { ExchangeRecord } from '../observe/record.ts';

/** Methods of every spec revision Gatehouse serves; anything else is counted as "other". */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
  'tasks/update',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/message',
  'notifications/resources/updated',
  'notifications/resources/list_changed',
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/roots/list_changed',
  'notifications/tasks/status',
  'notifications/elicitation/complete',
]);

/** Refusals by Gatehouse itself (authentication, Host/Origin, policies), as opposed to failures. */
const REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'GH_UNAUTHORIZED',
  'GH_INSUFFICIENT_SCOPE',
  'GH_FORBIDDEN_HOST',
  'GH_FORBIDDEN_ORIGIN',
  'GH_RATE_LIMITED',
  'GH_QUOTA_EXCEEDED',
  'GH_RATE_LIMIT_UNAVAILABLE',
]);

/**
 * The method label: the JSON-RPC method when known, "other" for unknown ones, "batch" for a
 * batch, "response" for a client's answer to a server request, and the HTTP method when no
 * message was read (GET streams, DELETE, a POST refused before its body).
 */
export function methodLabel(record: ExchangeRecord): string {
  const messages = record.messages;
  if (messages.length === 0) return record.req.method ?? 'POST';
  if (messages.length > 1) return 'batch';
  const message = messages[0]!;
  if (!('method' in message)) return 'response';
  return KNOWN_METHODS.has(message.method) ? message.method : 'other';
}

/** The only message of a non-batch exchange, if any. */
export function soleMessage(record: ExchangeRecord): JsonRpcMessage | undefined {
  return record.messages.length === 1 ? record.messages[0] : undefined;
}

/**
 * Gatehouse refused it: authentication, Host/Origin, a rate limit, or a policy that answered in
 * the server's place (an ACL answers a hidden item exactly as a missing one, often not as an error).
 */
export function isDenied(record: ExchangeRecord): boolean {
  if (record.error) return REFUSALS.has(record.error.code);
  if (!record.answered) return false;
  const trace = record.trace;
  return trace === undefined || trace.length === 0 || trace.some((step) => !step.allowed);
}

/** The JSON-RPC error code the client got, if the answer was an error. */
export function errorCodeOf(record: ExchangeRecord, status: number): number | undefined {
  if (record.error) return record.error.rpc;
  return finalAnswer(record, status)?.error?.code;
}

/** Failed: an HTTP error status, a refusal, a JSON-RPC error, or a tool result marked isError. */
export function isFailure(record: ExchangeRecord, status: number): boolean {
  if (status >= 400 || record.error) return true;
  const answer = finalAnswer(record, status);
  return answer !== undefined && (answer.error !== undefined || answer.result?.isError === true);
}

interface Answer {
  error?: { code: number };
  result?: { isError?: unknown };
}

/**
 * The last JSON-RPC response the client got, when it may be a failure (else undefined): answers
 * a policy gave, or the kept tail of the body (JSON, or an SSE stream's last event). Cheap for a
 * plain success: a body without FAILURE_MARKER is not parsed.
 */
function finalAnswer(record: ExchangeRecord, status: number): Answer | undefined {
  // A policy's answer is a JSON-RPC response: the same shape as Answer, with result unknown.
  if (record.answered) return (record.answered.find((r) => r.error !== undefined) ?? record.answered[0]) as Answer | undefined;
  if (status === 202 || record.bytesOut === 0) return undefined;
  return answerIn(record.responseBytes(), mayCarryToolResult(record));
}

/** Methods whose result is a tool result (`isError` means a failure); a batch may hold one. */
const TOOL_RESULT_METHODS: ReadonlySet<string> = new Set(['tools/call', 'tasks/result']);

function mayCarryToolResult(record: ExchangeRecord): boolean {
  const message = soleMessage(record);
  return message === undefined || !('method' in message) || TOOL_RESULT_METHODS.has(message.method);
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

/**
 * The final JSON-RPC response in a body (JSON, or an SSE stream's tail), when it may be a failure.
 * `toolResult`: the answer may be a tool result, whose `isError: true` is a failure (for other
 * methods the member means nothing, and is not searched for: that halves the scan of a long list).
 */
export function answerIn(body: Buffer, toolResult = true): Answer | undefined {
  if (body.length <= SHORT_BODY && !namesFailureMember(body, toolResult)) return undefined;
  const view = body.toString('latin1');
  if (!ERROR_OBJECT.test(view) && !(toolResult && IS_ERROR_TRUE.test(view))) return undefined;
  const text = body.toString('utf8');
  let payload = text;
  if (!text.startsWith('{') && !text.startsWith('[')) {
    // SSE: the last data line carries the final message (one data line per event is what MCP servers send).
    const at = text.lastIndexOf('data:');
    if (at === -1) return undefined;
    const end = text.indexOf('\n', at);
    payload = text.slice(at + 5, end === -1 ? undefined : end).trim();
  }
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
