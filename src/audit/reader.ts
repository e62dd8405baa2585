// Reading the audit log: for `gatehouse logs` and the dashboard. Every sink that stores records
// (SQLite, Postgres) implements it; JSON-lines sinks do not.
import type { AuditEvent } from './event.ts';

export interface AuditFilter {
  api?: string;
  agent?: string;
  user?: string;
  method?: string;
  /** Tool/prompt name or resource URI, exact. */
  target?: string;
  /** ok: no error code and status < 400; error: the rest. */
  status?: 'ok' | 'error';
  decision?: 'allowed' | 'denied' | 'error';
  /** ms since the epoch, inclusive. */
  since?: number;
  /** ms since the epoch, exclusive. */
  until?: number;
}

export interface Totals {
  requests: number;
  errors: number;
  denied: number;
  p50: number;
  p90: number;
  p99: number;
}

export interface Overview {
  totals: Totals;
  /** One point per bucket, oldest first. Latencies in ms. */
  series: Array<{ t: number } & Totals>;
  methods: Array<{ method: string; count: number }>;
  topTools: Array<{ name: string; count: number; errors: number; denied: number }>;
  topResources: Array<{ name: string; count: number; errors: number; denied: number }>;
  topPrompts: Array<{ name: string; count: number; errors: number; denied: number }>;
  /** Refused exchanges grouped by agent, method, target and rule, most frequent first. */
  denied: Array<{ agent: string; method: string; target: string | null; rule: string | null; count: number }>;
  /** Agents × tools: calls and denials of tools/call. */
  matrix: Array<{ agent: string; tool: string; calls: number; denied: number }>;
  agents: string[];
  apis: string[];
}

export interface AuditReader {
  /** Newest first; `before` is an event id (cursor) to page backwards. */
  list(filter: AuditFilter, options: { limit: number; before?: string }): Promise<AuditEvent[]>;
  get(id: string): Promise<AuditEvent | undefined>;
  overview(filter: AuditFilter, bucketMs: number): Promise<Overview>;
}
