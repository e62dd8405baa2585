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

export const ExternalProviderSchema = z
  .strictObject({
    name: ProviderName.meta({
      description:
        'Identifies the provider: its callback is `<issuer>/oauth/external/<name>/callback` (register that redirect URI at the provider), and with `username: sub` its users are named `<sub>@<name>`. Do not reuse a name for another issuer.',
    }),
    displayName: z.string().min(1).max(60).optional().meta({ description: 'Shown on the login page as "Sign in with <displayName>" (default: the name).' }),
    issuer: IssuerUrl.meta({ description: "The provider's issuer URL; its OpenID discovery document is read from `<issuer>/.well-known/openid-configuration`. https, or http on a loopback address." }),
    clientId: z.string().min(1, 'expected the client id Gatehouse has at the provider').meta({ description: "Gatehouse's client id at the provider." }),
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
  })
  .meta({ description: 'An external OpenID Connect provider people can sign in with on the login page, beside their password.' });

export const ExternalProvidersSchema = z
  .array(ExternalProviderSchema)
  .default([])
  .superRefine((providers, ctx) => {
    const seen = new Set<string>();
    providers.forEach((provider, index) => {
      if (seen.has(provider.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `expected a unique name: "${provider.name}" is used twice` });
      seen.add(provider.name);
    });
  })
  .meta({ description: 'External OpenID Connect providers (Keycloak, Entra ID, Okta, Google, …) offered on the login page. Local passwords stay available.' });

export type ExternalProviderConfig = z.output<typeof ExternalProviderSchema>;
