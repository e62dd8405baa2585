// Slows password guessing at the sign-in form: after too many failures for one username from one
// address within a window, further attempts are refused without checking the password until the
// window has passed. In memory, per process: a brake, not an account lockout (a lockout would
// let anyone lock a user out by failing on purpose).
const WINDOW_MS = 15 * 60_000;
const MAX_FAILURES = 10;
const MAX_TRACKED = 10_000;

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  private key(username: string, address: string): string {
    return `${address}\n${username.toLowerCase()}`;
  }

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((at) => now - at < WINDOW_MS);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  /** Milliseconds until another attempt is allowed, or 0. */
  blockedFor(username: string, address: string, now = Date.now()): number {
    const list = this.recent(this.key(username, address), now);
    return list.length >= MAX_FAILURES ? WINDOW_MS - (now - list[0]!) : 0;
  }

  fail(username: string, address: string, now = Date.now()): void {
    const key = this.key(username, address);
    const list = this.recent(key, now);
    list.push(now);
    this.failures.delete(key);
    this.failures.set(key, list);
    if (this.failures.size > MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
  }

  succeed(username: string, address: string): void {
    this.failures.delete(this.key(username, address));
  }
}
