// Decodes an upstream response body (one JSON message or an SSE stream) message by message,
// passes each through the response transform, and writes the result to the client. Used only
// when a policy reads server → client messages; otherwise bodies are piped untouched.
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { SseParser, formatSseEvent } from '../mcp/sse.ts';
import { validateMessage } from '../mcp/jsonrpc.ts';
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

  /** `eventsWritten`: called after each event written (Gatehouse may add its own then; open-streams.ts). */
  constructor(private readonly res: ServerResponse, transform: ResponseTransform, maxEventBytes: number, eventsWritten?: () => void) {
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
      eventsWritten?.();
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
