// Reading the audit log: for `gatehouse logs` and the dashboard. Every sink that stores records
// (SQLite, Postgres) implements it; JSON-lines sinks do not.
import type { AuditEvent } from './event.ts';

export interface AuditFilter {
  api?: string;
  /** The tenant of the API (once tenants are declared), exact. */
  tenant?: string;
  agent?: string;
  user?: string;
  method?: string;
  /** Tool/prompt name or resource URI, exact. */
  target?: string;
  /** The server that served it (a federated API's member), exact. */
  server?: string;
  /**
   * error: status >= 400 or a JSON-RPC error code; tool_error: a tool result marked isError;
   * ok: neither.
   */
  status?: 'ok' | 'error' | 'tool_error';
  decision?: 'allowed' | 'denied' | 'error';
  /** ms since the epoch, inclusive. */
  since?: number;
  /** ms since the epoch, exclusive. */
  until?: number;
}

export interface Totals {
  /** Every record. */
  requests: number;
  /** Request/response exchanges: the records the latency percentiles describe (no GET streams, DELETEs, notifications). */
  exchanges: number;
  /** Gatehouse or the transport failed: HTTP status >= 400 or a JSON-RPC error. */
  errors: number;
  /** Tool results marked isError: the call went through, the tool reported a failure. */
  toolErrors: number;
  denied: number;
  /** Latency percentiles of the exchanges, ms (0 when there were none). */
  p50: number;
  p90: number;
  p99: number;
}

/** One row of a top list: how often a tool, resource or prompt was used, and how that went. */
export interface Ranked {
  name: string;
  /** The server behind the name (null for records without one, e.g. written before servers were recorded). */
  server: string | null;
  count: number;
  errors: number;
  toolErrors: number;
  denied: number;
}

export interface Overview {
  totals: Totals;
  /** One point per bucket, oldest first. Latencies in ms. */
  series: Array<{ t: number } & Totals>;
  methods: Array<{ method: string; count: number }>;
  topTools: Ranked[];
  topResources: Ranked[];
  topPrompts: Ranked[];
  /** Refused exchanges grouped by agent, method, target and rule, most frequent first. */
  denied: Array<{ agent: string; method: string; target: string | null; rule: string | null; count: number }>;
  /** Agents × tools: calls and denials of tools/call. */
  matrix: Array<{ agent: string; tool: string; server: string | null; calls: number; denied: number }>;
  /** Servers seen in the range (the dashboard's filter). */
  servers: string[];
  agents: string[];
  apis: string[];
}

export interface AuditReader {
  /** Newest first; `before` is an event id (cursor) to page backwards. */
  list(filter: AuditFilter, options: { limit: number; before?: string }): Promise<AuditEvent[]>;
  get(id: string): Promise<AuditEvent | undefined>;
  overview(filter: AuditFilter, bucketMs: number): Promise<Overview>;
}
