// JSON-RPC 2.0 as MCP uses it: message shapes, validation of a parsed body, and error objects.
// Knows nothing of HTTP, config or storage.

export type JsonRpcId = string | number;
export type JsonObject = { [key: string]: unknown };

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: JsonObject;
}
export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: JsonObject;
}
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}
export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  result?: unknown;
  error?: JsonRpcErrorObject;
}
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

export type MessageKind = 'request' | 'notification' | 'response';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function kindOf(message: JsonRpcMessage): MessageKind {
  if ('method' in message) return 'id' in message ? 'request' : 'notification';
  return 'response';
}

export function isRequest(message: JsonRpcMessage): message is JsonRpcRequest {
  return 'method' in message && 'id' in message;
}
export function isNotification(message: JsonRpcMessage): message is JsonRpcNotification {
  return 'method' in message && !('id' in message);
}
export function isResponse(message: JsonRpcMessage): message is JsonRpcResponse {
  return !('method' in message);
}

/**
 * How `validateMessage` treats top-level members other than jsonrpc, id, method, params, result
 * and error: `refuse` for what clients send (an SDK peer drops such a message without answering,
 * so forwarding it leaves the request hanging), `keep` for what upstreams send (relayed as they
 * are; the members JSON-RPC defines are still checked).
 */
export type ExtraMembers = 'refuse' | 'keep';

/**
 * Checks that a parsed value is one JSON-RPC 2.0 message and returns it typed, or a reason why
 * it is not. Strict on the envelope (version, id type, method type, params shape, and — for
 * client messages — no other top-level members); the members of params are the method's business.
 */
export function validateMessage(value: unknown, extra: ExtraMembers = 'refuse'): { ok: true; message: JsonRpcMessage } | { ok: false; reason: string } {
  if (!isObject(value)) return { ok: false, reason: 'a JSON-RPC message must be a JSON object' };
  if (value.jsonrpc !== '2.0') return { ok: false, reason: '"jsonrpc" must be "2.0"' };
  if (extra === 'refuse') {
    const unknown = unknownMember(value);
    if (unknown !== undefined) return { ok: false, reason: `unknown member ${JSON.stringify(unknown)} (a JSON-RPC message has only jsonrpc, id, method, params, result and error)` };
  }
  const hasId = 'id' in value;
  if (hasId && !validId(value.id, 'method' in value)) {
    return { ok: false, reason: '"id" must be a string or an integer' };
  }
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method.length === 0) {
      return { ok: false, reason: '"method" must be a non-empty string' };
    }
    if ('params' in value && value.params !== undefined && !isObject(value.params)) {
      return { ok: false, reason: '"params" must be an object' };
    }
    if ('result' in value || 'error' in value) {
      return { ok: false, reason: 'a request cannot carry "result" or "error"' };
    }
    return { ok: true, message: value as unknown as JsonRpcMessage };
  }
  if (!hasId) return { ok: false, reason: 'a message needs "method" (request, notification) or "id" (response)' };
  const hasResult = 'result' in value;
  const hasError = 'error' in value;
  if (hasResult === hasError) return { ok: false, reason: 'a response carries exactly one of "result" and "error"' };
  if (hasError) {
    const error = value.error;
    if (!isObject(error) || typeof error.code !== 'number' || typeof error.message !== 'string') {
      return { ok: false, reason: '"error" must be an object with a numeric "code" and a string "message"' };
    }
  }
  return { ok: true, message: value as unknown as JsonRpcMessage };
}

function unknownMember(value: JsonObject): string | undefined {
  for (const key in value) {
    switch (key) {
      case 'jsonrpc':
      case 'id':
      case 'method':
      case 'params':
      case 'result':
      case 'error':
        continue;
      default:
        return key;
    }
  }
  return undefined;
}

function validId(id: unknown, isRequestish: boolean): boolean {
  if (typeof id === 'string') return true;
  if (typeof id === 'number') return Number.isInteger(id);
  // Responses to unparseable requests carry id null; requests may not.
  return id === null && !isRequestish;
}

export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcResponse {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id, error };
}

/** A stable map key for a request id (1 and "1" are different ids). */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

/**
 * The first request id that occurs twice among `messages`, compared with `idKey` — the equality
 * the response side uses to pair answers with requests — or undefined when every id is unique.
 */
export function repeatedRequestId(messages: readonly JsonRpcMessage[]): JsonRpcId | undefined {
  if (messages.length < 2) return undefined;
  const seen = new Set<string>();
  for (const message of messages) {
    if (!isRequest(message)) continue;
    const key = idKey(message.id);
    if (seen.has(key)) return message.id;
    seen.add(key);
  }
  return undefined;
}

/**
 * The id of the request in a body that has not been checked further (to answer a refusal made
 * before decoding with the request's id): the body's `id` when it is one JSON object with a
 * string or integer id, else null.
 */
export function requestIdOf(body: string): JsonRpcId | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  return requestIdIn(value);
}

/** The id of a parsed value that looks like a request (has a method), valid or not; else null. */
export function requestIdIn(value: unknown): JsonRpcId | null {
  if (!isObject(value) || !('method' in value)) return null;
  const id = value.id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)) ? id : null;
}
