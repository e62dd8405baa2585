// Two-factor sign-in for users of the embedded authorization server: each user may have a TOTP
// secret (totp.ts), kept in the store sealed under the credentials key (AES-256-GCM, bound to the
// user's id, so a sealed secret copied onto another user does not open). Whoever checks a
// password also checks the code here. A code is good once: the store keeps the last accepted
// time step per user and takes a new one only if it is later (atomically, so two nodes given
// the same code accept it once). A self-service enrolment is pending (a short-lived grant) until
// the person proves their app has the secret by typing a first code.
import type { Store, UserRecord } from '../store/store.ts';
import type { CredentialVault } from '../credentials/vault.ts';
import { sealedJsonKeyId, sealJson, unsealJson } from '../credentials/oauth-user/sealed-json.ts';
import { UnsealError } from '../credentials/seal.ts';
import { keyId } from '../credentials/key.ts';
import { UserInputError } from './users.ts';
import { matchingStep, newTotpSecret, totpQrSvg, totpUri } from './totp.ts';

const PURPOSE = 'totp';
const PENDING_MS = 10 * 60_000;
const pendingKey = (userId: string) => `totp-enrol:${userId}`;

/** What a check of a code found: `unavailable` when the secret cannot be opened (no or another credentials key). */
export type CodeCheck = 'ok' | 'wrong' | 'replayed' | 'unavailable';

/** A refused check in words, for security events: "the second-factor code was …". */
export const CODE_OUTCOME: Readonly<Record<Exclude<CodeCheck, 'ok'>, string>> = {
  wrong: 'wrong',
  replayed: 'used before',
  unavailable: 'not checkable (the credentials key cannot open the secret)',
};

/** A new secret, to show once: the otpauth:// URI (also as a QR code, SVG) and the base32 secret for typing by hand. */
export interface Enrolment {
  uri: string;
  secret: string;
  qrSvg: string;
}

async function enrolment(secret: string, username: string): Promise<Enrolment> {
  const uri = totpUri(secret, username);
  return { secret, uri, qrSvg: await totpQrSvg(uri) };
}

export class TotpUnavailableError extends Error {
  override readonly name = 'TotpUnavailableError';
}

/** Whether this user must give a code after the password. */
export function hasSecondFactor(user: UserRecord): boolean {
  return user.totpSecret !== undefined;
}

export class SecondFactor {
  constructor(
    private readonly store: Store,
    private readonly vault: CredentialVault,
  ) {}

  /** Checks a code of a user with TOTP and spends its time step; `ok` for a user without TOTP. */
  async check(user: UserRecord, code: string, now = Date.now()): Promise<CodeCheck> {
    if (user.totpSecret === undefined) return 'ok';
    let secret: string;
    try {
      secret = await this.open(user.id, user.totpSecret);
    } catch (error) {
      if (error instanceof TotpUnavailableError) return 'unavailable';
      throw error;
    }
    const step = matchingStep(secret, code.slice(0, 64), now);
    if (step === undefined) return 'wrong';
    if (user.totpLastStep !== undefined && step <= user.totpLastStep) return 'replayed';
    return (await this.store.useTotpStep(user.id, step)) ? 'ok' : 'replayed';
  }

  /** Gives the user a new secret at once (the operator's `users totp enable`); replaces any earlier one. */
  async enable(user: UserRecord): Promise<Enrolment> {
    const secret = newTotpSecret();
    if (!(await this.store.setUserTotp(user.username, await this.seal(user.id, secret)))) throw new UserInputError(`no user named "${user.username}"`);
    return enrolment(secret, user.username);
  }

  /** Starts (or restarts) a self-service enrolment: a new secret, kept pending until confirmed. */
  async begin(user: UserRecord, now = Date.now()): Promise<Enrolment> {
    const secret = newTotpSecret();
    await this.store.putGrant({ key: pendingKey(user.id), payload: { sealed: await this.seal(user.id, secret) }, expiresAt: now + PENDING_MS });
    return enrolment(secret, user.username);
  }

  /** The pending enrolment of a user, if one is under way. */
  async pending(user: UserRecord): Promise<Enrolment | undefined> {
    const grant = await this.store.getGrant(pendingKey(user.id));
    if (!grant || typeof grant.payload.sealed !== 'string') return undefined;
    const secret = await this.open(user.id, grant.payload.sealed);
    return enrolment(secret, user.username);
  }

  /** Turns the pending secret on if `code` is one of its codes; false otherwise (nothing changes). */
  async confirm(user: UserRecord, code: string, now = Date.now()): Promise<boolean> {
    const grant = await this.store.getGrant(pendingKey(user.id));
    if (!grant || typeof grant.payload.sealed !== 'string') return false;
    const step = matchingStep(await this.open(user.id, grant.payload.sealed), code.slice(0, 64), now);
    if (step === undefined) return false;
    // The confirming code is spent: it cannot also serve as the next sign-in's code.
    await this.store.setUserTotp(user.username, grant.payload.sealed, step);
    await this.store.deleteGrant(pendingKey(user.id));
    return true;
  }

  /** Removes a user's TOTP; false for an unknown user. */
  async disable(username: string): Promise<boolean> {
    return this.store.setUserTotp(username, undefined);
  }

  private async seal(userId: string, secret: string): Promise<string> {
    const key = await this.vault.key(true);
    if (!key) throw new TotpUnavailableError('no credentials key to seal the TOTP secret with');
    return sealJson(key.key, PURPOSE, userId, { secret });
  }

  private async open(userId: string, sealed: string): Promise<string> {
    const key = await this.vault.keyFor(sealedJsonKeyId(sealed));
    if (!key) throw new TotpUnavailableError('the TOTP secret cannot be opened: there is no credentials key');
    try {
      const value = unsealJson(key.key, PURPOSE, userId, sealed) as { secret?: unknown };
      if (typeof value.secret !== 'string') throw new TotpUnavailableError('the TOTP secret is not in a known form');
      return value.secret;
    } catch (error) {
      if (error instanceof UnsealError) throw new TotpUnavailableError(error.message);
      throw error;
    }
  }
}

/** Re-seals every user's TOTP secret under `next` (`credentials rotate-key`); how many were. */
export async function resealTotpSecrets(store: Store, current: Buffer, next: Buffer): Promise<number> {
  let count = 0;
  for (const user of await store.listUsers()) {
    if (user.totpSecret === undefined || sealedJsonKeyId(user.totpSecret) === keyId(next)) continue;
    const value = unsealJson(current, PURPOSE, user.id, user.totpSecret);
    await store.setUserTotp(user.username, sealJson(next, PURPOSE, user.id, value), user.totpLastStep);
    count++;
  }
  return count;
}
