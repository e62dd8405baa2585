// Config schema for who may call: authentication plans per API, agents declared in the file,
// the embedded authorization server, upstream credentials, and the store that keeps them.
import { z } from 'zod';
import { Duration, Size } from './units.ts';
import { ExternalProvidersSchema } from './oidc-login-schema.ts';

/** An absolute http(s) URL (shared with the servers' schema). */
export const Url = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'expected an absolute http:// or https:// URL');

export const KeylessAuth = z
  .strictObject({ type: z.literal('keyless') })
  .meta({ description: 'No credential: every caller is the anonymous principal. Never a fallback for a failed credential.' });

export const ApiKeyAuth = z
  .strictObject({
    type: z.literal('api-key'),
    header: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name')
      .optional()
      .meta({ description: 'Also accept the key in this header (e.g. x-api-key). `Authorization: Bearer <key>` is always accepted.' }),
  })
  .meta({ description: 'API keys of agents (declared under `agents` or created with `gatehouse keys create`).' });

const JwtAlgorithms = z
  .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512']))
  .min(1)
  .meta({ description: 'Accepted signature algorithms (`none` is never accepted).' });

export const JwtAuth = z
  .strictObject({
    type: z.literal('jwt'),
    issuer: z.string().min(1).meta({ description: 'Expected `iss`.' }),
    audience: z.union([z.string(), z.array(z.string()).min(1)]).meta({ description: 'Expected `aud` (any of).' }),
    jwksUrl: Url.optional().meta({ description: 'JWKS URL (cached; refreshed when an unknown key id appears).' }),
    publicKey: z.string().optional().meta({ description: 'A PEM public key, instead of jwksUrl.' }),
    secret: z.string().optional().meta({ description: 'An HMAC secret (use ${env:NAME}), instead of jwksUrl.' }),
    algorithms: JwtAlgorithms.optional(),
    clockTolerance: Duration.default(30_000),
    principalClaim: z.string().default('sub').meta({ description: 'Claim that names the agent.' }),
    requiredScopes: z.array(z.string()).default([]).meta({ description: 'Scopes every token must carry (space-separated `scope` claim or `scp` list).' }),
  })
  .refine((v) => [v.jwksUrl, v.publicKey, v.secret].filter((x) => x !== undefined).length === 1, {
    message: 'expected exactly one of jwksUrl, publicKey or secret',
  })
  .meta({ description: 'JSON Web Tokens from any issuer, verified locally.' });

export const OAuth2Auth = z
  .strictObject({
    type: z.literal('oauth2'),
    issuer: z.string().optional().meta({ description: 'External authorization server issuer. Omit to use the embedded authorization server.' }),
    jwksUrl: Url.optional().meta({ description: 'JWKS of the external issuer (default: from its metadata).' }),
    introspection: z
      .strictObject({
        url: Url,
        clientId: z.string(),
        clientSecret: z.string().meta({ description: 'Use ${env:NAME}.' }),
      })
      .optional()
      .meta({ description: 'Validate opaque tokens by RFC 7662 introspection instead of as JWTs.' }),
    audience: z.string().optional().meta({ description: 'Expected token audience (default: this API\'s public URL, per RFC 8707).' }),
    scopes: z.array(z.string()).default(['mcp']).meta({ description: 'Scopes advertised in protected resource metadata and WWW-Authenticate.' }),
    requiredScopes: z.array(z.string()).default([]).meta({ description: 'Scopes a token must carry; otherwise 403 insufficient_scope.' }),
  })
  .meta({ description: 'Gatehouse as an OAuth 2.1 protected resource (MCP authorization spec).' });

export const PassthroughAuth = z
  .strictObject({ type: z.literal('passthrough') })
  .meta({ description: 'The upstream does its own MCP OAuth: its 401 and metadata are relayed (rewritten to point at Gatehouse) and the client\'s token is forwarded. Audience caveat: see docs.' });

export const AuthPlanSchema = z.discriminatedUnion('type', [KeylessAuth, ApiKeyAuth, JwtAuth, OAuth2Auth, PassthroughAuth]);

