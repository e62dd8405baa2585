// Relays an upstream SSE body untouched (no response policy reads it), one complete event at a
// time, and stops at an event larger than `maxEventBytes`: SSE bodies have no length to check up
// front. When the stream answers a request, the client then gets a JSON-RPC error for it and the
// stream ends, so it learns why instead of seeing a cut stream (and resuming into the same
// oversized event). So it does when the stream ends before answering (see unanswered.ts). This is
// every MCP call's path, so it writes straight into the response without a stream object in
// between.
import type { ServerResponse } from 'node:http';
import { GatehouseError } from '../errors.ts';
import { relayOutcome, type UpstreamResponse } from './http-client.ts';
import type { UnansweredRequests } from './unanswered.ts';

const LF = 0x0a;
const CR = 0x0d;
const END_LF = Buffer.from('\n');
const END_BLANK = Buffer.from('\n\n');

/** Finds event boundaries (blank lines) across chunks and measures the event in progress. */
export class SseEventGate {
  private pending: Buffer[] = [];
  private eventBytes = 0;
  private atLineStart = true;
  private afterCr = false;

  constructor(private readonly maxEventBytes: number) {}

  /**
   * Takes a chunk; returns the bytes that complete events (with what was held back before), or
   * undefined while an event is incomplete. Returns `overflow` with the complete events before
   * an event that grew past the limit.
   */
  take(chunk: Buffer): { out: Buffer | undefined; overflow: boolean } {
    const lfOnly = chunk.indexOf(CR) === -1 && !this.afterCr;
    // The usual chunk: whole LF-only events, no more bytes than one event may have. Nothing held
    // back means the last chunk ended at an event's end; ending in a blank line, so does this one.
    if (lfOnly && this.pending.length === 0 && chunk.length <= this.maxEventBytes && endsWithBlankLine(chunk)) {
      return { out: chunk, overflow: false };
    }
    const scanned = lfOnly ? this.scanLf(chunk) : this.scanBytes(chunk);
    const complete = scanned < 0 ? -scanned - 1 : scanned;
    let out: Buffer | undefined;
    if (complete > 0) {
      out = this.pending.length === 0 ? chunk.subarray(0, complete) : Buffer.concat([...this.pending, chunk.subarray(0, complete)]);
      this.pending = [];
    }
    if (scanned < 0) return { out, overflow: true };
    if (complete < chunk.length) this.pending.push(chunk.subarray(complete));
    return { out, overflow: false };
  }

  /** What is held back at the end of the body (an unterminated last event). */
  rest(): Buffer | undefined {
    return this.pending.length === 0 ? undefined : Buffer.concat(this.pending);
  }

  /** LF-only streams (what MCP servers send): jumps from line end to line end. */
  private scanLf(chunk: Buffer): number {
    let complete = 0;
    let start = 0;
    for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, at + 1)) {
      const lineLength = at - start;
      if (lineLength === 0 && this.atLineStart) {
        complete = at + 1; // a blank line ends the event
        this.eventBytes = 0;
      } else {
        this.eventBytes += lineLength + 1;
        if (this.eventBytes > this.maxEventBytes) return -complete - 1;
      }
      this.atLineStart = true;
      start = at + 1;
    }
    if (start < chunk.length) {
      this.eventBytes += chunk.length - start;
      this.atLineStart = false;
      if (this.eventBytes > this.maxEventBytes) return -complete - 1;
    }
    return complete;
  }

  /** Any line ending (CR, LF, CRLF), byte by byte. */
  private scanBytes(chunk: Buffer): number {
    let complete = 0;
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
          complete = i + 1;
          this.eventBytes = 0;
        }
        this.atLineStart = true;
      } else {
        this.atLineStart = false;
        if (this.eventBytes > this.maxEventBytes) return -complete - 1;
      }
    }
    return complete;
  }
}

function endsWithBlankLine(chunk: Buffer): boolean {
  return chunk.length >= 2 && chunk[chunk.length - 1] === LF && chunk[chunk.length - 2] === LF;
}

/**
 * Copies an SSE response body into `res` through a gate, with backpressure; settles when `res`
 * has finished (resolve) or the upstream failed, an event was too large or the stream ended
 * without answering (reject, after the client got what could be said). `unanswered` follows the
 * requests of a POST's stream (none for a GET's). Only whole events are written, so Gatehouse
 * may add its own between two writes (open-streams.ts); `eventsWritten` is called after each.
 */
export function relaySse(
  response: UpstreamResponse,
  res: ServerResponse,
  maxEventBytes: number,
  unanswered: UnansweredRequests | undefined,
  eventsWritten?: () => void,
): Promise<void> {
  const gate = new SseEventGate(maxEventBytes);
  return new Promise((resolve, reject) => {
    const outcome = relayOutcome(response, res, resolve, reject);
    res.on('drain', () => response.resume());
    res.on('finish', outcome.succeed);
    response.consume({
      data(chunk) {
        if (outcome.done) return;
        const { out, overflow } = gate.take(chunk);
        if (overflow) {
          if (out) {
            unanswered?.seeEvents(out);
            res.write(out);
          }
          const reason = `Upstream response too large: a message exceeds limits.maxResponseBytes (${maxEventBytes} bytes)`;
          if (!res.writableEnded) res.end(unanswered?.errorEvents('GH_UPSTREAM_RESPONSE_TOO_LARGE', reason));
          outcome.fail(new RangeError(reason));
          return;
        }
        if (out === undefined) return;
        if (unanswered !== undefined) unanswered.seeEvents(out);
        if (!res.write(out)) response.pause();
        eventsWritten?.();
      },
      end() {
        if (outcome.done) return;
        const rest = gate.rest();
        if (unanswered === undefined || unanswered.done) return void res.end(rest);
        if (rest) {
          // An event not ended by a blank line is never dispatched by a client. When it is the
          // answer (the server ended its stream right after it), it is completed.
          unanswered.seeEvents(rest, false);
          if (unanswered.done) return void res.end(Buffer.concat([rest, rest[rest.length - 1] === LF ? END_LF : END_BLANK]));
        }
        const reason = 'Upstream ended its stream without answering';
        const tail = unanswered.errorEventsAtEnd('GH_UPSTREAM_UNAVAILABLE', reason);
        if (tail === '') return void res.end(rest);
        res.end(tail);
        outcome.fail(new GatehouseError('GH_UPSTREAM_UNAVAILABLE', reason));
      },
      error: outcome.fail,
    });
  });
}
