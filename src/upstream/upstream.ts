// The connector interface: what the MCP endpoint hands to an upstream, and what every connector
// (Streamable HTTP, stdio, HTTP+SSE) implements. Connectors never see policies; they get a
// response transform when a policy needs to read server → client messages.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import type { Principal } from '../auth/principal.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { ProtocolVersion } from '../mcp/versions.ts';
import type { SessionClaims } from '../session/seal.ts';
import type { ResponseTransform } from '../policy/policy.ts';

export interface SessionRef {
  /** The sealed id the client sent. */
  readonly token: string;
  readonly claims: SessionClaims;
}

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly api: string;
  readonly principal: Principal;
  readonly protocolVersion: ProtocolVersion;
  /** Whether the client sent MCP-Protocol-Version (forwarded as sent). */
  readonly versionHeader: string | undefined;
  readonly session: SessionRef | undefined;
  readonly transform: ResponseTransform | undefined;
  readonly log: Logger;
  /** Present when something observes this exchange (audit, metrics): connectors report to it. */
  readonly record?: ExchangeRecord | undefined;
  /** auth: passthrough only — the client's own bearer token, forwarded to the upstream. */
  readonly passthroughToken?: string | undefined;
  /** auth: passthrough only — rewrites the upstream's WWW-Authenticate so it points at Gatehouse. */
  readonly rewriteChallenge?: ((value: string) => string) | undefined;
}

export interface PostExchange extends Exchange {
  /** The parsed, policy-checked messages; forwarded re-serialized, never as the raw bytes. */
  readonly messages: readonly JsonRpcMessage[];
  readonly batch: boolean;
  /** The one message is an initialize request: a new session starts. */
  readonly initialize: boolean;
}

export interface Upstream {
  readonly kind: 'http' | 'channel';
  post(exchange: PostExchange): Promise<void>;
  /** GET: the standalone server → client stream, or a resumption with Last-Event-ID. */
  get(exchange: Exchange): Promise<void>;
  delete(exchange: Exchange): Promise<void>;
  /** Whether a session id of this connector still names a live session (for 404s). */
  isLive(claims: SessionClaims): boolean;
  /** Count of live sessions (stdio children, tracked HTTP sessions). */
  sessionCount(): number;
  /** Ends idle sessions. */
  reap(now: number): void;
  /** Ends standalone streams so that clients reconnect elsewhere (shutdown). */
  endStreams(): void;
  close(): Promise<void>;
  /**
   * Whom a request for this caller goes out as when that is not the caller (token exchange's
   * service identity), for the audit; undefined when it is the caller or the server's own credential.
   */
  identityOf?(context: CredentialContext): string | undefined;
}

export interface UpstreamGlobals {
  readonly connectTimeout: number;
  readonly responseTimeout: number;
  readonly maxResponseBytes: number;
  /** Deepest nesting of an upstream message decoded for a response policy. */
  readonly maxJsonDepth: number;
  readonly idleTimeout: number;
}

/**
 * Who a request to the upstream is for: a per-user credential (auth: oauth-user) picks the
 * user's token by it. Connectors that know the caller pass it; others pass nothing.
 */
export interface CredentialContext {
  readonly principal: Principal;
  readonly req: IncomingMessage;
  /** The JSON-RPC method of the request, when there is one (named on the connect page). */
  readonly method?: string | undefined;
  /**
   * False for Gatehouse's own requests on the caller's behalf (a bridged session's standalone
   * stream, its DELETE, a notification): no connect link is made for them when the user has no
   * token (nobody would see it); they are refused instead.
   */
  readonly prompt?: boolean | undefined;
}

/**
 * The caller a long-lived upstream session currently acts for (a bridged session of one
 * principal): set on each request served on it, read by the channel for each request it sends,
 * so that a refreshed or newly connected token is used from the next request on.
 */
export interface CallerSlot {
  current: CredentialContext | undefined;
}

/** The upstream's own credential (credential store, client-credentials grants, a user's token), per request. */
export interface UpstreamCredentials {
  headers(context?: CredentialContext): Record<string, string> | Promise<Record<string, string>>;
  /** The upstream answered 401: drop a cached token so the next request fetches a new one. */
  rejected?(context?: CredentialContext): void;
  /**
   * Each user's own (oauth-user, token-exchange): Gatehouse's own requests that act for nobody
   * (the era probes) go without it.
   */
  readonly perUser?: boolean;
  /**
   * Whom a request for this caller goes out as when it is not the caller (token exchange's
   * service identity), for the audit; undefined when it is the caller or the server's own credential.
   */
  identityOf?(context?: CredentialContext): string | undefined;
}
