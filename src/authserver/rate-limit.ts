// A sliding-window limit per client address, in memory: dynamic registration is open to anyone,
// so one address may register only so many clients per window. Per process (each node counts
// its own), bounded in memory (the oldest addresses are forgotten first).
const MAX_TRACKED = 10_000;

export class AddressRateLimit {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts an attempt; returns 0 when it is allowed, else the milliseconds until one would be. */
  take(address: string, now = Date.now()): number {
    const recent = (this.hits.get(address) ?? []).filter((at) => now - at < this.windowMs);
    if (recent.length >= this.limit) {
      this.hits.set(address, recent);
      return this.windowMs - (now - recent[0]!);
    }
    recent.push(now);
    this.hits.delete(address); // re-inserted last: the map's order is least recently used first
    this.hits.set(address, recent);
    if (this.hits.size > MAX_TRACKED) this.hits.delete(this.hits.keys().next().value!);
    return 0;
  }
}
