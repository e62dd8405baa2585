// Resource indicators (RFC 8707): a token is for exactly one of Gatehouse's APIs, named by the
// URL clients use for it (the public base plus the API path, as the protected resource metadata
// states it; a trailing slash is tolerated as the API paths are). Anything else: invalid_target.
import { resourceUrl } from '../auth/public-url.ts';

function withoutTrailingSlash(url: string): string {
  return url.length > 1 && url.endsWith('/') ? url.slice(0, -1) : url;
}

/**
 * The audience a token for `resource` gets: the API's resource URL exactly as the protected
 * resource metadata states it (what the resource server checks), or why there is none.
 */
export function matchResource(resource: string | undefined, publicBase: string, apiPaths: readonly string[]): { audience: string } | { problem: string } {
  if (resource === undefined || resource === '') return { problem: 'resource is required (RFC 8707): the URL of the MCP endpoint the token is for' };
  try {
    new URL(resource);
  } catch {
    return { problem: `resource "${resource}" is not an absolute URL` };
  }
  if (/[?#]/.test(resource)) return { problem: `resource "${resource}" must not contain a query or fragment` };
  const wanted = withoutTrailingSlash(resource);
  const path = apiPaths.find((p) => withoutTrailingSlash(resourceUrl(publicBase, p)) === wanted);
  if (path === undefined) return { problem: `resource "${resource}" is not an API of this gateway that accepts tokens from this authorization server` };
  return { audience: resourceUrl(publicBase, path) };
}

/** Whether a resource named at the token endpoint is the one the grant is for (trailing slash tolerated). */
export function sameResource(given: string, bound: string): boolean {
  const normal = (url: string) => {
    try {
      return withoutTrailingSlash(new URL(url).href);
    } catch {
      return undefined;
    }
  };
  const a = normal(given);
  return a !== undefined && a === normal(bound);
}
