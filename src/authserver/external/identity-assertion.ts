// Enterprise-Managed Authorization (MCP extension io.modelcontextprotocol/enterprise-managed-
// authorization): the token endpoint's JWT bearer grant (RFC 7523) for Identity Assertion JWT
// Authorization Grants (ID-JAG). An MCP client that signed the user in at an enterprise IdP gets
// an ID-JAG there (RFC 8693 token exchange of the ID token) and redeems it here, authenticated as
// the client it registered here, for an access token with no consent page: the IdP's policy stood
// in for consent.
//
// Runs after client authentication (../client-auth.ts) and before the SDK's token handler, which
// answers every other grant type. The checks (RFC 7521 §5.2, RFC 7523 §3, the extension's §5.1):
// the client is confidential, registered the grant type and is allowed by the provider; the JWT is
// signed by the key of a provider configured with `identityAssertions` (its jwks_uri; asymmetric
// algorithms of its allowlist), typed `oauth-id-jag+jwt`, for this issuer (`aud`), issued to this
// client (`client_id`), unexpired (30 s skew), not longer-lived than `maxLifetime`, with `iat`,
// `sub` and a `jti` seen once (remembered in the store until `exp`); its `resource` is an API that
// trusts this server; the scopes are what the client asked for (else what the ID-JAG names, else
// the API's defaults) within the ID-JAG's `scope` and the API's scopes. The subject becomes a
// Gatehouse user exactly as at external sign-in (claims.ts, externalUser), of the API's tenant.
import type { Request, RequestHandler, Response } from 'express';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Store } from '../../store/store.ts';
import type { Logger } from '../../log.ts';
import type { ExternalProviderConfig, IdentityAssertionsConfig } from '../../config/oidc-login-schema.ts';
import type { ClientLookup } from '../clients.ts';
import { sha256 } from '../clients.ts';
import type { AuthEvents } from '../events.ts';
import { OFFLINE_ACCESS, type GrantInfo, type TokenIssuer } from '../tokens.ts';
import { matchResource, sameResource } from '../resources.ts';
import { userMayReach } from '../tenancy.ts';
import { mapClaims } from './claims.ts';
import { ExternalSignInError, OidcClient } from './oidc-client.ts';
import { externalUser } from './sign-in.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ID_JAG_TYP = 'oauth-id-jag+jwt';
/** Clock skew allowed on exp, nbf and iat (seconds). */
const SKEW_S = 30;
const TOKEN = '/oauth/token';
const MAX_ASSERTION_LENGTH = 16 * 1024;

/** What a grant may be given for one API: the scopes it knows, and those given when nothing narrows them. */
export interface ApiScopes {
  supported: ReadonlySet<string>;
  defaults: readonly string[];
}

export interface IdentityAssertionDeps {
  providers: readonly ExternalProviderConfig[];
  store: Store;
  tokens: TokenIssuer;
  events: AuthEvents;
  log: Logger;
  /** This server's issuer for the request: what `aud` must name. */
  issuer: (req: Request) => string;
  publicBase: (req: Request) => string;
  apiPaths: readonly string[];
  /** The scopes of the API a resource URL (as matchResource gives it) names. */
  scopesOf: (audience: string) => ApiScopes;
  /** The tenant of the API a resource names (tenancy.ts). */
  tenantOf: (resource: string) => string | undefined;
  /** The declared tenant ids, `default` included: what a tenantClaim may name. */
  tenants: readonly string[];
}

/** An RFC 6749 §5.2 error answer. */
class Refusal extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_grant' | 'unauthorized_client' | 'invalid_target' | 'invalid_scope' | 'server_error',
    message: string,
    readonly status = 400,
    /** A jti seen before: recorded as a replay. */
    readonly replay = false,
  ) {
    super(message);
  }
}

interface Asserting {
  config: ExternalProviderConfig & { identityAssertions: IdentityAssertionsConfig };
  client: OidcClient;
}

