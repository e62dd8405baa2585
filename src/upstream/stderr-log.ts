// A stdio child's stderr, copied to the log one line at a time under a budget: at most so many
// lines and bytes per interval (per child), each line cut at a maximum length. What is over the
// budget is dropped and counted (per server, for metrics), and said once per interval in a
// warning, so that one child flooding stderr can neither flood the log nor starve the process.
import type { Logger } from '../log.ts';

export interface StderrLimits {
  /** Lines logged per interval. */
  readonly maxLines: number;
  /** Bytes logged per interval. */
  readonly maxBytes: number;
  readonly interval: number;
  /** A longer line is cut to this many bytes. */
  readonly maxLineBytes: number;
}

/** What the children of one server dropped, in total (read by metrics at scrape time). */
export interface StderrDropped {
  lines: number;
  bytes: number;
}

const NEWLINE = 0x0a;

export class StderrLog {
  /** The start of a line still being written (at most maxLineBytes kept). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Bytes of the current line beyond maxLineBytes. */
  private cut = 0;
  private windowStart = 0;
  private lines = 0;
  private bytes = 0;
  private droppedLines = 0;
  private droppedBytes = 0;
  private report: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly limits: StderrLimits,
    private readonly dropped: StderrDropped,
  ) {}

  write(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      this.append(chunk, start, newline);
      this.endLine();
      start = newline + 1;
    }
    if (start < chunk.length) this.append(chunk, start, chunk.length);
  }

  /** The child is gone: the last unterminated line, and what was dropped and not yet said. */
  close(): void {
    if (this.partialBytes > 0 || this.cut > 0) this.endLine();
    if (this.report) {
      clearTimeout(this.report);
      this.report = undefined;
      this.reportDropped();
    }
  }

  private append(chunk: Buffer, from: number, to: number): void {
    const room = this.limits.maxLineBytes - this.partialBytes;
    const take = Math.min(room, to - from);
    if (take > 0) {
      // Copied: the chunk's memory is not kept alive by a line that waits for its end.
      this.partial.push(Buffer.from(chunk.subarray(from, from + take)));
      this.partialBytes += take;
    }
    this.cut += to - from - Math.max(0, take);
  }

  private endLine(): void {
    const size = this.partialBytes + this.cut;
    const parts = this.partial;
    const cut = this.cut;
    this.partial = [];
    this.partialBytes = 0;
    this.cut = 0;
    if (size === 0) return;
    const now = Date.now();
    if (now - this.windowStart >= this.limits.interval) {
      this.windowStart = now;
      this.lines = 0;
      this.bytes = 0;
    }
    const kept = size - cut;
    if (this.lines >= this.limits.maxLines || this.bytes + kept > this.limits.maxBytes) {
      this.drop(size);
      return;
    }
    this.lines++;
    this.bytes += kept;
    if (cut > 0) this.drop(0, cut);
    const text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString('utf8').trimEnd();
    if (text === '') return;
    if (cut > 0) this.log.info({ stream: 'stderr', truncatedBytes: cut }, text);
    else this.log.info({ stream: 'stderr' }, text);
  }

  /** Counts a dropped line (`bytes` of it) or the cut end of a kept one (`cutBytes`). */
  private drop(bytes: number, cutBytes = 0): void {
    if (bytes > 0) {
      this.droppedLines++;
      this.dropped.lines++;
    }
    this.droppedBytes += bytes + cutBytes;
    this.dropped.bytes += bytes + cutBytes;
    if (bytes > 0 && !this.report) {
      // Said once, when the window that dropped them ends.
      this.report = setTimeout(() => {
        this.report = undefined;
        this.reportDropped();
      }, Math.max(0, this.windowStart + this.limits.interval - Date.now()));
      this.report.unref();
    }
  }

  private reportDropped(): void {
    if (this.droppedLines === 0) return;
    this.log.warn(
      { stream: 'stderr', droppedLines: this.droppedLines, droppedBytes: this.droppedBytes, maxLines: this.limits.maxLines, maxBytes: this.limits.maxBytes, intervalMs: this.limits.interval },
      `stdio server wrote more to stderr than its budget: ${this.droppedLines} lines (${this.droppedBytes} bytes) not logged`,
    );
    this.droppedLines = 0;
    this.droppedBytes = 0;
  }
}
