// Where and as whom Gatehouse asks an upstream's authorization server for a user's token:
// discovery (the server's 401 → RFC 9728 protected resource metadata → RFC 8414 / OpenID
// metadata, or a configured issuer) and Gatehouse's client there (a configured client; its Client
// ID Metadata Document when the server offers CIMD and the public URL is https; else RFC 7591
// dynamic registration, kept sealed in the store). The protocol itself is oauth4webapi's.
// Resolved once per server and kept; a failure is retried on the next connect.
import * as oauth from 'oauth4webapi';
import { fetch as undiciFetch } from 'undici';
import { egressAgent, type EgressRule } from '../../upstream/egress.ts';
import { extractResourceMetadataUrl } from '@modelcontextprotocol/sdk/client/auth.js';
import type { z } from 'zod';
import type { OAuthUserAuthSchema } from '../../config/auth-schema.ts';
import type { Store } from '../../store/store.ts';
import type { CredentialVault } from '../vault.ts';
import type { Logger } from '../../log.ts';
import { sealJson, unsealJson } from './sealed-json.ts';

export type OAuthUserConfig = z.output<typeof OAuthUserAuthSchema>;

export interface UpstreamAuthorization {
  readonly as: oauth.AuthorizationServer;
  readonly client: oauth.Client;
  readonly clientAuth: oauth.ClientAuth;
  /** The RFC 8707 resource asked for. */
  readonly resource: string;
  readonly scopes: readonly string[];
  readonly redirectUri: string;
  /** Options every oauth4webapi request of this server takes (timeout, http on loopback). */
  options(): RequestOptions;
}

/** What every oauth4webapi request of a server takes: a timeout, and http only on loopback. */
export interface RequestOptions {
  signal: AbortSignal;
  [oauth.allowInsecureRequests]?: boolean;
  [oauth.customFetch]?: typeof fetch;
}

const REQUEST_TIMEOUT_MS = 10_000;
const CLIENT_PURPOSE = 'upstream-client';

/** Thrown with a message fit for the log and the connect page (no secret in it). */
export class UpstreamAuthorizationError extends Error {
  override readonly name = 'UpstreamAuthorizationError';
}

export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

/**
 * http is allowed only to loopback addresses (tests, a local server); everything else is https.
 * Under a tenant's egress every request goes through its rule (the authorization server is where
 * the server points, so it is held to what the server is).
 */
function requestOptions(urls: readonly URL[], egress: EgressRule | undefined): () => RequestOptions {
  const insecure = urls.some((u) => u.protocol === 'http:' && isLoopbackUrl(u));
  const guarded = egress && egressFetch(egress);
  return () => ({ signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}), ...(guarded ? { [oauth.customFetch]: guarded } : {}) });
}

/** fetch through the rule's agent (undici's fetch: the global one takes no dispatcher of another undici). */
function egressFetch(egress: EgressRule): typeof fetch {
  const dispatcher = egressAgent(egress);
  // undici's Request/Response are the ones Node's fetch is built on; the types differ only in name.
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) => undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher })) as unknown as typeof fetch;
}

/** What a failed request says, with fetch's underlying cause ("fetch failed" alone names nothing). */
function failureText(error: unknown): string {
  const cause = (error as Error).cause;
  return cause instanceof Error ? `${(error as Error).message}: ${cause.message}` : (error as Error).message;
}

interface ResourceInfo {
  readonly issuer: string;
  readonly resource: string;
  readonly scopes: readonly string[];
}

export class UpstreamAuthorizationResolver {
  private resolving: Promise<UpstreamAuthorization> | undefined;
  private resolved: { redirectUri: string; value: UpstreamAuthorization } | undefined;

  constructor(
    private readonly server: string,
    private readonly url: string,
    private readonly config: OAuthUserConfig,
    private readonly store: Store,
    private readonly vault: CredentialVault,
    private readonly log: Logger,
    /** The server's tenant's egress, which its authorization server is held to too. */
    private readonly egress?: EgressRule,
  ) {
    this.fetch = egress ? egressFetch(egress) : fetch;
  }

