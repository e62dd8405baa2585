// Connector for upstreams reached through a message channel per client session (stdio children,
// HTTP+SSE connections): starts one channel per session (isolation: log level, subscriptions and
// state are never shared between clients), caps how many run, ends idle ones.
import { randomBytes } from 'node:crypto';
import { declaresFormElicitation } from '../mcp/client-capabilities.ts';
import { GatehouseError } from '../errors.ts';
import type { SessionClaims, SessionSealer } from '../session/seal.ts';
import type { Logger } from '../log.ts';
import type { MessageChannel } from './channel.ts';
import { ChannelSession } from './channel-session.ts';
import type { CallerSlot, CredentialContext, Exchange, PostExchange, Upstream, UpstreamGlobals } from './upstream.ts';
import type { OpenStreams } from './open-streams.ts';

export interface ChannelLimits {
  readonly maxSessions: number;
  readonly idleTimeout: number;
  /** Longest wait for the answer to a request (each progress notification for it starts the wait again). */
  readonly responseTimeout: number;
}

/**
 * Makes a session's channel; `session` names it (its channel id) and, when revived, what was
 * stored of it; `caller` is whom the session's latest request came from (a session is bound to
 * one principal), for servers that want each user's own token.
 */
export type ChannelFactory = (log: Logger, session: { readonly id: string; readonly stored?: unknown; readonly caller?: CallerSlot }) => MessageChannel;

/** Sessions kept in the shared store (federated APIs of Streamable HTTP servers): any node continues them. */
export interface ChannelRevival {
  /** What was stored of a session, or undefined when it is not (any more). */
  load(id: string): Promise<unknown>;
}

export class ChannelUpstream implements Upstream {
  readonly kind = 'channel' as const;
  private readonly sessions = new Map<string, ChannelSession>();
  private starting = 0;
  /** Stored sessions being brought back, so that concurrent requests share one revival. */
  private readonly reviving = new Map<string, Promise<ChannelSession>>();
  private revival: ChannelRevival | undefined;
  /** Each session's caller (see ChannelFactory), set by every request on it. */
  private readonly callers = new WeakMap<ChannelSession, CallerSlot>();

  constructor(
    readonly name: string,
    private factory: ChannelFactory,
    private limits: ChannelLimits,
    private readonly nodeId: string,
    private readonly sealer: SessionSealer,
    private readonly log: Logger,
    /** Where sessions are registered, so a reload can tell them lists changed. */
    private readonly openStreams?: OpenStreams,
    revival?: ChannelRevival,
  ) {
    this.revival = revival;
  }

  /** Applies a reloaded server definition to sessions started from now on. */
  update(factory: ChannelFactory, limits: ChannelLimits, revival?: ChannelRevival): void {
    this.factory = factory;
    this.limits = limits;
    this.revival = revival;
  }

  isLive(claims: SessionClaims): boolean {
    if (claims.ch === undefined) return false;
    // A stored session may be continued here (it is looked up when the request arrives).
    if (claims.st === 1 && this.revival) return true;
    return claims.node === this.nodeId && this.sessions.get(claims.ch)?.closed === false;
  }