/** One plan, or several tried in order (the first whose credential is present decides). */
export const Auth = z.union([AuthPlanSchema, z.array(AuthPlanSchema).min(1)]);

const ApiKeyRef = z.union([
  z.strictObject({
    value: z.string().min(16, 'expected a key of at least 16 characters (give it with ${env:NAME})'),
    api: z.string().optional(),
    expires: z.string().optional().meta({ description: 'ISO date/time after which the key is refused.' }),
  }),
  z.strictObject({
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected a hex SHA-256 digest (64 characters)').meta({ description: 'SHA-256 digest (hex) of the key, e.g. from `printf %s "$KEY" | sha256sum`.' }),
    api: z.string().optional(),
    expires: z.string().optional(),
  }),
]);

export const AgentSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/, 'expected an agent id of letters, digits, "_", ".", "@" or "-"'),
  name: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  tenant: z
    .string()
    .optional()
    .meta({ description: 'The agent\'s tenant. Once `tenants` are declared it must name one of them (or `default`), and the agent can only reach APIs of that tenant; without `tenants` it is only a label (ACL conditions read it as `agent.tenant`).' }),
  apiKeys: z.array(ApiKeyRef).default([]).meta({ description: 'Keys by reference (${env:NAME}) or by SHA-256 digest: no secret in the file.' }),
});

export const AuthorizationServerSchema = z
  .strictObject({
    issuer: Url.optional().meta({ description: 'Issuer URL (default: the public base URL).' }),
    dynamicRegistration: z.boolean().default(true).meta({ description: 'RFC 7591 dynamic client registration.' }),
    clientIdMetadataDocuments: z.boolean().default(true).meta({ description: 'Accept https client ids naming a Client ID Metadata Document.' }),
    selfRegistration: z.boolean().default(false).meta({ description: 'Let people create an account on the login page.' }),
    accessTokenTtl: Duration.default(3_600_000),
    refreshTokenTtl: Duration.default(30 * 86_400_000),
    scopes: z.array(z.string()).default(['mcp', 'offline_access']),
    registration: z
      .strictObject({
        maxMetadataBytes: Size.default(16 * 1024).meta({ description: 'Largest client metadata document accepted by dynamic registration (413 beyond).' }),
        perAddress: z.number().int().min(1).default(20).meta({ description: 'Registrations accepted from one address per `window`; more are refused (429). Behind a trusted proxy, the address the proxy saw.' }),
        window: Duration.default(3_600_000).meta({ description: 'The window of `perAddress`.' }),
        unusedClientTtl: Duration.default(86_400_000).meta({ description: 'A registered client that has not completed an authorization (no token issued) within this time is deleted.' }),
      })
      .default({ maxMetadataBytes: 16 * 1024, perAddress: 20, window: 3_600_000, unusedClientTtl: 86_400_000 })
      .meta({ description: 'Bounds of dynamic client registration (RFC 7591), which anyone can reach.' }),
    allowInsecureMetadataUrlsForTesting: z
      .boolean()
      .default(false)
      .meta({ description: 'TESTS ONLY: fetch Client ID Metadata Documents over http:// and from loopback/private addresses. Turns off the SSRF guard; never enable in production.' }),
    externalProviders: ExternalProvidersSchema,
  })
  .meta({ description: 'The embedded OAuth 2.1 authorization server, used by `oauth2` plans that name no issuer.' });

/** A secret sent in a header: no line breaks or control characters (they would corrupt the request). */
const HeaderSafe = z.string().min(1).regex(/^[^\x00-\x08\x0a-\x1f\x7f]+$/, 'expected a value without line breaks or control characters');

