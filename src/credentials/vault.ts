// The sealed credential store: secret credentials kept in the Store (SQLite or Postgres) as
// AES-256-GCM sealed JSON under the credentials key. Only this module holds the key; the Store
// only ever sees sealed text. Used by the CLI (set, list, delete, rotate-key) and, read-only, by
// the gateway for `credential: { type: stored }`.
import { createHash } from 'node:crypto';
import type { Store, CredentialRecord } from '../store/store.ts';
import { loadKey, readKey, type KeySource } from '../session/key.ts';
import { keyId } from './key.ts';
import { sealCredential, sealedKeyId, unsealCredential, UnsealError } from './seal.ts';
import type { SecretCredential, SecretType } from './secret.ts';

export interface VaultKey {
  readonly key: Buffer;
  readonly id: string;
  /** The environment variable or file it came from (for messages; not secret). */
  readonly source: string;
}

export interface CredentialSummary {
  readonly name: string;
  /** Undefined when the record does not open with the current key (see `problem`). */
  readonly type: SecretType | undefined;
  readonly keyId: string | undefined;
  readonly updatedAt: number;
  /**
   * A digest of the sealed record: it changes whenever the credential is set again (a fresh
   * nonce each time), even to the same value, and tells nothing of the secret. The management
   * API's ETag of a credential.
   */
  readonly stamp: string;
  readonly problem?: string;
}

/** A credential's stamp (CredentialSummary.stamp): a digest of its sealed text. */
const stampOf = (sealed: string): string => createHash('sha256').update(sealed).digest('base64url').slice(0, 22);

export class CredentialVault {
  private loaded: VaultKey | undefined;

  constructor(
    private readonly store: Store,
    private readonly source: KeySource,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The credentials key; with `create`, a missing key file is made (0600). Undefined when there is none. */
  async key(create = false): Promise<VaultKey | undefined> {
    if (this.loaded) return this.loaded;
    const found = create ? await loadKey(this.source, this.env) : await readKey(this.source, this.env);
    if (found) this.loaded = { key: found.key, id: keyId(found.key), source: found.source };
    return this.loaded;
  }

  /**
   * The key to open a value sealed under key `id`: the loaded key, read again when it is not
   * that one (the key may have been rotated since, `credentials rotate-key`). Undefined without a key.
   */
  async keyFor(id: string | undefined): Promise<VaultKey | undefined> {
    const key = await this.key();
    if (!key || id === undefined || key.id === id) return key;
    this.loaded = undefined;
    return (await this.key()) ?? key;
  }

  async set(name: string, credential: SecretCredential): Promise<VaultKey> {
    const key = (await this.key(true))!;
    await this.store.putCredential({ name, sealed: sealCredential(key.key, name, credential), updatedAt: Date.now() });
    return key;
  }

  /**
   * Sets the credential only if it is still the one stamped `expected` (null: only if there is
   * none). The store compares the sealed text in the same statement as it writes, so of two
   * nodes setting it at once from the same read, one gets false (a compare-and-set).
   */
  async setIf(name: string, credential: SecretCredential, expected: string | null): Promise<boolean> {
    const record = await this.store.getCredential(name);
    if (expected === null ? record !== undefined : record === undefined || stampOf(record.sealed) !== expected) return false;
    const key = (await this.key(true))!;
    return this.store.putCredentialIf({ name, sealed: sealCredential(key.key, name, credential), updatedAt: Date.now() }, record?.sealed ?? null);
  }

  /** The credential stored under `name` and its sealed form (which changes whenever it is set again); undefined if none. */
  async get(name: string): Promise<{ credential: SecretCredential; sealed: string } | undefined> {
    const record = await this.store.getCredential(name);
    if (!record) return undefined;
    return { credential: await this.open(record), sealed: record.sealed };
  }

  async list(): Promise<CredentialSummary[]> {
    const out: CredentialSummary[] = [];
    for (const record of await this.store.listCredentials()) out.push(await this.summarize(record));
    return out;
  }

  /** One credential's summary; undefined if none is stored under `name`. */
  async summary(name: string): Promise<CredentialSummary | undefined> {
    const record = await this.store.getCredential(name);
    return record && this.summarize(record);
  }

  private async summarize(record: CredentialRecord): Promise<CredentialSummary> {
    const base = { name: record.name, keyId: sealedKeyId(record.sealed), updatedAt: record.updatedAt, stamp: stampOf(record.sealed) };
    try {
      return { ...base, type: (await this.open(record)).type };
    } catch (error) {
      if (!(error instanceof UnsealError)) throw error;
      return { ...base, type: undefined, problem: error.message };
    }
  }

  delete(name: string): Promise<boolean> {
    return this.store.deleteCredential(name);
  }

  /** Deletes the credential only if it is still the one stamped `expected` (compare-and-set, as setIf); false otherwise. */
  async deleteIf(name: string, expected: string): Promise<boolean> {
    const record = await this.store.getCredential(name);
    if (!record || stampOf(record.sealed) !== expected) return false;
    return this.store.deleteCredential(name, record.sealed);
  }

  /**
   * Re-seals every record under `next`. Records already under `next` are left alone, so an
   * interrupted rotation is finished by running it again. Every other record must open with the
   * current key, or nothing further is changed.
   */
  async rekey(next: Buffer): Promise<{ resealed: number; unchanged: number }> {
    const nextId = keyId(next);
    let resealed = 0;
    let unchanged = 0;
    for (const record of await this.store.listCredentials()) {
      if (sealedKeyId(record.sealed) === nextId) {
        unchanged++;
        continue;
      }
      const credential = await this.open(record);
      // The secret did not change: keep its updatedAt.
      await this.store.putCredential({ ...record, sealed: sealCredential(next, record.name, credential) });
      resealed++;
    }
    return { resealed, unchanged };
  }

  private async open(record: CredentialRecord): Promise<SecretCredential> {
    let key = await this.key();
    if (key && sealedKeyId(record.sealed) !== key.id) {
      // The key may have been rotated since it was loaded (`credentials rotate-key`): read it again.
      this.loaded = undefined;
      key = (await this.key()) ?? key;
    }
    if (!key) {
      const where = [this.source.envName, this.source.file].filter(Boolean).join(' or ');
      throw new UnsealError(`credential "${record.name}" cannot be opened: no credentials key (${where})`);
    }
    return unsealCredential(key.key, record.name, record.sealed);
  }
}
