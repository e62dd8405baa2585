// A gateway cache of list results that a 2026-07-28 server marks shareable (`cacheScope:
// "public"` with a `ttlMs`): one upstream round trip serves every agent of every API on that
// server until the server's time to live (at most `maxTtl`) runs out. Each agent still gets the
// result through its own response policies (the ACL filters it and marks the copy `private`),
// so sharing the upstream's answer never shares an agent's view. Off by default
// (`servers.<name>.listCache`); only sessionless (2026-07-28) requests with Gatehouse's own
// upstream credential are served from it: a 2025 session or a passed-through token may see
// another list. Concurrent misses for one list share one upstream request.
import { isObject, type JsonObject, type JsonRpcRequest } from '../mcp/jsonrpc.ts';

export const CACHEABLE_LISTS: ReadonlySet<string> = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']);

export interface ListCacheLimits {
  readonly maxTtl: number;
  readonly maxEntries: number;
}

interface Entry {
  readonly result: JsonObject;
  readonly expires: number;
}

export interface ListCacheStats {
  hits: number;
  misses: number;
  stored: number;
}

export class PublicListCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<unknown>>();
  readonly stats: ListCacheStats = { hits: 0, misses: 0, stored: 0 };

  constructor(public limits: ListCacheLimits) {}

  /**
   * What identifies a list for every client: the method, the revision the client speaks and the
   * params without `_meta` (a cursor pages the same list for everyone; capabilities and client
   * info do not change what a server lists). Undefined for requests the cache does not serve.
   */
  static keyOf(request: JsonRpcRequest, protocolVersion: string): string | undefined {
    if (!CACHEABLE_LISTS.has(request.method)) return undefined;
    const params = request.params;
    if (params !== undefined && !isObject(params)) return undefined;
    const { _meta: _ignored, ...rest } = params ?? {};
    return `${request.method}\n${protocolVersion}\n${JSON.stringify(rest)}`;
  }

  get(key: string, now = Date.now()): JsonObject | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    this.stats.hits++;
    return entry.result;
  }

  /** Keeps a result the server marked public with a time to live; says whether it did. */
  put(key: string, result: unknown, now = Date.now()): boolean {
    if (!isObject(result) || result.cacheScope !== 'public') return false;
    const ttl = result.ttlMs;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) return false;
    if (this.entries.size >= this.limits.maxEntries && !this.entries.has(key)) {
      // The oldest entry goes (a Map keeps insertion order).
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.delete(key);
    this.entries.set(key, { result, expires: now + Math.min(ttl, this.limits.maxTtl) });
    this.stats.stored++;
    return true;
  }

  /** Runs `fetch` once for concurrent misses of one key; the others wait for its outcome. */
  shared<T>(key: string, fetch: () => Promise<T>): { first: boolean; outcome: Promise<T> } {
    const running = this.pending.get(key) as Promise<T> | undefined;
    if (running) return { first: false, outcome: running };
    this.stats.misses++;
    const outcome = fetch().finally(() => this.pending.delete(key));
    this.pending.set(key, outcome);
    return { first: true, outcome };
  }

  /** A server said its lists changed: nothing cached of it holds any more. */
  clear(): void {
    this.entries.clear();
  }
}
