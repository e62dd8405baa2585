// The embedded OAuth 2.1 authorization server: what `oauth2` plans without an `issuer` trust.
// Built on the MCP SDK's auth pieces (token, registration and revocation handlers, PKCE check,
// client metadata schema, redirect URI matching) with Gatehouse's store behind them; the
// authorization endpoint, sign-in and consent pages are ours (see authorize.ts for why).
// Served through the listener's non-MCP routes: /oauth/* and the two discovery documents.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { JWTVerifyGetKey } from 'jose';
import { tokenHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/token.js';
import { clientRegistrationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/register.js';
import { revocationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/revoke.js';
import type { ApiData, ConfigData } from '../config/schema.ts';
import { AuthorizationServerSchema } from '../config/auth-schema.ts';
import { offersSignIn } from '../config/oidc-login-schema.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../log.ts';
import type { RouteHandler } from '../http/routes.ts';
import type { EmbeddedIssuer } from '../auth/oauth2.ts';
import { GatehouseError } from '../errors.ts';
import { normalizeApiPath } from '../config/load.ts';
import { loadSigningKeys, type SigningKeys } from './keys.ts';
import { ClientMetadataFetcher } from './cimd.ts';
import { ClientRegistry } from './clients.ts';
import { clientAuthentication } from './client-auth.ts';
import { TokenIssuer, OFFLINE_ACCESS } from './tokens.ts';
import { TokenDenylist } from './revocation.ts';
import { AuthEvents, clientAddress, type AuthEventSink } from './events.ts';
import { AddressRateLimit } from './rate-limit.ts';
import { GatehouseProvider } from './provider.ts';
import { Interactions } from './interaction.ts';
import { SecondFactor } from './second-factor.ts';
import { CredentialVault } from '../credentials/vault.ts';
import { credentialsKeySource } from '../credentials/key.ts';
import { authorizeHandler } from './authorize.ts';
import { resourceTenants } from './tenancy.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';
import { ExternalSignIn } from './external/sign-in.ts';
import { identityAssertionGrant, identityAssertionsEnabled, type ApiScopes } from './external/identity-assertion.ts';
import { authorizationServerMetadata } from './metadata.ts';
import { sendErrorPage } from './pages.ts';
import { adminClient } from './admin-client.ts';
import { adminCodeExchange, type AdminSignIn } from './admin-exchange.ts';
import { CONNECT_UPSTREAM, SignInConnections, type UpstreamAccounts } from './sign-in-connections.ts';
import { serversOf } from '../upstream/federation/plan.ts';
import { apiOfResource, UserGrants } from './grants.ts';
import { checkPostLogoutRedirectUris, endSessionHandler, postLogoutRedirectUris } from './end-session.ts';
import { registeringLogoutUris } from './clients.ts';

export interface AuthorizationServerDeps {
  store: Store;
  config: ConfigData;
  log: Logger;
  dataDir: string;
  /** The public base URL of a request (src/auth/public-url.ts). */
  publicBase: (req: IncomingMessage) => string;
  /** Where security events go besides the log (the audit log). */
  events?: AuthEventSink | undefined;
  /** The credentials key's vault: users' TOTP secrets are sealed under it (a vault of dataDir's key when absent). */
  vault?: CredentialVault | undefined;
  /** Per-user upstream accounts, connected at sign-in for the APIs that need them (sign-in-connections.ts). */
  upstreamAccounts?: UpstreamAccounts | undefined;
}

export interface AuthorizationServer {
  /** The issuer: `authorizationServer.issuer`, or the request's public base URL. */
  issuer(req?: IncomingMessage): string;
  /** Verify keys of the access tokens it issues. */
  readonly keys: JWTVerifyGetKey;
  /** What `oauth2` plans without an issuer are given (src/auth/oauth2.ts). */
  readonly embeddedIssuer: EmbeddedIssuer;
  readonly routes: Array<[string, RouteHandler]>;
  /** The admin listener's "Sign in with Gatehouse" (admin-client.ts); undefined when it has no client. */
  readonly admin: AdminSignIn | undefined;
  /** Users' grants: listed and ended by the user, the management API and the console (grants.ts). */
  readonly grants: UserGrants;
  /** What the end-session page (/-/end-session) needs of this server. */
  readonly endSession: EndSessionHooks;
}

/** The end-session page's view of this server: clients, grants, security events. */
export interface EndSessionHooks {
  /** The client's display name and its registered post-logout redirect URIs, or why there is none. */
  client(clientId: string): Promise<{ name: string | undefined; postLogoutRedirectUris: string[] } | { error: string }>;
  readonly grants: UserGrants;
  readonly emit: AuthEvents['emit'];
}

const PRUNE_EVERY_MS = 10 * 60_000;
const REGISTER = '/oauth/register';

/** APIs whose oauth2 plan names no issuer: the resources this server issues tokens for. */
function embeddedPlans(config: ConfigData) {
  return config.apis.flatMap((api) =>
    (Array.isArray(api.auth) ? api.auth : [api.auth]).flatMap((plan) => (plan.type === 'oauth2' && plan.issuer === undefined ? [{ api, plan }] : [])),
  );
}

/** On when an API relies on it or `authorizationServer` is configured. */
export function authorizationServerEnabled(config: ConfigData): boolean {
  return config.authorizationServer !== undefined || embeddedPlans(config).length > 0;
}

export function createAuthorizationServer(deps: AuthorizationServerDeps): AuthorizationServer {
  const { store, config, log: parentLog, dataDir, publicBase } = deps;
  const log = parentLog.child({ component: 'authserver' });
  const settings = config.authorizationServer ?? AuthorizationServerSchema.parse({});
  const plans = embeddedPlans(config);
  const apiPaths = [...new Set(plans.map(({ api }) => api.path))];
  const planScopes = plans.flatMap(({ plan }) => [...plan.scopes, ...plan.requiredScopes]);
  const supportedScopes = new Set([...settings.scopes, ...planScopes]);
  const advertised = plans.flatMap(({ plan }) => plan.scopes);
  const defaultScopes = [...new Set(advertised.length > 0 ? advertised : settings.scopes.filter((s) => s !== OFFLINE_ACCESS))];

  const fixedIssuer = settings.issuer;
  const issuer = (req?: IncomingMessage): string => {
    if (fixedIssuer !== undefined) return fixedIssuer;
    if (config.publicUrl !== undefined) return config.publicUrl.replace(/\/+$/, '');
    if (!req) throw new Error('the issuer follows the request: no publicUrl or authorizationServer.issuer is configured');
    return publicBase(req);
  };

  let keysLoading: Promise<SigningKeys> | undefined;
  const signingKeys = (): Promise<SigningKeys> => {
    keysLoading ??= loadSigningKeys(dataDir).catch((error: unknown) => {
      keysLoading = undefined;
      throw error;
    });
    return keysLoading;
  };
  const keys: JWTVerifyGetKey = async (header, token) => (await signingKeys()).verify(header, token);

  if (settings.allowInsecureMetadataUrlsForTesting) {
    log.warn('authorizationServer.allowInsecureMetadataUrlsForTesting is on: client metadata documents may be fetched over http and from private addresses; never use this in production');
  }
  const documents = settings.clientIdMetadataDocuments ? new ClientMetadataFetcher({ allowInsecure: settings.allowInsecureMetadataUrlsForTesting }) : undefined;
  const registration = settings.registration;
  const builtIn = adminClient(config);
  const assertions = identityAssertionsEnabled(settings.externalProviders);
  const clients = new ClientRegistry(store, documents, supportedScopes, registration.unusedClientTtl, builtIn, assertions);
  const apiOf = apiOfResource(plans.map(({ api }) => api));
  const events = new AuthEvents(log, deps.events, apiOf);
  const denylist = new TokenDenylist(store);
  const grants = new UserGrants(store, denylist, (kind, fields) => events.emit(kind, fields), apiOf);
  const tokens = new TokenIssuer(store, signingKeys, { accessMs: settings.accessTokenTtl, refreshMs: settings.refreshTokenTtl }, denylist);
  const signInProviders = settings.externalProviders.filter(offersSignIn);
  const providers = signInProviders.map((p) => ({ name: p.name, displayName: p.displayName ?? p.name }));
  const tenantOf = resourceTenants(plans.map(({ api }) => api));
  const secondFactor = new SecondFactor(store, deps.vault ?? new CredentialVault(store, credentialsKeySource(dataDir)));
  const connections = deps.upstreamAccounts && new SignInConnections(store, deps.upstreamAccounts, apiServersOfResource(plans.map(({ api }) => api)), log);
  const interactions = new Interactions(store, tokens, log, { selfRegistration: settings.selfRegistration, issuer: (req) => issuer(req), providers, tenantOf, secondFactor, events, connections });
  const provider = new GatehouseProvider(store, clients, tokens, signingKeys, interactions.begin, denylist, events, tenantOf);
  const tenantIds = [DEFAULT_TENANT, ...config.tenants.map((t) => t.id)];
  const external = signInProviders.length > 0 ? new ExternalSignIn(signInProviders, store, interactions, events, log, tenantIds) : undefined;
  const idJag = assertions
    ? identityAssertionGrant({ providers: settings.externalProviders, store, tokens, events, log, issuer, publicBase, apiPaths, scopesOf: apiScopes(plans, settings.scopes), tenantOf, tenants: tenantIds })
    : undefined;

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  let lastPrune = 0;
  const prune = async (now: number) => {
    await Promise.all([store.pruneGrants(now), store.pruneRevocations(now)]);
    const expired = await store.deleteUnusedOAuthClients(now - registration.unusedClientTtl);
    if (expired > 0) events.emit('clients-expired', { endpoint: REGISTER, status: 200, detail: `${expired} registered client(s) that never completed an authorization expired` });
  };
  app.use((req, _res, next) => {
    const now = Date.now();
    if (now - lastPrune > PRUNE_EVERY_MS) {
      lastPrune = now;
      prune(now).catch((error: unknown) => log.warn({ err: error }, 'could not prune expired OAuth grants and clients'));
    }
    // Security events raised deeper down (the SDK calls the provider) name the request's address.
    events.within(clientAddress(req, config.trustProxy), next);
  });

  // Discovery documents and keys: public, cross-origin readable (browser-based clients).
  const metadata = (req: Request, res: Response) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') return preflight(req, res, 'GET, OPTIONS');
    if (req.method !== 'GET' && req.method !== 'HEAD') return res.status(405).setHeader('Allow', 'GET, OPTIONS').json({ error: 'method_not_allowed' });
    res.setHeader('Cache-Control', 'no-cache');
    res.json(
      authorizationServerMetadata(issuer(req), {
        dynamicRegistration: settings.dynamicRegistration,
        clientIdMetadataDocuments: settings.clientIdMetadataDocuments,
        scopes: [...supportedScopes],
        jwtBearer: assertions,
      }),
    );
  };
  app.all('/.well-known/oauth-authorization-server', metadata);
  app.all('/.well-known/openid-configuration', metadata);
  app.get('/oauth/jwks', async (_req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cache-Control', 'max-age=300');
    res.json((await signingKeys()).jwks);
  });

  const form = express.urlencoded({ extended: false, limit: '16kb' });
  app.all('/oauth/authorize', form, authorizeHandler({ store, clients, begin: interactions.begin, issuer, publicBase, supportedScopes, defaultScopes, apiPaths }));
  interactions.mount(app);
  external?.mount(app);
  if (connections) app.get(CONNECT_UPSTREAM, (req, res) => connections.next(req, res, interactions.finishConnected));
  app.all('/oauth/end-session', form, endSessionHandler());

  // The SDK's endpoint handlers; their own rate limiters are off (they key on the socket address,
  // wrong behind a proxy); client authentication runs first (see client-auth.ts).
  const cors = (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') return preflight(req, res, 'POST, OPTIONS');
    next();
  };
  // Identity assertions (the JWT bearer grant) are answered before the SDK's handler, which knows
  // authorization_code and refresh_token only (external/identity-assertion.ts).
  app.use('/oauth/token', cors, form, clientAuthentication(clients), ...(idJag ? [idJag] : []), tokenHandler({ provider, rateLimit: false }));
  app.use('/oauth/revoke', cors, form, clientAuthentication(clients), revocationHandler({ provider, rateLimit: false }));
  if (settings.dynamicRegistration) {
    // Anyone can register: every attempt is recorded, the metadata is size-capped, and one
    // address may register only so many clients per window.
    const perAddress = new AddressRateLimit(registration.perAddress, registration.window);
    const limit: RequestHandler = (req, res, next) => {
      if (req.method !== 'POST') return next();
      const wait = perAddress.take(clientAddress(req, config.trustProxy) ?? 'unknown');
      if (wait === 0) return next();
      res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      res.setHeader('Cache-Control', 'no-store');
      res.status(429).json({ error: 'too_many_requests', error_description: `too many client registrations from this address; try again in ${Math.ceil(wait / 60_000)} minute(s)` });
    };
    // RP-initiated logout's post_logout_redirect_uris: checked here, kept by the registry (the
    // SDK's metadata schema would drop them).
    const logoutUris: RequestHandler = (req, res, next) => {
      const body = req.body as unknown;
      if (req.method !== 'POST' || typeof body !== 'object' || body === null || Array.isArray(body)) return next();
      const checked = checkPostLogoutRedirectUris((body as Record<string, unknown>).post_logout_redirect_uris);
      if ('error' in checked) return void res.status(400).json({ error: 'invalid_client_metadata', error_description: checked.error });
      registeringLogoutUris.run(checked.uris, next);
    };
    const tooLarge = (error: unknown, _req: Request, res: Response, next: NextFunction) => {
      if ((error as { type?: unknown }).type !== 'entity.too.large') return next(error);
      res.status(413).json({ error: 'invalid_client_metadata', error_description: `client metadata larger than ${registration.maxMetadataBytes} bytes` });
    };
    app.use(
      '/oauth/register',
      cors,
      recordRegistration(events),
      limit,
      express.json({ limit: registration.maxMetadataBytes }),
      logoutUris,
      clientRegistrationHandler({ clientsStore: clients, rateLimit: false, clientSecretExpirySeconds: 0 }),
      tooLarge,
    );
  }

  app.use((req, res) => {
    if (req.path === '/oauth/signup' || req.accepts(['json', 'html']) === 'html') return sendErrorPage(res, 404, 'Not found', 'There is nothing here.');
    res.status(404).json({ error: 'not_found', error_description: `no endpoint at ${req.path}` });
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return void res.destroy();
    if (error instanceof GatehouseError) return void res.status(error.status).json({ error: 'invalid_request', error_description: error.message });
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return void res.status(status).json({ error: 'invalid_request', error_description: (error as Error).message });
    }
    log.error({ err: error, path: req.path }, 'authorization server: unexpected error');
    res.status(500).json({ error: 'server_error', error_description: 'internal error' });
  });

  const handler: RouteHandler = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      res.once('close', () => resolve());
      app(req, res);
    });

  return {
    issuer,
    keys,
    embeddedIssuer: {
      issuer: fixedIssuer ?? config.publicUrl?.replace(/\/+$/, '') ?? ((base: string) => base),
      keys,
      refusal: (claims) => denylist.refusal(claims),
    },
    grants,
    endSession: {
      client: async (clientId) => {
        const found = await clients.lookup(clientId);
        if ('error' in found) return found;
        return { name: found.client.client_name, postLogoutRedirectUris: postLogoutRedirectUris(found.client) };
      },
      grants,
      emit: (kind, fields) => events.emit(kind, fields),
    },
    admin: builtIn && { client: builtIn, fixedIssuer: fixedIssuer ?? config.publicUrl?.replace(/\/+$/, ''), keys, exchange: adminCodeExchange(provider, builtIn) },
    routes: [
      ['/oauth/*', handler],
      ['/.well-known/oauth-authorization-server', handler],
      ['/.well-known/openid-configuration', handler],
    ],
  };
}