/** Whether any provider redeems identity assertions (the grant is then on, and advertised). */
export function identityAssertionsEnabled(providers: readonly ExternalProviderConfig[]): boolean {
  return providers.some((p) => p.identityAssertions?.enabled === true);
}

/** Whether a client registered the JWT bearer grant type (RFC 7591 `grant_types`). */
export function declaresJwtBearer(grantTypes: readonly string[] | undefined): boolean {
  return grantTypes?.includes(JWT_BEARER) === true;
}

export function identityAssertionGrant(deps: IdentityAssertionDeps): RequestHandler {
  const byIssuer = new Map<string, Asserting>();
  for (const config of deps.providers) {
    if (config.identityAssertions?.enabled !== true) continue;
    byIssuer.set(config.issuer, { config: config as Asserting['config'], client: new OidcClient(config) });
  }

  return async (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.grant_type !== JWT_BEARER) return next();
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    const clientId = String(body.client_id);
    const context: { provider?: string; userId?: string; resource?: string } = {};
    try {
      const answer = await redeem(req, body, res.locals.client as ClientLookup | undefined, clientId, context);
      res.status(200).json(answer);
    } catch (error) {
      const refusal = error instanceof Refusal ? error : undefined;
      if (!refusal) deps.log.error({ err: error }, 'authorization server: identity assertion failed unexpectedly');
      const { error: code, message, status } = refusal ?? new Refusal('server_error', 'internal error', 500);
      deps.events.emit(refusal?.replay === true ? 'identity-assertion-replayed' : 'identity-assertion-refused', {
        endpoint: TOKEN,
        status,
        clientId,
        userId: context.userId,
        resource: context.resource,
        detail: `identity assertion${context.provider ? ` of ${context.provider}` : ''} refused: ${code}: ${message}`,
      });
      res.status(status).json({ error: code, error_description: message });
    }
  };

  async function redeem(req: Request, body: Record<string, unknown>, found: ClientLookup | undefined, clientId: string, context: { provider?: string; userId?: string; resource?: string }) {
    for (const name of ['assertion', 'scope', 'resource']) {
      if (body[name] !== undefined && typeof body[name] !== 'string') throw new Refusal('invalid_request', `${name} must be given once`);
    }
    const assertion = body.assertion;
    if (typeof assertion !== 'string' || assertion === '') throw new Refusal('invalid_request', 'assertion is required (the ID-JAG from your identity provider)');
    if (assertion.length > MAX_ASSERTION_LENGTH) throw new Refusal('invalid_request', 'assertion is too long');
    if (!found || !('client' in found)) throw new Refusal('invalid_request', 'the client is not authenticated');
    // The ID-JAG names the client it was issued to; only a client that proves who it is can redeem it.
    if (found.secretHash === undefined) throw new Refusal('unauthorized_client', 'identity assertions are redeemed by confidential clients only (client_secret_basic or client_secret_post)');
    if (!declaresJwtBearer(found.client.grant_types)) throw new Refusal('unauthorized_client', `this client did not register the grant type ${JWT_BEARER}`);

    // Which provider: by the (not yet verified) issuer; its keys then decide.
    let unverified: JWTPayload;
    try {
      decodeProtectedHeader(assertion);
      unverified = decodeJwt(assertion);
    } catch {
      throw new Refusal('invalid_grant', 'the assertion is not a JWT');
    }
    const provider = typeof unverified.iss === 'string' ? byIssuer.get(unverified.iss) : undefined;
    if (!provider) throw new Refusal('invalid_grant', `the assertion's issuer ${typeof unverified.iss === 'string' ? `"${clip(unverified.iss, 200)}" ` : ''}is not an identity provider trusted for identity assertions here`);
    const { config } = provider;
    const settings = config.identityAssertions;
    context.provider = config.name;
    if (settings.clients !== undefined && !settings.clients.includes(clientId)) {
      throw new Refusal('unauthorized_client', `this client may not redeem identity assertions of ${config.name}`);
    }

    const issuer = deps.issuer(req);
    const claims = await verify(provider, assertion, issuer);
    if (claims.client_id !== clientId) throw new Refusal('invalid_grant', 'the assertion was issued to another client (client_id)');
    const now = Math.floor(Date.now() / 1000);
    const exp = claims.exp!;
    const iat = claims.iat!;
    if (iat > now + SKEW_S) throw new Refusal('invalid_grant', 'the assertion was issued in the future (iat)');
    if (exp - iat > settings.maxLifetime / 1000) throw new Refusal('invalid_grant', `the assertion lives longer than this server accepts (${Math.floor(settings.maxLifetime / 1000)} s from iat to exp)`);

    // The resource: an API of this gateway that trusts this server; a resource parameter must agree.
    const resource = claims.resource;
    if (typeof resource !== 'string') throw new Refusal('invalid_grant', 'the assertion names no resource');
    const matched = matchResource(resource, deps.publicBase(req), deps.apiPaths);
    if ('problem' in matched) throw new Refusal('invalid_target', matched.problem);
    context.resource = matched.audience;
    if (typeof body.resource === 'string' && !sameResource(body.resource, matched.audience)) throw new Refusal('invalid_target', 'resource differs from the assertion\'s resource');

    const scopes = grantedScopes(deps.scopesOf(matched.audience), typeof body.scope === 'string' ? body.scope : undefined, claims.scope);

    // Single use: the jti is remembered (per issuer) until the assertion expires anyway.
    const fresh = await deps.store.addGrant({ key: `id-jag:${sha256(`${config.issuer}\n${String(claims.jti)}`)}`, payload: { clientId, provider: config.name }, expiresAt: (exp + SKEW_S) * 1000 });
    if (!fresh) throw new Refusal('invalid_grant', 'the assertion was already redeemed (its jti was seen before): get a new one from your identity provider', 400, true);

    // The user, exactly as at external sign-in.
    const mapped = mapClaims(config, claims);
    if ('problem' in mapped) throw new Refusal('invalid_grant', `the assertion does not name a Gatehouse user: ${mapped.problem}`);
    if (mapped.tenant !== undefined && !deps.tenants.includes(mapped.tenant)) throw new Refusal('invalid_grant', `the organisation the assertion names ("${clip(mapped.tenant, 80)}") is not one this gateway serves`);
    let user;
    try {
      user = await externalUser(deps.store, deps.log, config, mapped.username, mapped.tenant, 'identity assertion (ID-JAG)');
    } catch (error) {
      if (error instanceof ExternalSignInError) throw new Refusal('invalid_grant', error.message);
      throw error;
    }
    context.userId = user.id;
    if (!userMayReach(user, deps.tenantOf(matched.audience))) throw new Refusal('invalid_grant', `the account ${user.username} cannot be used with this API: it belongs to another organisation`);

    const info: GrantInfo = {
      clientId,
      userId: user.id,
      username: user.username,
      scopes,
      resource: matched.audience,
      issuer,
      familyId: deps.tokens.newFamilyId(),
      authTime: Date.now(),
      idp: config.name,
      ...(mapped.groups !== undefined && { groups: mapped.groups }),
    };
    // No refresh token: the client asks the IdP for a new ID-JAG instead, so the IdP's policy is
    // asked again (the extension's design); offline_access is never granted here.
    const tokens = await deps.tokens.respond(info, scopes, undefined);
    await deps.store.markOAuthClientUsed(clientId, Date.now());
    deps.events.emit('identity-assertion-redeemed', {
      endpoint: TOKEN,
      status: 200,
      clientId,
      userId: user.id,
      resource: matched.audience,
      detail: `access token issued for an identity assertion of ${config.name} as ${user.username} (scope: ${tokens.scope ?? ''})`,
    });
    return tokens;
  }

  /** The verified claims, or a refusal saying which check failed. */
  async function verify(provider: Asserting, assertion: string, issuer: string): Promise<JWTPayload & { exp: number; iat: number }> {
    let keys;
    try {
      keys = await provider.client.keys();
    } catch (error) {
      if (error instanceof ExternalSignInError) throw new Refusal('server_error', error.message, error.status >= 500 ? error.status : 502);
      throw new Refusal('server_error', `the keys of ${provider.config.name} could not be read`, 502);
    }
    try {
      const { payload } = await jwtVerify(assertion, keys, {
        issuer: provider.config.issuer,
        audience: issuer,
        typ: ID_JAG_TYP,
        algorithms: [...provider.config.identityAssertions.algorithms],
        clockTolerance: SKEW_S,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'resource'],
      });
      return payload as JWTPayload & { exp: number; iat: number };
    } catch (error) {
      throw verificationRefusal(error, provider.config.name, issuer);
    }
  }
}

