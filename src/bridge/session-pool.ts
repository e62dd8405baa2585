// The upstream sessions Gatehouse holds for 2026-07-28 clients of one 2025 server. A session is
// keyed by API, principal and the capabilities (and client info) the client declared, so that two
// principals never share one and a server never sees capabilities the client did not declare;
// the same client's requests reuse it. Idle sessions are reaped; a principal holds a bounded number.
// The principal's binding key names its user (an oauth2 principal's key holds the token's `sub`),
// so a server that wants each user's own token gets it on a session of that user only: each
// session carries its caller (the latest request served on it), which its channel asks the
// credential with for every request it sends.
import { createHash, randomBytes } from 'node:crypto';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { JsonObject } from '../mcp/jsonrpc.ts';
import { canonicalJson } from '../mcp/canonical-json.ts';
import type { MessageChannel } from '../upstream/channel.ts';
import type { CallerSlot, CredentialContext } from '../upstream/upstream.ts';
import { LegacySession } from './legacy-session.ts';

export interface PoolLimits {
  /** Sessions of this server across principals (a stdio server's maxChildren). */
  readonly maxSessions: number;
  readonly idleTimeout: number;
  readonly responseTimeout: number;
}

/** Distinct capability sets one principal may hold sessions for at once (each may be a child process). */
const PER_PRINCIPAL = 8;
/**
 * Declarations remembered as sent (see keyOf): at most this many, past which the memory starts
 * afresh, and none longer than KNOWN_DECLARATION_CHARS (a client's usual declaration is a few
 * hundred characters), so that clients sending ever new declarations hold at most about 2 MB.
 */
const KNOWN_DECLARATIONS = 1024;
const KNOWN_DECLARATION_CHARS = 1024;

/** A session's channel to the server, sending for the caller in `caller` (see CallerSlot). */
export type SessionChannelFactory = (log: Logger, caller: CallerSlot) => MessageChannel;

export class SessionPool {
  private readonly byKey = new Map<string, Promise<LegacySession>>();
  /** Sessions that finished opening, by the same key: found without waiting on a promise. */
  private readonly ready = new Map<string, LegacySession>();
  private readonly byId = new Map<string, LegacySession>();
  /** Pool keys by the declaration as the client sent it (see keyOf). */
  private readonly keys = new Map<string, string>();
  /** The caller each session's channel sends for (see CallerSlot). */
  private readonly callers = new WeakMap<LegacySession, CallerSlot>();

  constructor(
    private readonly server: string,
    private factory: SessionChannelFactory,
    private limits: PoolLimits,
    private readonly log: Logger,
  ) {}

  update(factory: SessionChannelFactory, limits: PoolLimits): void {
    this.factory = factory;
    this.limits = limits;
  }

  get responseTimeout(): number {
    return this.limits.responseTimeout;
  }

  get size(): number {
    return this.byId.size;
  }

  /** A live session by id (a retry's request state names it). */
  byIdLive(id: string): LegacySession | undefined {
    const session = this.byId.get(id);
    return session && !session.closed ? session : undefined;
  }

  /**
   * The session for this API, principal and declaration: reused when live (returned as it is, the
   * path of nearly every request), else opened.
   */
  acquire(api: string, sub: string, capabilities: JsonObject, clientInfo: JsonObject, caller?: CredentialContext): LegacySession | Promise<LegacySession> {
    const key = this.keyOf(api, sub, capabilities, clientInfo);
    const ready = this.ready.get(key);
    if (ready !== undefined && !ready.closed) return this.servedFor(ready, caller);
    return this.acquireSlowly(key, api, sub, capabilities, clientInfo, caller).then((session) => this.servedFor(session, caller));
  }

  /** The session, its channel now sending for this caller (the same principal: a fresher request). */
  private servedFor(session: LegacySession, caller: CredentialContext | undefined): LegacySession {
    if (caller !== undefined) {
      const slot = this.callers.get(session);
      if (slot) slot.current = caller;
    }
    return session;
  }

