// The official SDK client as an OAuth-capable agent: an in-memory OAuthClientProvider, and a
// connect helper that starts from nothing but the URL — gets the 401, discovers the metadata,
// registers, follows the authorization redirect (the test issuer consents at once), finishes the
// code + PKCE exchange and connects again with the token.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

export class MemoryOAuthProvider implements OAuthClientProvider {
  private info: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = '';
  /** Where the client was sent to authorize, last time. */
  authorizationUrl: URL | undefined;

  constructor(private readonly scope?: string) {}

  get redirectUrl(): string {
    return 'http://127.0.0.1:1/callback';
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'gatehouse-test-agent',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...(this.scope !== undefined && { scope: this.scope }),
    };
  }

  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** Connects the SDK client to `url`, running the whole OAuth flow on the first 401. */
export async function connectWithOAuth(url: string, provider = new MemoryOAuthProvider()): Promise<{ client: Client; provider: MemoryOAuthProvider; close(): Promise<void> }> {
  const attempt = async () => {
    const client = new Client({ name: 'gatehouse-oauth-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
    await client.connect(transport);
    return { client, transport };
  };
  let connected: Awaited<ReturnType<typeof attempt>>;
  try {
    connected = await attempt();
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !provider.authorizationUrl) throw error;
    const answer = await fetch(provider.authorizationUrl, { redirect: 'manual' });
    const location = answer.headers.get('location');
    if (answer.status !== 302 || !location) throw new Error(`authorization did not redirect: ${answer.status} ${await answer.text()}`);
    const code = new URL(location).searchParams.get('code');
    if (!code) throw new Error(`no code in the redirect: ${location}`);
    const finishing = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
    await finishing.finishAuth(code);
    connected = await attempt();
  }
  return {
    client: connected.client,
    provider,
    close: async () => {
      await connected.transport.terminateSession().catch(() => undefined);
      await connected.client.close();
    },
  };
}
