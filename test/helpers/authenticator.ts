// A person's authenticator app, for tests: it reads the otpauth:// URI Gatehouse shows (with the
// otpauth library, as a phone app reads the QR code) and makes codes. Each code is of a time step
// not used before (the server accepts a code once): the current step or the next one (both within
// the server's window), waiting for the next step when both are spent, and never in the last two
// seconds of a step (the server could already be in the following one).
import { TOTP, URI } from 'otpauth';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Authenticator {
  private readonly totp: TOTP;
  private lastStep = -Infinity;
  /** Every code handed out, to check that none reached a log. */
  readonly given: string[] = [];

  constructor(uri: string) {
    const parsed = URI.parse(uri);
    if (!(parsed instanceof TOTP)) throw new Error(`not a TOTP URI: ${uri}`);
    this.totp = parsed;
  }

  get secret(): string {
    return this.totp.secret.base32;
  }

  /** A fresh code: its time step is later than any code given before. */
  async code(): Promise<string> {
    const period = this.totp.period * 1000;
    for (;;) {
      const into = Date.now() % period;
      if (into > period - 2000) await sleep(period - into + 100);
      const now = Date.now();
      const current = Math.floor(now / period);
      const step = [current, current + 1].find((s) => s > this.lastStep);
      if (step === undefined) {
        await sleep(period - (now % period) + 100);
        continue;
      }
      this.lastStep = step;
      const code = this.totp.generate({ timestamp: step * period });
      this.given.push(code);
      return code;
    }
  }

  /** The last code handed out again (to try a replay). */
  get lastCode(): string {
    return this.given.at(-1)!;
  }

  /** A code that is none of this secret's codes now (for a wrong-code attempt). */
  wrongCode(): string {
    const valid = new Set([-1, 0, 1].map((d) => this.totp.generate({ timestamp: Date.now() + d * this.totp.period * 1000 })));
    for (let n = 0; ; n++) {
      const candidate = String((123456 + n * 7919) % 1_000_000).padStart(6, '0');
      if (!valid.has(candidate)) return candidate;
    }
  }
}
