// OAuth clients: registered ones (dynamic registration, RFC 7591) kept in the store, and URL
// client ids resolved through their metadata documents. Implements the SDK's clients store, so
// the SDK's registration and token handlers use it. Registration is open to anyone, so a
// registered client that never completes an authorization expires (unusedClientTtl).
//
// Client secrets are kept as SHA-256 digests only, so `getClient` never returns a secret; the
// secret is checked by ./client-auth.ts before the SDK's handlers run.
import { createHash, randomBytes } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { InvalidClientMetadataError, CustomOAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { Store } from '../store/store.ts';
import { ClientMetadataError, ClientMetadataFetcher, isUrlClientId } from './cimd.ts';
import { redirectUriProblem } from './redirects.ts';

/** The JWT bearer grant (RFC 7523), by which identity assertions are redeemed (external/identity-assertion.ts). */
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The `post_logout_redirect_uris` of the registration being handled (checked by the endpoint's
 * middleware, index.ts): the SDK's metadata schema drops fields it does not know.
 */
export const registeringLogoutUris = new AsyncLocalStorage<string[] | undefined>();

export type ClientLookup = { client: OAuthClientInformationFull; secretHash: string | undefined } | { error: string };

export class ClientRegistry implements OAuthRegisteredClientsStore {
  constructor(
    private readonly store: Store,
    /** Undefined when metadata document clients are turned off. */
    private readonly documents: ClientMetadataFetcher | undefined,
    private readonly supportedScopes: ReadonlySet<string>,
    /** A registered client that completed no authorization within this time is gone (pruning deletes it later). */
    private readonly unusedClientTtl: number,
    /** The admin listener's built-in client (admin-client.ts), when it has one. */
    private readonly builtIn?: OAuthClientInformationFull,
    /** Identity assertions are redeemed: clients may register the JWT bearer grant type. */
    private readonly jwtBearer = false,
  ) {}

  /** The client, or why there is none (shown on the authorization error page). */
  async lookup(clientId: string): Promise<ClientLookup> {
    if (this.builtIn && clientId === this.builtIn.client_id) return { client: this.builtIn, secretHash: undefined };
    if (isUrlClientId(clientId)) {
      if (!this.documents) return { error: 'URL client ids (Client ID Metadata Documents) are turned off on this server' };
      try {
        return { client: await this.documents.get(clientId), secretHash: undefined };
      } catch (error) {
        if (error instanceof ClientMetadataError) return { error: error.message };
        throw error;
      }
    }
    const record = await this.store.getOAuthClient(clientId);
    if (!record || (record.usedAt === undefined && record.createdAt < Date.now() - this.unusedClientTtl)) return { error: 'unknown client_id' };
    return { client: { ...(record.metadata as Omit<OAuthClientInformationFull, 'client_id'>), client_id: record.clientId }, secretHash: record.secretHash };
  }

  async getClient(clientId: string): Promise<OAuthClientInformationFull | undefined> {
    const found = await this.lookup(clientId);
    return 'client' in found ? found.client : undefined;
  }

  async registerClient(client: Omit<OAuthClientInformationFull, 'client_id' | 'client_id_issued_at'>): Promise<OAuthClientInformationFull> {
    const full = client as OAuthClientInformationFull;
    if (!full.client_id) throw new InvalidClientMetadataError('no client_id was generated');
    this.check(full);
    // A public client has no secret; the SDK made one for any other method: keep only its digest.
    const { client_secret: secret, ...metadata } = full;
    const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
    const grantTypes = metadata.grant_types ?? ['authorization_code'];
    const logoutUris = registeringLogoutUris.getStore();
    const stored = { ...metadata, token_endpoint_auth_method: method, grant_types: grantTypes, response_types: grantTypes.includes('authorization_code') ? ['code'] : [], ...(logoutUris !== undefined && { post_logout_redirect_uris: logoutUris }) };
    await this.store.saveOAuthClient({ clientId: full.client_id, metadata: stored, secretHash: secret === undefined ? undefined : sha256(secret), createdAt: Date.now(), usedAt: undefined });
    return { ...stored, client_id: full.client_id, ...(secret === undefined ? {} : { client_secret: secret, client_secret_expires_at: 0 }) };
  }

  private check(client: OAuthClientInformationFull): void {
    const grants = client.grant_types ?? ['authorization_code'];
    // A client of the JWT bearer grant alone is never redirected: it needs no redirect URI (RFC 7591 §2).
    if (client.redirect_uris.length === 0 && grants.includes('authorization_code')) throw new CustomOAuthError('invalid_redirect_uri', 'expected at least one redirect_uri');
    for (const uri of client.redirect_uris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new CustomOAuthError('invalid_redirect_uri', problem);
    }
    const method = client.token_endpoint_auth_method ?? 'client_secret_basic';
    if (!(AUTH_METHODS as readonly string[]).includes(method)) {
      throw new InvalidClientMetadataError(`token_endpoint_auth_method "${method}" is not supported (supported: ${AUTH_METHODS.join(', ')})`);
    }
    const supported = ['authorization_code', 'refresh_token', ...(this.jwtBearer ? [JWT_BEARER] : [])];
    const unsupported = grants.filter((g) => !supported.includes(g));
    if (unsupported.length > 0) throw new InvalidClientMetadataError(`grant_types ${unsupported.join(', ')} not supported (supported: ${supported.join(', ')})`);
    if (grants.length === 0) throw new InvalidClientMetadataError('grant_types must name at least one grant type');
    // An identity assertion names its client: only a client that authenticates may redeem one.
    if (grants.includes(JWT_BEARER) && method === 'none') throw new InvalidClientMetadataError(`grant type ${JWT_BEARER} is for confidential clients: use client_secret_basic or client_secret_post`);
    if (client.response_types && client.response_types.some((t) => t !== 'code')) throw new InvalidClientMetadataError('response_types: only "code" is supported');
    const unknownScopes = (client.scope ?? '').split(' ').filter((s) => s !== '' && !this.supportedScopes.has(s));
    if (unknownScopes.length > 0) throw new InvalidClientMetadataError(`scope: ${unknownScopes.join(', ')} not supported (supported: ${[...this.supportedScopes].join(' ')})`);
  }
}

/** A fresh opaque secret value (codes, refresh tokens, interaction ids). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
