// The `x-mcp-header` declarations of the tools behind a bridge, by the name a client calls them
// (SEP-2243: a 2026-07-28 client mirrors the declared arguments of a `tools/call` into
// `Mcp-Param-*` headers, which the server checks against the body). Both bridges need them: the
// one serving 2026-07-28 clients checks their headers in the place of its 2025 server, which never
// sees them; the one serving 2025 clients sends them to its 2026-07-28 server. They are learned
// from the `tools/list` answers the bridge passes on; a call to a tool not seen yet (the client
// listed on another node, or not at all) fetches the list once.
import { isObject, type JsonObject } from '../mcp/jsonrpc.ts';
import type { ParamHeader } from '../mcp/routing-headers.ts';

/** Lists the server's tools (every page); rejects when the server does not answer in time. */
export type ToolLister = () => Promise<readonly unknown[]>;

/** How long a fetched list vouches for a name it lacks (so unknown names do not refetch per call). */
const UNKNOWN_FOR_MS = 30_000;
/** A bound on names kept: a server with more tools than this is re-learned from its lists. */
const MAX_TOOLS = 10_000;
const NONE: readonly ParamHeader[] = Object.freeze([]);

/**
 * One fact per tool of a server (its `x-mcp-header` declarations, whether it runs as a task…),
 * by name, learned from the `tools/list` answers a bridge passes on; a name not seen yet fetches
 * the list once.
 */
export class ToolBook<T> {
  /** `read` takes the fact from a listed tool; `none` is the fact of a tool the server does not list. */
  constructor(
    private readonly read: (tool: JsonObject) => T,
    private readonly none: T,
  ) {}

  private readonly byName = new Map<string, T>();
  private fetchedAt = 0;
  private fetching: Promise<void> | undefined;

  /** Takes the tools of a `tools/list` result (one page). */
  learn(result: unknown): void {
    if (!isObject(result) || !Array.isArray(result.tools)) return;
    for (const tool of result.tools) {
      if (!isObject(tool) || typeof tool.name !== 'string') continue;
      if (this.byName.size >= MAX_TOOLS && !this.byName.has(tool.name)) this.byName.clear();
      this.byName.set(tool.name, this.read(tool));
    }
  }

  /** The tool's fact as learned from the lists so far (undefined: not seen). */
  known(name: string): T | undefined {
    return this.byName.get(name);
  }

  /** Forgets every tool (the server behind the bridge changed). */
  clear(): void {
    this.byName.clear();
    this.fetchedAt = 0;
  }

  /** The tool's fact: at once when known (nearly always), else after one fetch of the list. */
  of(name: string, list: ToolLister): T | Promise<T> {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    if (Date.now() - this.fetchedAt < UNKNOWN_FOR_MS) return this.none;
    this.fetching ??= list()
      .then((tools) => this.learn({ tools }))
      .catch(() => undefined) // the call itself will meet the server's trouble, and say so
      .finally(() => {
        this.fetchedAt = Date.now();
        this.fetching = undefined;
      });
    return this.fetching.then(() => this.byName.get(name) ?? this.none);
  }
}

/** The tools' `x-mcp-header` declarations; `scan` reads an input schema: what a server enforces, or what a client sends. */
export function toolHeaderBook(scan: (inputSchema: unknown) => readonly ParamHeader[]): ToolBook<readonly ParamHeader[]> {
  return new ToolBook((tool) => scan(tool.inputSchema), NONE);
}

/** Every page of `tools/list` through a request function, at most `maxPages`. */
export async function listAllTools(request: (params: JsonObject) => Promise<unknown>, maxPages = 50): Promise<unknown[]> {
  const tools: unknown[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const result = await request(cursor === undefined ? {} : { cursor });
    if (!isObject(result)) break;
    if (Array.isArray(result.tools)) tools.push(...result.tools);
    if (typeof result.nextCursor !== 'string') break;
    cursor = result.nextCursor;
  }
  return tools;
}
