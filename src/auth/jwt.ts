// jwt: tokens from any issuer, verified locally with jose against a JWKS URL (cached; fetched again
// when a token names an unknown key id, so rotated keys are picked up), a PEM public key, or an
// HMAC secret. Issuer, audience, expiry, not-before and the algorithm are checked; `none` is never
// accepted, and HMAC is never accepted with a public key (that would let anyone holding the
// public key forge tokens). The verification core here is shared with the oauth2 plan.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Principal } from './principal.ts';
import { withSubjectToken } from './subject-token.ts';
import { ABSENT, bearerToken, type AuthContext, type AuthOutcome, type AuthPlan } from './plan.ts';
import { insufficientScope, invalidToken, missingScopes, scopesOf, type ChallengeParams } from './challenge.ts';

export const MAX_TOKEN_LENGTH = 8192;
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];

export type VerifyKey = KeyObject | Uint8Array | JWTVerifyGetKey;

export interface TokenRules {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly algorithms: readonly string[];
  /** Seconds of clock skew allowed on exp and nbf. */
  readonly clockTolerance: number;
  /** Required `typ` header (e.g. at+jwt, RFC 9068), when the issuer types its tokens. */
  readonly typ?: string;
}

/** What a token for another audience is told; another tenant's token is told the same. */
const FOREIGN_AS = 'token audience is not this API';

export type Verified = { readonly claims: JWTPayload } | { readonly refused: string } | { readonly unavailable: string };

/** Verifies signature and claims; never throws for a bad token. `exp` is required. */
export async function verifyJwt(token: string, key: VerifyKey, rules: TokenRules): Promise<Verified> {
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: rules.issuer,
      audience: [...(typeof rules.audience === 'string' ? [rules.audience] : rules.audience)],
      algorithms: [...rules.algorithms],
      clockTolerance: rules.clockTolerance,
      requiredClaims: ['exp'],
      ...(rules.typ === undefined ? {} : { typ: rules.typ }),
    });
    return { claims: payload };
  } catch (error) {
    return explain(error);
  }
}

function explain(error: unknown): Verified {
  if (error instanceof GatehouseError) return { unavailable: error.message };
  if (error instanceof errors.JWTExpired) return { refused: 'token expired' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return { refused: 'token not yet valid' };
      case 'aud':
        return { refused: FOREIGN_AS };
      case 'iss':
        return { refused: 'token from another issuer' };
      case 'exp':
        return { refused: 'token has no valid exp claim' };
      case 'typ':
        return { refused: 'not an access token (typ must be at+jwt)' };
      default:
        return { refused: `token claim ${error.claim} is invalid` };
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return { refused: 'token signature invalid' };
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return { refused: 'token algorithm not accepted' };
  if (error instanceof errors.JWKSNoMatchingKey) return { refused: 'no key of the issuer matches the token' };
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return { unavailable: 'the issuer\'s key set could not be fetched' };
  if (error instanceof errors.JOSEError && error.code !== 'ERR_JOSE_GENERIC') return { refused: 'malformed token' };
  if (error instanceof errors.JOSEError) return { unavailable: 'the issuer\'s key set could not be fetched' };
  if (error instanceof TypeError && /fetch/i.test(error.message)) return { unavailable: 'the issuer\'s key set could not be fetched' };
  return { refused: 'malformed token' };
}

/** A compact JWS whose header names an algorithm: the claims, unverified (only to route between plans). */
export function peekJwt(token: string): JWTPayload | undefined {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) return undefined;
  try {
    if (typeof decodeProtectedHeader(token).alg !== 'string') return undefined;
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

export function unavailable(reason: string): GatehouseError {
  return new GatehouseError('GH_AUTH_UNAVAILABLE', `Service Unavailable: ${reason}; try again later`, { 'retry-after': '5' });
}

/** A cached remote JWKS. The cooldown limits refetches that unknown key ids can cause. */
export function remoteKeys(url: string, cooldownMs = 30_000): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(url), { cooldownDuration: cooldownMs, cacheMaxAge: 10 * 60_000, timeoutDuration: 5000 });
}

export interface JwtPlanConfig {
  readonly issuer: string;
  readonly audience: string | string[];
  readonly jwksUrl?: string | undefined;
  readonly publicKey?: string | undefined;
  readonly secret?: string | undefined;
  readonly algorithms?: readonly string[] | undefined;
  readonly clockTolerance: number;
  readonly principalClaim: string;
  readonly requiredScopes: readonly string[];
}

