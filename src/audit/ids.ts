// Identifiers in audit records. Event ids sort by time as text (the time leads, in fixed-width
// base 36), so "newest first", paging and time ranges all use the one unique index on id.
// Sessions are recorded as a short hash: records of one session share it (on every node, across
// restarts), and it cannot be turned back into the session id, which is a bearer credential for
// the session (a sealed, high-entropy token, so the hash cannot be guessed either).
import { hash, randomBytes } from 'node:crypto';

const TIME_WIDTH = 9; // base 36 ms: enough until the year 5188
const SEQ_WIDTH = 4;
const SEQ_SPAN = 36 ** SEQ_WIDTH;
/** Tells apart ids made in the same millisecond by several gateways writing to one database. */
const NODE = randomBytes(3).readUIntBE(0, 3).toString(36).padStart(5, '0').slice(-5);
let seq = Math.floor(Math.random() * SEQ_SPAN);

let lastTime = -1;
let lastPrefix = '';

export function eventId(time: number): string {
  seq = (seq + 1) % SEQ_SPAN;
  // Records come in bursts within one millisecond: the prefix is made once for them.
  if (time !== lastTime) {
    lastTime = time;
    lastPrefix = timePrefix(time);
  }
  return lastPrefix + seq.toString(36).padStart(SEQ_WIDTH, '0') + NODE;
}

/** The id prefix for a time: every id made at or after `time` sorts at or after it. */
export function timePrefix(time: number): string {
  return Math.max(0, Math.floor(time)).toString(36).padStart(TIME_WIDTH, '0');
}

/** Time of an event id, ms since the epoch. */
export function idTime(id: string): number {
  return parseInt(id.slice(0, TIME_WIDTH), 36);
}

export class SessionTags {
  private readonly cache = new Map<string, string>();

  /** 12 characters (72 bits) of SHA-256 of the session id. */
  tag(sessionId: string): string {
    let tag = this.cache.get(sessionId);
    if (tag === undefined) {
      tag = hash('sha256', sessionId, 'base64url').slice(0, 12);
      // Session ids repeat on every request of a session; forget them all now and then.
      if (this.cache.size >= 4096) this.cache.clear();
      this.cache.set(sessionId, tag);
    }
    return tag;
  }
}
