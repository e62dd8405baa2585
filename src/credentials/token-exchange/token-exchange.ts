// `auth: { type: token-exchange }`: the credential of one upstream server that trusts an enterprise
// authorization server. For a caller authenticated with a user's token (jwt or oauth2 plan), that
// token is exchanged at the configured token endpoint (RFC 8693) for one whose audience is the
// upstream, with the agent as actor; the issued token is kept in memory per (subject, agent) until
// shortly before it expires, one exchange shared by concurrent calls, and dropped on a 401. A
// caller without a user token (API key, keyless) is refused, or with `anonymous: service` sent
// with Gatehouse's own token for the upstream (client credentials grant, client-credentials.ts).
// No token is ever logged.
import type { EgressRule } from '../../upstream/egress.ts';
import type { z } from 'zod';
import type { Logger } from '../../log.ts';
import type { Principal } from '../../auth/principal.ts';
import type { TokenExchangeAuthSchema } from '../../config/auth-schema.ts';
import type { CredentialContext, UpstreamCredentials } from '../../upstream/upstream.ts';
import { subjectTokenOf } from '../../auth/subject-token.ts';
import { GatehouseError } from '../../errors.ts';
import { credentialUnavailable } from '../failure.ts';
import { isLoopbackHost, isTimeout, parseTokenResponse, postTokenRequest, type TokenEndpointAnswer } from '../token-endpoint.ts';
import { SingleFlightCache } from './token-cache.ts';
import { ActorTokenSigner } from './actor-token.ts';
import { ClientCredentialsToken } from '../client-credentials.ts';

export type TokenExchangeConfig = z.output<typeof TokenExchangeAuthSchema>;

const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:';
/** Lifetime assumed when the answer has no expires_in (RFC 8693 only recommends it); a 401 ends it sooner. */
const DEFAULT_LIFETIME_MS = 300_000;
/** OAuth errors that refuse this user's exchange (RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 8707): not Gatehouse's setup. */
const REFUSALS: ReadonlySet<string> = new Set(['invalid_grant', 'invalid_target', 'invalid_scope', 'access_denied']);

interface Issued {
  readonly headers: Readonly<Record<string, string>>;
  readonly useUntil: number;
}

/** Who a call is made for: the caller's verified token, whose subject it names, and the agent acting. */
interface Subject {
  readonly token: string;
  readonly sub: string;
  readonly agent: string;
  /** The cache key: issuer, subject and agent. */
  readonly key: string;
}

export class TokenExchangeCredentials implements UpstreamCredentials {
  readonly perUser = true;
  /** Exchanges made (tests and the bench read it). */
  exchanges = 0;
  private readonly cache: SingleFlightCache<Issued>;
  private readonly actor: ActorTokenSigner | undefined;
  private readonly endpoint: string;
  /** `anonymous: service`: Gatehouse's own token for the upstream, for callers without a user token. */
  private readonly service: ClientCredentialsToken | undefined;
  /** What the audit says such calls went out as (never a token). */
  private readonly serviceIdentity: string;

  constructor(
    readonly server: string,
    /** The server's URL: the default `resource`. */
    private readonly url: string,
    readonly config: TokenExchangeConfig,
    private readonly log: Logger,
    /** The server's tenant's egress, which the token endpoint is held to too. */
    private readonly egress?: EgressRule,
  ) {
    this.cache = new SingleFlightCache(config.maxCachedTokens);
    this.actor = config.actor.type === 'jwt' ? new ActorTokenSigner(config.actor, config.tokenUrl) : undefined;
    const endpoint = new URL(config.tokenUrl);
    // For logs: where tokens are exchanged, without any query string.
    this.endpoint = endpoint.origin + endpoint.pathname;
    if (endpoint.protocol === 'http:' && !isLoopbackHost(endpoint.hostname)) {
      log.warn({ server, tokenEndpoint: this.endpoint }, 'the token exchange endpoint is plain http: users\' tokens and the client secret cross the network unencrypted');
    }
    this.serviceIdentity = `service identity (client ${config.client.id})`;
    if (config.anonymous === 'service') {
      // Asked for the same upstream as the exchanges, so the upstream sees the same audience. The
      // child logger marks each line of the grant as the service identity's.
      const grant = {
        tokenUrl: config.tokenUrl,
        clientId: config.client.id,
        clientSecret: config.client.secret,
        scope: config.scopes !== undefined && config.scopes.length > 0 ? config.scopes.join(' ') : undefined,
        audience: config.audience,
        resource: this.resource(),
        timeout: config.timeout,
        refreshBefore: config.refreshBefore,
      };
      this.service = new ClientCredentialsToken(server, grant, log.child({ identity: 'service', client: config.client.id }), Date.now, egress);
    }
  }

  headers(context?: CredentialContext): Record<string, string> | Promise<Record<string, string>> {
    const subject = context && subjectOf(context.principal);
    if (subject === undefined) {
      // Only a request that carries its caller: one that acts for nobody gets no token at all.
      if (context && this.service) return this.service.headers();
      // A rejection, not a throw: some callers (idle-session cleanup) chain on the result.
      return Promise.reject(this.refusal(context));
    }
    const issued = this.cache.get(subject.key, () => this.exchange(subject));
    return issued instanceof Promise ? issued.then((i) => i.headers) : issued.headers;
  }

