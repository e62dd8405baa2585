// Authorization server metadata (RFC 8414), also served at the OpenID discovery URL, since some
// clients look there first (it is not an OpenID provider: no ID tokens). Built per request because the issuer may follow the request's public URL.

export interface MetadataOptions {
  dynamicRegistration: boolean;
  clientIdMetadataDocuments: boolean;
  scopes: readonly string[];
  /** Identity assertions (ID-JAG) are redeemed with the JWT bearer grant (RFC 7523). */
  jwtBearer?: boolean;
}

export function authorizationServerMetadata(issuer: string, options: MetadataOptions): Record<string, unknown> {
  // Concatenated, not resolved: a public URL with a path prefix keeps it.
  const at = (path: string) => issuer.replace(/\/+$/, '') + path;
  return {
    issuer,
    authorization_endpoint: at('/oauth/authorize'),
    token_endpoint: at('/oauth/token'),
    ...(options.dynamicRegistration ? { registration_endpoint: at('/oauth/register') } : {}),
    revocation_endpoint: at('/oauth/revoke'),
    // RP-initiated logout (end-session.ts): ends the person's Gatehouse browser session and,
    // if they tick it, the client's grants. No ID tokens: `id_token_hint` is ignored.
    end_session_endpoint: at('/oauth/end-session'),
    jwks_uri: at('/oauth/jwks'),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', ...(options.jwtBearer ? ['urn:ietf:params:oauth:grant-type:jwt-bearer'] : [])],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    scopes_supported: [...options.scopes],
    authorization_response_iss_parameter_supported: true,
    ...(options.clientIdMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
    // No ID-token fields (id_token_signing_alg_values_supported, subject_types_supported): this
    // server issues no ID tokens (there is no `openid` scope), and saying otherwise would send
    // OpenID clients looking for them. The OpenID discovery URL serves this same document.
  };
}
