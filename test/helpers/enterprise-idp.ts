// The peers of token exchange (auth: { type: token-exchange }): an enterprise authorization server
// built on oidc-provider, and an MCP server built with the SDK that trusts it.
//
// The authorization server issues users' access tokens to the agents' application (JWT, audience
// Gatehouse's APIs: what Gatehouse's jwt plan verifies against its JWKS) and registers the RFC 8693
// grant through oidc-provider's own extension point (`registerGrantType`): Gatehouse's client
// authenticates with its secret; the subject token must be one this server issued for Gatehouse;
// the actor token must be signed with Gatehouse's actor key; the `resource` must be the upstream.
// It answers with a JWT access token of the provider (audience the upstream, `sub` the user,
// `act.sub` the agent). A person can be refused (invalid_grant), the endpoint can stall (a timeout),
// and it counts the exchanges it made and keeps every token it issued (for the log greps).
// Gatehouse's client may also use the client credentials grant (its service identity), with
// resource indicators: a JWT for the upstream's audience, naming the client and no user; those
// grants are counted with what they asked for.
//
// The upstream verifies each token (signature by the provider's JWKS, issuer, audience its URL,
// at+jwt) and its `whoami` tool reports the `sub` and `act` it saw.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import express from 'express';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import Provider, { errors, type GrantContext } from 'oidc-provider';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { answerWithWhoami } from './whoami-mcp.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN = 'urn:ietf:params:oauth:token-type:jwt';
/** The audience of users' tokens: Gatehouse's APIs (the jwt plan expects it). */
export const GATEHOUSE_AUDIENCE = 'urn:gatehouse:agents';
/** The agents' application, to which users' tokens are issued: the actor Gatehouse names. */
export const AGENT_APP = 'agent-app';

export interface EnterpriseIdpOptions {
  /** Gatehouse's client at this server. */
  readonly client: { id: string; secret: string };
  /** Gatehouse's actor-token key (public, or a JWKS such as Gatehouse publishes), asked for at each exchange, and the `iss` it signs with. */
  readonly actorKey: () => KeyObject | JWTVerifyGetKey;
  readonly actorIssuer: string;
  /** The upstream's URL: the only resource tokens are exchanged for. */
  readonly resource: () => string;
}

