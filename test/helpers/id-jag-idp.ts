// The enterprise identity provider of Enterprise-Managed Authorization: oidc-provider, where the
// MCP client's application ("mcp-app", confidential) signs people in (authorization code flow,
// ID tokens carrying email and groups), and which issues Identity Assertion JWT Authorization
// Grants (ID-JAG) by RFC 8693 token exchange, registered through oidc-provider's own extension
// point (`registerGrantType`): the subject token must be an ID token this provider issued to the
// client asking; the answer is a JWT typed `oauth-id-jag+jwt`, signed with the provider's own key
// (the one its JWKS publishes), whose `client_id` is the client's id at the MCP server's
// authorization server (the mapping an administrator configures at the IdP: here `gatehouseClientId`).
//
// `mint` signs an ID-JAG of the test's making with the same key (or an impostor key, or none), for
// the refusals. Every ID token and ID-JAG it issued is kept for the log greps.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import Provider, { errors, type GrantContext } from 'oidc-provider';
import { playPerson } from './idp-person.ts';
import { Browser } from './login-idp.ts';
import { pkcePair } from './oauth-flow.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
export const APP_REDIRECT = 'http://127.0.0.1:45199/app/callback';

export interface IdJagIdp {
  readonly issuer: string;
  /** The MCP client's application at this provider. */
  readonly app: { id: string; secret: string };
  /** Claims of each account, by its `sub`. */
  readonly accounts: Map<string, Record<string, unknown>>;
  /** The MCP client's client_id at Gatehouse: what the ID-JAGs name. */
  gatehouseClientId: string;
  /** Lifetime (s) of the ID-JAGs issued by exchange. */
  jagTtl: number;
  /** A person signs in at the provider as `account` for the application: its ID token. */
  signIn(account: string): Promise<string>;
  /** An ID-JAG of the test's making: claims as given (iss, iat, exp and jti filled in unless given). */
  mint(claims: Record<string, unknown>, options?: { typ?: string | null; key?: 'real' | 'impostor' | 'none' }): Promise<string>;
  /** Token exchanges done. */
  readonly exchanges: number;
  /** Every ID token and ID-JAG it issued. */
  readonly issued: string[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function signingKey(kid: string): Promise<{ privateJwk: JWK; key: CryptoKey }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' }, key: privateKey as CryptoKey };
}

export async function startIdJagIdp(): Promise<IdJagIdp> {
  const server = createServer();
  const issuer = await listen(server);
  const app = { id: 'mcp-app', secret: `mcp-app-secret-${crypto.randomUUID()}` };
  const accounts = new Map<string, Record<string, unknown>>();
  const issued: string[] = [];
  const state = { loginAs: 'nobody', gatehouseClientId: 'unset', jagTtl: 300, exchanges: 0 };
  const real = await signingKey('enterprise-idp-key');
  const impostor = await signingKey('enterprise-idp-key'); // same kid, not in the JWKS

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: app.id,
        client_secret: app.secret,
        redirect_uris: [APP_REDIRECT],
        grant_types: ['authorization_code', TOKEN_EXCHANGE],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [real.privateJwk] },
    cookies: { keys: ['id-jag-idp-test-cookie-key'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    conformIdTokenClaims: false,
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id, ...accounts.get(id) }) }),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== '/token' || ctx.method !== 'POST' || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as Record<string, unknown>;
    for (const key of ['id_token', 'access_token']) if (typeof body[key] === 'string') issued.push(body[key] as string);
  });

  const keys = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const mint: IdJagIdp['mint'] = async (claims, options = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: issuer, iat: now, exp: now + state.jagTtl, jti: crypto.randomUUID(), ...claims } as JWTPayload;
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    const typ = options.typ === undefined ? 'oauth-id-jag+jwt' : options.typ;
    const key = options.key ?? 'real';
    let jag: string;
    if (key === 'none') {
      const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      jag = `${part({ alg: 'none', ...(typ === null ? {} : { typ }) })}.${part(payload)}.`;
    } else {
      jag = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'enterprise-idp-key', ...(typ === null ? {} : { typ }) }).sign(key === 'real' ? real.key : impostor.key);
    }
    issued.push(jag);
    return jag;
  };

  // RFC 8693 as the extension's §4 has it: an ID token of this provider for the client asking,
  // exchanged for an ID-JAG for the audience (the MCP server's authorization server) and resource named.
  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx: GrantContext) => {
      const params = ctx.oidc.params;
      if (params.requested_token_type !== ID_JAG_TOKEN_TYPE) throw new errors.InvalidRequest('requested_token_type must be an ID-JAG');
      if (params.subject_token_type !== ID_TOKEN_TYPE) throw new errors.InvalidRequest('subject_token_type must be an ID token');
      if (!params.audience || !params.resource) throw new errors.InvalidRequest('audience and resource are required');
      let subject: JWTPayload;
      try {
        ({ payload: subject } = await jwtVerify(params.subject_token ?? '', keys, { issuer, audience: ctx.oidc.client.clientId }));
      } catch (error) {
        throw new errors.InvalidGrant(`subject token refused: ${(error as Error).message}`);
      }
      const sub = String(subject.sub);
      const { email, email_verified, groups } = { ...accounts.get(sub) } as Record<string, unknown>;
      const jag = await mint({ sub, aud: params.audience, resource: params.resource, client_id: state.gatehouseClientId, scope: params.scope, email, email_verified, groups });
      state.exchanges++;
      ctx.body = { issued_token_type: ID_JAG_TOKEN_TYPE, access_token: jag, token_type: 'N_A', expires_in: state.jagTtl, ...(params.scope ? { scope: params.scope } : {}) };
    },
    ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope'],
  );

  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith('/interaction/')) return callback(req, res);
    playPerson(provider, state, req, res);
  });

  const signIn = async (account: string): Promise<string> => {
    state.loginAs = account;
    const browser = new Browser([issuer]);
    const { verifier, challenge } = await pkcePair();
    const query = new URLSearchParams({ client_id: app.id, redirect_uri: APP_REDIRECT, response_type: 'code', scope: 'openid email profile groups', state: crypto.randomUUID(), nonce: crypto.randomUUID(), code_challenge: challenge, code_challenge_method: 'S256' });
    const end = await browser.go(`${issuer}/auth?${query}`, undefined, (location) => location.startsWith(APP_REDIRECT));
    const code = end.location ? new URL(end.location).searchParams.get('code') : null;
    if (!code) throw new Error(`sign-in at the provider ended with ${end.status} ${end.location ?? ''} ${end.text}`);
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, code_verifier: verifier, client_id: app.id, client_secret: app.secret }).toString(),
    });
    const body = (await response.json()) as { id_token?: string };
    if (!body.id_token) throw new Error(`no ID token: ${JSON.stringify(body)}`);
    return body.id_token;
  };

  return {
    issuer,
    app,
    accounts,
    get gatehouseClientId() {
      return state.gatehouseClientId;
    },
    set gatehouseClientId(value: string) {
      state.gatehouseClientId = value;
    },
    get jagTtl() {
      return state.jagTtl;
    },
    set jagTtl(value: number) {
      state.jagTtl = value;
    },
    signIn,
    mint,
    get exchanges() {
      return state.exchanges;
    },
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
