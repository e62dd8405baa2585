// Protected Resource Metadata routes (RFC 9728): for each API whose plans publish metadata
// (oauth2, passthrough), at /.well-known/oauth-protected-resource<api path>, with and without a
// trailing slash (clients build the URL from the one they were given); and at the bare well-known
// URL for the first such API, for clients that look only at the root. Browser-based clients
// fetch it cross-origin, so it is served with CORS.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Routes } from '../http/routes.ts';
import type { ApiRuntime } from '../config/compile.ts';
import { GatehouseError } from '../errors.ts';
import { sendError, sendJson } from '../http/reply.ts';
import { PRM_PREFIX, authContextFor } from './public-url.ts';

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, OPTIONS',
  'access-control-allow-headers': 'mcp-protocol-version, authorization',
};

export function registerResourceMetadata(routes: Routes, apis: readonly ApiRuntime[]): void {
  let root = false;
  for (const api of apis) {
    const plan = api.auth.find((p) => p.resourceMetadata !== undefined);
    if (!plan) continue;
    const handler = async (req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...CORS, 'access-control-max-age': '86400' }).end();
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendError(res, new GatehouseError('GH_METHOD_NOT_ALLOWED', `Method Not Allowed: ${req.method}`, { allow: 'GET, OPTIONS' }));
        return;
      }
      const metadata = await plan.resourceMetadata!(authContextFor(req, api.name, api.path, api.publicBase));
      sendJson(res, 200, metadata, { ...CORS, 'cache-control': 'max-age=300' });
    };
    const path = PRM_PREFIX + (api.path === '/' ? '' : api.path);
    const twin = path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
    // Guarded like the API itself: the metadata names URLs built from the request's host.
    routes.add(path, handler, api.origin);
    if (twin !== PRM_PREFIX) routes.add(twin, handler, api.origin);
    if (!root) {
      routes.add(PRM_PREFIX, handler, api.origin);
      root = true;
    }
  }
}
