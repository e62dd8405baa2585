// Audit records as JSON lines, for log shippers: appended to a file, or written to standard
// output. On stdout Gatehouse's own logs run beside them; both write whole lines, and audit lines
// go out in writes of at most PIPE_BUF bytes (when a line fits) so the two never interleave
// inside a line. Log rotation and retention are the shipper's business.
import fs from 'node:fs';
import path from 'node:path';
import type { AuditSink } from './sink.ts';

/** Largest write a pipe keeps whole (POSIX PIPE_BUF on Linux). */
const PIPE_BUF = 4096;

export function openJsonlSink(target: string): AuditSink {
  const stdout = target === '-';
  let fd: number;
  if (stdout) fd = 1;
  else {
    fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true, mode: 0o700 });
    fd = fs.openSync(target, 'a', 0o600);
  }
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const writeAll = (text: string) => {
    const buffer = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < buffer.length) {
      try {
        offset += fs.writeSync(fd, buffer, offset, buffer.length - offset);
      } catch (err) {
        // stdout may be a non-blocking pipe: wait for the reader (this is the writer thread).
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        Atomics.wait(pause, 0, 0, 10);
      }
    }
  };
  return {
    reader: undefined,
    write: async (events) => {
      if (!stdout) {
        writeAll(events.map((e) => JSON.stringify(e) + '\n').join(''));
        return;
      }
      let chunk = '';
      for (const event of events) {
        const line = JSON.stringify(event) + '\n';
        if (chunk !== '' && Buffer.byteLength(chunk) + Buffer.byteLength(line) > PIPE_BUF) {
          writeAll(chunk);
          chunk = '';
        }
        chunk += line;
      }
      if (chunk !== '') writeAll(chunk);
    },
    retain: async () => 0,
    close: async () => {
      if (!stdout) fs.closeSync(fd);
    },
  };
}
