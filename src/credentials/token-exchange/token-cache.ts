// Issued tokens kept in memory by key until shortly before they expire, with one load per key at a
// time: every call that misses while a load for its key is on its way waits for that one (so
// concurrent calls of one user cause one exchange). A failed load is not kept: the next call tries
// again. Bounded: past `maxEntries`, expired entries go first, then the oldest.
export interface Expiring {
  /** Do not use from this time on (ms since the epoch). */
  readonly useUntil: number;
}

export class SingleFlightCache<V extends Expiring> {
  private readonly entries = new Map<string, V>();
  private readonly pending = new Map<string, Promise<V>>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached value while usable (no promise: a hit costs one lookup), else the shared load. */
  get(key: string, load: () => Promise<V>): V | Promise<V> {
    const hit = this.entries.get(key);
    if (hit !== undefined && this.now() < hit.useUntil) return hit;
    let flight = this.pending.get(key);
    if (flight === undefined) {
      flight = load()
        .then((value) => {
          this.keep(key, value);
          return value;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, flight);
    }
    return flight;
  }

  /** Forgets a key's value (the upstream refused it); a load on its way still stores its own. */
  drop(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private keep(key: string, value: V): void {
    // Map order is insertion order: re-inserting makes this the newest.
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const now = this.now();
      for (const [k, v] of this.entries) if (v.useUntil <= now) this.entries.delete(k);
      for (const k of this.entries.keys()) {
        if (this.entries.size < this.maxEntries) break;
        this.entries.delete(k);
      }
    }
    this.entries.set(key, value);
  }
}
