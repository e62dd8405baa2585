// Non-MCP routes of the listener (OAuth metadata, the authorization server's pages, later the
// admin API): matched by exact path or prefix before API lookup. Built once per config load.
// Every route is added with the Host/Origin policy that guards it, and the guard runs before the
// handler: these routes put the request's host into URLs (resource, issuer, endpoints), so they
// need the check as much as the MCP endpoint does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkHostAndOrigin, type OriginPolicy } from './guards.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void | Promise<void>;

function guarded(origin: OriginPolicy, handler: RouteHandler): RouteHandler {
  return (req, res, path) => {
    checkHostAndOrigin(req, origin);
    return handler(req, res, path);
  };
}

export class Routes {
  private readonly exact = new Map<string, RouteHandler>();
  private readonly prefixes: Array<[string, RouteHandler]> = [];

  /**
   * `path` ending in "/*" matches that prefix; anything else matches exactly. `origin` is checked
   * before the handler; it is left out only where the listener itself checked every request
   * first (the admin listener).
   */
  add(path: string, handler: RouteHandler, origin: OriginPolicy | undefined): this {
    const checked = origin ? guarded(origin, handler) : handler;
    if (path.endsWith('/*')) this.prefixes.push([path.slice(0, -1), checked]);
    else this.exact.set(path, checked);
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