  private readonly fetch: typeof fetch;

  /**
   * `base` is Gatehouse's public base URL: the callback and the client metadata document hang off
   * it. With `anyRedirect` (refresh, revocation: no redirect URI involved) whatever is resolved or
   * registered already serves, even for another base URL (the CLI's, a second host name).
   */
  resolve(base: string, anyRedirect = false): Promise<UpstreamAuthorization> {
    const redirectUri = callbackUrl(base);
    if (this.resolved && (anyRedirect || this.resolved.redirectUri === redirectUri)) return Promise.resolve(this.resolved.value);
    this.resolving ??= this.build(base, redirectUri, anyRedirect)
      .then((value) => {
        this.resolved = { redirectUri: value.redirectUri, value };
        return value;
      })
      .finally(() => {
        this.resolving = undefined;
      });
    return this.resolving;
  }

  private async build(base: string, wanted: string, anyRedirect: boolean): Promise<UpstreamAuthorization> {
    const info = await this.discoverResource();
    const issuer = new URL(info.issuer);
    const options = requestOptions([issuer], this.egress);
    const as = await this.metadata(issuer, options);
    if (!as.authorization_endpoint || !as.token_endpoint) throw new UpstreamAuthorizationError(`the authorization server ${info.issuer} lists no authorization or token endpoint`);
    const methods = as.code_challenge_methods_supported;
    if (methods !== undefined && !methods.includes('S256')) throw new UpstreamAuthorizationError(`the authorization server ${info.issuer} does not offer PKCE S256`);
    const [client, clientAuth, redirectUri] = await this.client(as, base, wanted, anyRedirect, options);
    this.log.info({ server: this.server, issuer: as.issuer, clientId: client.client_id, resource: info.resource }, 'upstream authorization server resolved');
    return { as, client, clientAuth, resource: info.resource, scopes: info.scopes, redirectUri, options };
  }

