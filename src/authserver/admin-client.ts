// The admin listener as a client of this authorization server ("Sign in with Gatehouse" on the
// admin sign-in page, src/admin/sso.ts). It is built in, not registered: its id is fixed, it is
// public (no secret: the admin listener exchanges its codes in-process, see exchangeAdminCode in
// index.ts, with PKCE S256), and its redirect URIs are the admin listener's own callback only.
// Its tokens are for the admin listener alone: their audience is ADMIN_RESOURCE, which no API
// accepts, and no other client may ask for that audience.
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { ConfigData } from '../config/schema.ts';
import { defaultAdminPort } from '../admin/schema.ts';
import { isLoopbackHost } from '../http/guards.ts';

export const ADMIN_CLIENT_ID = 'gatehouse-admin';
/** The audience (RFC 8707 resource) of the admin client's tokens: an absolute URI no API has. */
export const ADMIN_RESOURCE = 'urn:gatehouse:admin';
/** Where the authorization server sends the browser back, on the admin listener. */
export const ADMIN_CALLBACK_PATH = '/oauth/callback';

/**
 * The redirect URIs the admin client may use: `admin.publicUrl` + the callback, else (an admin
 * listener on loopback) the loopback names with the admin port (any port matches a loopback
 * redirect URI, so a port picked at start works too). An admin listener elsewhere without
 * admin.publicUrl has none: its URL is not known, and one built from a Host header is not trusted.
 */
export function adminRedirectUris(config: ConfigData): string[] {
  const { admin } = config;
  if (!admin.enabled) return [];
  if (admin.publicUrl !== undefined) return [`${admin.publicUrl.replace(/\/+$/, '')}${ADMIN_CALLBACK_PATH}`];
  if (!isLoopbackHost(admin.host)) return [];
  const scheme = admin.tls ? 'https' : 'http';
  const port = admin.port ?? defaultAdminPort(config.listen.port);
  return ['127.0.0.1', 'localhost', '[::1]'].map((host) => `${scheme}://${host}${port === 0 ? '' : `:${port}`}${ADMIN_CALLBACK_PATH}`);
}

/** The built-in client, or undefined when the admin listener cannot use one (see adminRedirectUris). */
export function adminClient(config: ConfigData): OAuthClientInformationFull | undefined {
  const redirectUris = adminRedirectUris(config);
  if (redirectUris.length === 0) return undefined;
  return {
    client_id: ADMIN_CLIENT_ID,
    client_name: 'Gatehouse admin',
    redirect_uris: redirectUris,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
  };
}
