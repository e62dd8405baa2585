// What metrics and traces say about one exchange, read from its ExchangeRecord: the method
// label (bounded: client input never becomes a label value as is), whether Gatehouse refused it,
// whether it failed, and the JSON-RPC error code of the answer.
import type { ErrorCode } from '../errors.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import { answerIn, type Answer } from './answer.ts';

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


/**
 * The last JSON-RPC response the client got, when it may be a failure (else undefined): answers
 * a policy gave, or the kept tail of the body (JSON, or an SSE stream's last event). Cheap for a
 * plain success: a body without a failure marker is not parsed (answer.ts).
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
