// Writes an upstream response body to the client when it cannot simply be piped: an SSE stream a
// response policy reads (decoded and rewritten event by event), and a JSON answer (one bounded
// message, held whole before its head is written, rewritten when a policy reads it).
import { Writable } from 'node:stream';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { SseParser, formatSseEvent, type SseEvent } from '../mcp/sse.ts';
import { errorResponse, idKey, isObject, isResponse, validateMessage, type JsonRpcId, type JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { splitTrailingId } from '../policy/answer-memo.ts';
import { nestsDeeperThan } from '../mcp/json-depth.ts';
import { ERRORS, GatehouseError } from '../errors.ts';
import type { ResponseTransform } from '../policy/policy.ts';
import type { UnansweredRequests } from './unanswered.ts';

/** Bounds on what is decoded from an upstream. */
export interface DecodeLimits {
  /** Largest message (an SSE event, a JSON body). */
  readonly maxBytes: number;
  /** Deepest nesting of a decoded message (re-serializing deeper JSON overflows the stack). */
  readonly maxJsonDepth: number;
}

/** A response's status and headers, written by whoever knows the final ones. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
}

type Rewritten =
  /** Not a JSON-RPC message: relayed as it is. */
  | { kind: 'raw' }
  /** The transform dropped it. */
  | { kind: 'dropped' }
  /** Nested deeper than the limit: refused. */
  | { kind: 'too-deep'; id: string | number | undefined }
  | { kind: 'message'; text: string; message: JsonRpcMessage | undefined; answers?: JsonRpcId };

/** Decodes one upstream message (or a batch of them), applies the transform, re-serializes. */
function rewrite(data: string, transform: ResponseTransform, maxJsonDepth: number): Rewritten {
  const memo = transform.memo;
  let split = memo === undefined ? undefined : splitTrailingId(data);
  if (split !== undefined && !memo!.ids.has(idKey(split.id))) split = undefined;
  if (split !== undefined) {
    // An answer rewritten before for this principal (memo is set only for stable policies).
    const body = memo!.answers.lookup(memo!.principal, split.body);
    if (body !== undefined) return { kind: 'message', text: body === split.body ? data : body + split.suffix, message: undefined, answers: split.id };
  }
  const tooDeep = nestsDeeperThan(data, maxJsonDepth);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return { kind: 'raw' };
  }
  if (tooDeep) {
    // Parsing deep JSON is safe (V8's parser does not recurse); using it is not.
    const id = isObject(parsed) && !('method' in parsed) && (typeof parsed.id === 'string' || typeof parsed.id === 'number') ? parsed.id : undefined;
    return { kind: 'too-deep', id };
  }
  if (Array.isArray(parsed)) {
    // A batch answer (2025-03-26): every member goes through the transform.
    const out: JsonRpcMessage[] = [];
    for (const item of parsed) {
      // JSON that is no JSON-RPC message is dropped: the policy that must read it cannot.
      const checked = validateMessage(item, 'keep');
      if (!checked.ok) continue;
      const kept = transform(checked.message);
      if (kept !== undefined) out.push(kept);
    }
    return out.length === 0 ? { kind: 'dropped' } : { kind: 'message', text: JSON.stringify(out), message: undefined };
  }
  // JSON that is no JSON-RPC message is dropped rather than relayed: the policy that must read
  // it cannot, so it must not pass unread. Servers' extra members are theirs to send.
  const checked = validateMessage(parsed, 'keep');
  if (!checked.ok) return { kind: 'dropped' };
  const out = transform(checked.message);
  if (out === undefined) return { kind: 'dropped' };
  // Unchanged (the same object back): the server's own text, not a re-serialization of it.
  const text = out === parsed ? data : JSON.stringify(out);
  if (split !== undefined && isResponse(checked.message) && isResponse(out)) memo!.answers.remember(memo!.principal, split, text);
  return { kind: 'message', text, message: out };
}

function badResponse(id: string | number, maxJsonDepth: number): string {
  const message = `Upstream sent a message nested deeper than limits.maxJsonDepth (${maxJsonDepth})`;
  return JSON.stringify(errorResponse(id, ERRORS.GH_UPSTREAM_BAD_RESPONSE.rpc, message, { code: 'GH_UPSTREAM_BAD_RESPONSE' }));
}