/** Headers of the transport itself: a credential header must not replace them. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'accept', 'last-event-id', 'mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name']);

export const UpstreamCredentialSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('bearer'), token: HeaderSafe.meta({ description: 'Use ${env:NAME}.' }) }),
  z.strictObject({
    type: z.literal('header'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name')
      .refine((n) => !RESERVED_HEADERS.has(n.toLowerCase()), 'expected a header Gatehouse does not set itself (not Host, Content-Type, Content-Length, Accept, Connection, Mcp-*, …)'),
    value: HeaderSafe.meta({ description: 'Use ${env:NAME}.' }),
  }),
  z.strictObject({
    type: z.literal('client-credentials'),
    tokenUrl: Url,
    clientId: z.string(),
    clientSecret: z.string().meta({ description: 'Use ${env:NAME}.' }),
    scope: z.string().optional(),
    audience: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('stored'), name: z.string().optional().meta({ description: 'Name in the credential store (default: the server name); set with `gatehouse credentials set`.' }) }),
]);

export const StoreSchema = z
  .union([
    z.strictObject({ type: z.literal('sqlite'), file: z.string().optional().meta({ description: 'Database file (default: <dataDir>/gatehouse.db).' }) }),
    z.strictObject({ type: z.literal('postgres'), url: z.string().meta({ description: 'postgres:// URL (use ${env:NAME}).' }), schema: z.string().optional() }),
  ])
  .meta({ description: 'Where agents, keys, users, OAuth state and sealed credentials live.' });

/** One OAuth scope token (RFC 6749 §3.3): no spaces, quotes or backslashes. */
const OAuthScope = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'expected an OAuth scope token (no spaces or quotes)');

/**
 * `auth: { type: oauth-user }` on a Streamable HTTP server: Gatehouse is an OAuth 2.1 client of the
 * server's authorization server and holds one token per (user, server) (src/credentials/oauth-user/).
 */
export const OAuthUserAuthSchema = z
  .strictObject({
    type: z.literal('oauth-user'),
    issuer: Url.optional().meta({
      description:
        'The upstream\'s authorization server (issuer URL). Default: discovered from the server\'s 401 (`WWW-Authenticate` resource_metadata) and its RFC 9728 protected resource metadata.',
    }),
    resource: Url.optional().meta({ description: 'The RFC 8707 `resource` asked for. Default: the `resource` of the server\'s protected resource metadata, else the server URL.' }),
    scopes: z.array(OAuthScope).optional().meta({
      description: 'Scopes asked for. Default: `scopes_supported` of the protected resource metadata, else none.',
    }),
    client: z
      .strictObject({
        id: z.string().min(1),
        secret: z.string().optional().meta({ description: 'Use ${env:NAME}. Without it the client is public (PKCE only).' }),
      })
      .optional()
      .meta({
        description:
          'A client registered at the upstream\'s authorization server by hand. Without it Gatehouse uses its Client ID Metadata Document (when the server offers CIMD and Gatehouse\'s public URL is https) or dynamic registration (RFC 7591, kept in the store).',
      }),
    anonymous: z
      .enum(['refuse', 'service'])
      .default('refuse')
      .meta({ description: 'An agent without a user (API key, keyless): `refuse` (403), or `service`: use the token connected for `serviceUser`.' }),
    serviceUser: z.string().min(1).optional().meta({ description: 'With `anonymous: service`: the user id whose connection serves agents without a user (connect it with `gatehouse connections connect`).' }),
    refreshBefore: Duration.default(60_000).meta({ description: 'Refresh a token this long before it expires (one refresh shared by concurrent calls).' }),
    connectTtl: Duration.default(600_000).meta({ description: 'How long a connect link (and the authorization that follows it) stays valid. Single use.' }),
    connectAtSignIn: z.boolean().default(true).meta({
      description:
        'When a user signs in at Gatehouse\'s embedded authorization server for an API that uses this server and has not connected it yet, connect it then, before the client gets its code (desktop clients stop on a prompt at their first `initialize`). `false`: only when a call needs it (the connect prompt).',
    }),
  })
  .refine((v) => v.anonymous !== 'service' || v.serviceUser !== undefined, { message: 'expected `serviceUser` with `anonymous: service`', path: ['serviceUser'] })
  .meta({ description: 'Per-user upstream OAuth: each user connects their own account at the upstream once; Gatehouse keeps the token sealed and sends it on that user\'s calls. See docs/upstream-identity.md.' });

