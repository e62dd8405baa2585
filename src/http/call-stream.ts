// A request's answer opened as an SSE stream before its server has answered, so that Gatehouse
// itself can tell the client something while the call waits in the policy chain (approval:
// progress notifications, the user's elicitation). Connectors and the error path write their own
// head and body, unaware of it: once the stream is open, a head they write later is taken in (not
// sent again), an SSE body goes on the stream as it is, and any other body (a JSON answer or
// error) becomes one more event on it. A request that never opens its stream costs one object.
import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { errorResponse, type JsonRpcId, type JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { formatSseEvent } from '../mcp/sse.ts';
import type { ClientStream } from '../policy/policy.ts';

type Later = 'none' | 'sse' | 'other';

export class CallStream implements ClientStream {
  /** The response's own write, once the stream is open (what others write is translated). */
  private write: ((chunk: string) => boolean) | undefined;

  constructor(
    private readonly res: ServerResponse,
    /** The request this stream answers (an answer that is not JSON-RPC becomes an error for it). */
    private readonly id: JsonRpcId,
  ) {}

  get gone(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  send(message: JsonRpcMessage): boolean {
    const res = this.res;
    if (this.gone) return false;
    if (!this.write) {
      if (res.headersSent) return false; // answered already by other means
      this.write = this.open();
    }
    return this.write(formatSseEvent(JSON.stringify(message), { event: 'message' })) || true;
  }

  /** Sends the SSE head now, and from now on translates what the rest of the gateway writes. */
  private open(): (chunk: string) => boolean {
    const res = this.res;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
    let later: Later = 'none';
    let status = 200;
    const body: Buffer[] = [];
    const collect = (chunk: unknown): void => {
      if (typeof chunk === 'string') body.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) body.push(Buffer.from(chunk));
    };
    // What callers check before writing a head: false until they write theirs.
    Object.defineProperty(res, 'headersSent', { configurable: true, get: () => later !== 'none' });
    res.writeHead = ((code: number, ...rest: Array<string | OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined>) => {
      status = code;
      const headers = rest.find((item): item is OutgoingHttpHeaders => typeof item === 'object' && item !== null && !Array.isArray(item));
      later = String(headers?.['content-type'] ?? '').startsWith('text/event-stream') ? 'sse' : 'other';
      return res;
    }) as ServerResponse['writeHead'];
    res.flushHeaders = () => {};
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (later === 'sse') return write(chunk, ...rest);
      collect(chunk);
      return true;
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (later === 'sse') return end(chunk, ...rest);
      if (typeof chunk !== 'function') collect(chunk);
      const text = Buffer.concat(body).toString('utf8');
      return end(text === '' && later === 'none' ? undefined : formatSseEvent(JSON.stringify(this.asMessage(text, status)), { event: 'message' }));
    }) as ServerResponse['end'];
    return write;
  }

  /** A body written as a whole (JSON answer or error) as the message it carries. */
  private asMessage(text: string, status: number): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return errorResponse(this.id, -32603, `Internal error: the answer (HTTP ${status}) carried no JSON-RPC message`);
    }
  }
}