function preflight(req: Request, res: Response, methods: string): void {
  res.setHeader('Access-Control-Allow-Methods', methods);
  res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? 'authorization, content-type, mcp-protocol-version');
  res.setHeader('Access-Control-Max-Age', '86400');
  res.status(204).end();
}

/** The servers of the API a resource URL names (its path is the API's path); none for what is no API. */
function apiServersOfResource(apis: readonly ApiData[]): (resource: string) => readonly string[] {
  const byPath = new Map(apis.map((api) => [normalizeApiPath(api.path), serversOf(api)]));
  return (resource) => {
    try {
      return byPath.get(normalizeApiPath(new URL(resource).pathname)) ?? [];
    } catch {
      return [];
    }
  };
}

/**
 * The scopes of the API a resource URL names, for grants that have no consent page to choose
 * them: the scopes its plans advertise and require, and the server's own (`authorizationServer.scopes`);
 * by default those the plans advertise (else the server's, offline_access aside).
 */
function apiScopes(plans: ReadonlyArray<{ api: { path: string }; plan: { scopes: string[]; requiredScopes: string[] } }>, serverScopes: readonly string[]): (audience: string) => ApiScopes {
  const byPath = new Map<string, { supported: Set<string>; advertised: string[] }>();
  for (const { api, plan } of plans) {
    const path = normalizeApiPath(api.path);
    const entry = byPath.get(path) ?? { supported: new Set(serverScopes), advertised: [] };
    for (const scope of [...plan.scopes, ...plan.requiredScopes]) entry.supported.add(scope);
    entry.advertised.push(...plan.scopes);
    byPath.set(path, entry);
  }
  const fallback = serverScopes.filter((s) => s !== OFFLINE_ACCESS);
  return (audience) => {
    let entry;
    try {
      entry = byPath.get(normalizeApiPath(new URL(audience).pathname));
    } catch {
      entry = undefined;
    }
    if (!entry) return { supported: new Set(serverScopes), defaults: fallback };
    return { supported: entry.supported, defaults: [...new Set(entry.advertised.length > 0 ? entry.advertised : fallback)] };
  };
}

/** Records the outcome of each registration attempt, whichever handler answered it. */
function recordRegistration(events: AuthEvents): RequestHandler {
  const clip = (text: unknown, max: number) => (typeof text === 'string' ? (text.length > max ? `${text.slice(0, max)}…` : text) : '');
  return (req, res, next) => {
    if (req.method !== 'POST') return next();
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      const answer = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const status = res.statusCode;
      if (status === 201 && typeof answer.client_id === 'string') {
        const uris = Array.isArray(answer.redirect_uris) ? answer.redirect_uris.map((u) => clip(u, 200)).join(' ') : '';
        events.emit('client-registered', {
          endpoint: REGISTER,
          status,
          clientId: answer.client_id,
          detail: `client registered: "${clip(answer.client_name, 100)}" (${clip(answer.token_endpoint_auth_method, 40)}; redirect URIs: ${clip(uris, 600)})`,
        });
      } else {
        events.emit('registration-refused', { endpoint: REGISTER, status, detail: `client registration refused: ${clip(answer.error, 60)}: ${clip(answer.error_description, 300)}` });
      }
      return json(body);
    };
    next();
  };
}