export interface JwtPlanOptions {
  /** A later plan also reads bearer tokens: tokens that are not JWTs of this issuer are left to it. */
  readonly yieldForeign: boolean;
  /** Refetch cooldown of the JWKS (tests shorten it). */
  readonly jwksCooldownMs?: number;
  readonly log: Logger;
  /**
   * The API's tenant once tenants are declared. Its principals carry it; a token whose `tenant`
   * claim names another one, or whose subject is an agent the config gives another tenant, is
   * refused as an invalid token.
   */
  readonly tenant?: { readonly id: string; readonly foreignAgents: ReadonlySet<string> } | undefined;
}

/** The key and default algorithms a jwt plan's config describes. Throws on an unusable key. */
export function jwtKey(config: JwtPlanConfig, jwksCooldownMs?: number): { key: VerifyKey; algorithms: string[] } {
  if (config.secret !== undefined) {
    return { key: new TextEncoder().encode(config.secret), algorithms: [...(config.algorithms ?? HMAC_ALGORITHMS)] };
  }
  if (config.publicKey !== undefined) {
    const key = createPublicKey(config.publicKey);
    return { key, algorithms: [...(config.algorithms ?? algorithmsFor(key))] };
  }
  return { key: remoteKeys(config.jwksUrl!, jwksCooldownMs), algorithms: [...(config.algorithms ?? ASYMMETRIC_ALGORITHMS)] };
}

function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === 'secp384r1' ? ['ES384'] : curve === 'secp521r1' ? ['ES512'] : ['ES256'];
    }
    case 'ed25519':
      return ['EdDSA'];
    default:
      throw new Error(`unsupported public key type ${key.asymmetricKeyType ?? 'unknown'}`);
  }
}

export function jwtPlan(config: JwtPlanConfig, options: JwtPlanOptions): AuthPlan {
  const { key, algorithms } = jwtKey(config, options.jwksCooldownMs);
  const rules: TokenRules = { issuer: config.issuer, audience: config.audience, algorithms, clockTolerance: Math.ceil(config.clockTolerance / 1000) };
  const realm: ChallengeParams = [['realm', 'gatehouse']];
  return {
    type: 'jwt',
    challenge: () => 'Bearer realm="gatehouse"',
    async authenticate(ctx: AuthContext): Promise<AuthOutcome> {
      const token = bearerToken(ctx.req, MAX_TOKEN_LENGTH);
      if (token === undefined) return ABSENT;
      const peeked = peekJwt(token);
      if (options.yieldForeign && (peeked === undefined || peeked.iss !== config.issuer)) return ABSENT;
      // Logged with what names the token (issuer, subject), never the token.
      const refuse = (reason: string, error = invalidToken(reason)): AuthOutcome => {
        options.log.debug({ api: ctx.api, plan: 'jwt', iss: peeked?.iss, sub: peeked?.sub, reason }, 'authentication refused');
        return { error };
      };
      if (peeked === undefined) return refuse('not a JWT');
      const verified = await verifyJwt(token, key, rules);
      if ('unavailable' in verified) return refuse(verified.unavailable, unavailable(verified.unavailable));
      if ('refused' in verified) return refuse(verified.refused);
      const claims = verified.claims;
      const id = claims[config.principalClaim];
      const tenant = options.tenant;
      // Another tenant's token gets the answer of a token for another audience (logged as it is),
      // before anything of this API (its scopes) is said.
      if (tenant !== undefined && ((typeof claims.tenant === 'string' && claims.tenant !== tenant.id) || (typeof id === 'string' && tenant.foreignAgents.has(id)))) {
        return refuse('token of another tenant', invalidToken(FOREIGN_AS));
      }
      const scopes = scopesOf(claims);
      const missing = missingScopes(scopes, config.requiredScopes);
      if (missing.length > 0) return refuse(`missing scopes ${missing.join(' ')}`, insufficientScope(config.requiredScopes, realm));
      if (typeof id !== 'string' || id === '') return refuse(`token has no ${config.principalClaim} claim`);
      const principal: Principal = {
        kind: 'agent',
        id,
        key: `jwt:${config.issuer}:${id}`,
        plan: 'jwt',
        claims: Object.freeze({ ...claims }),
        scopes: Object.freeze(scopes),
        ...(typeof claims.name === 'string' && { name: claims.name }),
        ...(tenant !== undefined && { tenant: tenant.id }),
      };
      return { principal: withSubjectToken(principal, token) };
    },
  };
}