/**
 * Rewrites an SSE stream event by event. Every field it does not rewrite (event, id, retry,
 * comments) is kept; a dropped message keeps its event id so that resumption still lines up.
 * The head was written before (see head-flush.ts).
 */
export class SseRewriter extends Writable {
  private readonly decoder = new StringDecoder('utf8');
  private readonly parser: SseParser;

  constructor(
    private readonly res: ServerResponse,
    private readonly transform: ResponseTransform,
    private readonly limits: DecodeLimits,
    private readonly unanswered: UnansweredRequests | undefined,
    /** Called after each event written (Gatehouse may add its own then; open-streams.ts). */
    private readonly eventsWritten?: () => void,
  ) {
    super();
    this.parser = new SseParser(
      (event) => {
        this.event(event);
        this.eventsWritten?.();
      },
      limits.maxBytes,
      (comment) => this.res.write(`:${comment}\n\n`),
    );
  }

  private event(event: SseEvent): void {
    const options = { event: event.event, id: event.id, retry: event.retry };
    if (event.id !== undefined) this.unanswered?.seeEventId();
    if (event.data === '') {
      this.res.write(formatSseEvent('', options));
      return;
    }
    const result = rewrite(event.data, this.transform, this.limits.maxJsonDepth);
    switch (result.kind) {
      case 'raw':
        this.res.write(formatSseEvent(event.data, options));
        return;
      case 'message':
        // Encoded once here: the response's observer keeps the bytes it is given, and a string
        // would be encoded again for it and once more for the socket.
        this.res.write(Buffer.from(formatSseEvent(result.text, options)));
        if (result.message) this.unanswered?.seeMessage(result.message);
        else if (result.answers !== undefined) this.unanswered?.seeAnswer(result.answers);
        return;
      case 'too-deep':
        // Refused as the answer to its request; any other message is dropped.
        if (result.id !== undefined) {
          this.res.write(formatSseEvent(badResponse(result.id, this.limits.maxJsonDepth), options));
          this.unanswered?.seeAnswer(result.id);
          return;
        }
        break;
      case 'dropped':
        break;
    }
    // Dropped message: keep the event id and the retry hint.
    if (event.id !== undefined || event.retry !== undefined) this.res.write(formatSseEvent('', { id: event.id, retry: event.retry }));
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
    // Requests the stream ended without answering get an error (see unanswered.ts).
    const reason = 'Upstream ended its stream without answering';
    const tail = this.unanswered?.errorEventsAtEnd('GH_UPSTREAM_UNAVAILABLE', reason) ?? '';
    this.res.end(tail);
    callback(tail === '' ? null : new GatehouseError('GH_UPSTREAM_UNAVAILABLE', reason));
  }
}

/**
 * A JSON answer: one message (or a batch) of bounded size. It is held whole, then rewritten when
 * a policy reads it, and only then is the head written, with the final length. Holding it also
 * means an upstream that fails mid-body is answered with a clean JSON-RPC error (the head has not
 * gone yet), never a truncated body.
 */
export class JsonAnswer extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly head: ResponseHead,
    private readonly transform: ResponseTransform | undefined,
    private readonly limits: DecodeLimits,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.size += chunk.length;
    if (this.size > this.limits.maxBytes) {
      callback(new RangeError(`upstream response larger than ${this.limits.maxBytes} bytes`));
      return;
    }
    this.chunks.push(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    let body: Buffer | string = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    if (this.transform && body.length > 0) {
      const result = rewrite(body.toString('utf8'), this.transform, this.limits.maxJsonDepth);
      if (result.kind === 'too-deep') {
        callback(new GatehouseError('GH_UPSTREAM_BAD_RESPONSE', `Upstream sent a message nested deeper than limits.maxJsonDepth (${this.limits.maxJsonDepth})`));
        return;
      }
      if (result.kind === 'message') body = result.text;
      else if (result.kind === 'dropped') body = '';
    }
    const headers = this.head.headers;
    headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    this.res.writeHead(this.head.status, headers);
    this.res.end(body);
    callback();
  }
}

/** Counts bytes on the way through and fails past `maxBytes` (bodies without a length). */
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