export interface EnterpriseIdp {
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  /** A user's access token, issued by the provider to the agents' application for Gatehouse. */
  userToken(user: string): Promise<string>;
  /** Lifetime (s) of the tokens exchanged from now on. */
  exchangedTtl: number;
  /** Users whose exchange is refused (invalid_grant). */
  readonly refused: Set<string>;
  /** Hold every exchange unanswered (until close). */
  stall: boolean;
  /** Exchanges done, by user. */
  readonly exchanges: Map<string, number>;
  /** Every token this server issued or saw as an actor token. */
  readonly tokens: string[];
  /** The users' tokens it issued (to the agents' application). */
  readonly userTokens: string[];
  /** The tokens it issued by exchange. */
  readonly exchanged: string[];
  /** Client credentials grants to Gatehouse's client: the `resource` and `scope` each asked for. */
  readonly serviceGrants: Array<{ resource: string | undefined; scope: string | undefined }>;
  /** The tokens it issued by those grants. */
  readonly serviceTokens: string[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startEnterpriseIdp(options: EnterpriseIdpOptions): Promise<EnterpriseIdp> {
  const server = createServer();
  const issuer = await listen(server);
  const tokenUrl = `${issuer}/token`;
  const state = { exchangedTtl: 3600, stall: false };
  const refused = new Set<string>();
  const exchanges = new Map<string, number>();
  const tokens: string[] = [];
  const userTokens: string[] = [];
  const exchanged: string[] = [];
  const serviceGrants: EnterpriseIdp['serviceGrants'] = [];
  const serviceTokens: string[] = [];
  const stalled: Array<() => void> = [];
  /** The actor of each exchanged token, read by extraTokenClaims (which oidc-provider asks when it formats a token). */
  const actors = new WeakMap<object, string>();
  const provider = new Provider(issuer, {
    clients: [
      { client_id: AGENT_APP, client_secret: 'agent-app-secret-not-used', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
      { client_id: options.client.id, client_secret: options.client.secret, grant_types: [TOKEN_EXCHANGE, 'client_credentials'], redirect_uris: [], response_types: [] },
    ],
    cookies: { keys: ['enterprise-idp-test-cookie-key'] },
    scopes: ['openid', 'mcp'],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    extraTokenClaims: (_ctx: unknown, token: object) => (actors.has(token) ? { act: { sub: actors.get(token) } } : undefined),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // A grant that names no resource gets an opaque token the upstream cannot verify.
        defaultResource: () => undefined,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== options.resource()) throw new errors.InvalidTarget('unknown resource');
          return { audience: resource, scope: 'mcp', accessTokenFormat: 'jwt', accessTokenTTL: 3600 };
        },
      },
    },
  });
  provider.on('grant.success', (ctx: { oidc: { params?: Record<string, unknown> }; body?: unknown }) => {
    const params = ctx.oidc.params ?? {};
    if (params.grant_type !== 'client_credentials') return;
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    serviceGrants.push({ resource: text(params.resource), scope: text(params.scope) });
    const token = text((ctx.body as { access_token?: unknown } | undefined)?.access_token);
    if (token !== undefined) {
      tokens.push(token);
      serviceTokens.push(token);
    }
  });
  const keys = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const resourceServer = (audience: string, ttl: number) => new provider.ResourceServer(audience, { audience, scope: 'mcp', accessTokenFormat: 'jwt', accessTokenTTL: ttl });

  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx: GrantContext) => {
      const params = ctx.oidc.params;
      if (state.stall) await new Promise<void>((resolve) => stalled.push(resolve));
      if (params.subject_token_type !== ACCESS_TOKEN) throw new errors.InvalidRequest('subject_token_type must be an access token');
      let subject: JWTPayload;
      try {
        ({ payload: subject } = await jwtVerify(params.subject_token ?? '', keys, { issuer, audience: GATEHOUSE_AUDIENCE, typ: 'at+jwt' }));
      } catch (error) {
        throw new errors.InvalidGrant(`subject token refused: ${(error as Error).message}`);
      }
      if (params.actor_token_type !== JWT_TOKEN) throw new errors.InvalidRequest('actor_token_type must be a JWT');
      let actor: JWTPayload;
      try {
        const key = options.actorKey();
        const rules = { issuer: options.actorIssuer, audience: tokenUrl, requiredClaims: ['exp', 'sub', 'jti'] };
        ({ payload: actor } = typeof key === 'function' ? await jwtVerify(params.actor_token ?? '', key, rules) : await jwtVerify(params.actor_token ?? '', key, rules));
      } catch (error) {
        throw new errors.InvalidGrant(`actor token refused: ${(error as Error).message}`);
      }
      tokens.push(params.actor_token!);
      const user = String(subject.sub);
      if (refused.has(user)) throw new errors.InvalidGrant('this user may not reach the upstream');
      if (params.resource !== options.resource()) throw new errors.InvalidTarget('unknown resource');
      const token = new provider.AccessToken({ accountId: user, client: ctx.oidc.client, scope: 'mcp', gty: 'token_exchange' });
      actors.set(token, String(actor.sub));
      token.resourceServer = resourceServer(params.resource, state.exchangedTtl);
      const value = await token.save();
      tokens.push(value);
      exchanged.push(value);
      exchanges.set(user, (exchanges.get(user) ?? 0) + 1);
      ctx.body = { access_token: value, issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', expires_in: token.expiration, scope: 'mcp' };
    },
    ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope'],
  );
  const app = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => app(req, res));

  return {
    issuer,
    tokenUrl,
    jwksUrl: `${issuer}/jwks`,
    async userToken(user) {
      const client = await provider.Client.find(AGENT_APP);
      const token = new provider.AccessToken({ accountId: user, client: client!, scope: 'mcp' });
      token.resourceServer = resourceServer(GATEHOUSE_AUDIENCE, 3600);
      const value = await token.save();
      tokens.push(value);
      userTokens.push(value);
      return value;
    },
    get exchangedTtl() {
      return state.exchangedTtl;
    },
    set exchangedTtl(value: number) {
      state.exchangedTtl = value;
    },
    get stall() {
      return state.stall;
    },
    set stall(value: boolean) {
      state.stall = value;
      if (!value) for (const release of stalled.splice(0)) release();
    },
    refused,
    exchanges,
    tokens,
    userTokens,
    exchanged,
    serviceGrants,
    serviceTokens,
    close: () =>
      new Promise<void>((resolve) => {
        for (const release of stalled.splice(0)) release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ExchangeUpstream {
  readonly url: string;
  /** Every Authorization header the server received, in order. */
  readonly authorizations: string[];
  /** Tokens the server refuses from now on (401), as a resource server told of a revocation would. */
  readonly revoked: Set<string>;
  close(): Promise<void>;
}

/** The MCP server that trusts the enterprise authorization server at `issuer` for tokens of its own URL. */
export async function startExchangeUpstream(issuer: () => string): Promise<ExchangeUpstream> {
  const app = express();
  app.use(express.json());
  const server = createServer(app);
  const url = `${await listen(server)}/mcp`;
  const authorizations: string[] = [];
  const revoked = new Set<string>();
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  const verifier = {
    async verifyAccessToken(token: string) {
      jwks ??= createRemoteJWKSet(new URL(`${issuer()}/jwks`));
      if (revoked.has(token)) throw new InvalidTokenError('token revoked');
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: issuer(), audience: url, typ: 'at+jwt' });
        return { token, clientId: String(payload.client_id ?? ''), scopes: String(payload.scope ?? '').split(' ').filter(Boolean), expiresAt: payload.exp, extra: { sub: payload.sub, act: payload.act } };
      } catch (error) {
        throw new InvalidTokenError(`token refused: ${(error as Error).message}`);
      }
    },
  };
  app.all(
    '/mcp',
    (req, _res, next) => {
      authorizations.push(req.headers.authorization ?? '');
      next();
    },
    requireBearerAuth({ verifier }),
    (req, res) =>
      answerWithWhoami(req, res, { name: 'exchange-upstream', description: 'The subject and actor of the token that reached the server' }, (auth) =>
        JSON.stringify({ sub: auth?.extra?.sub, act: auth?.extra?.act, client: auth?.clientId }),
      ),
  );
  return {
    url,
    authorizations,
    revoked,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
