// Authorization server metadata (RFC 8414), also served as OpenID discovery, since some clients
// look there first. Built per request because the issuer may follow the request's public URL.

export interface MetadataOptions {
  dynamicRegistration: boolean;
  clientIdMetadataDocuments: boolean;
  scopes: readonly string[];
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
    jwks_uri: at('/oauth/jwks'),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    scopes_supported: [...options.scopes],
    authorization_response_iss_parameter_supported: true,
    ...(options.clientIdMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
    // OpenID discovery requires these; no ID tokens are issued (there is no `openid` scope).
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
  };
}
