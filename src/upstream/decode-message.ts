// Decodes one message a channel upstream sent (a stdio line, an HTTP+SSE event's data). Channel
// sessions re-serialize every server message, and JSON.stringify of a value nested thousands deep
// overflows the stack (in an I/O callback: the whole process would go). So a message nested
// deeper than `limits.maxJsonDepth` never gets that far: an answer to a request is replaced by a
// GH_UPSTREAM_BAD_RESPONSE error for that request, anything else is dropped.
import { ERRORS } from '../errors.ts';
import { errorResponse, isObject, validateMessage, type JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { nestsDeeperThan } from '../mcp/json-depth.ts';

export type Decoded = { ok: true; message: JsonRpcMessage } | { ok: false; problem: string };

export function decodeUpstreamMessage(text: string, maxJsonDepth: number): Decoded {
  const tooDeep = nestsDeeperThan(text, maxJsonDepth);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  if (tooDeep) {
    // Parsing deep JSON is safe (V8's parser does not recurse); reading the top level is too.
    const id = isObject(parsed) && !('method' in parsed) ? parsed.id : undefined;
    const problem = `nested deeper than limits.maxJsonDepth (${maxJsonDepth})`;
    if (typeof id !== 'string' && typeof id !== 'number') return { ok: false, problem };
    const message = `Upstream sent an answer ${problem}`;
    return { ok: true, message: errorResponse(id, ERRORS.GH_UPSTREAM_BAD_RESPONSE.rpc, message, { code: 'GH_UPSTREAM_BAD_RESPONSE' }) };
  }
  const checked = validateMessage(parsed, 'keep');
  return checked.ok ? checked : { ok: false, problem: checked.reason };
}
