// An external OpenID Connect provider people sign in with at Gatehouse's login page: oidc-provider
// with one confidential client (Gatehouse), accounts whose claims the test sets (sub, email,
// email_verified, groups), and a "person" who signs in as the account the test names and
// consents through the interaction endpoint (or declines: access_denied).
//
// It can also misbehave the way a broken or hostile provider would: its token endpoint's ID token
// re-signed for another audience, another nonce, another issuer, already expired, or with a key
// that is not in its JWKS. The provider starts in two steps because Gatehouse's callback URL (the
// client's redirect URI) is known only once Gatehouse listens, and Gatehouse needs this issuer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { playPerson } from './idp-person.ts';
import Provider from 'oidc-provider';

export type Tamper = 'audience' | 'nonce' | 'issuer' | 'expired' | 'signature';

export interface LoginIdp {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Creates the provider with Gatehouse's redirect URIs; until then every request is answered 503. */
  start(redirectUris: string[]): Promise<void>;
  /** Claims of each account, by its `sub`. */
  readonly accounts: Map<string, Record<string, unknown>>;
  /** The account the next sign-in uses. */
  loginAs: string;
  /** The person declines the next consent (access_denied). */
  decline: boolean;
  /** How the next token responses' ID token is spoiled, if at all. */
  tamper: Tamper | undefined;
  /** Every ID token, access token and code this provider issued (for the log greps). */
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

export async function startLoginIdp(): Promise<LoginIdp> {
  const server = createServer();
  const issuer = await listen(server);
  const clientId = 'gatehouse-login';
  const clientSecret = `idp-client-secret-${crypto.randomUUID()}`;
  const accounts = new Map<string, Record<string, unknown>>();
  const issued: string[] = [];
  const state: { loginAs: string; decline: boolean; tamper: Tamper | undefined } = { loginAs: 'nobody', decline: false, tamper: undefined };
  const real = await signingKey('login-idp-key');
  const impostor = await signingKey('login-idp-key'); // same kid, not in the JWKS
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  /** The ID token as the chosen misbehaviour would have it, signed with the real key unless the signature is the fault. */
  const spoil = async (idToken: string, tamper: Tamper): Promise<string> => {
    const claims = decodeJwt(idToken);
    const now = Math.floor(Date.now() / 1000);
    if (tamper === 'audience') claims.aud = 'another-client';
    if (tamper === 'nonce') claims.nonce = 'another-nonce';
    if (tamper === 'issuer') claims.iss = 'https://impostor.example';
    if (tamper === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
    const key = tamper === 'signature' ? impostor.key : real.key;
    return new SignJWT(claims).setProtectedHeader({ ...decodeProtectedHeader(idToken), alg: 'RS256', kid: 'login-idp-key' }).sign(key);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!handler) return void res.writeHead(503).end('not started');
    handler(req, res);
  });

  const start = async (redirectUris: string[]) => {
    const provider = new Provider(issuer, {
      clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris, grant_types: ['authorization_code'], response_types: ['code'] }],
      jwks: { keys: [real.privateJwk] },
      cookies: { keys: ['login-idp-test-cookie-key'] },
      scopes: ['openid', 'email', 'profile', 'groups', 'tenant'],
      // `tenant`: an organisation claim, as providers configured for several customers give one.
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'], tenant: ['tenant'] },
      // Claims in the ID token itself (not only at userinfo), as Keycloak, Entra ID and Okta give them.
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
      if (state.tamper !== undefined && typeof body.id_token === 'string') body.id_token = await spoil(body.id_token, state.tamper);
    });
    provider.use(async (ctx, next) => {
      await next();
      // The code reaches Gatehouse in the redirect's Location; remember it for the log greps.
      const location = (ctx as unknown as { response: { get(name: string): string } }).response.get('location');
      const code = location ? new URL(location, issuer).searchParams.get('code') : null;
      if (code) issued.push(code);
    });
    const app = provider.callback();
    handler = (req, res) => {
      if (!req.url?.startsWith('/interaction/')) return app(req, res);
      playPerson(provider, state, req, res);
    };
  };

  return {
    issuer,
    clientId,
    clientSecret,
    start,
    accounts,
    issued,
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
    get tamper() {
      return state.tamper;
    },
    set tamper(value: Tamper | undefined) {
      state.tamper = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One browser request's answer: status, where it sends the browser, the page. */
export interface BrowserStep {
  status: number;
  url: string;
  location: string | undefined;
  text: string;
}

/**
 * A browser across Gatehouse and the provider: one cookie jar per origin, redirects followed
 * within `origins` (each step with a timeout) and stopped at a page or at a redirect elsewhere
 * (the MCP client's redirect URI).
 */
export class Browser {
  private readonly jars = new Map<string, Map<string, string>>();
  constructor(private readonly origins: readonly string[]) {}

  private jar(url: string): Map<string, string> {
    const origin = new URL(url).origin;
    let jar = this.jars.get(origin);
    if (!jar) this.jars.set(origin, (jar = new Map()));
    return jar;
  }

  /** Forget Gatehouse's cookies (another browser, or one whose cookie expired). */
  forget(origin: string): void {
    this.jars.delete(origin);
  }

  async step(url: string, form?: Record<string, string>): Promise<BrowserStep> {
    const jar = this.jar(url);
    const headers: Record<string, string> = { accept: 'text/html' };
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual', signal: AbortSignal.timeout(20_000) });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const location = response.headers.get('location');
    return { status: response.status, url, location: location === null ? undefined : new URL(location, url).href, text: await response.text() };
  }

  /** A request, then its redirects within the known origins, to the page or the redirect that leaves them (or that `until` stops at). */
  async go(url: string, form?: Record<string, string>, until?: (location: string) => boolean): Promise<BrowserStep> {
    let step = await this.step(url, form);
    for (let hop = 0; hop < 20; hop++) {
      if (step.status < 300 || step.status >= 400 || step.location === undefined) return step;
      if (!this.origins.includes(new URL(step.location).origin) || until?.(step.location)) return step;
      step = await this.step(step.location);
    }
    throw new Error(`more than 20 redirects from ${url}`);
  }
}
