// A tool's definition as pinned: the members that tell an agent what the tool does, in canonical
// JSON (keys sorted), and its SHA-256. Other members (`_meta`, `icons`, `execution`) are left
// out: they change without changing what the agent is told.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../mcp/canonical-json.ts';
import type { JsonObject } from '../../mcp/jsonrpc.ts';

const PINNED = ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;

export interface PinnedDefinition {
  readonly text: string;
  readonly hash: string;
}

/** `name` is the tool's name on its server (a federated API's prefix undone). */
export function pinnedDefinition(tool: JsonObject, name: string): PinnedDefinition {
  const picked: Record<string, unknown> = {};
  for (const key of PINNED) if (tool[key] !== undefined) picked[key] = tool[key];
  picked.name = name;
  const text = canonicalJson(picked);
  return { text, hash: createHash('sha256').update(text).digest('hex') };
}
