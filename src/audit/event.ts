// One audit record per JSON-RPC exchange (a request and its response, or a notification).
// Written by src/audit sinks; read by `gatehouse logs` and the dashboard.
import type { RawPayloads } from './payloads.ts';

export type Decision = 'allowed' | 'denied' | 'error';

export interface AuditEvent {
  /** Unique id (time-ordered). */
  id: string;
  /** Start of the exchange, ms since the epoch. */
  time: number;
  api: string;
  tenant: string | undefined;
  /** Agent id (principal id), 'anonymous' for keyless. */
  agent: string;
  /** The person behind the agent, when a token names one. */
  user: string | undefined;
  clientAddress: string | undefined;
  /** A short, non-reversible id of the session (never the session id itself). */
  session: string | undefined;
  /** JSON-RPC id as text, undefined for notifications. */
  rpcId: string | undefined;
  /** JSON-RPC method, or the HTTP method for GET/DELETE exchanges. */
  method: string;
  /** tools, resources, prompts, … (see mcp/classify.ts). */
  feature: string;
  /** Tool or prompt name, or resource URI, as the agent named it. */
  target: string | undefined;
  /**
   * The server that served the message: the API's server, or on a federated API or virtual
   * server the member the message was routed to (undefined when it names none, e.g. a list).
   */
  server: string | undefined;
  /** The target's name on that server (a federated API's prefix or a virtual server's rename undone); the target itself on a single-server API. */
  originalTarget: string | undefined;
  decision: Decision;
  /** The rule that decided (policy:rule), when a policy decided. */
  rule: string | undefined;
  /** Why it was refused or failed, in words. */
  reason: string | undefined;
  /** HTTP status Gatehouse answered with. */
  status: number;
  /** HTTP status of the upstream, when it was reached. */
  upstreamStatus: number | undefined;
  /** JSON-RPC error code of the answer, when it was an error. */
  errorCode: number | undefined;
  /**
   * The call went through and the tool reported a failure: a tool result marked `isError: true`
   * (apart from transport and JSON-RPC errors, which set errorCode, and denials).
   */
  toolError: boolean;
  /** Whole exchange, ms. */
  durationMs: number;
  /** Time spent waiting for and streaming from the upstream, ms. */
  upstreamMs: number | undefined;
  bytesIn: number;
  bytesOut: number;
  /** Request params (arguments), when payload logging is on: redacted and size-capped JSON text. */
  request: string | undefined;
  /** Response body, when payload logging is on: redacted and size-capped. */
  response: string | undefined;
  /** Decision trace, JSON text. */
  trace: string | undefined;
  /**
   * Payloads not yet redacted, on their way from the request thread to the writer, which turns
   * them into `request` and `response` before anything stores the record (payloads.ts).
   */
  raw?: RawPayloads | undefined;
  /**
   * Its place in its node's hash chain, set by the writer thread just before the sink stores it
   * (chain/chain-writer.ts); absent for records written before chaining, or by the JSON-lines sink.
   */
  chain?: StoredLink | undefined;
}

/** A record's link in its node's chain, and its own hash (chain/canonical.ts). */
export interface StoredLink {
  node: string;
  seq: number;
  prevHash: string | null;
  hash: string;
}

/**
 * The fields only an MCP exchange fills, empty: spread into the records of events that are not
 * exchanges (the authorization server's, the control plane's).
 */
export const NOT_AN_EXCHANGE = {
  session: undefined,
  rpcId: undefined,
  server: undefined,
  originalTarget: undefined,
  upstreamStatus: undefined,
  errorCode: undefined,
  toolError: false,
  durationMs: 0,
  upstreamMs: undefined,
  bytesIn: 0,
  bytesOut: 0,
  response: undefined,
  trace: undefined,
} as const satisfies Partial<AuditEvent>;
