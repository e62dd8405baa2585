// Redirect URIs: which may be registered, and when a requested one matches a registered one.
// Matching is exact, except that a loopback redirect URI (http://127.0.0.1, http://localhost,
// http://[::1]) matches with any port, as RFC 8252 §7.3 asks for native apps that pick a free
// port at run time. That rule is the SDK's `redirectUriMatches`.
import { redirectUriMatches } from '@modelcontextprotocol/sdk/server/auth/handlers/authorize.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Schemes that run code or read local data in a user agent: never a redirect target. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'filesystem:', 'ws:', 'wss:', 'ftp:']);

/** Why a redirect URI may not be registered, or undefined if it may. */
export function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `"${uri}" is not an absolute URL`;
  }
  if (url.hash !== '' || uri.includes('#')) return `"${uri}" must not contain a fragment`;
  if (url.username !== '' || url.password !== '') return `"${uri}" must not contain credentials`;
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `"${uri}" uses the ${url.protocol} scheme, which is not allowed`;
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) return `"${uri}": http:// is allowed for loopback addresses only (use https://)`;
  if (url.protocol === 'https:' && url.hostname === '') return `"${uri}" has no host`;
  // Anything else is a private-use scheme of a native app (RFC 8252 §7.1), e.g. cursor://…
  return undefined;
}

export function redirectMatches(requested: string, registered: readonly string[]): boolean {
  return registered.some((r) => redirectUriMatches(requested, r));
}

/** Adds the authorization response's parameters to the client's redirect URI, keeping its own query. */
export function withParams(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}
