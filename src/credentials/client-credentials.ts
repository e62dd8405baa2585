// OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for an upstream: Gatehouse gets its own
// access token from the upstream's token endpoint, caches it until shortly before it expires,
// starts a refresh early (triggered by a request, so idle servers cost nothing), and shares one
// fetch among all requests that need a token at the same time. A 401 from the upstream drops
// the token. Neither the client secret nor a token is ever logged or put in an error message.
// Used for a server's `credential: { type: client-credentials }` and for token exchange's service
// identity (`anonymous: service`), which asks the same way with token exchange's settings.
import type { EgressRule } from '../upstream/egress.ts';
import type { Logger } from '../log.ts';
import type { UpstreamCredentials } from '../upstream/upstream.ts';
import { GatehouseError } from '../errors.ts';
import { credentialUnavailable } from './failure.ts';
import { isLoopbackHost, isTimeout, parseTokenResponse, postTokenRequest, type TokenEndpointAnswer } from './token-endpoint.ts';

/** What the grant asks for: a `client-credentials` credential's fields, or token exchange's service identity. */
export interface ClientCredentialsGrant {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Space-separated scopes. */
  readonly scope?: string | undefined;
  readonly audience?: string | undefined;
  /** RFC 8707 resource indicator. */
  readonly resource?: string | undefined;
  /** Longest wait for the token endpoint, ms (default 10 s); past it the call fails with GH_UPSTREAM_TIMEOUT (504). */
  readonly timeout?: number | undefined;
  /**
   * Stop sending a token this long before it expires (at most half its life), ms; a background
   * refresh starts as long again before that. Default: 30 s before expiry (a tenth of a short
   * token's life), the refresh from 60 s (three tenths).
   */
  readonly refreshBefore?: number | undefined;
}

interface Token {
  readonly headers: Readonly<Record<string, string>>;
  /** Start a background refresh from here on. */
  readonly refreshAt: number;
  /** Do not send it from here on: fetch a new one first. */
  readonly useUntil: number;
}

/** Longest a token without `expires_in` is reused (a 401 from the upstream ends it sooner). */
const DEFAULT_LIFETIME_MS = 3_600_000;
const REQUEST_TIMEOUT_MS = 10_000;

export class ClientCredentialsToken implements UpstreamCredentials {
  private token: Token | undefined;
  private inflight: Promise<Token> | undefined;
  private readonly endpoint: string;

  constructor(
    private readonly server: string,
    private readonly config: ClientCredentialsGrant,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    /** The server's tenant's egress, which the token endpoint is held to too. */
    private readonly egress?: EgressRule,
  ) {
    const url = new URL(config.tokenUrl);
    // For logs: where the token comes from, without any query string.
    this.endpoint = url.origin + url.pathname;
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      log.warn({ server, tokenEndpoint: this.endpoint }, 'the token endpoint is plain http: the client secret crosses the network unencrypted');
    }
  }

  async headers(): Promise<Record<string, string>> {
    const token = this.token;
    const now = this.now();
    if (token && now < token.useUntil) {
      if (now >= token.refreshAt) this.refresh().catch(() => undefined); // logged in fetch(); the current token still serves
      return token.headers;
    }
    this.log.debug({ server: this.server }, 'waiting for an upstream token');
    return (await this.refresh()).headers;
  }

  rejected(): void {
    this.token = undefined;
  }

  /** One fetch at a time: every caller that needs a token while one is on its way gets that one. */
  private refresh(): Promise<Token> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<Token> {
    const started = this.now();
    const { clientId, clientSecret, scope, audience, resource, timeout } = this.config;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope !== undefined) form.set('scope', scope);
    if (audience !== undefined) form.set('audience', audience);
    if (resource !== undefined) form.set('resource', resource);
    let outcome: TokenEndpointAnswer;
    try {
      outcome = await postTokenRequest(this.config.tokenUrl, form, { id: clientId, secret: clientSecret }, timeout ?? REQUEST_TIMEOUT_MS, this.egress);
    } catch (error) {
      const limit = timeout ?? REQUEST_TIMEOUT_MS;
      if (isTimeout(error)) {
        this.log.warn({ server: this.server, tokenEndpoint: this.endpoint, timeoutMs: limit }, 'upstream token request timed out');
        throw new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream "${this.server}": the authorization server did not answer the token request within ${limit} ms`);
      }
      this.log.warn({ server: this.server, tokenEndpoint: this.endpoint, err: (error as Error).message }, 'upstream token request failed');
      throw credentialUnavailable(this.server);
    }
    const parsed = parseTokenResponse(outcome.status, outcome.body);
    if (!parsed.ok) {
      this.log.warn({ server: this.server, tokenEndpoint: this.endpoint, status: outcome.status, reason: parsed.reason }, 'upstream token request refused');
      throw credentialUnavailable(this.server);
    }
    const lifetime = parsed.expiresIn === undefined ? DEFAULT_LIFETIME_MS : parsed.expiresIn * 1000;
    // Counted from before the request was sent, so the token is never thought younger than it is.
    const expiresAt = started + lifetime;
    const before = this.config.refreshBefore;
    const margin = before === undefined ? Math.min(30_000, lifetime * 0.1) : Math.min(before, lifetime / 2);
    const token: Token = {
      headers: Object.freeze({ authorization: `Bearer ${parsed.accessToken}` }),
      useUntil: expiresAt - margin,
      refreshAt: before === undefined ? expiresAt - Math.min(60_000, lifetime * 0.3) : expiresAt - Math.min(2 * margin, lifetime * 0.75),
    };
    this.token = token;
    this.log.debug({ server: this.server, tokenEndpoint: this.endpoint, expiresIn: parsed.expiresIn }, 'obtained an upstream token');
    return token;
  }
}
