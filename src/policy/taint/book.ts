// Which sessions are tainted. A taint never goes away before its expiry, so a taint known here
// is final and a call checks memory first; only a session not known to be tainted asks the store
// (shared by the nodes: a session continued on another node keeps its taint), and only when the
// call is of a tool that could send data out. The store holds a hash of the API and the session
// id, never the id (a bearer credential of the session).
import { createHash } from 'node:crypto';
import type { Logger } from '../../log.ts';
import type { SessionTaintRecord, Store } from '../../store/store.ts';

export interface Taint {
  readonly server: string;
  readonly tool: string;
  readonly taintedAt: number;
}

/** Taints kept in memory; the oldest goes first beyond it (the store still has it). */
const MAX_LOCAL = 50_000;

export class TaintBook {
  private readonly local = new Map<string, Taint & { readonly expiresAt: number }>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** The key of a session (or, without one, of a principal) on an API. */
  static keyOf(api: string, session: string | undefined, principal: string): string {
    return createHash('sha256').update(session !== undefined ? `${api}\nsession\n${session}` : `${api}\nprincipal\n${principal}`).digest('base64url');
  }

  /** Marks a key tainted (once: the first taint is the one kept). Written to the store in the background. */
  taint(key: string, taint: Taint, ttl: number): void {
    if (this.local.has(key)) return;
    const record: SessionTaintRecord = { key, server: taint.server, tool: taint.tool, taintedAt: taint.taintedAt, expiresAt: taint.taintedAt + ttl };
    this.remember(key, record);
    this.store.putSessionTaint(record).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not store a session taint: other nodes will not see it'));
  }

  /** The key's taint, if any. Memory first; the store when not known here. */
  async taintOf(key: string, now = Date.now()): Promise<Taint | undefined> {
    const known = this.local.get(key);
    if (known && known.expiresAt > now) return known;
    if (known) this.local.delete(key);
    const stored = await this.store.getSessionTaint(key);
    return stored && stored.expiresAt > now ? this.remember(key, stored) : undefined;
  }

  /** Removes expired taints from the store (the gateway's hourly prune). */
  prune(now: number): Promise<number> {
    for (const [key, taint] of this.local) if (taint.expiresAt <= now) this.local.delete(key);
    return this.store.pruneSessionTaints(now);
  }

  private remember(key: string, record: SessionTaintRecord): Taint & { readonly expiresAt: number } {
    if (this.local.size >= MAX_LOCAL) this.local.delete(this.local.keys().next().value!);
    const taint = { server: record.server, tool: record.tool, taintedAt: record.taintedAt, expiresAt: record.expiresAt };
    this.local.set(key, taint);
    return taint;
  }
}
