// What one node remembers of sessions on a Streamable HTTP upstream: last use and open streams
// (for idle reaping) and ended sessions (answered 404). Kept small: a few numbers per session.

interface Seen {
  last: number;
  open: number;
}

const TOMBSTONE_LIMIT = 50_000;

export class HttpSessionTracker {
  private readonly seen = new Map<string, Seen>();
  private readonly ended = new Set<string>();

  touch(upstreamId: string, now = Date.now()): void {
    const entry = this.seen.get(upstreamId);
    if (entry) entry.last = now;
    else this.seen.set(upstreamId, { last: now, open: 0 });
  }

  streamOpened(upstreamId: string): void {
    const entry = this.seen.get(upstreamId);
    if (!entry) this.seen.set(upstreamId, { last: Date.now(), open: 1 });
    else {
      entry.last = Date.now();
      entry.open++;
    }
  }

  streamClosed(upstreamId: string): void {
    const entry = this.seen.get(upstreamId);
    if (!entry) return;
    entry.open = Math.max(0, entry.open - 1);
    entry.last = Date.now();
  }

  end(upstreamId: string): void {
    this.seen.delete(upstreamId);
    if (this.ended.size >= TOMBSTONE_LIMIT) {
      const oldest = this.ended.values().next().value;
      if (oldest !== undefined) this.ended.delete(oldest);
    }
    this.ended.add(upstreamId);
  }

  isEnded(upstreamId: string): boolean {
    return this.ended.has(upstreamId);
  }

  /** Sessions idle for longer than `idleMs` with no open stream. */
  idle(now: number, idleMs: number): string[] {
    const out: string[] = [];
    for (const [id, entry] of this.seen) if (entry.open === 0 && now - entry.last > idleMs) out.push(id);
    return out;
  }

  get size(): number {
    return this.seen.size;
  }
}