  /**
   * The pool key: API, principal and a hash of the declaration with its keys sorted, so that equal
   * declarations share a session whatever their key order. A client sends the same declaration
   * with every request, so the hash is remembered by the declaration's JSON as sent: one
   * JSON.stringify per request instead of a canonical form and a SHA-256. JSON text holds no
   * line feed, so the last two lines of the raw key are always the declaration and whatever comes
   * before them is API and principal, exactly as in the pool key.
   */
  private keyOf(api: string, sub: string, capabilities: JsonObject, clientInfo: JsonObject): string {
    const raw = `${api}\n${sub}\n${JSON.stringify(capabilities)}\n${JSON.stringify(clientInfo)}`;
    let key = this.keys.get(raw);
    if (key === undefined) {
      key = `${api}\n${sub}\n${createHash('sha256').update(canonicalJson({ capabilities, clientInfo })).digest('base64url')}`;
      if (raw.length <= KNOWN_DECLARATION_CHARS) {
        if (this.keys.size >= KNOWN_DECLARATIONS) this.keys.clear();
        this.keys.set(raw, key);
      }
    }
    return key;
  }

  private async acquireSlowly(key: string, api: string, sub: string, capabilities: JsonObject, clientInfo: JsonObject, caller: CredentialContext | undefined): Promise<LegacySession> {
    const existing = this.byKey.get(key);
    if (existing) {
      const session = await existing;
      if (!session.closed) return session;
      if (this.byKey.get(key) === existing) this.byKey.delete(key);
    }
    const opening = this.open(key, api, sub, capabilities, clientInfo, caller);
    this.byKey.set(key, opening);
    opening.then(
      (session) => {
        if (this.byKey.get(key) === opening && !session.closed) this.ready.set(key, session);
      },
      () => {
        if (this.byKey.get(key) === opening) this.byKey.delete(key);
      },
    );
    return opening;
  }

  /**
   * Later requests open new sessions; the ones open now finish what they carry (a call waiting for
   * the client's answers included) and are closed by the reaper once idle. For a change of what
   * the sessions serve (a federated API's plan) that must not be kept for the idle timeout.
   */
  retire(): void {
    for (const session of this.byId.values()) session.retired = true;
    this.byKey.clear();
    this.ready.clear();
  }

  reap(now: number): void {
    for (const session of this.byId.values()) {
      if (!session.busy && (session.retired || now - session.lastActivity > this.limits.idleTimeout)) {
        this.log.info({ session: session.id }, 'stopping idle bridged session');
        this.drop(session);
        void session.close();
      }
    }
  }

  async close(): Promise<void> {
    const all = [...this.byId.values()];
    this.byId.clear();
    this.byKey.clear();
    this.ready.clear();
    await Promise.all(all.map((s) => s.close()));
  }

  private async open(key: string, api: string, sub: string, capabilities: JsonObject, clientInfo: JsonObject, caller: CredentialContext | undefined): Promise<LegacySession> {
    const mine = [...this.byId.values()].filter((s) => s.key.startsWith(`${api}\n${sub}\n`));
    if (mine.length >= PER_PRINCIPAL) {
      const idle = mine.filter((s) => !s.busy).sort((a, b) => a.lastActivity - b.lastActivity)[0];
      if (!idle) throw new GatehouseError('GH_TOO_MANY_SESSIONS', `This agent already holds ${PER_PRINCIPAL} busy bridged sessions of server "${this.server}" (one per set of declared capabilities)`);
      this.drop(idle);
      void idle.close();
    }
    if (this.byId.size >= this.limits.maxSessions) {
      throw new GatehouseError('GH_TOO_MANY_SESSIONS', `Server "${this.server}" already runs ${this.limits.maxSessions} sessions`);
    }
    const id = randomBytes(9).toString('base64url');
    const log = this.log.child({ bridged: id });
    const slot: CallerSlot = { current: caller };
    const session = new LegacySession(id, key, sub, this.factory(log, slot), log);
    this.callers.set(session, slot);
    session.onclose = () => this.drop(session);
    this.byId.set(id, session);
    try {
      await session.start(capabilities, clientInfo, this.limits.responseTimeout);
    } catch (error) {
      this.drop(session);
      void session.close();
      // The caller has no upstream token yet (or acts for no user): the client is told as it is (a connect link).
      const refusal = session.channel.refusal;
      if (refusal !== undefined) throw refusal;
      throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${this.server}" could not be started for a 2026-07-28 client: ${(error as Error).message}`);
    }
    log.info({ api, upstreamVersion: session.init?.protocolVersion }, 'opened a bridged upstream session for a 2026-07-28 client');
    return session;
  }

  private drop(session: LegacySession): void {
    if (this.byId.get(session.id) === session) this.byId.delete(session.id);
    if (this.ready.get(session.key) === session) this.ready.delete(session.key);
    const entry = this.byKey.get(session.key);
    if (entry) void entry.then((s) => s === session && this.byKey.get(session.key) === entry && this.byKey.delete(session.key), () => undefined);
  }
}
