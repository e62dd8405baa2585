// passthrough: the API's upstream does its own MCP OAuth and Gatehouse stays out of the way. The
// client's bearer token goes to the upstream as sent; the upstream's 401 comes back with its
// `resource_metadata` pointing at Gatehouse's metadata URL for the API, where Gatehouse serves the
// upstream's own metadata with `resource` rewritten to the URL the client uses. The client then
// gets its token from the upstream's authorization server.
// Trade-off (docs/auth.md): Gatehouse cannot check that the token is meant for it — only the
// upstream can judge its own tokens. Sessions are bound to a digest of the token, so another
// token holder cannot use them.
import { createHash } from 'node:crypto';
import { GatehouseError } from '../errors.ts';
import type { Principal } from './principal.ts';
import { bearerToken, type AuthContext, type AuthOutcome, type AuthPlan } from './plan.ts';
import { MAX_TOKEN_LENGTH } from './jwt.ts';
import { PRM_PREFIX } from './public-url.ts';

const METADATA_CACHE_MS = 60_000;

export function passthroughPlan(options: { readonly apiName: string; readonly upstreamUrl: string }): AuthPlan {
  const upstream = new URL(options.upstreamUrl);
  const upstreamPath = upstream.pathname === '/' ? '' : upstream.pathname;
  let learned: string | undefined;
  let cached: { metadata: Record<string, unknown>; until: number } | undefined;

  const learn = (url: string) => {
    // Only a URL on the upstream's own origin: Gatehouse fetches it, and a challenge is not a
    // place to pick arbitrary fetch targets from.
    try {
      if (new URL(url).origin === upstream.origin) learned = url;
    } catch {
      // not a URL: ignore
    }
  };

  const fetchMetadata = async (): Promise<Record<string, unknown>> => {
    const now = Date.now();
    if (cached && cached.until > now) return cached.metadata;
    const candidates = [...new Set([learned, `${upstream.origin}${PRM_PREFIX}${upstreamPath}`, `${upstream.origin}${PRM_PREFIX}`])].filter((u): u is string => u !== undefined);
    for (const url of candidates) {
      const metadata = await getJson(url);
      if (metadata && Array.isArray(metadata.authorization_servers)) {
        cached = { metadata, until: now + METADATA_CACHE_MS };
        return metadata;
      }
    }
    throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream of API "${options.apiName}" publishes no protected resource metadata`);
  };

  return {
    type: 'passthrough',
    async authenticate(ctx: AuthContext): Promise<AuthOutcome> {
      const token = bearerToken(ctx.req, MAX_TOKEN_LENGTH, [['resource_metadata', ctx.metadataUrl]]);
      const principal: Principal = {
        kind: 'anonymous',
        id: 'passthrough',
        key: token === undefined ? 'passthrough:none' : `passthrough:${createHash('sha256').update(token).digest('base64url').slice(0, 32)}`,
        plan: 'passthrough',
      };
      return {
        principal,
        forward: {
          token,
          rewriteChallenge: (value) => {
            const { rewritten, named } = rewriteResourceMetadata(value, ctx.metadataUrl);
            if (named !== undefined) learn(named);
            return rewritten;
          },
        },
      };
    },
    async resourceMetadata(ctx: AuthContext) {
      return { ...(await fetchMetadata()), resource: ctx.resourceUrl };
    },
  };
}

/** Points a challenge's `resource_metadata` at Gatehouse (adding it to a Bearer challenge without one). */
export function rewriteResourceMetadata(value: string, metadataUrl: string): { rewritten: string; named: string | undefined } {
  const found = /resource_metadata="([^"]*)"/i.exec(value);
  if (found) {
    const rewritten = value.slice(0, found.index) + `resource_metadata="${metadataUrl}"` + value.slice(found.index + found[0].length);
    return { rewritten, named: found[1] };
  }
  const bearer = /^(\s*Bearer)(?:\s+|$)/i.exec(value);
  if (!bearer) return { rewritten: value, named: undefined };
  const rest = value.slice(bearer[0].length);
  return { rewritten: `${bearer[1]} resource_metadata="${metadataUrl}"${rest === '' ? '' : `, ${rest}`}`, named: undefined };
}

async function getJson(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000), redirect: 'error' });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const body = (await response.json()) as unknown;
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
