// RFC 7662 token introspection, for authorization servers that issue opaque tokens. Gatehouse
// authenticates as a confidential client (HTTP Basic). Active answers are cached briefly (at most
// CACHE_MS, never past the token's exp) keyed by the token's digest, so a busy agent does not cost
// one round trip per request; a token revoked at the server is refused at most CACHE_MS later.
// Inactive answers are not cached: a wrong token should not fill the cache.
import { createHash } from 'node:crypto';
import { GatehouseError } from '../errors.ts';

export const CACHE_MS = 30_000;
const MAX_ENTRIES = 10_000;

export interface IntrospectionConfig {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

export type Introspected = Readonly<Record<string, unknown>>;

export class Introspector {
  private readonly cache = new Map<string, { claims: Introspected; until: number }>();
  private readonly authorization: string;

  constructor(private readonly config: IntrospectionConfig) {
    // RFC 6749 §2.3.1: form-encode id and secret before Base64.
    const basic = `${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret)}`;
    this.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  }

  /** The server's answer for an active token, or undefined for an inactive one. Throws GH_AUTH_UNAVAILABLE. */
  async introspect(token: string, now = Date.now()): Promise<Introspected | undefined> {
    const digest = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(digest);
    if (cached && cached.until > now) return cached.claims;
    if (cached) this.cache.delete(digest);
    const claims = await this.ask(token);
    if (claims.active !== true) return undefined;
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity;
    const until = Math.min(now + CACHE_MS, exp);
    if (until > now) {
      if (this.cache.size >= MAX_ENTRIES) this.evict(now);
      this.cache.set(digest, { claims, until });
    }
    return claims;
  }

  private async ask(token: string): Promise<Introspected> {
    let response: Response;
    try {
      response = await fetch(this.config.url, {
        method: 'POST',
        headers: { authorization: this.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(5000),
        redirect: 'error',
      });
    } catch {
      throw new GatehouseError('GH_AUTH_UNAVAILABLE', 'Service Unavailable: the introspection endpoint is unreachable; try again later', { 'retry-after': '5' });
    }
    const body = (await response.json().catch(() => undefined)) as unknown;
    if (!response.ok || body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new GatehouseError('GH_AUTH_UNAVAILABLE', `Service Unavailable: the introspection endpoint answered ${response.status}; try again later`, { 'retry-after': '5' });
    }
    return body as Introspected;
  }

  private evict(now: number): void {
    for (const [key, entry] of this.cache) if (entry.until <= now) this.cache.delete(key);
    // Still full: drop the oldest quarter (Map keeps insertion order).
    let drop = this.cache.size >= MAX_ENTRIES ? MAX_ENTRIES / 4 : 0;
    for (const key of this.cache.keys()) {
      if (drop-- <= 0) break;
      this.cache.delete(key);
    }
  }
}
