// Access tokens of the embedded server are JWTs, checked without asking anyone; this is what
// still refuses one that was revoked (RFC 7009), whose grant was ended (a revoked refresh token,
// a replayed code, a reused refresh token), or whose user was disabled since it was issued.
// Revocations are a denylist in the store ("jti:<id>", "grant:<id>"), so every node sees them;
// each node caches a token's verdict for a second, so a busy client costs the store one lookup a
// second rather than one per request. The node that revokes forgets its cached verdicts at once.
import type { JWTPayload } from 'jose';
import type { Store } from '../store/store.ts';

/** How long a verdict is trusted: the longest another node (or the CLI) waits to be heeded. */
export const VERDICT_CACHE_MS = 1000;
const CACHE_ENTRIES = 10_000;

interface Verdict {
  refusal: string | undefined;
  grantId: string | undefined;
  until: number;
}

export class TokenDenylist {
  private readonly verdicts = new Map<string, Verdict>();

  constructor(
    private readonly store: Store,
    private readonly cacheMs = VERDICT_CACHE_MS,
  ) {}

  /** Refuses one access token until it expires (`expiresAt`, ms). */
  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    await this.store.addRevocation(`jti:${jti}`, expiresAt);
    this.verdicts.delete(jti);
  }

  /** Refuses every access token of a grant issued before `until` (ms) would have passed. */
  async revokeGrant(grantId: string, until: number): Promise<void> {
    await this.store.addRevocation(`grant:${grantId}`, until);
    for (const [jti, verdict] of this.verdicts) if (verdict.grantId === grantId) this.verdicts.delete(jti);
  }

  /** Why a verified access token of this server must still be refused, or undefined. */
  async refusal(claims: JWTPayload): Promise<string | undefined> {
    const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
    if (jti === undefined) return 'token has no jti claim';
    const now = Date.now();
    const cached = this.verdicts.get(jti);
    if (cached && cached.until > now) return cached.refusal;
    const grantId = typeof claims.grant_id === 'string' ? claims.grant_id : undefined;
    const [revoked, user] = await Promise.all([
      this.store.findRevocations(grantId === undefined ? [`jti:${jti}`] : [`jti:${jti}`, `grant:${grantId}`]),
      typeof claims.sub === 'string' ? this.store.getUser(claims.sub) : undefined,
    ]);
    const refusal =
      revoked.length > 0 ? 'token revoked' : !user ? 'the token\'s user no longer exists' : user.disabled ? 'the token\'s user is disabled' : undefined;
    if (this.verdicts.size >= CACHE_ENTRIES) this.verdicts.clear();
    this.verdicts.set(jti, { refusal, grantId, until: now + this.cacheMs });
    return refusal;
  }
}
