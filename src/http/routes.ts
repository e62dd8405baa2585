// Non-MCP routes of the listener (OAuth metadata, the authorization server's pages, later the
// admin API): matched by exact path or prefix before API lookup. Built once per config load.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void | Promise<void>;

export class Routes {
  private readonly exact = new Map<string, RouteHandler>();
  private readonly prefixes: Array<[string, RouteHandler]> = [];

  /** `path` ending in "/*" matches that prefix; anything else matches exactly. */
  add(path: string, handler: RouteHandler): this {
    if (path.endsWith('/*')) this.prefixes.push([path.slice(0, -1), handler]);
    else this.exact.set(path, handler);
    return this;
  }

  match(path: string): RouteHandler | undefined {
    const exact = this.exact.get(path);
    if (exact) return exact;
    for (const [prefix, handler] of this.prefixes) if (path.startsWith(prefix)) return handler;
    return undefined;
  }

  get size(): number {
    return this.exact.size + this.prefixes.length;
  }
}
