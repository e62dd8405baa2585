// Rows of tool_pins (tool pinning, src/pinning/) and their mapping to records, shared by both
// backends, with the statements both speak alike.
import type { ToolPinRecord } from './store.ts';

type Int = number | string;

export interface ToolPinRow {
  server: string;
  tool: string;
  hash: string;
  definition: string;
  first_seen_at: Int;
  last_seen_at: Int;
  changed_at: Int;
  approved_hash: string | null;
  approved_definition: string | null;
  approved_at: Int | null;
  approved_by: string | null;
}

export const TOOL_PIN_COLUMNS = 'server, tool, hash, definition, first_seen_at, last_seen_at, changed_at, approved_hash, approved_definition, approved_at, approved_by';

export function toToolPin(r: ToolPinRow): ToolPinRecord {
  return {
    server: r.server,
    tool: r.tool,
    hash: r.hash,
    definition: r.definition,
    firstSeenAt: Number(r.first_seen_at),
    lastSeenAt: Number(r.last_seen_at),
    changedAt: Number(r.changed_at),
    approvedHash: r.approved_hash ?? undefined,
    approvedDefinition: r.approved_definition ?? undefined,
    approvedAt: r.approved_at === null ? undefined : Number(r.approved_at),
    approvedBy: r.approved_by ?? undefined,
  };
}

/** First use: whether a tool new to the store is approved as first seen. */
export function trustsNewTool(trust: 'tool' | 'server' | 'never', serverKnown: boolean): boolean {
  return trust === 'tool' || (trust === 'server' && !serverKnown);
}

export const TRUSTED_FIRST_USE = 'first use';
