// The URL clients use to reach Gatehouse. OAuth clients compare the protected resource metadata's
// `resource` with the URL they were given character for character, so it must be rebuilt exactly:
// the configured publicUrl; else, behind a trusted proxy, X-Forwarded-Proto/Host; else the Host
// header, with https when the listener serves TLS. Forwarded headers are ignored unless
// trustProxy is set: anyone can send them.
// A host taken from the request must have passed the Host check first (src/http/guards.ts, run on
// the MCP endpoint and on every route): it is the same host (`requestHost`), and a config that
// would build URLs from an unchecked host is refused at load (src/auth/check.ts).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { GatehouseError } from '../errors.ts';
import { firstValue, requestHost } from '../http/guards.ts';
import type { AuthContext } from './plan.ts';
import { forwardedScheme } from '../http/forwarded-from.ts';

/** The public base URL (scheme, host, optional path prefix; no trailing slash) for a request. */
export type PublicBase = (req: IncomingMessage) => string;

export const PRM_PREFIX = '/.well-known/oauth-protected-resource';

export function compilePublicBase(config: { readonly publicUrl?: string | undefined; readonly trustProxy: boolean }): PublicBase {
  if (config.publicUrl !== undefined) {
    const fixed = config.publicUrl.replace(/\/+$/, '');
    return () => fixed;
  }
  if (config.trustProxy) {
    return (req) => {
      const proto = firstValue(req.headers['x-forwarded-proto'])?.toLowerCase();
      return `${proto === 'https' || proto === 'http' ? proto : schemeOf(req)}://${checkedHost(requestHost(req, true))}`;
    };
  }
  return (req) => `${schemeOf(req)}://${checkedHost(requestHost(req, false))}`;
}

/**
 * The scheme the client used to reach this listener: https when it serves TLS (listen.tls); for a
 * request another node forwarded (src/cluster/), the scheme the client used with that node.
 */
function schemeOf(req: IncomingMessage): 'http' | 'https' {
  return (req.socket as TLSSocket | undefined)?.encrypted === true ? 'https' : (forwardedScheme(req) ?? 'http');
}

/** Resource URL (RFC 8707/9728) of an API: the base plus the API path exactly as configured. */
export function resourceUrl(base: string, apiPath: string): string {
  return base + apiPath;
}

/** Protected Resource Metadata URL of an API (RFC 9728 §3.1: the well-known prefix before the path). */
export function metadataUrl(base: string, apiPath: string): string {
  return base + PRM_PREFIX + apiPath;
}

export function authContextFor(req: IncomingMessage, api: string, apiPath: string, publicBase: PublicBase): AuthContext {
  const base = publicBase(req);
  return { req, api, publicBase: base, resourceUrl: resourceUrl(base, apiPath), metadataUrl: metadataUrl(base, apiPath) };
}

// The host ends up inside URLs and quoted WWW-Authenticate parameters: only host[:port] characters.
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function checkedHost(host: string | undefined): string {
  if (host === undefined || host === '') return 'localhost';
  if (!HOST.test(host)) throw new GatehouseError('GH_BAD_HEADER', 'Bad Request: the Host (or X-Forwarded-Host) header is not a valid host[:port]');
  return host;
}