  /** The channel of a live session on this node (a federated session answers name questions). */
  channelOf(claims: SessionClaims): MessageChannel | undefined {
    if ((claims.node !== this.nodeId && claims.st !== 1) || claims.ch === undefined) return undefined;
    const session = this.sessions.get(claims.ch);
    return session && !session.closed ? session.channel : undefined;
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  async post(x: PostExchange): Promise<void> {
    const message = x.messages[0];
    const method = message && 'method' in message ? message.method : undefined;
    if (x.initialize) {
      const session = await this.open(x);
      this.calledBy(session, x, method);
      await session.post(x);
      return;
    }
    const session = await this.lookup(x, method);
    this.calledBy(session, x, method);
    await session.post(x);
  }

  async get(x: Exchange): Promise<void> {
    const session = await this.lookup(x, undefined);
    this.calledBy(session, x, undefined);
    await session.get(x);
  }

  private calledBy(session: ChannelSession, x: Exchange, method: string | undefined): void {
    const slot = this.callers.get(session);
    if (slot) slot.current = { principal: x.principal, req: x.req, method };
  }

  async delete(x: Exchange): Promise<void> {
    const session = await this.lookup(x);
    this.sessions.delete(session.channelId);
    this.sealer.forget(session.token);
    await session.close();
    x.res.writeHead(200).end();
  }

  reap(now: number): void {
    for (const session of this.sessions.values()) {
      if (!session.busy && now - session.lastActivity > this.limits.idleTimeout) {
        this.log.info({ server: this.name, session: session.channelId }, 'stopping idle session');
        this.sessions.delete(session.channelId);
        this.sealer.forget(session.token);
        // A stored session stays in the store (and its upstream sessions alive) for its next request.
        void session.detach();
      }
    }
  }

  endStreams(): void {
    for (const session of this.sessions.values()) session.endStandalone();
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    // Stored sessions are left for the next node (or this one after a restart).
    await Promise.all(all.map((s) => s.detach()));
  }

  private async lookup(x: Exchange, method?: string): Promise<ChannelSession> {
    const claims = x.session?.claims;
    const local = claims && (claims.node === this.nodeId || claims.st === 1) && claims.ch !== undefined ? this.sessions.get(claims.ch) : undefined;
    if (local && !local.closed) return local;
    if (claims?.st === 1 && claims.ch !== undefined && this.revival && x.session) return this.revive(claims.ch, x.session.token, x.api, { principal: x.principal, req: x.req, method });
    throw new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: it ended or its upstream process is gone; initialize a new session');
  }

  /** Brings a stored session back on this node (another node started it, or this one before a restart). */
  private revive(channelId: string, token: string, api: string, caller: CredentialContext): Promise<ChannelSession> {
    let running = this.reviving.get(channelId);
    if (!running) {
      running = (async () => {
        const stored = await this.revival!.load(channelId);
        if (stored === undefined) throw new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: it ended or expired; initialize a new session');
        // The caller is known before the session is continued: its members' sessions are taken over with their user's token.
        const session = this.track(channelId, token, stored, caller);
        try {
          await session.channel.start();
        } catch (error) {
          throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${this.name}" could not be continued: ${(error as Error).message}`);
        }
        if (session.closed) throw new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: it ended as it was continued; initialize a new session');
        this.sessions.set(channelId, session);
        session.onEnded = this.openStreams?.add(api, session);
        this.log.info({ session: channelId }, 'stored session continued on this node');
        return session;
      })().finally(() => this.reviving.delete(channelId));
      this.reviving.set(channelId, running);
    }
    return running;
  }

  /** A session object over a new channel, removed from the map when its channel ends. */
  private track(channelId: string, token: string, stored?: unknown, calledBy?: CredentialContext): ChannelSession {
    const log = this.log.child({ session: channelId });
    const caller: CallerSlot = { current: calledBy };
    const channel = this.factory(log, stored === undefined ? { id: channelId, caller } : { id: channelId, stored, caller });
    const session = new ChannelSession(channelId, token, channel, this.name, log, () => this.limits.responseTimeout);
    this.callers.set(session, caller);
    channel.onclose = (reason) => {
      log.info({ reason }, 'upstream session ended');
      session.onChannelClosed(reason);
      if (this.sessions.get(channelId) === session) this.sessions.delete(channelId);
      this.sealer.forget(token);
    };
    return session;
  }

  private async open(x: PostExchange): Promise<ChannelSession> {
    if (this.sessions.size + this.starting >= this.limits.maxSessions) {
      throw new GatehouseError('GH_TOO_MANY_SESSIONS', `Server "${this.name}" already runs ${this.limits.maxSessions} sessions (its maxChildren)`);
    }
    const channelId = randomBytes(9).toString('base64url');
    const claims: SessionClaims = { api: x.api, sub: x.principal.key, kind: 'channel', node: this.nodeId, ch: channelId, iat: Math.floor(Date.now() / 1000) };
    if (this.revival) claims.st = 1;
    if (declaresFormElicitation(x.messages[0])) claims.el = 1;
    const token = this.sealer.seal(claims);
    const session = this.track(channelId, token);
    const channel = session.channel;
    // The initialize exchange's record belongs to the session it opens (audit tags it so).
    if (x.record) x.record.sessionId = token;
    this.starting++;
    try {
      await channel.start();
    } catch (error) {
      if (error instanceof GatehouseError) throw error; // e.g. the server's maxChildren reached
      throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${this.name}" could not be started: ${(error as Error).message}`);
    } finally {
      this.starting--;
    }
    if (session.closed) throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${this.name}" exited as it started`);
    this.sessions.set(channelId, session);
    session.onEnded = this.openStreams?.add(x.api, session);
    return session;
  }
}
