// The timeouts of one upstream connection pool without a timer per request: requests waiting for
// their response head past their deadline, and connections idle in the pool for too long, are
// found by one periodic sweep. A timer per request (ours for the response, and the one Node's
// Agent re-arms on every connection it takes back when given an idle `timeout`) cost more CPU per
// request than anything else in the connector when one session sent requests one at a time.
import type { Agent, ClientRequest, IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

const SWEEP_MS = 100;
/** How long a connection may stay idle in the pool, unless the upstream's Keep-Alive hint is shorter. */
const IDLE_MS = 30_000;
const IDLE_SINCE = Symbol('gatehouse.idleSince');

type PooledSocket = Socket & { [IDLE_SINCE]?: number };

/** A request waiting for its response head, linked into the sweeper's list (no Set churned per request). */
export class Waiting {
  prev: Waiting | undefined;
  next: Waiting | undefined;
  linked = true;
  constructor(
    public request: ClientRequest | undefined,
    readonly deadline: number,
  ) {}
}

export class PoolSweeper {
  private head: Waiting | undefined;
  private tail: Waiting | undefined;
  private timer: NodeJS.Timeout | undefined;
  private idleMs = IDLE_MS;
  private lastHint: string | undefined;

  constructor(
    private readonly agent: Agent,
    private readonly onLate: (request: ClientRequest) => void,
  ) {
    // One listener for the pool (not one per request): stamps a connection as it goes idle.
    agent.on('free', (socket: PooledSocket) => {
      socket[IDLE_SINCE] = Date.now();
      this.arm();
    });
  }

  /** Starts the response deadline of a request; `done` ends it (response head, or failure). */
  wait(request: ClientRequest, timeoutMs: number): Waiting {
    const waiting = new Waiting(request, Date.now() + timeoutMs);
    if (this.tail) {
      this.tail.next = waiting;
      waiting.prev = this.tail;
    } else this.head = waiting;
    this.tail = waiting;
    this.arm();
    return waiting;
  }

  done(waiting: Waiting): void {
    if (!waiting.linked) return;
    waiting.linked = false;
    if (waiting.prev) waiting.prev.next = waiting.next;
    else this.head = waiting.next;
    if (waiting.next) waiting.next.prev = waiting.prev;
    else this.tail = waiting.prev;
    waiting.prev = waiting.next = waiting.request = undefined;
  }

  /** Shortens the idle limit to what the upstream announces (`Keep-Alive: timeout=N`), less a second. */
  heardFrom(headers: IncomingHttpHeaders): void {
    const hint = headers['keep-alive'];
    if (typeof hint !== 'string' || hint === this.lastHint) return;
    this.lastHint = hint;
    const seconds = /^timeout=(\d+)/.exec(hint)?.[1];
    if (seconds !== undefined) this.idleMs = Math.min(IDLE_MS, Math.max(0, Number(seconds) * 1000 - 1000));
  }

  private arm(): void {
    this.timer ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (let waiting = this.head; waiting; ) {
      const next = waiting.next;
      if (waiting.deadline <= now) {
        const request = waiting.request!;
        this.done(waiting);
        this.onLate(request);
      }
      waiting = next;
    }
    let idle = false;
    for (const sockets of Object.values(this.agent.freeSockets)) {
      for (const socket of (sockets ?? []) as PooledSocket[]) {
        idle = true;
        if (now - (socket[IDLE_SINCE] ?? now) >= this.idleMs) socket.destroy();
      }
    }
    // Nothing waiting and nothing pooled: no reason to wake up until the next request.
    if (!this.head && !idle) this.close();
  }
}
