// `credential: { type: stored }`: the secret lives sealed in the store, set with
// `gatehouse credentials set`. It is read on first use and kept in memory; a later change (set
// again, rotate-key, delete) is picked up by a background re-read every RECHECK_MS, and at once
// when the upstream answers 401 (the old secret no longer works: read the new one before the retry).
// The same secret keeps the same inner credential, so a client-credentials token survives re-reads.
import type { Logger } from '../log.ts';
import type { UpstreamCredentials } from '../upstream/upstream.ts';
import type { CredentialVault } from './vault.ts';
import { credentialUnavailable } from './failure.ts';
import type { SecretCredential } from './secret.ts';

const RECHECK_MS = 30_000;

interface Loaded {
  /** What the secret is, to tell a changed one from a re-sealed one (rotate-key). Memory only. */
  readonly fingerprint: string;
  readonly inner: UpstreamCredentials;
  readonly at: number;
}

export class StoredCredentials implements UpstreamCredentials {
  private loaded: Loaded | undefined;
  private loading: Promise<Loaded> | undefined;
  private stale = false;

  constructor(
    private readonly server: string,
    private readonly name: string,
    private readonly vault: CredentialVault,
    private readonly build: (credential: SecretCredential) => UpstreamCredentials,
    private readonly log: Logger,
  ) {}

  async headers(): Promise<Record<string, string>> {
    let loaded = this.loaded;
    if (!loaded || this.stale) loaded = await this.load();
    else if (Date.now() - loaded.at >= RECHECK_MS) this.load().catch(() => undefined); // logged in read(); the current secret still serves
    return loaded.inner.headers();
  }

  rejected(): void {
    this.loaded?.inner.rejected?.();
    this.stale = true;
  }

  private load(): Promise<Loaded> {
    this.loading ??= this.read().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async read(): Promise<Loaded> {
    let found: Awaited<ReturnType<CredentialVault['get']>>;
    try {
      found = await this.vault.get(this.name);
    } catch (error) {
      this.log.warn({ server: this.server, credential: this.name, err: (error as Error).message }, 'could not read the stored upstream credential');
      // A failed read (store outage, key trouble) keeps a secret that still works; after a 401 none does.
      if (this.loaded && !this.stale) return this.loaded;
      throw credentialUnavailable(this.server);
    }
    if (!found) {
      this.loaded = undefined;
      this.log.warn({ server: this.server, credential: this.name }, `no stored credential named "${this.name}"; set it with \`gatehouse credentials set ${this.name}\``);
      throw credentialUnavailable(this.server);
    }
    const fingerprint = JSON.stringify(found.credential);
    const previous = this.loaded;
    const same = previous?.fingerprint === fingerprint;
    const loaded: Loaded = { fingerprint, inner: same ? previous.inner : this.build(found.credential), at: Date.now() };
    if (previous && !same) this.log.info({ server: this.server, credential: this.name }, 'stored upstream credential changed; using the new one');
    this.loaded = loaded;
    this.stale = false;
    return loaded;
  }
}
