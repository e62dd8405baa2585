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
import { CancelledError, type UpstreamHttpClient } from '../upstream/http-client.ts';
import { postModern, ModernTimeoutError, type ModernPostResponse } from './modern-post.ts';

export interface ModernTarget {
  readonly url: string;
  /** The server's connection pool (undici dispatch); without one, fetch is used. */
  readonly client?: UpstreamHttpClient | undefined;
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

export async function sendModern(
  target: ModernTarget,
  request: ModernRequest,
  signal: AbortSignal,
  onMessage: (message: JsonRpcMessage) => void,
  /** `untimed`: a request that lasts as long as its caller wants (a listen), ended by `signal`. */
  options: { readonly untimed?: boolean } = {},
): Promise<ModernOutcome | undefined> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: request.id, method: request.method, ...(request.params !== undefined && { params: request.params }) });
  const headers: Record<string, string> = {
    ...target.headers,
    ...(target.credentials ? await target.credentials.headers() : {}),
    ...routingHeaders(request.method, request.params, request.paramHeaders),
    ...(request.traceparent && { traceparent: request.traceparent }),
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': STATELESS_VERSION,
  };
  const failed = (error: unknown): GatehouseError | undefined => {
    if (signal.aborted || error instanceof CancelledError) return undefined;
    if (error instanceof ModernTimeoutError) return new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream did not answer within ${target.responseTimeout} ms`);
    if (error instanceof GatehouseError) return error;
    return new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream could not be reached: ${(error as Error).message}`);
  };
  let response: ModernPostResponse;
  try {
    response = await postModern(target, headers, body, signal, options.untimed ? 0 : target.responseTimeout);
  } catch (error) {
    const problem = failed(error);
    if (problem) throw problem;
    return undefined;
  }
  if (response.status === 401) target.credentials?.rejected?.();
  try {
    const answer = response.contentType.startsWith('text/event-stream') ? await readStream(response, request.id, target.maxResponseBytes, onMessage) : await readJson(response, target.maxResponseBytes);
    if (answer) return { status: response.status, response: answer };
  } catch (error) {
    const problem = failed(error);
    if (problem) throw problem;
    return undefined;
  }
  throw new GatehouseError('GH_UPSTREAM_BAD_RESPONSE', `Upstream answered HTTP ${response.status} without a JSON-RPC answer to ${request.method}`);
}

async function readJson(response: ModernPostResponse, max: number): Promise<JsonRpcResponse | undefined> {
  let text = '';
  let tooBig = false;
  await response.read((chunk) => {
    text += chunk;
    // Characters, not bytes: a bound as good (a character is at least one byte).
    if (text.length <= max) return 'more';
    tooBig = true;
    return 'cut';
  });
  if (tooBig) throw tooLarge(max);
  return answerIn(parse(text));
}

async function readStream(response: ModernPostResponse, id: JsonRpcId, max: number, onMessage: (message: JsonRpcMessage) => void): Promise<JsonRpcResponse | undefined> {
  let answer: JsonRpcResponse | undefined;
  const parser = new SseParser((event) => {
    if (answer || event.data === '') return;
    const message = parse(event.data);
    if (!isObject(message)) return;
    const found = answerIn(message);
    if (found && found.id === id) answer = found;
    else if (typeof message.method === 'string') onMessage(message as unknown as JsonRpcMessage);
  }, max);
  let tooBig = false;
  await response.read((chunk) => {
    try {
      parser.push(chunk);
    } catch (error) {
      // The parser's bound on one event (limits.maxResponseBytes); anything else rejects read().
      if (!(error instanceof RangeError)) throw error;
      tooBig = true;
    }
    if (tooBig) return 'cut';
    // Settled at the answer: what the stream carries after it is not this request's.
    return answer === undefined ? 'more' : 'enough';
  });
  if (tooBig) throw tooLarge(max);
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
