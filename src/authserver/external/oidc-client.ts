// Gatehouse as an OpenID Connect relying party of one external provider, on oauth4webapi:
// discovery (kept once it succeeds, retried after a failure), the authorization URL (code flow,
// PKCE S256, state, nonce) and the callback (state check, code exchange, ID token validation:
// issuer, audience, azp, nonce, expiry by oauth4webapi, and the signature against the provider's
// JWKS, which oauth4webapi leaves optional for a token fetched over TLS but we do not).
// Every request has a timeout (the provider's `timeout`); errors become ExternalSignInError with a message fit for a page.
import * as oauth from 'oauth4webapi';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { ExternalProviderConfig } from '../../config/oidc-login-schema.ts';

/** Why an external sign-in failed, in words fit for the person and the log (never a code or token). */
export class ExternalSignInError extends Error {
  override readonly name = 'ExternalSignInError';
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a sign-in keeps between leaving for the provider and coming back. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
}

function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\./.test(url.hostname);
}

export class OidcClient {
  private discovering: Promise<oauth.AuthorizationServer> | undefined;
  private jwks: JWTVerifyGetKey | undefined;
  private readonly client: oauth.Client;
  private readonly insecure: boolean;

  constructor(readonly config: ExternalProviderConfig) {
    // A provider trusted for identity assertions only has no client here: discovery and keys only.
    this.client = { client_id: config.clientId ?? '' };
    // http only to loopback (the schema refuses any other http issuer).
    this.insecure = new URL(config.issuer).protocol === 'http:' && isLoopback(new URL(config.issuer));
  }

  get displayName(): string {
    return this.config.displayName ?? this.config.name;
  }

  private options(): { signal: AbortSignal; [oauth.allowInsecureRequests]?: boolean } {
    return { signal: AbortSignal.timeout(this.config.timeout), ...(this.insecure ? { [oauth.allowInsecureRequests]: true } : {}) };
  }

  /** The provider's metadata, discovered once; a failure is forgotten so the next sign-in tries again. */
  private metadata(): Promise<oauth.AuthorizationServer> {
    this.discovering ??= (async () => {
      const issuer = new URL(this.config.issuer);
      try {
        const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...this.options() }));
        if (!as.authorization_endpoint || !as.token_endpoint || !as.jwks_uri) throw new Error('its discovery document names no authorization endpoint, token endpoint or jwks_uri');
        return as;
      } catch (error) {
        this.discovering = undefined;
        throw unreachable(this.displayName, 'discovery', error);
      }
    })();
    return this.discovering;
  }

  /**
   * The provider's signing keys, from its discovery document's `jwks_uri` (jose fetches and caches
   * them, and fetches again when a token names an unknown key id, at most every 30 s).
   */
  async keys(): Promise<JWTVerifyGetKey> {
    if (this.jwks) return this.jwks;
    const as = await this.metadata();
    const url = new URL(as.jwks_uri!);
    if (url.protocol !== 'https:' && !(this.insecure && isLoopback(url))) {
      throw new ExternalSignInError(502, 'Provider error', `${this.displayName}'s jwks_uri must be https (${clip(url.href)})`);
    }
    this.jwks ??= createRemoteJWKSet(url, { timeoutDuration: this.config.timeout, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
    return this.jwks;
  }

  /** Where to send the browser, with what to keep for the callback. */
  async start(redirectUri: string): Promise<{ url: URL; pending: PendingSignIn }> {
    const as = await this.metadata();
    const pending = { state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), verifier: oauth.generateRandomCodeVerifier() };
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: this.client.client_id,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: this.config.scopes.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
    }).toString();
    return { url, pending };
  }

  /** The validated ID token claims of the sign-in that came back to `callback`. */
  async finish(callback: URL, redirectUri: string, pending: PendingSignIn): Promise<oauth.IDToken> {
    const as = await this.metadata();
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, this.client, callback, pending.state);
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError) {
        const denied = error.error === 'access_denied';
        throw new ExternalSignInError(denied ? 403 : 400, denied ? 'Sign-in refused' : 'Sign-in failed', `${this.displayName} answered ${clip(error.error)}${error.error_description ? `: ${clip(error.error_description)}` : ''}.`);
      }
      throw new ExternalSignInError(400, 'Sign-in failed', `The answer from ${this.displayName} is not valid: ${clip((error as Error).message)}.`);
    }
    let response: Response;
    try {
      response = await oauth.authorizationCodeGrantRequest(as, this.client, this.clientAuth(as), params, redirectUri, pending.verifier, this.options());
    } catch (error) {
      throw unreachable(this.displayName, 'token endpoint', error);
    }
    let result: oauth.TokenEndpointResponse;
    try {
      result = await oauth.processAuthorizationCodeResponse(as, this.client, response, { expectedNonce: pending.nonce, requireIdToken: true });
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError) {
        throw new ExternalSignInError(502, 'Sign-in failed', `${this.displayName} refused to complete the sign-in: ${clip(error.error)}${error.error_description ? `: ${clip(error.error_description)}` : ''}.`);
      }
      throw invalidIdToken(this.displayName, error);
    }
    try {
      await oauth.validateApplicationLevelSignature(as, response, this.options());
    } catch (error) {
      if (isNetworkError(error)) throw unreachable(this.displayName, 'JWKS', error);
      throw invalidIdToken(this.displayName, error);
    }
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (!claims) throw invalidIdToken(this.displayName, new Error('no ID token'));
    return claims;
  }

  private clientAuth(as: oauth.AuthorizationServer): oauth.ClientAuth {
    const secret = this.config.clientSecret;
    if (secret === undefined) return oauth.None();
    const methods = as.token_endpoint_auth_methods_supported;
    // client_secret_basic is the default of OpenID Connect; post only when the provider offers nothing else.
    return methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post') ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
  }
}

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isNetworkError(error: unknown): boolean {
  const name = (error as { name?: unknown }).name;
  return name === 'TimeoutError' || name === 'AbortError' || (error instanceof TypeError && /fetch failed/i.test(error.message));
}

function unreachable(provider: string, what: string, error: unknown): ExternalSignInError {
  if ((error as { name?: unknown }).name === 'TimeoutError') return new ExternalSignInError(504, 'Provider did not answer', `${provider} did not answer in time (${what}). Try again later.`);
  if (isNetworkError(error)) return new ExternalSignInError(502, 'Provider unreachable', `${provider} could not be reached (${what}). Try again later.`);
  return new ExternalSignInError(502, 'Provider error', `${provider} gave an answer Gatehouse cannot use (${what}): ${clip((error as Error).message)}.`);
}

function invalidIdToken(provider: string, error: unknown): ExternalSignInError {
  const cause = (error as { cause?: { claim?: unknown } }).cause;
  const claim = typeof cause?.claim === 'string' ? ` (claim ${cause.claim})` : '';
  return new ExternalSignInError(401, 'Sign-in failed', `The ID token from ${provider} is not valid${claim}: ${clip((error as Error).message)}.`);
}
