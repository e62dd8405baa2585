// The JWKS of an external authorization server found from its metadata: RFC 8414
// (/.well-known/oauth-authorization-server, inserted before the issuer's path) and OpenID Connect
// discovery (/.well-known/openid-configuration, inserted or appended). The metadata's `issuer`
// must equal the configured one (RFC 8414 §3.3), or a look-alike server could name its own keys.
// Looked up on first use, not at load: the issuer may be down when Gatehouse starts.
import type { JWTVerifyGetKey } from 'jose';
import { GatehouseError } from '../errors.ts';
import { remoteKeys } from './jwt.ts';

/** Wait between failed discoveries, so that a down issuer is not hammered by every request. */
const RETRY_AFTER_MS = 5000;

export function metadataCandidates(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    ...(path === '' ? [] : [`${url.origin}${path}/.well-known/openid-configuration`]),
  ];
}

/** A key resolver that discovers `jwks_uri` on first use and then behaves like a remote JWKS. */
export function discoveredKeys(issuer: string, jwksCooldownMs?: number): JWTVerifyGetKey {
  let keys: JWTVerifyGetKey | undefined;
  let pending: Promise<JWTVerifyGetKey> | undefined;
  let failedAt = 0;
  let failure = '';
  const resolve = async (): Promise<JWTVerifyGetKey> => {
    if (keys) return keys;
    if (Date.now() - failedAt < RETRY_AFTER_MS) throw new GatehouseError('GH_AUTH_UNAVAILABLE', failure);
    pending ??= discoverJwksUri(issuer)
      .then((uri) => (keys = remoteKeys(uri, jwksCooldownMs)))
      .catch((error: Error) => {
        failedAt = Date.now();
        failure = error.message;
        throw new GatehouseError('GH_AUTH_UNAVAILABLE', failure);
      })
      .finally(() => (pending = undefined));
    return pending;
  };
  return async (header, token) => (await resolve())(header, token);
}

export async function discoverJwksUri(issuer: string): Promise<string> {
  const tried: string[] = [];
  for (const candidate of metadataCandidates(issuer)) {
    let response: Response;
    try {
      response = await fetch(candidate, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000), redirect: 'error' });
    } catch {
      tried.push(`${candidate} (unreachable)`);
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      tried.push(`${candidate} (${response.status})`);
      continue;
    }
    const metadata = (await response.json().catch(() => undefined)) as { issuer?: unknown; jwks_uri?: unknown } | undefined;
    if (!metadata || typeof metadata.issuer !== 'string' || trimSlash(metadata.issuer) !== trimSlash(issuer)) {
      tried.push(`${candidate} (issuer does not match)`);
      continue;
    }
    if (typeof metadata.jwks_uri !== 'string') {
      tried.push(`${candidate} (no jwks_uri)`);
      continue;
    }
    return metadata.jwks_uri;
  }
  throw new Error(`the authorization server ${issuer} publishes no usable metadata: ${tried.join(', ')}`);
}

function trimSlash(value: string): string {
  return value.replace(/\/$/, '');
}
