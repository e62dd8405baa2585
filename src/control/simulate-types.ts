// What the simulator answers (POST /api/v1/apis/{name}/simulate): shared by the endpoint
// (simulate.ts) and the console (web/), so this module imports nothing.

export type Kind = 'tool' | 'prompt' | 'resource' | 'resourceTemplate';

/** The methods decided per kind of item: each is what the ACL checks for that item. */
export const SIMULATED_METHODS: Readonly<Record<Kind, readonly string[]>> = {
  tool: ['tools/list', 'tools/call'],
  prompt: ['prompts/list', 'prompts/get'],
  resource: ['resources/list', 'resources/read', 'resources/subscribe'],
  resourceTemplate: ['resources/templates/list'],
};

export interface Verdict {
  readonly method: string;
  readonly allowed: boolean;
  /** The rule that decided (`acl #2: name` when the chain has several ACLs), or null. */
  readonly rule: string | null;
  readonly reason?: string;
}

export interface SimulatedItem {
  readonly kind: Kind;
  /** As the agent sees it: a tool or prompt name, a resource URI or URI template. */
  readonly name: string;
  readonly server: string;
  /** The name on the server (differs on a federated or virtual API). */
  readonly original: string;
  readonly methods: readonly Verdict[];
}

export interface Simulation {
  readonly api: string;
  readonly source: 'draft' | 'deployed';
  readonly version: number | null;
  /** known: read from the store (or the document); false: described in the request. */
  readonly agent: { id: string; known: boolean; name: string | null; labels: Record<string, string> };
  /** known: a user of the embedded authorization server; false: described in the request. */
  readonly user: { id: string; name: string | null; known: boolean } | null;
  /** The token claims conditions saw (`claims.…`): the user's, with the given ones over them. */
  readonly claims: Record<string, unknown>;
  /** The tool call decided with its arguments; its verdict is also the item's tools/call. */
  readonly call: { tool: string; arguments: Record<string, unknown>; verdict: Verdict } | null;
  /** Number of ACL policies in the chain (0: everything is allowed). */
  readonly acls: number;
  readonly servers: ReadonlyArray<{ server: string; error: string | null }>;
  readonly items: readonly SimulatedItem[];
  readonly notes: readonly string[];
}
