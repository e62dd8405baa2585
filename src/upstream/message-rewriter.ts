// Decodes an upstream response body (one JSON message or an SSE stream) message by message,
// passes each through the response transform, and writes the result to the client. Used only
// when a policy reads server → client messages; otherwise bodies are piped untouched.
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { SseParser, formatSseEvent } from '../mcp/sse.ts';
import { errorResponse, validateMessage, type JsonRpcId } from '../mcp/jsonrpc.ts';
import { ERRORS } from '../errors.ts';
import type { ResponseTransform } from '../policy/policy.ts';

function rewriteData(data: string, transform: ResponseTransform): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return data; // not JSON-RPC: relay as it is
  }
  const checked = validateMessage(parsed);
  if (!checked.ok) return data;
  const out = transform(checked.message);
  return out === undefined ? undefined : JSON.stringify(out);
}

export class SseRewriter extends Writable {
  private readonly decoder = new StringDecoder('utf8');
  private readonly parser: SseParser;

  constructor(private readonly res: ServerResponse, transform: ResponseTransform, maxEventBytes: number) {
    super();
    this.parser = new SseParser((event) => {
      const data = event.data === '' ? '' : rewriteData(event.data, transform);
      if (data === undefined) {
        // Dropped message: keep the event id so that resumption still lines up.
        if (event.id) this.res.write(`id: ${event.id}\ndata: \n\n`);
        return;
      }
      const options: { event?: string; id?: string } = {};
      if (event.event !== undefined) options.event = event.event;
      if (event.id !== undefined) options.id = event.id;
      this.res.write(formatSseEvent(data, options));
    }, maxEventBytes);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.parser.push(this.decoder.write(chunk));
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.res.end();
    callback();
  }
}

export class JsonRewriter extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly transform: ResponseTransform,
    private readonly maxBytes: number,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      callback(new RangeError(`upstream response larger than ${this.maxBytes} bytes`));
      return;
    }
    this.chunks.push(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    const text = Buffer.concat(this.chunks).toString('utf8');
    const out = text === '' ? '' : rewriteData(text, this.transform) ?? '';
    this.res.setHeader('content-length', Buffer.byteLength(out));
    this.res.end(out);
    callback();
  }
}

/** Counts bytes on the way through and fails past `maxBytes` (JSON bodies without a length). */
export class LimitedPassThrough extends Writable {
  private size = 0;
  constructor(private readonly res: ServerResponse, private readonly maxBytes: number) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      callback(new RangeError(`upstream response larger than ${this.maxBytes} bytes`));
      return;
    }
    if (this.res.write(chunk)) callback();
    else this.res.once('drain', () => callback());
  }
  override _final(callback: (error?: Error | null) => void): void {
    this.res.end();
    callback();
  }
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Relays an SSE body untouched, one complete event at a time, and stops at an event larger than
 * `maxEventBytes` (SSE bodies have no length to check up front). When the stream answers a
 * request (`requestId`), the client then gets a JSON-RPC error for it and the stream ends, so it
 * learns why instead of seeing a cut stream (and resuming into the same oversized event).
 */
export class LimitedSsePassThrough extends Writable {
  private pending: Buffer[] = [];
  private eventBytes = 0;
  private atLineStart = true;
  private afterCr = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly maxEventBytes: number,
    private readonly requestId: JsonRpcId | null,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let complete = 0; // bytes of this chunk up to the end of its last complete event
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      this.eventBytes++;
      if (byte === LF && this.afterCr) {
        this.afterCr = false; // second half of a CRLF
        continue;
      }
      this.afterCr = byte === CR;
      if (byte === LF || byte === CR) {
        if (this.atLineStart) {
          complete = i + 1; // a blank line ends the event
          this.eventBytes = 0;
        }
        this.atLineStart = true;
      } else {
        this.atLineStart = false;
        if (this.eventBytes > this.maxEventBytes) {
          this.overflow(chunk.subarray(0, complete), callback);
          return;
        }
      }
    }
    let out: Buffer | undefined;
    if (complete > 0) {
      out = this.pending.length === 0 ? chunk.subarray(0, complete) : Buffer.concat([...this.pending, chunk.subarray(0, complete)]);
      this.pending = [];
    }
    if (complete < chunk.length) this.pending.push(chunk.subarray(complete));
    if (!out) {
      callback();
      return;
    }
    if (this.res.write(out)) callback();
    else this.res.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.res.end(this.pending.length === 0 ? undefined : Buffer.concat(this.pending));
    callback();
  }

  private overflow(completed: Buffer, callback: (error?: Error | null) => void): void {
    if (completed.length > 0) this.res.write(Buffer.concat([...this.pending, completed]));
    this.pending = [];
    const reason = `Upstream response too large: a message exceeds limits.maxResponseBytes (${this.maxEventBytes} bytes)`;
    if (this.requestId !== null && !this.res.writableEnded) {
      const error = errorResponse(this.requestId, ERRORS.GH_UPSTREAM_RESPONSE_TOO_LARGE.rpc, reason, { code: 'GH_UPSTREAM_RESPONSE_TOO_LARGE' });
      this.res.end(formatSseEvent(JSON.stringify(error)));
    }
    callback(new RangeError(reason));
  }
}