/** The actor token of a token exchange: who acts for the user (src/credentials/token-exchange/). */
const TokenExchangeActorSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }).meta({ description: 'No actor token: the authorization server knows only Gatehouse\'s client.' }),
    z
      .strictObject({
        type: z.literal('jwt'),
        issuer: z.string().min(1).meta({ description: '`iss` of the actor token: the name the authorization server knows Gatehouse\'s signing key by.' }),
        privateKey: z.string().min(1).meta({ description: 'PEM private key (RSA, EC P-256/P-384/P-521 or Ed25519) that signs the actor token. Use ${env:NAME}.' }),
        keyId: z.string().min(1).optional().meta({ description: '`kid` header of the actor token.' }),
        audience: z.string().min(1).optional().meta({ description: '`aud` of the actor token. Default: the token endpoint URL.' }),
        lifetime: Duration.default(300_000).meta({ description: 'Lifetime of each actor token (one is signed per exchange).' }),
      })
      .meta({ description: 'A JWT Gatehouse signs per exchange whose `sub` is the agent (the OAuth client id of the caller\'s token, else the principal id), so the issued token\'s `act` names the agent.' }),
  ])
  .meta({ description: 'The RFC 8693 actor token sent with each exchange.' });

/**
 * `auth: { type: token-exchange }` on a Streamable HTTP server that trusts an enterprise
 * authorization server: each caller's own token is exchanged (RFC 8693) for one whose audience is
 * the upstream, with the agent as actor.
 */
export const TokenExchangeAuthSchema = z
  .strictObject({
    type: z.literal('token-exchange'),
    tokenUrl: Url.meta({ description: 'The token endpoint of the authorization server that does the exchange (RFC 8693). https, except on loopback.' }),
    client: z
      .strictObject({
        id: z.string().min(1),
        secret: z.string().min(1).meta({ description: 'Use ${env:NAME}. Sent with HTTP Basic (client_secret_basic).' }),
      })
      .meta({ description: 'Gatehouse\'s client at that authorization server.' }),
    subjectTokenType: z
      .enum(['access_token', 'jwt'])
      .default('access_token')
      .meta({ description: 'What the caller\'s token is declared as: `urn:ietf:params:oauth:token-type:access_token` or `…:jwt`.' }),
    actor: TokenExchangeActorSchema.default({ type: 'none' }),
    audience: z.string().min(1).optional().meta({ description: 'The `audience` asked for (a logical name the authorization server knows the upstream by).' }),
    resource: Url.optional().meta({ description: 'The `resource` asked for. Default: the server\'s URL when no `audience` is given.' }),
    scopes: z.array(OAuthScope).optional().meta({ description: 'Scopes asked for (the `scope` parameter). Default: none, the authorization server decides.' }),
    anonymous: z
      .enum(['refuse', 'service'])
      .default('refuse')
      .meta({
        description:
          'An agent that presented no user token (API key, keyless): `refuse` (403), or `service`: Gatehouse\'s own client gets a token for the upstream with the client credentials grant at `tokenUrl` (the same `resource`/`audience` and `scopes`) and sends that, as the service identity, for every such agent.',
      }),
    refreshBefore: Duration.default(30_000).meta({ description: 'Stop using an issued token this long before it expires (at most half its lifetime); the next call exchanges again.' }),
    timeout: Duration.default(10_000).meta({ description: 'Longest wait for the token endpoint (connect and answer).' }),
    maxCachedTokens: z.number().int().min(1).max(1_000_000).default(10_000).meta({ description: 'Most issued tokens kept in memory per server (one per user and agent); the oldest goes first.' }),
  })
  .meta({ description: 'RFC 8693 token exchange: each call made for a user is sent with a token the authorization server issued for that user and this upstream, with the agent as actor (`act`). Issued tokens are kept in memory only. See docs/upstream-identity.md.' });

/** A server's per-caller identity: its user's own OAuth token, or an exchanged one. */
export const UpstreamAuthSchema = z.discriminatedUnion('type', [OAuthUserAuthSchema, TokenExchangeAuthSchema]);
