// Counter backends. GCRA (generic cell rate algorithm) keeps one timestamp per key: the
// theoretical arrival time of the next request. Quotas are fixed calendar windows.

export interface LimitOutcome {
  allowed: boolean;
  /** Requests left in the current burst after this one. */
  remaining: number;
  /** Milliseconds until a request would be allowed (0 when allowed). */
  retryAfterMs: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
}

export interface Counters {
  /** Takes one token from a GCRA bucket: `intervalMs` per token, `burst` tokens at most. */
  take(key: string, intervalMs: number, burst: number): Promise<LimitOutcome>;
  /** Counts one use in a quota window ending at `windowEnd` (ms). */
  count(key: string, limit: number, windowEnd: number): Promise<LimitOutcome>;
  close(): Promise<void>;
}

export function gcra(now: number, stored: number | undefined, intervalMs: number, burst: number): { outcome: LimitOutcome; next: number | undefined } {
  const tat = Math.max(stored ?? now, now);
  const next = tat + intervalMs;
  const allowAt = next - intervalMs * burst;
  if (allowAt > now) {
    return { outcome: { allowed: false, remaining: 0, retryAfterMs: Math.ceil(allowAt - now), resetMs: Math.ceil(tat - now) }, next: undefined };
  }
  const remaining = Math.max(0, Math.floor((now - allowAt) / intervalMs));
  return { outcome: { allowed: true, remaining, retryAfterMs: 0, resetMs: Math.ceil(next - now) }, next };
}

/** One process's counters; entries expire when their bucket is full again. */
export class MemoryCounters implements Counters {
  private readonly buckets = new Map<string, number>();
  private readonly windows = new Map<string, { count: number; end: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 60_000).unref();
  }

  async take(key: string, intervalMs: number, burst: number): Promise<LimitOutcome> {
    const { outcome, next } = gcra(Date.now(), this.buckets.get(key), intervalMs, burst);
    if (next !== undefined) this.buckets.set(key, next);
    return outcome;
  }

  async count(key: string, limit: number, windowEnd: number): Promise<LimitOutcome> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.end <= now) {
      window = { count: 0, end: windowEnd };
      this.windows.set(key, window);
    }
    const resetMs = window.end - now;
    if (window.count >= limit) return { allowed: false, remaining: 0, retryAfterMs: resetMs, resetMs };
    window.count++;
    return { allowed: true, remaining: limit - window.count, retryAfterMs: 0, resetMs };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, tat] of this.buckets) if (tat <= now) this.buckets.delete(key);
    for (const [key, window] of this.windows) if (window.end <= now) this.windows.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
