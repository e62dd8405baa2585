// Connector for upstreams reached through a message channel per client session (stdio children,
// HTTP+SSE connections): starts one channel per session (isolation: log level, subscriptions and
// state are never shared between clients), caps how many run, ends idle ones.
import { randomBytes } from 'node:crypto';
import { GatehouseError } from '../errors.ts';
import type { SessionClaims, SessionSealer } from '../session/seal.ts';
import type { Logger } from '../log.ts';
import type { MessageChannel } from './channel.ts';
import { ChannelSession } from './channel-session.ts';
import type { Exchange, PostExchange, Upstream, UpstreamGlobals } from './upstream.ts';
import type { OpenStreams } from './open-streams.ts';

export interface ChannelLimits {
  readonly maxSessions: number;
  readonly idleTimeout: number;
  /** Longest wait for the answer to a request (each progress notification for it starts the wait again). */
  readonly responseTimeout: number;
}

export type ChannelFactory = (log: Logger) => MessageChannel;

export class ChannelUpstream implements Upstream {
  readonly kind = 'channel' as const;
  private readonly sessions = new Map<string, ChannelSession>();
  private starting = 0;

  constructor(
    readonly name: string,
    private factory: ChannelFactory,
    private limits: ChannelLimits,
    private readonly nodeId: string,
    private readonly sealer: SessionSealer,
    private readonly log: Logger,
    /** Where sessions are registered, so a reload can tell them lists changed. */
    private readonly openStreams?: OpenStreams,
  ) {}

  /** Applies a reloaded server definition to sessions started from now on. */
  update(factory: ChannelFactory, limits: ChannelLimits): void {
    this.factory = factory;
    this.limits = limits;
  }

  isLive(claims: SessionClaims): boolean {
    return claims.node === this.nodeId && claims.ch !== undefined && this.sessions.get(claims.ch)?.closed === false;
  }

  /** The channel of a live session on this node (a federated session answers name questions). */
  channelOf(claims: SessionClaims): MessageChannel | undefined {
    if (claims.node !== this.nodeId || claims.ch === undefined) return undefined;
    const session = this.sessions.get(claims.ch);
    return session && !session.closed ? session.channel : undefined;
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  async post(x: PostExchange): Promise<void> {
    if (x.initialize) {
      const session = await this.open(x);
      await session.post(x);
      return;
    }
    await this.lookup(x).post(x);
  }

  async get(x: Exchange): Promise<void> {
    await this.lookup(x).get(x);
  }

  async delete(x: Exchange): Promise<void> {
    const session = this.lookup(x);
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
        void session.close();
      }
    }
  }

  endStreams(): void {
    for (const session of this.sessions.values()) session.endStandalone();
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.close()));
  }

  private lookup(x: Exchange): ChannelSession {
    const claims = x.session?.claims;
    const session = claims && claims.node === this.nodeId && claims.ch !== undefined ? this.sessions.get(claims.ch) : undefined;
    if (!session || session.closed) {
      throw new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: it ended or its upstream process is gone; initialize a new session');
    }
    return session;
  }

  private async open(x: PostExchange): Promise<ChannelSession> {
    if (this.sessions.size + this.starting >= this.limits.maxSessions) {
      throw new GatehouseError('GH_TOO_MANY_SESSIONS', `Server "${this.name}" already runs ${this.limits.maxSessions} sessions (its maxChildren)`);
    }
    const channelId = randomBytes(9).toString('base64url');
    const log = this.log.child({ session: channelId });
    const channel = this.factory(log);
    const token = this.sealer.seal({ api: x.api, sub: x.principal.key, kind: 'channel', node: this.nodeId, ch: channelId, iat: Math.floor(Date.now() / 1000) });
    const session = new ChannelSession(channelId, token, channel, this.name, log, () => this.limits.responseTimeout);
    // The initialize exchange's record belongs to the session it opens (audit tags it so).
    if (x.record) x.record.sessionId = token;
    channel.onclose = (reason) => {
      log.info({ reason }, 'upstream session ended');
      session.onChannelClosed(reason);
      this.sessions.delete(channelId);
      this.sealer.forget(token);
    };
    this.starting++;
    try {
      await channel.start();
    } catch (error) {
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
