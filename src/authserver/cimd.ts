// Client ID Metadata Documents: a client_id that is an https URL names a JSON document holding the
// client's metadata. Gatehouse fetches it with SSRF guards: https only, public addresses only
// (checked at connect time, after DNS), no redirects, a size cap, a timeout, a JSON content type,
// and the document's own client_id equal to the URL. Good answers are cached briefly.
import { Agent, request } from 'undici';
import { isIP } from 'node:net';
import { OAuthClientMetadataSchema, type OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { isPublicAddress, publicOnlyLookup } from './ssrf.ts';
import { redirectUriProblem } from './redirects.ts';
import { checkPostLogoutRedirectUris } from './end-session.ts';

const MAX_BYTES = 16 * 1024;
const TIMEOUT_MS = 5_000;
const CACHE_MS = 5 * 60_000;
const CACHE_ENTRIES = 500;

export class ClientMetadataError extends Error {
  override readonly name = 'ClientMetadataError';
}

/** A client_id that names a metadata document (rather than one Gatehouse issued). */
export function isUrlClientId(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

let publicAgent: Agent | undefined;
let anyAgent: Agent | undefined;

function agent(allowInsecure: boolean): Agent {
  // One agent per mode for the process: the guard lives in its connect options.
  if (allowInsecure) return (anyAgent ??= new Agent({ connect: { timeout: TIMEOUT_MS }, keepAliveTimeout: 1_000 }));
  return (publicAgent ??= new Agent({ connect: { timeout: TIMEOUT_MS, lookup: publicOnlyLookup() }, keepAliveTimeout: 1_000 }));
}

export interface ClientMetadataFetcherOptions {
  /**
   * Test escape hatch: allow http:// and loopback/private addresses. Never for production: it
   * turns the authorization server into a proxy into the private network.
   */
  allowInsecure: boolean;
}

export class ClientMetadataFetcher {
  private readonly cache = new Map<string, { client: OAuthClientInformationFull; until: number }>();
  private readonly pending = new Map<string, Promise<OAuthClientInformationFull>>();

  constructor(private readonly options: ClientMetadataFetcherOptions) {}

  /** The client's metadata; throws ClientMetadataError saying why it cannot be used. */
  async get(clientId: string): Promise<OAuthClientInformationFull> {
    const cached = this.cache.get(clientId);
    if (cached && cached.until > Date.now()) return cached.client;
    let inFlight = this.pending.get(clientId);
    if (!inFlight) {
      inFlight = this.fetch(clientId).finally(() => this.pending.delete(clientId));
      this.pending.set(clientId, inFlight);
    }
    const client = await inFlight;
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(clientId, { client, until: Date.now() + CACHE_MS });
    return client;
  }

  private checkUrl(clientId: string): URL {
    let url: URL;
    try {
      url = new URL(clientId);
    } catch {
      throw new ClientMetadataError('the client_id is not a valid URL');
    }
    const insecure = this.options.allowInsecure;
    if (url.protocol !== 'https:' && !(insecure && url.protocol === 'http:')) throw new ClientMetadataError('a URL client_id must use https');
    if (url.username || url.password) throw new ClientMetadataError('a URL client_id must not contain credentials');
    if (clientId.includes('#')) throw new ClientMetadataError('a URL client_id must not contain a fragment');
    if (url.pathname === '/' || /\/\.\.?(\/|$)/.test(clientId.slice(url.origin.length))) throw new ClientMetadataError('a URL client_id must have a path without dot segments');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!insecure && (isIP(host) !== 0 ? !isPublicAddress(host) : host === 'localhost' || host.endsWith('.localhost'))) {
      throw new ClientMetadataError(`${url.hostname} is not a public address`);
    }
    return url;
  }

  private async fetch(clientId: string): Promise<OAuthClientInformationFull> {
    const url = this.checkUrl(clientId);
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, {
        method: 'GET',
        dispatcher: agent(this.options.allowInsecure),
        headers: { accept: 'application/json' },
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new ClientMetadataError(`the metadata document could not be fetched: ${(error as Error).message}`);
    }
    const { statusCode, headers, body } = response;
    if (statusCode !== 200) {
      body.resume();
      throw new ClientMetadataError(statusCode >= 300 && statusCode < 400 ? 'the metadata document URL redirects; redirects are not followed' : `the metadata document answered HTTP ${statusCode}`);
    }
    const type = String(headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && !/^application\/[a-z0-9.+-]*\+json$/.test(type)) {
      body.resume();
      throw new ClientMetadataError(`the metadata document has content type "${type}", expected application/json`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BYTES) {
        body.destroy();
        throw new ClientMetadataError(`the metadata document is larger than ${MAX_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new ClientMetadataError('the metadata document is not valid JSON');
    }
    return parseDocument(json, clientId);
  }
}

function parseDocument(json: unknown, clientId: string): OAuthClientInformationFull {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ClientMetadataError('the metadata document is not a JSON object');
  const doc = json as Record<string, unknown>;
  if (doc.client_id !== clientId) throw new ClientMetadataError('the metadata document\'s client_id does not equal its URL');
  if ('client_secret' in doc) throw new ClientMetadataError('a metadata document must not contain a client_secret');
  const parsed = OAuthClientMetadataSchema.safeParse(doc);
  if (!parsed.success) throw new ClientMetadataError(`the metadata document is not valid client metadata: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const metadata = parsed.data;
  const method = metadata.token_endpoint_auth_method ?? 'none';
  if (method !== 'none') throw new ClientMetadataError(`token_endpoint_auth_method "${method}" is not supported for metadata document clients (use "none")`);
  if (metadata.redirect_uris.length === 0) throw new ClientMetadataError('the metadata document lists no redirect_uris');
  for (const uri of metadata.redirect_uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new ClientMetadataError(`redirect_uris: ${problem}`);
  }
  const logout = checkPostLogoutRedirectUris(doc.post_logout_redirect_uris);
  if ('error' in logout) throw new ClientMetadataError(logout.error);
  return { ...metadata, token_endpoint_auth_method: 'none', client_id: clientId, ...(logout.uris !== undefined && { post_logout_redirect_uris: logout.uris }) };
}
