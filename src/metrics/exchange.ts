// What metrics and traces say about one exchange, read from its ExchangeRecord: the method
// label (bounded: client input never becomes a label value as is), whether Gatehouse refused it,
// whether it failed, and the JSON-RPC error code of the answer.
import type { ErrorCode } from '../errors.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import { finalAnswer } from '../observe/answer.ts';

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
  return outcomeOf(record, status) !== 'ok';
}

/**
 * `error`: Gatehouse or the transport failed (an HTTP error status, a refusal, a JSON-RPC error);
 * `tool_error`: the call went through and the tool reported a failure (a result marked isError);
 * `ok` otherwise.
 */
export type Outcome = 'ok' | 'error' | 'tool_error';

export function outcomeOf(record: ExchangeRecord, status: number): Outcome {
  if (status >= 400 || record.error) return 'error';
  const answer = finalAnswer(record, status);
  if (answer === undefined) return 'ok';
  if (answer.error !== undefined) return 'error';
  return answer.result?.isError === true ? 'tool_error' : 'ok';
}

/**
 * Whether the exchange carried a request (a POST with a JSON-RPC request, or a batch holding
 * one): only those have a latency. A standalone GET stream lasts as long as the client keeps it,
 * a DELETE as long as the server takes to stop, a notification is answered at once.
 */
export function carriesRequest(record: ExchangeRecord): boolean {
  for (const message of record.messages) if ('method' in message && 'id' in message) return true;
  return false;
}
