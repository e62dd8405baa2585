// The peers of per-user upstream OAuth: a real third-party authorization server (oidc-provider,
// with dynamic registration, resource indicators issuing JWT access tokens for the upstream,
// refresh tokens and RFC 7009 revocation) whose "person" signs in as the account the test names
// and consents automatically through the interaction endpoints; and an MCP server built with the
// SDK that requires a Bearer token from that server for its own URL (checked against the JWKS,
// audience and issuer), answers 401 with resource_metadata otherwise, and whose `whoami` tool says
// which account's token reached it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { playPerson } from './idp-person.ts';
import Provider, { errors } from 'oidc-provider';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { CookieJar } from './oauth-flow.ts';
import { answerWithWhoami } from './whoami-mcp.ts';

export interface UpstreamIdp {
  readonly issuer: string;
  /** The upstream account the next sign-in uses. */
  loginAs: string;
  /** Access token lifetime (s) of the tokens issued from now on. */
  accessTokenTtl: number;
  /** The person declines the next consent (access_denied). */
  decline: boolean;
  readonly counts: { registrations: number; codeGrants: number; refreshGrants: number; revocations: number };
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** `resource` is the upstream MCP server's URL: the only audience this server issues tokens for. */
export async function startUpstreamIdp(resource: () => string): Promise<UpstreamIdp> {
  const server = createServer();
  const issuer = await listen(server);
  const counts = { registrations: 0, codeGrants: 0, refreshGrants: 0, revocations: 0 };
  const state = { loginAs: 'nobody', accessTokenTtl: 3600, decline: false };
  const provider = new Provider(issuer, {
    clients: [],
    cookies: { keys: ['upstream-idp-test-cookie-key'] },
    scopes: ['openid', 'offline_access', 'mcp'],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    // Refresh tokens for every client allowed the grant (not only with offline_access).
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource(),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resource()) throw new errors.InvalidTarget('unknown resource');
          return { scope: 'mcp', audience: resource(), accessTokenTTL: state.accessTokenTtl, accessTokenFormat: 'jwt' };
        },
      },
    },
  });
  provider.on('registration_create.success', () => counts.registrations++);
  provider.on('grant.success', (ctx: { oidc: { params: { grant_type?: string } } }) => {
    if (ctx.oidc.params.grant_type === 'refresh_token') counts.refreshGrants++;
    if (ctx.oidc.params.grant_type === 'authorization_code') counts.codeGrants++;
  });
  provider.on('grant.revoked', () => counts.revocations++); // a refresh token revoked through RFC 7009 ends its grant
  const app = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith('/interaction/')) return app(req, res);
    playPerson(provider, state, req, res);
  });
  return {
    issuer,
    get loginAs() {
      return state.loginAs;
    },
    set loginAs(value: string) {
      state.loginAs = value;
    },
    get decline() {
      return state.decline;
    },
    set decline(value: boolean) {
      state.decline = value;
    },
    get accessTokenTtl() {
      return state.accessTokenTtl;
    },
    set accessTokenTtl(value: number) {
      state.accessTokenTtl = value;
    },
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface UserUpstream {
  readonly url: string;
  /** Every Authorization header the server received, in order. */
  readonly authorizations: string[];
  close(): Promise<void>;
}

/** The MCP server that wants each user's own token from `issuer`. */
export async function startUserUpstream(issuer: () => string): Promise<UserUpstream> {
  const app = express();
  app.use(express.json());
  const server = createServer(app);
  const origin = await listen(server);
  const url = `${origin}/mcp`;
  const metadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
  const authorizations: string[] = [];
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  app.get('/.well-known/oauth-protected-resource/mcp', (_req, res) => {
    res.json({ resource: url, authorization_servers: [issuer()], scopes_supported: ['mcp'], bearer_methods_supported: ['header'] });
  });
  const verifier = {
    async verifyAccessToken(token: string) {
      jwks ??= createRemoteJWKSet(new URL(`${issuer()}/jwks`));
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: issuer(), audience: url, typ: 'at+jwt' });
        return { token, clientId: String(payload.client_id ?? ''), scopes: String(payload.scope ?? '').split(' ').filter(Boolean), expiresAt: payload.exp, extra: { sub: payload.sub } };
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
    requireBearerAuth({ verifier, resourceMetadataUrl: metadataUrl }),
    (req, res) => answerWithWhoami(req, res, { name: 'user-upstream', description: 'The account whose token reached the server' }, (auth) => String(auth?.extra?.sub ?? '')),
  );
  return {
    url,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A browser: follows redirects (cookies kept) from `url` to the last page; every step has a timeout. */
export async function followInBrowser(url: string, jar = new CookieJar()): Promise<{ status: number; text: string; url: string; visited: string[] }> {
  const visited: string[] = [];
  let current = url;
  for (let hop = 0; hop < 20; hop++) {
    visited.push(current);
    const headers: Record<string, string> = { accept: 'text/html' };
    if (jar.cookies.size > 0) headers.cookie = jar.header();
    const response = await fetch(current, { headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    jar.take(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    return { status: response.status, text: await response.text(), url: current, visited };
  }
  throw new Error(`more than 20 redirects from ${url}`);
}

/** The upstream's authorization server and the server it protects, each knowing the other. */
export async function startIdpWithUpstream(): Promise<{ idp: UpstreamIdp; upstream: UserUpstream }> {
  let upstreamUrl = '';
  const idp = await startUpstreamIdp(() => upstreamUrl);
  const upstream = await startUserUpstream(() => idp.issuer);
  upstreamUrl = upstream.url;
  return { idp, upstream };
}