function verificationRefusal(error: unknown, provider: string, issuer: string): Refusal {
  if (error instanceof joseErrors.JWTExpired) return new Refusal('invalid_grant', 'the assertion has expired (exp)');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const { claim, reason } = error;
    if (claim === 'aud') return new Refusal('invalid_grant', `the assertion is for another audience: aud must be this server's issuer ${issuer}`);
    if (claim === 'typ') return new Refusal('invalid_grant', `the assertion's typ header must be ${ID_JAG_TYP}`);
    if (reason === 'missing') return new Refusal('invalid_grant', `the assertion lacks the ${claim} claim`);
    return new Refusal('invalid_grant', `the assertion's ${claim} claim is not valid: ${clip(error.message, 200)}`);
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new Refusal('invalid_grant', 'the assertion\'s signature algorithm is not accepted (asymmetric algorithms of the provider\'s allowlist only; never none)');
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) return new Refusal('invalid_grant', `no signing key of ${provider} matches the assertion`);
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new Refusal('invalid_grant', `the assertion's signature does not verify with ${provider}'s keys`);
  if (error instanceof joseErrors.JWKSTimeout) return new Refusal('server_error', `the keys of ${provider} could not be read in time`, 504);
  if (error instanceof joseErrors.JWKSInvalid || (error instanceof TypeError && /fetch failed/i.test(error.message))) return new Refusal('server_error', `the keys of ${provider} could not be read`, 502);
  if (error instanceof joseErrors.JOSEError) return new Refusal('invalid_grant', `the assertion is not a valid signed JWT: ${clip(error.message, 200)}`);
  return new Refusal('invalid_grant', 'the assertion is not a valid signed JWT');
}