  /** The issuer, resource and scopes: configured, or from the server's 401 and its RFC 9728 metadata. */
  private async discoverResource(): Promise<ResourceInfo> {
    const configured = this.config;
    if (configured.issuer !== undefined) return { issuer: configured.issuer, resource: configured.resource ?? this.url, scopes: configured.scopes ?? [] };
    const target = new URL(this.url);
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let metadataUrl: URL | undefined;
    try {
      // An unauthenticated request: a protected MCP server answers 401 naming its metadata.
      const probe = await this.fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
        signal,
        redirect: 'manual',
      });
      await probe.body?.cancel();
      if (probe.status === 401) metadataUrl = extractResourceMetadataUrl(probe);
    } catch (error) {
      throw new UpstreamAuthorizationError(`could not reach ${target.origin}${target.pathname} to discover its authorization server: ${failureText(error)}`);
    }
    // RFC 9728 §3.1: without a header, the well-known URL of the resource.
    metadataUrl ??= new URL(`/.well-known/oauth-protected-resource${target.pathname === '/' ? '' : target.pathname}`, target);
    let document: Record<string, unknown>;
    try {
      const response = await this.fetch(metadataUrl, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), redirect: 'manual' });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as Record<string, unknown>;
    } catch (error) {
      throw new UpstreamAuthorizationError(`could not read the protected resource metadata at ${metadataUrl.href}: ${failureText(error)}; set auth.issuer`);
    }
    const servers = Array.isArray(document.authorization_servers) ? document.authorization_servers.filter((s): s is string => typeof s === 'string') : [];
    if (servers.length === 0) throw new UpstreamAuthorizationError(`the protected resource metadata at ${metadataUrl.href} lists no authorization_servers; set auth.issuer`);
    const resource = configured.resource ?? (typeof document.resource === 'string' ? document.resource : this.url);
    const supported = Array.isArray(document.scopes_supported) ? document.scopes_supported.filter((s): s is string => typeof s === 'string') : [];
    return { issuer: servers[0]!, resource, scopes: configured.scopes ?? supported };
  }

  /** RFC 8414 metadata, else OpenID Connect discovery. */
  private async metadata(issuer: URL, options: () => RequestOptions): Promise<oauth.AuthorizationServer> {
    const failures: string[] = [];
    for (const algorithm of ['oauth2', 'oidc'] as const) {
      try {
        return await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options(), algorithm }));
      } catch (error) {
        failures.push(`${algorithm}: ${failureText(error)}`);
      }
    }
    throw new UpstreamAuthorizationError(`could not read the metadata of the authorization server ${issuer.href} (${failures.join('; ')})`);
  }

  private async client(as: oauth.AuthorizationServer, base: string, redirectUri: string, anyRedirect: boolean, options: () => RequestOptions): Promise<[oauth.Client, oauth.ClientAuth, string]> {
    const configured = this.config.client;
    if (configured) return [{ client_id: configured.id }, configured.secret ? oauth.ClientSecretBasic(configured.secret) : oauth.None() /* an empty secret (an unset ${env:…:-}) is a public client */, redirectUri];
    // Client ID Metadata Documents need an https client id the server can fetch.
    if ((as as unknown as Record<string, unknown>).client_id_metadata_document_supported === true && base.startsWith('https://')) {
      return [{ client_id: clientMetadataUrl(base) }, oauth.None(), redirectUri];
    }
    if (!as.registration_endpoint) {
      throw new UpstreamAuthorizationError(`the authorization server ${as.issuer} offers neither dynamic registration nor (for an https Gatehouse) Client ID Metadata Documents; register a client there and set auth.client`);
    }
    const key = (await this.vault.key(true))!;
    const name = `${this.server}\0${as.issuer}`;
    const stored = await this.store.getUpstreamClient(this.server, as.issuer);
    if (stored) {
      try {
        const kept = unsealJson(key.key, CLIENT_PURPOSE, name, stored.sealed) as { client: oauth.Client; redirectUri: string };
        if (anyRedirect || kept.redirectUri === redirectUri) return [kept.client, authOf(kept.client), kept.redirectUri];
      } catch (error) {
        this.log.warn({ server: this.server, err: (error as Error).message }, 'stored upstream client registration does not open; registering again');
      }
    }
    const methods = as.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    const method = methods.includes('client_secret_basic') ? 'client_secret_basic' : methods.includes('client_secret_post') ? 'client_secret_post' : 'none';
    let registered: oauth.Client;
    try {
      const response = await oauth.dynamicClientRegistrationRequest(
        as,
        { client_name: 'Gatehouse', redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: method },
        options(),
      );
      registered = await oauth.processDynamicClientRegistrationResponse(response);
    } catch (error) {
      throw new UpstreamAuthorizationError(`dynamic client registration at ${as.issuer} failed: ${failureText(error)}`);
    }
    await this.store.putUpstreamClient({ server: this.server, issuer: as.issuer, sealed: sealJson(key.key, CLIENT_PURPOSE, name, { client: registered, redirectUri }), updatedAt: Date.now() });
    this.log.info({ server: this.server, issuer: as.issuer, clientId: registered.client_id }, 'registered Gatehouse as a client of the upstream authorization server');
    return [registered, authOf(registered), redirectUri];
  }
}

function authOf(client: oauth.Client): oauth.ClientAuth {
  const secret = typeof client.client_secret === 'string' ? client.client_secret : undefined;
  if (secret === undefined || client.token_endpoint_auth_method === 'none') return oauth.None();
  return client.token_endpoint_auth_method === 'client_secret_post' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
}

/** The one redirect URI of every upstream authorization (the flow's state says which server). */
export function callbackUrl(base: string): string {
  return `${base}/-/connect/callback`;
}

/** Gatehouse's Client ID Metadata Document (it is its own client id). */
export function clientMetadataUrl(base: string): string {
  return `${base}/-/oauth-client.json`;
}
