// Writes of store-backed objects (agents, users, credentials) guarded by an ETag, across nodes.
// An attempt reads the object, checks If-Match against it, and writes with a compare-and-set of
// the store (the write lands only if the object is still what was read). When another node's
// write came in between, the attempt runs again: it reads the object as that write left it, so a
// stale If-Match is then refused with 412 and the current ETag, exactly as if that write had come
// first on this node; an If-Match still met (`*`, or a write that changed nothing) goes through.

import { ManagementError } from './errors.ts';

/** What an attempt returns when the store refused its write: the object changed since it was read. */
export const RACED: unique symbol = Symbol('raced');

/** Attempts lost to other nodes' writes in a row before giving up (this node's are serialized). */
const RACE_RETRIES = 10;

export async function conditionalWrite<T>(what: string, attempt: () => Promise<T | typeof RACED>): Promise<T> {
  for (let tries = 0; tries <= RACE_RETRIES; tries++) {
    const result = await attempt();
    if (result !== RACED) return result;
  }
  // Only when other nodes keep changing it: nothing was stale on the caller's side.
  throw new ManagementError(503, `Service Unavailable: ${what} is being changed on other nodes too often for this change to land; retry in a moment`, undefined, { 'retry-after': '1' });
}