/**
 * The scopes of the token: what the client asked for (else what the ID-JAG names, else the API's
 * defaults), within the ID-JAG's scope when it names one and within the API's scopes; never
 * offline_access. Scopes unknown to the API in the request are refused, as at /oauth/authorize.
 */
export function grantedScopes(api: ApiScopes, requested: string | undefined, assertionScope: unknown): string[] {
  const split = (text: string) => [...new Set(text.split(' ').filter((s) => s !== ''))];
  const asked = requested === undefined ? [] : split(requested).filter((s) => s !== OFFLINE_ACCESS);
  const unknown = asked.filter((s) => !api.supported.has(s));
  if (unknown.length > 0) throw new Refusal('invalid_scope', `unsupported scope: ${unknown.join(' ')}`);
  if (assertionScope !== undefined && typeof assertionScope !== 'string') throw new Refusal('invalid_grant', 'the assertion\'s scope claim must be a space-separated string');
  const allowed = assertionScope === undefined ? undefined : new Set(split(assertionScope));
  const wanted = asked.length > 0 ? asked : allowed !== undefined ? [...allowed] : [...api.defaults];
  const granted = wanted.filter((s) => s !== OFFLINE_ACCESS && api.supported.has(s) && (allowed === undefined || allowed.has(s)));
  if (granted.length === 0) {
    throw new Refusal('invalid_scope', asked.length > 0 ? `scope ${asked.join(' ')} is not within the assertion's scope (${[...(allowed ?? [])].join(' ')})` : 'the assertion grants no scope this API knows');
  }
  return granted;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
