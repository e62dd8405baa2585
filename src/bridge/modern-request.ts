// One request to a 2026-07-28 server on behalf of a 2025 client: a POST with the routing headers
// and the `_meta` envelope, answered by JSON or by an SSE stream whose notifications (progress,
// log messages) come before the answer. Returns the answer, or undefined when the request was
// cancelled (the client left or cancelled it).
import { GatehouseError } from '../errors.ts';
import { isObject, type JsonObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import { SseParser } from '../mcp/sse.ts';
import { STATELESS_VERSION } from '../mcp/versions.ts';
import type { UpstreamCredentials } from '../upstream/upstream.ts';
import { routingHeaders, type ParamHeader } from '../mcp/routing-headers.ts';

export interface ModernTarget {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly credentials: UpstreamCredentials | undefined;
  readonly responseTimeout: number;
  readonly maxResponseBytes: number;
}

export interface ModernRequest {
  readonly id: JsonRpcId;
  readonly method: string;
  readonly params: JsonObject | undefined;
  /** The `x-mcp-header` declarations of the tool a tools/call names, when known. */
  readonly paramHeaders?: readonly ParamHeader[] | undefined;
  readonly traceparent?: string | undefined;
}

export interface ModernOutcome {
  readonly status: number;
  readonly response: JsonRpcResponse;
}

/** A signal that never fires (the timeout of an untimed request). */
const NEVER = new AbortController().signal;

export async function sendModern(
  target: ModernTarget,
  request: ModernRequest,
  signal: AbortSignal,
  onMessage: (message: JsonRpcMessage) => void,
  /** `untimed`: a request that lasts as long as its caller wants (a listen), ended by `signal`. */
  options: { readonly untimed?: boolean } = {},
): Promise<ModernOutcome | undefined> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: request.id, method: request.method, ...(request.params !== undefined && { params: request.params }) });
  const timeout = options.untimed ? NEVER : AbortSignal.timeout(target.responseTimeout);
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: {
        ...target.headers,
        ...(target.credentials ? await target.credentials.headers() : {}),
        ...routingHeaders(request.method, request.params, request.paramHeaders),
        ...(request.traceparent && { traceparent: request.traceparent }),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': STATELESS_VERSION,
      },
      body,
      signal: AbortSignal.any([signal, timeout]),
    });
  } catch (error) {
    if (signal.aborted) return undefined;
    if (timeout.aborted) throw new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream did not answer within ${target.responseTimeout} ms`);
    throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream could not be reached: ${(error as Error).message}`);
  }
  if (response.status === 401) target.credentials?.rejected?.();
  const type = response.headers.get('content-type') ?? '';
  try {
    const answer = type.startsWith('text/event-stream') ? await readStream(response, request.id, target.maxResponseBytes, onMessage) : await readJson(response, target.maxResponseBytes);
    if (answer) return { status: response.status, response: answer };
  } catch (error) {
    if (signal.aborted) return undefined;
    if (timeout.aborted) throw new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream did not answer within ${target.responseTimeout} ms`);
    throw error;
  }
  throw new GatehouseError('GH_UPSTREAM_BAD_RESPONSE', `Upstream answered HTTP ${response.status} without a JSON-RPC answer to ${request.method}`);
}

async function readJson(response: Response, max: number): Promise<JsonRpcResponse | undefined> {
  let text = '';
  let bytes = 0;
  const decoder = new TextDecoder();
  const reader = response.body?.getReader();
  for (;;) {
    const next = await reader?.read();
    if (!next || next.done) break;
    bytes += next.value.byteLength;
    if (bytes > max) {
      void reader!.cancel().catch(() => undefined);
      throw tooLarge(max);
    }
    text += decoder.decode(next.value, { stream: true });
  }
  text += decoder.decode();
  return answerIn(parse(text));
}

async function readStream(response: Response, id: JsonRpcId, max: number, onMessage: (message: JsonRpcMessage) => void): Promise<JsonRpcResponse | undefined> {
  let answer: JsonRpcResponse | undefined;
  const parser = new SseParser((event) => {
    if (answer || event.data === '') return;
    const message = parse(event.data);
    if (!isObject(message)) return;
    const found = answerIn(message);
    if (found && found.id === id) answer = found;
    else if (typeof message.method === 'string') onMessage(message as unknown as JsonRpcMessage);
  }, max);
  const decoder = new TextDecoder();
  const reader = response.body?.getReader();
  if (!reader) return undefined;
  try {
    while (!answer) {
      const { done, value } = await reader.read();
      if (done) break;
      try {
        parser.push(decoder.decode(value, { stream: true }));
      } catch (error) {
        if (error instanceof RangeError) throw tooLarge(max);
        throw error;
      }
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return answer;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function answerIn(message: unknown): JsonRpcResponse | undefined {
  if (!isObject(message) || !('result' in message || 'error' in message)) return undefined;
  const id = message.id;
  if (typeof id !== 'string' && typeof id !== 'number' && id !== null) return undefined;
  return message as unknown as JsonRpcResponse;
}

function tooLarge(max: number): GatehouseError {
  return new GatehouseError('GH_UPSTREAM_RESPONSE_TOO_LARGE', `Upstream response exceeds limits.maxResponseBytes (${max})`);
}
