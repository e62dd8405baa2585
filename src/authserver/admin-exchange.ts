// The admin listener's token request, made in-process: the same steps as POST /oauth/token for
// an authorization code (the SDK's token handler: the code's PKCE challenge, the S256 check of
// the verifier, then the provider's exchange, which consumes the code, notices a replayed one
// and refuses a disabled user). In-process because the admin listener and the MCP listener may
// sit on different ports, hosts or behind a proxy that the process cannot reach itself, and a
// public client needs no secret to hold.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { JWTVerifyGetKey } from 'jose';
import type { OAuthClientInformationFull, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { InvalidGrantError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { GatehouseProvider } from './provider.ts';
import { ADMIN_RESOURCE } from './admin-client.ts';

export interface AdminSignIn {
  /** The built-in client (client id, redirect URIs). */
  readonly client: OAuthClientInformationFull;
  /** The issuer when it does not follow the request (authorizationServer.issuer, else publicUrl). */
  readonly fixedIssuer: string | undefined;
  /** Verify keys of the access tokens (the JWKS at /oauth/jwks, in-process). */
  readonly keys: JWTVerifyGetKey;
  /** Code and verifier for tokens; throws the SDK's OAuth errors (UserDisabledError for a disabled user). */
  exchange(code: string, verifier: string, redirectUri: string): Promise<OAuthTokens>;
}

export function adminCodeExchange(provider: GatehouseProvider, client: OAuthClientInformationFull): AdminSignIn['exchange'] {
  return async (code, verifier, redirectUri) => {
    const challenge = await provider.challengeForAuthorizationCode(client, code);
    if (!s256Matches(verifier, challenge)) throw new InvalidGrantError('code_verifier does not match the challenge');
    return provider.exchangeAuthorizationCode(client, code, undefined, redirectUri, new URL(ADMIN_RESOURCE));
  };
}

function s256Matches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