  private refusal(context: CredentialContext | undefined): GatehouseError {
    if (!context) {
      // A request that acts for nobody (idle-session cleanup, a route that does not carry its
      // caller): no user's token may go out on it.
      return new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${this.server}" is called with a token exchanged for each user's own, and this request carries no caller`);
    }
    return new GatehouseError('GH_UPSTREAM_USER_REQUIRED', `Server "${this.server}" is called with a token exchanged for the caller's own user token, and this agent presented none (an API key or no credential); sign in with a token of the identity provider (OAuth or JWT)`);
  }

  rejected(context?: CredentialContext): void {
    if (!context) return;
    const subject = subjectOf(context.principal);
    if (subject !== undefined) this.cache.drop(subject.key);
    else this.service?.rejected();
  }

  identityOf(context?: CredentialContext): string | undefined {
    return context && this.service && subjectTokenOf(context.principal) === undefined ? this.serviceIdentity : undefined;
  }

  /** The `resource` asked for: the configured one, else the server's URL unless an `audience` names it. */
  private resource(): string | undefined {
    return this.config.resource ?? (this.config.audience === undefined ? this.url : undefined);
  }

  private async exchange(subject: Subject): Promise<Issued> {
    const config = this.config;
    const started = Date.now();
    const form = new URLSearchParams({
      grant_type: GRANT_TYPE,
      subject_token: subject.token,
      subject_token_type: TOKEN_TYPE + config.subjectTokenType,
      requested_token_type: `${TOKEN_TYPE}access_token`,
    });
    if (this.actor) {
      form.set('actor_token', await this.actor.sign(subject.agent));
      form.set('actor_token_type', `${TOKEN_TYPE}jwt`);
    }
    if (config.audience !== undefined) form.set('audience', config.audience);
    const resource = this.resource();
    if (resource !== undefined) form.set('resource', resource);
    if (config.scopes !== undefined && config.scopes.length > 0) form.set('scope', config.scopes.join(' '));
    // Logged with whom the exchange is for, never a token.
    const about = { server: this.server, tokenEndpoint: this.endpoint, sub: subject.sub, agent: subject.agent };
    let answer: TokenEndpointAnswer;
    try {
      answer = await postTokenRequest(config.tokenUrl, form, { id: config.client.id, secret: config.client.secret }, config.timeout, this.egress);
    } catch (error) {
      if (isTimeout(error)) {
        this.log.warn({ ...about, timeoutMs: config.timeout }, 'token exchange timed out');
        throw new GatehouseError('GH_UPSTREAM_TIMEOUT', `Upstream "${this.server}": the authorization server did not answer the token exchange within ${config.timeout} ms`);
      }
      this.log.warn({ ...about, err: (error as Error).message }, 'token exchange failed');
      throw credentialUnavailable(this.server);
    }
    const parsed = parseTokenResponse(answer.status, answer.body);
    if (!parsed.ok) {
      if (parsed.error !== undefined && REFUSALS.has(parsed.error)) {
        this.log.info({ ...about, status: answer.status, reason: parsed.reason }, 'token exchange refused');
        throw new GatehouseError('GH_TOKEN_EXCHANGE_REFUSED', `Server "${this.server}": the authorization server refused to exchange this user's token for it (${parsed.error})`);
      }
      this.log.warn({ ...about, status: answer.status, reason: parsed.reason }, 'token exchange refused');
      throw credentialUnavailable(this.server);
    }
    const issuedType = parsed.fields.issued_token_type;
    if (issuedType !== undefined && issuedType !== `${TOKEN_TYPE}access_token` && issuedType !== `${TOKEN_TYPE}jwt`) {
      this.log.warn({ ...about, issuedTokenType: String(issuedType).slice(0, 100) }, 'token exchange issued a token of another type than an access token');
      throw credentialUnavailable(this.server);
    }
    this.exchanges++;
    const lifetime = parsed.expiresIn === undefined ? DEFAULT_LIFETIME_MS : parsed.expiresIn * 1000;
    // Counted from before the request was sent, so the token is never thought younger than it is;
    // a short-lived token is used for half its life, not `refreshBefore` short of it (maybe all of it).
    const useUntil = started + lifetime - Math.min(config.refreshBefore, lifetime / 2);
    this.log.debug({ ...about, expiresIn: parsed.expiresIn }, 'exchanged a user\'s token for the upstream');
    return { headers: Object.freeze({ authorization: `Bearer ${parsed.accessToken}` }), useUntil };
  }
}

/** The caller's token and names, or undefined when the caller presented no user token. */
function subjectOf(principal: Principal): Subject | undefined {
  const token = subjectTokenOf(principal);
  if (token === undefined) return undefined;
  const claims = principal.claims ?? {};
  const sub = principal.user?.id ?? (typeof claims.sub === 'string' ? claims.sub : principal.id);
  const agent = agentOf(principal);
  const issuer = typeof claims.iss === 'string' ? claims.iss : principal.plan;
  // Length-prefixed: no choice of names can make two different triples one key.
  return { token, sub, agent, key: `${issuer.length}:${issuer}${sub.length}:${sub}${agent}` };
}

/** The agent acting for the user: the OAuth client the token was issued to, else the principal. */
export function agentOf(principal: Principal): string {
  const claims = principal.claims ?? {};
  if (typeof claims.client_id === 'string' && claims.client_id !== '') return claims.client_id;
  if (typeof claims.azp === 'string' && claims.azp !== '') return claims.azp;
  return principal.id;
}
