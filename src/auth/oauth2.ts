// oauth2: Gatehouse as an OAuth 2.1 protected resource (MCP authorization spec). Without a token
// the client gets 401 with `resource_metadata` pointing at our Protected Resource Metadata
// (RFC 9728), which names the authorization server; tokens must be issued for this API's resource
// URL (RFC 8707 audience) by that server. Tokens are JWTs checked against the issuer's keys (the
// embedded authorization server's, a configured JWKS URL, or the one its metadata names), or
// opaque tokens checked by RFC 7662 introspection.
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { Principal } from './principal.ts';
import { withSubjectToken } from './subject-token.ts';
import { ABSENT, bearerToken, type AuthContext, type AuthOutcome, type AuthPlan } from './plan.ts';
import { bearerChallenge, insufficientScope, invalidToken, missingScopes, scopesOf, type ChallengeParams } from './challenge.ts';
import { ASYMMETRIC_ALGORITHMS, MAX_TOKEN_LENGTH, peekJwt, remoteKeys, unavailable, verifyJwt } from './jwt.ts';
import { discoveredKeys } from './discovery.ts';
import { Introspector, type IntrospectionConfig, type Introspected } from './introspection.ts';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../log.ts';

/**
 * The embedded authorization server as the token verifier sees it (filled in by the gateway when
 * an oauth2 plan names no issuer). `issuer` is a function when it follows the public base URL of
 * the request (no publicUrl configured), so that it matches what the client was told.
 */
export interface EmbeddedIssuer {
  readonly issuer: string | ((publicBase: string) => string);
  /** Keys that verify the embedded server's access tokens. */
  readonly keys: JWTVerifyGetKey;
  /**
   * Why a token that verified must still be refused (revoked, its grant ended, its user
   * disabled), or undefined. The embedded server's tokens are JWTs; this is their denylist.
   */
  readonly refusal?: (claims: JWTPayload) => Promise<string | undefined>;
}

export interface OAuth2PlanConfig {
  readonly issuer?: string | undefined;
  readonly jwksUrl?: string | undefined;
  readonly introspection?: IntrospectionConfig | undefined;
  readonly audience?: string | undefined;
  readonly scopes: readonly string[];
  readonly requiredScopes: readonly string[];
}

export interface OAuth2PlanOptions {
  readonly apiName: string;
  readonly embedded?: EmbeddedIssuer | undefined;
  /** A later plan also reads bearer tokens: JWTs of other issuers are left to it. */
  readonly yieldForeign: boolean;
  readonly jwksCooldownMs?: number;
  readonly log: Logger;
  /** The API's tenant once tenants are declared: its principals carry it (a token's audience is this API already). */
  readonly tenant?: string | undefined;
}

/** Clock skew allowed on exp and nbf, in seconds. */
const CLOCK_TOLERANCE_S = 30;
/** The embedded server's access tokens are typed (RFC 9068); a JWT of another kind it signed is not one. */
const ACCESS_TOKEN_TYP = 'at+jwt';

