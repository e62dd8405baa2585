// One UpstreamCredentials per server, built from its `credential:` entry. Kept across reloads
// while the entry is unchanged, so a reload does not throw away a cached token.
import type { Logger } from '../log.ts';
import type { EgressRule } from '../upstream/egress.ts';
import type { UpstreamCredentials } from '../upstream/upstream.ts';
import type { CredentialConfig, SecretCredential } from './secret.ts';
import type { CredentialVault } from './vault.ts';
import { staticCredentials } from './static-credentials.ts';
import { ClientCredentialsToken } from './client-credentials.ts';
import { StoredCredentials } from './stored-credentials.ts';
import type { Store } from '../store/store.ts';
import { UserConnections } from './oauth-user/connections.ts';
import type { OAuthUserConfig } from './oauth-user/upstream-as.ts';
import { TokenExchangeCredentials, type TokenExchangeConfig } from './token-exchange/token-exchange.ts';

export class UpstreamCredentialRegistry {
  private readonly built = new Map<string, { definition: string; credentials: UpstreamCredentials }>();

  /** Per-user upstream OAuth (`auth: oauth-user` servers). */
  readonly connections: UserConnections;

  constructor(
    /** The credentials key's vault (also seals users' TOTP secrets, src/authserver/second-factor.ts). */
    readonly vault: CredentialVault,
    private readonly log: Logger,
    store: Store,
    /** Gatehouse's base URL when no request gives one (revocation from the API or CLI). */
    defaultBase: () => string,
  ) {
    this.connections = new UserConnections(store, vault, log.child({ component: 'oauth-user' }), defaultBase);
  }

  /**
   * A Streamable HTTP server's credentials: its user's token under `auth: oauth-user`, a token
   * exchanged for the caller's under `auth: token-exchange`, else its `credential`.
   */
  forHttpServer(server: string, definition: { url: string; credential?: CredentialConfig | undefined; auth?: OAuthUserConfig | TokenExchangeConfig | undefined }, egress?: EgressRule): UpstreamCredentials | undefined {
    if (definition.auth?.type === 'token-exchange') {
      // Kept while the definition is unchanged, so a reload keeps the issued tokens.
      const key = JSON.stringify({ url: definition.url, auth: definition.auth, egress: egress?.key });
      const existing = this.built.get(server);
      if (existing?.definition === key) return existing.credentials;
      const credentials = new TokenExchangeCredentials(server, definition.url, definition.auth, this.log.child({ component: 'token-exchange' }), egress);
      this.built.set(server, { definition: key, credentials });
      return credentials;
    }
    if (definition.auth) {
      this.built.delete(server);
      return this.connections.forServer(server, definition.url, definition.auth, egress);
    }
    return this.forServer(server, definition.credential, egress);
  }

  /** The server's credentials, or undefined when it has no `credential:`. */
  forServer(server: string, credential: CredentialConfig | undefined, egress?: EgressRule): UpstreamCredentials | undefined {
    if (!credential) {
      this.built.delete(server);
      return undefined;
    }
    // Memory only: compares the entry, secrets included, with the one the cached object was built from.
    const definition = JSON.stringify([credential, egress?.key]);
    const existing = this.built.get(server);
    if (existing?.definition === definition) return existing.credentials;
    const log = this.log;
    const build = (secret: SecretCredential): UpstreamCredentials =>
      secret.type === 'client-credentials' ? new ClientCredentialsToken(server, secret, log, Date.now, egress) : staticCredentials(secret);
    const credentials = credential.type === 'stored' ? new StoredCredentials(server, credential.name ?? server, this.vault, build, log) : build(credential);
    this.built.set(server, { definition, credentials });
    return credentials;
  }
}
