// The requests of one POST whose answers have not reached the client yet, so that an SSE answer
// the upstream cuts short (it died, or ended its stream without answering) can still answer each
// of them with a JSON-RPC error rather than leave the client waiting on a stream that is gone.
//
// The piped relay hands over the raw events it writes; they are inspected only as far as needed:
// nothing once every request is answered, and otherwise a top-level read of each event's data
// (src/mcp/peek.ts), which stops at the first key of a notification ("method") and jumps over the
// nested values of an answer (a 100 KB tool result costs a few steps, not a parse). The rewriting
// relay hands over the messages it has already decoded.
import { ERRORS, type ErrorCode } from '../errors.ts';
import { errorResponse, isObject, isRequest, type JsonRpcId, type JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { formatSseEvent } from '../mcp/sse.ts';
import { responseIdOf } from '../mcp/peek.ts';

const LF = 0x0a;
const CR = 0x0d;
const DATA = Buffer.from('data:');
const ID = Buffer.from('id:');
const NEWLINE = Buffer.from('\n');

export class UnansweredRequests {
  private readonly waiting: JsonRpcId[];
  /** An event carried an id: the client can resume this stream (2025-11-25: servers may end it early). */
  private resumable = false;

  constructor(messages: readonly JsonRpcMessage[]) {
    this.waiting = [];
    for (const message of messages) if (isRequest(message)) this.waiting.push(message.id);
  }

  /** No request is waiting for its answer. */
  get done(): boolean {
    return this.waiting.length === 0;
  }

  /**
   * SSE events written to the client, as bytes: complete ones, or (`complete` false) what is
   * left at the end of a stream, whose data may be cut short and is therefore decoded.
   */
  seeEvents(events: Buffer, complete = true): void {
    if (this.waiting.length === 0) return;
    if (crLineEnds(events)) events = Buffer.from(events.toString('latin1').replace(/\r\n?/g, '\n'), 'latin1');
    // One pass over the lines: id lines make the stream resumable, data lines are collected and
    // read (top level only) when their event ends.
    let data: Buffer[] | undefined;
    let from = -1;
    let to = -1;
    for (let line = 0; line < events.length; ) {
      let end = events.indexOf(LF, line);
      if (end === -1) end = events.length;
      if (end === line) {
        if (data) this.seeData(Buffer.concat(data), 0, -1, complete);
        else if (from !== -1) this.seeData(events, from, to, complete);
        data = undefined;
        from = -1;
      } else if (startsWith(events, line, DATA)) {
        let value = line + DATA.length;
        if (events[value] === 0x20) value++;
        if (from === -1 && data === undefined) {
          from = value;
          to = end;
        } else {
          data ??= [events.subarray(from, to)];
          data.push(NEWLINE, events.subarray(value, end));
        }
      } else if (startsWith(events, line, ID)) {
        this.resumable = true;
      }
      line = end + 1;
    }
    // The last event of a stream may lack its blank line.
    if (data) this.seeData(Buffer.concat(data), 0, -1, complete);
    else if (from !== -1) this.seeData(events, from, to, complete);
  }

  /** An event with an id was written to the client (the rewriting relay). */
  seeEventId(): void {
    this.resumable = true;
  }

  /** A decoded message written to the client (the rewriting relay). */
  seeMessage(message: JsonRpcMessage): void {
    if (this.waiting.length === 0 || 'method' in message || message.id === null) return;
    this.seeAnswer(message.id);
  }

  /** An answer to `id` was written to the client. */
  seeAnswer(id: JsonRpcId): void {
    // Strict equality keeps 1 and "1" apart, as JSON-RPC does.
    const at = this.waiting.indexOf(id);
    if (at !== -1) this.waiting.splice(at, 1);
  }

  /**
   * SSE events answering every waiting request with `code`, after the upstream's stream failed,
   * or ('' when nothing waits).
   */
  errorEvents(code: ErrorCode, reason: string): string {
    let out = '';
    for (const id of this.waiting.splice(0)) out += formatSseEvent(JSON.stringify(errorResponse(id, ERRORS[code].rpc, reason, { code })));
    return out;
  }

  /**
   * The same after the upstream ended its stream cleanly: a stream the client can resume may end
   * before its answer (the client then asks again with Last-Event-ID), any other is cut short.
   */
  errorEventsAtEnd(code: ErrorCode, reason: string): string {
    return this.resumable ? '' : this.errorEvents(code, reason);
  }

  private seeData(bytes: Buffer, start: number, end: number, complete: boolean): void {
    if (end === -1) end = bytes.length;
    let first = start;
    while (first < end && (bytes[first] === 0x20 || bytes[first] === 0x09)) first++;
    if (complete && bytes[first] !== 0x5b) {
      const id = responseIdOf(bytes, start, end);
      if (id !== undefined) this.seeAnswer(id);
      return;
    }
    // A batch answer (2025-03-26 only), or data that may be cut short: rare enough to decode.
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8', start, end));
    } catch {
      return;
    }
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      if (isObject(item) && !('method' in item) && ('result' in item || 'error' in item) && (typeof item.id === 'string' || typeof item.id === 'number')) this.seeAnswer(item.id);
    }
  }
}

/**
 * Whether the events end their lines with CR (CRLF or CR alone) rather than LF, as the first
 * line shows. Only its first bytes are looked at: a CRLF line read as LF-ended keeps a CR at its
 * end, which the JSON reader skips as white space, so only a CR-only stream whose first line is
 * long goes unseen (its answer is then not recognised).
 */
function crLineEnds(bytes: Buffer): boolean {
  const stop = Math.min(bytes.length, 64);
  for (let i = 0; i < stop; i++) {
    if (bytes[i] === LF) return false;
    if (bytes[i] === CR) return true;
  }
  return false;
}

/** Whether `bytes` at `at` starts with `prefix`. */
function startsWith(bytes: Buffer, at: number, prefix: Buffer): boolean {
  if (at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}
