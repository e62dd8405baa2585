// Each user's token for each upstream server, sealed in the store (upstream_tokens) under the
// credentials key with "<user>\0<server>" as the record's name: a row copied to another user or
// server does not open. Only this module sees tokens in clear on their way in and out of the store.
import type { Store, UpstreamTokenRecord } from '../../store/store.ts';
import type { CredentialVault } from '../vault.ts';
import { UnsealError } from '../seal.ts';
import { sealedJsonKeyId, sealJson, unsealJson } from './sealed-json.ts';

const PURPOSE = 'upstream-token';

export interface UserToken {
  readonly accessToken: string;
  readonly refreshToken?: string | undefined;
  /** When the access token expires (ms since the epoch); undefined when the server did not say. */
  readonly expiresAt?: number | undefined;
  readonly scope?: string | undefined;
  /** The authorization server that issued it (revocation and refresh go there). */
  readonly issuer: string;
  /** When it was obtained (ms): a short-lived token is refreshed half-way through its life. */
  readonly obtainedAt?: number | undefined;
}

export interface ConnectionSummary {
  readonly userId: string;
  readonly server: string;
  readonly expiresAt: number | undefined;
  readonly updatedAt: number;
  /** Set when the record does not open with the current key. */
  readonly problem?: string;
}

function nameOf(userId: string, server: string): string {
  return `${userId}\0${server}`;
}

function parse(value: unknown): UserToken {
  const v = (value ?? {}) as Record<string, unknown>;
  if (typeof v.accessToken !== 'string' || typeof v.issuer !== 'string') throw new UnsealError('upstream token record is not valid');
  return {
    accessToken: v.accessToken,
    refreshToken: typeof v.refreshToken === 'string' ? v.refreshToken : undefined,
    expiresAt: typeof v.expiresAt === 'number' ? v.expiresAt : undefined,
    scope: typeof v.scope === 'string' ? v.scope : undefined,
    issuer: v.issuer,
    obtainedAt: typeof v.obtainedAt === 'number' ? v.obtainedAt : undefined,
  };
}

export class UserTokenStore {
  constructor(
    private readonly store: Store,
    private readonly vault: CredentialVault,
  ) {}

  async get(userId: string, server: string): Promise<UserToken | undefined> {
    const record = await this.store.getUpstreamToken(userId, server);
    return record && this.open(record);
  }

  async put(userId: string, server: string, token: UserToken): Promise<void> {
    const key = (await this.vault.key(true))!;
    await this.store.putUpstreamToken({ userId, server, sealed: sealJson(key.key, PURPOSE, nameOf(userId, server), token), expiresAt: token.expiresAt, updatedAt: Date.now() });
  }

  /** Deletes the connection and returns its token (to revoke upstream), if it opened. */
  async delete(userId: string, server: string): Promise<{ deleted: boolean; token: UserToken | undefined }> {
    const record = await this.store.deleteUpstreamToken(userId, server);
    if (!record) return { deleted: false, token: undefined };
    try {
      return { deleted: true, token: await this.open(record) };
    } catch {
      return { deleted: true, token: undefined }; // gone from the store all the same; nothing to revoke with
    }
  }

  async list(userId?: string): Promise<ConnectionSummary[]> {
    const key = await this.vault.key();
    return (await this.store.listUpstreamTokens(userId)).map((r) => {
      const base = { userId: r.userId, server: r.server, expiresAt: r.expiresAt, updatedAt: r.updatedAt };
      if (!key || sealedJsonKeyId(r.sealed) !== key.id) return { ...base, problem: 'sealed with another credentials key' };
      return base;
    });
  }

  private async open(record: UpstreamTokenRecord): Promise<UserToken> {
    const key = await this.vault.key();
    if (!key) throw new UnsealError(`upstream token of "${record.userId}" for "${record.server}" cannot be opened: no credentials key`);
    return parse(unsealJson(key.key, PURPOSE, nameOf(record.userId, record.server), record.sealed));
  }
}
