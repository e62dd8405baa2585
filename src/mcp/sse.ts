// Server-Sent Events: an incremental parser (for upstream streams) and an event formatter.

export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
  retry?: number;
}

/**
 * Feeds text chunks, calls `onEvent` for each complete event. Handles CRLF, LF and CR line ends,
 * comments, multi-line data, and events split across chunks. `maxEventBytes` bounds the buffered
 * event so a runaway upstream cannot grow memory without limit.
 *
 * A block with only `id:` or `retry:` fields is passed on too (with empty data), as is each
 * comment line to `onComment`: a relay that re-writes events keeps them (a client's resumption
 * point, its reconnection delay, keep-alives), though a browser would dispatch no event for them.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private eventType: string | undefined;
  private lastId: string | undefined;
  private retry: number | undefined;
  private pendingBytes = 0;
  /** The block in progress has an id: field. */
  private idField = false;
  /** The last chunk ended in CR: a LF starting the next one is the second half of that CRLF. */
  private skipLf = false;

  constructor(
    private readonly onEvent: (event: SseEvent) => void,
    private readonly maxEventBytes = Number.POSITIVE_INFINITY,
    private readonly onComment?: (text: string) => void,
  ) {}

  push(chunk: string): void {
    if (chunk === '') return;
    if (this.skipLf && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.skipLf = false;
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf('\n', start);
      const cr = this.buffer.indexOf('\r', start);
      let end: number;
      let next: number;
      if (lf === -1 && cr === -1) break;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr === this.buffer.length - 1) {
          // A CR at the end of the buffer ends the line now (so an event is not held back until
          // more bytes arrive); a LF at the start of the next chunk then completes that CRLF.
          this.skipLf = true;
          next = cr + 1;
        } else {
          next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(this.buffer.slice(start, end));
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length + this.pendingBytes > this.maxEventBytes) {
      throw new RangeError(`SSE event larger than ${this.maxEventBytes} bytes`);
    }
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) {
      this.onComment?.(line.slice(1));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        this.pendingBytes += value.length;
        if (this.pendingBytes > this.maxEventBytes) throw new RangeError(`SSE event larger than ${this.maxEventBytes} bytes`);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.lastId = value;
          this.idField = true;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    if (this.data.length === 0 && this.eventType === undefined && this.retry === undefined && !this.idField) return;
    const event: SseEvent = { data: this.data.join('\n') };
    if (this.eventType !== undefined) event.event = this.eventType;
    if (this.lastId !== undefined) event.id = this.lastId;
    if (this.retry !== undefined) event.retry = this.retry;
    this.data = [];
    this.eventType = undefined;
    this.retry = undefined;
    this.idField = false;
    this.pendingBytes = 0;
    this.onEvent(event);
  }
}

/**
 * Formats one SSE event. Data lines are split so that a newline in the payload stays valid. An
 * empty id is written (it resets the client's last event id).
 */
export function formatSseEvent(data: string, options: { event?: string | undefined; id?: string | undefined; retry?: number | undefined } = {}): string {
  let out = '';
  if (options.event) out += `event: ${options.event}\n`;
  if (options.id !== undefined) out += `id: ${options.id}\n`;
  if (options.retry !== undefined) out += `retry: ${options.retry}\n`;
  if (data.includes('\n')) {
    for (const line of data.split('\n')) out += `data: ${line}\n`;
  } else {
    out += `data: ${data}\n`;
  }
  return out + '\n';
}