export function oauth2Plan(config: OAuth2PlanConfig, options: OAuth2PlanOptions): AuthPlan {
  const embedded = config.issuer === undefined ? options.embedded : undefined;
  if (config.issuer === undefined && !embedded) throw new Error('oauth2 without issuer needs the embedded authorization server');
  const issuerFor = (ctx: AuthContext): string => {
    if (config.issuer !== undefined) return config.issuer;
    const value = embedded!.issuer;
    return typeof value === 'string' ? value : value(ctx.publicBase);
  };
  const keys: JWTVerifyGetKey | undefined = config.introspection
    ? undefined
    : embedded
      ? embedded.keys
      : config.jwksUrl !== undefined
        ? remoteKeys(config.jwksUrl, options.jwksCooldownMs)
        : discoveredKeys(config.issuer!, options.jwksCooldownMs);
  const introspector = config.introspection ? new Introspector(config.introspection) : undefined;
  const advertised = [...new Set([...config.scopes, ...config.requiredScopes])];
  const params = (ctx: AuthContext): ChallengeParams => [
    ['resource_metadata', ctx.metadataUrl],
    ['scope', advertised.join(' ')],
  ];

  const check = async (ctx: AuthContext, token: string, issuer: string, audience: string): Promise<Readonly<Record<string, unknown>> | GatehouseError> => {
    if (introspector) {
      const claims = await introspector.introspect(token);
      if (!claims) return invalidToken('token is not active', params(ctx));
      const problem = introspectedProblem(claims, config.issuer, audience);
      return problem === undefined ? claims : invalidToken(problem, params(ctx));
    }
    const rules = { issuer, audience, algorithms: ASYMMETRIC_ALGORITHMS, clockTolerance: CLOCK_TOLERANCE_S, ...(embedded ? { typ: ACCESS_TOKEN_TYP } : {}) };
    const verified = await verifyJwt(token, keys!, rules);
    if ('unavailable' in verified) return unavailable(verified.unavailable);
    if ('refused' in verified) return invalidToken(verified.refused, params(ctx));
    if (embedded?.refusal) {
      let refusal: string | undefined;
      try {
        refusal = await embedded.refusal(verified.claims);
      } catch {
        return unavailable('the token\'s revocation status could not be checked');
      }
      if (refusal !== undefined) return invalidToken(refusal, params(ctx));
    }
    return verified.claims;
  };

  return {
    type: 'oauth2',
    challenge: (ctx) => bearerChallenge(params(ctx)),
    resourceMetadata: (ctx) => ({
      resource: ctx.resourceUrl,
      authorization_servers: [issuerFor(ctx)],
      scopes_supported: advertised,
      bearer_methods_supported: ['header'],
      resource_name: options.apiName,
    }),
    async authenticate(ctx: AuthContext): Promise<AuthOutcome> {
      const token = bearerToken(ctx.req, MAX_TOKEN_LENGTH, params(ctx));
      if (token === undefined) return ABSENT;
      const issuer = issuerFor(ctx);
      if (!introspector) {
        const peeked = peekJwt(token);
        if (options.yieldForeign && (peeked === undefined || peeked.iss !== issuer)) return ABSENT;
        if (peeked === undefined) return { error: invalidToken('not a JWT', params(ctx)) };
      }
      // Logged with the refusal's reason and the token's subject where known, never the token.
      const refuse = (error: GatehouseError, sub?: unknown): AuthOutcome => {
        options.log.debug({ api: ctx.api, plan: 'oauth2', sub, reason: error.message }, 'authentication refused');
        return { error };
      };
      const claims = await check(ctx, token, issuer, config.audience ?? ctx.resourceUrl);
      if (claims instanceof GatehouseError) return refuse(claims);
      const scopes = scopesOf(claims);
      const missing = missingScopes(scopes, config.requiredScopes);
      if (missing.length > 0) return refuse(insufficientScope(config.requiredScopes, [['resource_metadata', ctx.metadataUrl]]), claims.sub);
      const sub = claims.sub;
      if (typeof sub !== 'string' || sub === '') return refuse(invalidToken('token has no sub claim', params(ctx)));
      const client = typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : undefined;
      const userName = typeof claims.preferred_username === 'string' ? claims.preferred_username : typeof claims.name === 'string' ? claims.name : undefined;
      const principal: Principal = {
        kind: 'user',
        id: sub,
        // Bound to the issuer, the user and the client: another client of the same user gets its own sessions.
        key: `oauth2:${issuer}:${sub}${client === undefined ? '' : `:${client}`}`,
        plan: 'oauth2',
        user: { id: sub, ...(userName !== undefined && { name: userName }) },
        claims: Object.freeze({ ...claims }),
        scopes: Object.freeze(scopes),
        ...(client !== undefined && { name: client }),
        ...(options.tenant !== undefined && { tenant: options.tenant }),
      };
      return { principal: withSubjectToken(principal, token) };
    },
  };
}

/** RFC 7662 answers carry the claims; the same checks a JWT gets, aud required (RFC 8707). */
function introspectedProblem(claims: Introspected, issuer: string | undefined, audience: string): string | undefined {
  const now = Date.now() / 1000;
  if (issuer !== undefined && claims.iss !== undefined && claims.iss !== issuer) return 'token from another issuer';
  const aud = claims.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(audience)) return 'token audience is not this API';
  if (typeof claims.exp === 'number' && claims.exp + CLOCK_TOLERANCE_S <= now) return 'token expired';
  if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_TOLERANCE_S > now) return 'token not yet valid';
  return undefined;
}
