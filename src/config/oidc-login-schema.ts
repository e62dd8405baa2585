// Config schema of external OpenID Connect sign-in for the embedded authorization server
// (src/authserver/external/): which providers appear on the login page, Gatehouse's client at
// each, and how their ID token claims become a Gatehouse user.
import { z } from 'zod';
import { Duration } from './units.ts';

/** https, or http to a loopback address (a provider on the same machine, tests); no query or fragment (OpenID Discovery §2). */
const IssuerUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\./.test(url.hostname);
    return (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}, 'expected an https:// issuer URL (http:// only on a loopback address), without query or fragment');

/** A provider's name: part of its callback path and the qualifier of its users' names. */
const ProviderName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a short name of lowercase letters, digits and "-" (max 32), e.g. "keycloak"');

/** Signature algorithms an identity assertion may use: asymmetric ones only (an IdP's keys are public; `none` never). */
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** Enterprise-Managed Authorization: the provider's Identity Assertion JWT Authorization Grants (ID-JAG) redeemed at the token endpoint. */
export const IdentityAssertionsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Redeem this provider\'s ID-JAGs (`true` once the block is present; `false` keeps the settings but refuses them).' }),
    clients: z
      .array(z.string().min(1, 'expected a client id'))
      .min(1, 'expected at least one client id, or no `clients` for every client')
      .optional()
      .meta({ description: 'The Gatehouse client ids (as registered here) that may redeem this provider\'s ID-JAGs; without it, any confidential client that registered the grant type `urn:ietf:params:oauth:grant-type:jwt-bearer`. Another client gets `unauthorized_client`.' }),
    maxLifetime: Duration.default(600_000).meta({ description: 'Longest accepted lifetime of an ID-JAG (`exp` − `iat`); a longer-lived one is refused (`invalid_grant`). Its `jti` is remembered until `exp` so that it is redeemed once.' }),
    algorithms: z
      .array(z.enum(ASSERTION_ALGORITHMS))
      .min(1)
      .default([...ASSERTION_ALGORITHMS])
      .meta({ description: 'Accepted signature algorithms of the ID-JAG, verified with the keys of the provider\'s `jwks_uri` (from its discovery document). Asymmetric only; `none` and HMAC are never accepted.' }),
  })
  .meta({
    description:
      'Enterprise-Managed Authorization (MCP extension `io.modelcontextprotocol/enterprise-managed-authorization`): an MCP client that signed the user in at this provider exchanges the ID token there for an Identity Assertion JWT Authorization Grant (ID-JAG), and redeems it at `/oauth/token` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` for a Gatehouse access token, with no consent page. The ID-JAG\'s claims name the user as an ID token does (`username`, `groupsClaim`, `tenantClaim`, `users` apply). See docs/authorization-server.md.',
  });

export const ExternalProviderSchema = z
  .strictObject({
    name: ProviderName.meta({
      description:
        'Identifies the provider: its callback is `<issuer>/oauth/external/<name>/callback` (register that redirect URI at the provider), and with `username: sub` its users are named `<sub>@<name>`. Do not reuse a name for another issuer.',
    }),
    displayName: z.string().min(1).max(60).optional().meta({ description: 'Shown on the login page as "Sign in with <displayName>" (default: the name).' }),
    issuer: IssuerUrl.meta({ description: "The provider's issuer URL; its OpenID discovery document is read from `<issuer>/.well-known/openid-configuration`. https, or http on a loopback address." }),
    clientId: z
      .string()
      .min(1, 'expected the client id Gatehouse has at the provider')
      .optional()
      .meta({ description: "Gatehouse's client id at the provider: required for sign-in on the login page. A provider without it is trusted for `identityAssertions` only and is not offered on the login page." }),
    clientSecret: z
      .string()
      .min(1, 'expected the client secret (empty: is its environment variable set?), or no clientSecret for a public client')
      .optional()
      .meta({ description: "Gatehouse's client secret at the provider (use ${env:NAME}); sent with client_secret_basic, or client_secret_post when the provider offers only that. Without it Gatehouse is a public client (PKCE only)." }),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'expected an OAuth scope token')).default(['openid', 'email', 'profile']).refine((s) => s.includes('openid'), 'expected a list that includes "openid"'),
    username: z
      .enum(['sub', 'email'])
      .default('sub')
      .meta({
        description:
          'Which claim names the Gatehouse user: `sub` (the default) gives `<sub>@<name>`, which no other provider or local account can claim; `email` gives the email address, only when `email_verified` is true, and links to a local user of that name: choose it only for a provider you trust to verify addresses.',
      }),
    groupsClaim: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "An ID token claim holding the user's groups (a list of strings, or one string); they are carried into Gatehouse's access tokens as the `groups` claim, for policies (`principal.claims.groups`)." }),
    tenantClaim: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "An ID token claim naming the user's tenant (one of `tenants[].id`, or `default`). Users created at first sign-in land in it; an existing user of another tenant, a missing claim or an unknown tenant is refused. Without it, users created here belong to the default tenant. A user reaches only its own tenant's APIs (docs/tenants.md)." }),
    users: z
      .enum(['existing', 'create'])
      .default('existing')
      .meta({
        description:
          '`existing` (the default): the mapped user must already exist (`gatehouse users create NAME --external`); `create`: a user unknown to Gatehouse is created at their first sign-in (just in time), without a password.',
      }),
    timeout: Duration.default(10_000).meta({ description: 'How long each request to the provider (discovery, token, keys) may take before the sign-in ends with an error page (504).' }),
    identityAssertions: IdentityAssertionsSchema.optional(),
  })
  .superRefine((provider, ctx) => {
    if (provider.clientId === undefined && provider.identityAssertions?.enabled !== true) {
      ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'expected the client id Gatehouse has at the provider (only a provider trusted for identityAssertions alone may go without)' });
    }
    if (provider.clientId === undefined && provider.clientSecret !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'expected no clientSecret without a clientId' });
    }
  })
  .meta({ description: 'An external OpenID Connect provider people can sign in with on the login page, beside their password, and whose identity assertions (ID-JAG) may be trusted.' });

export const ExternalProvidersSchema = z
  .array(ExternalProviderSchema)
  .default([])
  .superRefine((providers, ctx) => {
    const seen = new Set<string>();
    const asserting = new Map<string, string>();
    providers.forEach((provider, index) => {
      if (seen.has(provider.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `expected a unique name: "${provider.name}" is used twice` });
      seen.add(provider.name);
      if (provider.identityAssertions?.enabled !== true) return;
      // An ID-JAG names its issuer only: one provider per issuer decides how its users are named.
      const other = asserting.get(provider.issuer);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: [index, 'identityAssertions'], message: `expected identity assertions on for one provider per issuer: "${other}" already redeems those of ${provider.issuer}` });
      }
      asserting.set(provider.issuer, provider.name);
    });
  })
  .meta({ description: 'External OpenID Connect providers (Keycloak, Entra ID, Okta, Google, …) offered on the login page. Local passwords stay available.' });

export type ExternalProviderConfig = z.output<typeof ExternalProviderSchema>;
/** A provider people can sign in with on the login page: one with Gatehouse's client id there. */
export type SignInProviderConfig = ExternalProviderConfig & { clientId: string };
export function offersSignIn(provider: ExternalProviderConfig): provider is SignInProviderConfig {
  return provider.clientId !== undefined;
}
export type IdentityAssertionsConfig = z.output<typeof IdentityAssertionsSchema>;
