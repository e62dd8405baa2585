// A real OAuth 2.1 authorization server for the tests: the MCP SDK's own authorization, token and
// registration handlers (PKCE S256, RFC 7591, RFC 8707 resource) around a provider that signs
// access tokens with jose (JWKS published, keys rotatable) or issues opaque tokens it answers for
// by RFC 7662 introspection. The "user" consents automatically: these tests are about the
// resource-server side. `sign()` mints arbitrary tokens for the bad-input tests.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Response } from 'express';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet, type JWK, type JWTPayload } from 'jose';
import { createOAuthMetadata } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { authorizationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/authorize.js';
import { tokenHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/token.js';
import { clientRegistrationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/register.js';
import { metadataHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/metadata.js';
import type { OAuthServerProvider, AuthorizationParams } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthClientInformationFull, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

export interface TestIssuerOptions {
  /** jwt: signed access tokens (default); opaque: random tokens checked by introspection. */
  tokens?: 'jwt' | 'opaque';
  /** Scopes the server supports and grants when asked. */
  scopes?: string[];
  /** Client credentials Gatehouse uses to call the introspection endpoint. */
  introspectionClient?: { id: string; secret: string };
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface TestIssuer {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly introspectionUrl: string;
  /** Signs a token with the current key (or as told). Defaults: sub user-1, exp in 1 h. */
  sign(claims: JWTPayload, options?: { alg?: string; kid?: string; key?: CryptoKey | Uint8Array; expiresIn?: number; issuer?: string }): Promise<string>;
  /** A new signing key, published in the JWKS beside the old one (unless `retireOld`). */
  rotate(options?: { retireOld?: boolean }): Promise<void>;
  /** Tokens issued by the token endpoint, in order. */
  readonly issued: Array<{ token: string; claims: JWTPayload }>;
  /** Marks an opaque token inactive (as if revoked at the server). */
  revoke(token: string): void;
  readonly counts: { jwks: number; introspection: number; metadata: number };
  /** Verifies one of its own access tokens, for a protected upstream built with the SDK. */
  verifier(expectedAudience: () => string): { verifyAccessToken(token: string): Promise<AuthInfo> };
  close(): Promise<void>;
}

export async function startTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const scopes = options.scopes ?? ['mcp', 'tools:write'];
  const keys: SigningKey[] = [await newKey()];
  const issued: Array<{ token: string; claims: JWTPayload }> = [];
  const opaque = new Map<string, JWTPayload & { active: boolean }>();
  const counts = { jwks: 0, introspection: 0, metadata: 0 };
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = origin;

  const sign: TestIssuer['sign'] = async (claims, o = {}) => {
    const key = keys[keys.length - 1]!;
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = { sub: 'user-1', iat: now, exp: now + (o.expiresIn ?? 3600), ...claims };
    return new SignJWT(payload)
      .setProtectedHeader({ alg: o.alg ?? 'ES256', kid: o.kid ?? key.kid, typ: 'at+jwt' })
      .setIssuer(o.issuer ?? issuer)
      .sign(o.key ?? key.privateKey);
  };

  const clients = new Map<string, OAuthClientInformationFull>();
  const clientsStore: OAuthRegisteredClientsStore = {
    getClient: async (id) => clients.get(id),
    registerClient: async (client) => {
      const full = client as OAuthClientInformationFull;
      clients.set(full.client_id, full);
      return full;
    },
  };
  const codes = new Map<string, { client: OAuthClientInformationFull; params: AuthorizationParams }>();

  const provider: OAuthServerProvider = {
    get clientsStore() {
      return clientsStore;
    },
    async authorize(client, params, res: Response) {
      const code = randomUUID();
      codes.set(code, { client, params });
      const target = new URL(params.redirectUri);
      target.searchParams.set('code', code);
      if (params.state !== undefined) target.searchParams.set('state', params.state);
      res.redirect(target.toString());
    },
    async challengeForAuthorizationCode(_client, code) {
      const found = codes.get(code);
      if (!found) throw new Error('unknown authorization code');
      return found.params.codeChallenge;
    },
    async exchangeAuthorizationCode(client, code, _verifier, _redirectUri, resource): Promise<OAuthTokens> {
      const found = codes.get(code);
      if (!found || found.client.client_id !== client.client_id) throw new Error('unknown authorization code');
      codes.delete(code);
      const granted = (found.params.scopes ?? []).filter((s) => scopes.includes(s));
      const audience = (resource ?? found.params.resource)?.href;
      const claims: JWTPayload = { sub: 'user-1', client_id: client.client_id, scope: granted.join(' '), ...(audience !== undefined && { aud: audience }) };
      let token: string;
      if (options.tokens === 'opaque') {
        token = randomBytes(24).toString('base64url');
        const now = Math.floor(Date.now() / 1000);
        opaque.set(token, { ...claims, iss: issuer, iat: now, exp: now + 3600, active: true });
      } else {
        token = await sign(claims);
      }
      issued.push({ token, claims });
      return { access_token: token, token_type: 'bearer', expires_in: 3600, scope: granted.join(' ') };
    },
    async exchangeRefreshToken() {
      throw new Error('refresh tokens are not issued by this test server');
    },
    async verifyAccessToken(token) {
      const { payload } = await jwtVerify(token, localKeys(), { issuer });
      return authInfo(token, payload);
    },
  };

  const localKeys = () => createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) });
  const authInfo = (token: string, payload: JWTPayload): AuthInfo => ({
    token,
    clientId: String(payload.client_id ?? ''),
    scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
    ...(payload.exp !== undefined && { expiresAt: payload.exp }),
    ...(typeof payload.aud === 'string' && { resource: new URL(payload.aud) }),
  });

  const metadata = {
    ...createOAuthMetadata({ provider, issuerUrl: new URL(issuer), scopesSupported: scopes }),
    // The issuer exactly as the tokens and the resource metadata name it (RFC 8414 §3.3: clients
    // such as mcp-remote compare it); the SDK's helper would add a trailing slash.
    issuer,
    jwks_uri: `${origin}/jwks`,
    introspection_endpoint: `${origin}/introspect`,
  };
  app.use('/authorize', authorizationHandler({ provider, rateLimit: false }));
  app.use('/token', tokenHandler({ provider, rateLimit: false }));
  app.use('/register', clientRegistrationHandler({ clientsStore, rateLimit: false }));
  app.use('/.well-known/oauth-authorization-server', (req, _res, next) => {
    counts.metadata++;
    next();
  }, metadataHandler(metadata));
  app.get('/jwks', (_req, res) => {
    counts.jwks++;
    res.json({ keys: keys.map((k) => k.publicJwk) });
  });
  app.post('/introspect', express.urlencoded({ extended: false }), (req, res) => {
    counts.introspection++;
    const expected = options.introspectionClient;
    const basic = expected ? `Basic ${Buffer.from(`${encodeURIComponent(expected.id)}:${encodeURIComponent(expected.secret)}`).toString('base64')}` : undefined;
    if (!basic || req.headers.authorization !== basic) {
      res.status(401).json({ error: 'invalid_client' });
      return;
    }
    const token = (req.body as Record<string, string>).token ?? '';
    const found = opaque.get(token);
    const now = Math.floor(Date.now() / 1000);
    if (!found || !found.active || (found.exp ?? 0) <= now) {
      res.json({ active: false });
      return;
    }
    res.json({ ...found, token_type: 'Bearer' });
  });

  return {
    issuer,
    jwksUrl: `${origin}/jwks`,
    introspectionUrl: `${origin}/introspect`,
    sign,
    issued,
    counts,
    async rotate(o = {}) {
      const next = await newKey();
      if (o.retireOld) keys.splice(0, keys.length);
      keys.push(next);
    },
    revoke(token) {
      const found = opaque.get(token);
      if (found) found.active = false;
    },
    verifier(expectedAudience) {
      return {
        async verifyAccessToken(token: string) {
          try {
            const { payload } = await jwtVerify(token, localKeys(), { issuer, audience: expectedAudience() });
            return authInfo(token, payload);
          } catch (error) {
            // The SDK's bearer middleware answers 401 only for InvalidTokenError (else 500).
            throw new InvalidTokenError(`token refused: ${(error as Error).message}`);
          }
        },
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomBytes(6).toString('base64url');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}
