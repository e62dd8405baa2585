// Overflow `spill`: records that do not fit in the queue are appended to a file (JSON lines) and
// read back by the writer once the queue has room. The file is renamed before it is handed over,
// so the gateway keeps appending to a fresh one; files left by a crash are picked up at start.
import fs from 'node:fs';
import path from 'node:path';
import type { AuditEvent } from './event.ts';

/** The time in a handed-over file's name (`<file>.<pid>-<time>-<n>.ingest`). */
function order(name: string): number {
  return Number(/-(\d+)-\d+\.ingest$/.exec(name)?.[1] ?? 0);
}

/** The count in its name: files handed over in the same millisecond. */
function order2(name: string): number {
  return Number(/-(\d+)\.ingest$/.exec(name)?.[1] ?? 0);
}

export class SpillFile {
  private fd: number | undefined;
  private handed = 0;
  /** Records appended since the last hand-over. */
  pending = 0;

  constructor(readonly file: string) {}

  append(event: AuditEvent): void {
    if (this.fd === undefined) {
      fs.mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true, mode: 0o700 });
      this.fd = fs.openSync(this.file, 'a', 0o600);
    }
    // Synchronous: this runs only when the queue is full, and the record must not be lost.
    fs.writeSync(this.fd, JSON.stringify(event) + '\n');
    this.pending++;
  }

  /** Closes the current file and renames it for the writer; undefined when nothing is pending. */
  handOver(): string | undefined {
    if (this.pending === 0) return undefined;
    this.close();
    const target = `${this.file}.${process.pid}-${Date.now()}-${this.handed++}.ingest`;
    fs.renameSync(this.file, target);
    this.pending = 0;
    return target;
  }

  /** Files an earlier run left behind (the live file included), to read back first. */
  leftovers(): string[] {
    const dir = path.dirname(path.resolve(this.file));
    const base = path.basename(this.file);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const name of names) {
      if (name === base) {
        const target = `${this.file}.${process.pid}-${Date.now()}-${this.handed++}.ingest`;
        fs.renameSync(path.join(dir, name), target);
        out.push(target);
      } else if (name.startsWith(`${base}.`) && name.endsWith('.ingest')) out.push(path.join(dir, name));
    }
    // Oldest first, by the time and count in the name (as text, pid 999's sorted after pid 1000's):
    // records are stored, and hash-chained, in the order they were spilled.
    return out.sort((a, b) => order(a) - order(b) || order2(a) - order2(b) || (a < b ? -1 : a > b ? 1 : 0));
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
