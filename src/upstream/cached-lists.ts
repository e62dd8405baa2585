// Serving a 2026-07-28 list request through the public list cache (public-list-cache.ts): a hit
// is answered without the upstream; a miss asks the upstream once (concurrent misses of the same
// list wait for that one request), keeps the result when the server marked it public, and
// answers. Either way the answer goes through the exchange's response policies, per agent.
import { formatSseEvent } from '../mcp/sse.ts';
import type { JsonObject, JsonRpcMessage, JsonRpcRequest, JsonRpcResponse } from '../mcp/jsonrpc.ts';
import { sendModern, type ModernOutcome, type ModernTarget } from '../bridge/modern-request.ts';
import type { PostExchange } from './upstream.ts';
import type { PublicListCache } from './public-list-cache.ts';

// A shared upstream request is not cancelled when the client that started it leaves: others may
// wait on it (timeouts.response still bounds it).
const NEVER = new AbortController().signal;

export async function serveListThroughCache(x: PostExchange, request: JsonRpcRequest, key: string, cache: PublicListCache, target: ModernTarget): Promise<void> {
  const cached = cache.get(key);
  if (cached) return answer(x, 200, { jsonrpc: '2.0', id: request.id, result: cached }, []);
  const notices: JsonRpcMessage[] = [];
  x.record?.upstreamStarted();
  const traceparent = x.record?.traceparent ?? x.req.headers.traceparent;
  const { first, outcome } = cache.shared<ModernOutcome | undefined>(key, () =>
    sendModern(target, { id: request.id, method: request.method, params: request.params as JsonObject | undefined, traceparent: typeof traceparent === 'string' ? traceparent : undefined }, NEVER, (message) => notices.push(message)),
  );
  let result: ModernOutcome | undefined;
  try {
    result = await outcome;
  } finally {
    x.record?.upstreamEnded();
  }
  if (!result) return; // (never: NEVER does not abort)
  x.record?.upstreamResponded(result.status);
  if (first && 'result' in result.response) cache.put(key, result.response.result);
  // Notifications that came with the answer (log messages) belong to the client that asked.
  answer(x, result.status, { ...result.response, id: request.id }, first ? notices : []);
}

function answer(x: PostExchange, status: number, response: JsonRpcResponse, notices: readonly JsonRpcMessage[]): void {
  const transform = status < 300 ? x.transform : undefined;
  const out = transform ? transform(response) : response;
  const messages = [...(transform ? notices.map((n) => transform(n)) : notices), out].filter((m): m is JsonRpcMessage => m !== undefined);
  if (messages.length === 1) {
    const text = JSON.stringify(messages[0]);
    x.res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    x.res.end(text);
  } else {
    x.res.writeHead(status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    x.res.end(messages.map((m) => formatSseEvent(JSON.stringify(m), { event: 'message' })).join(''));
  }
}
