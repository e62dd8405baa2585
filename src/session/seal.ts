// Downstream session ids are sealed tokens (AES-256-GCM) holding what any Gatehouse node with
// the same key needs to serve the session: no shared session table. Tampered or foreign tokens
// fail authentication and are treated as unknown.
import { SealBox } from './seal-box.ts';

export interface SessionClaims {
  /** API name the session was opened on. */
  api: string;
  /** Binding: the principal that opened the session (see Principal.key). */
  sub: string;
  /** 'http': Streamable HTTP upstream; 'channel': a stdio child or HTTP+SSE connection on one node. */
  kind: 'http' | 'channel';
  /** Upstream session id (http kind), absent for a stateless upstream. */
  up?: string;
  /** Owner node (channel kind; a bridged 2025 session's node, which keeps its subscriptions and log level). */
  node?: string;
  /** Channel id on the owner node (channel kind). */
  ch?: string;
  /** 1: a federated session kept in the shared store: any node can continue it (channel kind). */
  st?: 1;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** 1: the client declared form elicitation at initialize (approval by the user asks it). */
  el?: 1;
  /**
   * A 2025 client's session on a 2026-07-28-only server (src/bridge/legacy-client.ts): what it
   * declared at initialize, sent in `_meta` of every request Gatehouse forwards for it.
   */
  br?: BridgedClaims;
}

export interface BridgedClaims {
  /** The revision negotiated with the client. */
  v: string;
  /** The client's capabilities. */
  cap: Record<string, unknown>;
  /** The client's clientInfo. */
  info: Record<string, unknown>;
  /** Set when the server offered the tasks extension at initialize (its tools are listed as runnable as tasks on any node). */
  tk?: 1;
}

const PREFIX = 'gh1.';
const CACHE_LIMIT = 10_000;

export class SessionSealer {
  private readonly box: SealBox;
  // Unsealing costs a decrypt; the same id arrives on every request of a session.
  private readonly cache = new Map<string, SessionClaims>();

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('session key must be 32 bytes');
    this.box = new SealBox(key, 'gatehouse-session-v1');
  }

  seal(claims: SessionClaims): string {
    const token = PREFIX + this.box.seal(JSON.stringify(claims));
    this.remember(token, claims);
    return token;
  }

  /** The claims inside a token, or undefined if it is malformed, tampered or sealed with another key. */
  unseal(token: string): SessionClaims | undefined {
    const cached = this.cache.get(token);
    if (cached) return cached;
    if (!token.startsWith(PREFIX) || token.length > 2048) return undefined;
    const text = this.box.open(token.slice(PREFIX.length));
    if (text === undefined) return undefined;
    try {
      const claims = JSON.parse(text) as SessionClaims;
      if (typeof claims.api !== 'string' || typeof claims.sub !== 'string') return undefined;
      this.remember(token, claims);
      return claims;
    } catch {
      return undefined;
    }
  }

  forget(token: string): void {
    this.cache.delete(token);
  }

  private remember(token: string, claims: SessionClaims): void {
    if (this.cache.size >= CACHE_LIMIT) {
      // Drop the oldest entry (Map keeps insertion order).
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(token, claims);
  }
}
