// The bounded in-memory queue between the request path and the audit writer: a ring of fixed
// capacity, so a full queue costs no allocation and dropping the oldest record is O(1).
import type { AuditEvent } from './event.ts';

export class EventQueue {
  private readonly ring: Array<AuditEvent | undefined>;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<AuditEvent | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Adds at the tail; the caller checks `full` first. */
  push(event: AuditEvent): void {
    if (this.full) throw new Error('audit queue is full');
    this.ring[(this.head + this.count) % this.capacity] = event;
    this.count++;
  }

  /** Removes the oldest record (overflow `drop-oldest`). */
  dropOldest(): void {
    if (this.count === 0) return;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }

  /** Removes and returns up to `n` records, oldest first. */
  take(n: number): AuditEvent[] {
    const out: AuditEvent[] = [];
    const k = Math.min(n, this.count);
    for (let i = 0; i < k; i++) {
      out.push(this.ring[this.head]!);
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.count -= k;
    return out;
  }
}
