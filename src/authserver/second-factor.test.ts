import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { openSqliteStore } from '../store/sqlite.ts';
import { CredentialVault } from '../credentials/vault.ts';
import { createUser } from './users.ts';
import { resealTotpSecrets, SecondFactor } from './second-factor.ts';
import { matchingStep, normalizeCode, totpCode, totpStep, TOTP_PERIOD_S } from './totp.ts';

const STEP_MS = TOTP_PERIOD_S * 1000;

test('TOTP codes are RFC 6238 SHA-1 codes (the RFC\'s test vector, 6 digits), matched one step either side', () => {
  // RFC 6238 appendix B: the ASCII secret "12345678901234567890" gives 94287082 at T = 59 s.
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  assert.equal(totpCode(secret, 59_000), '287082');
  const now = 1_800_000_000_000;
  const step = totpStep(now);
  assert.equal(matchingStep(secret, totpCode(secret, now), now), step);
  assert.equal(matchingStep(secret, totpCode(secret, now - STEP_MS), now), step - 1);
  assert.equal(matchingStep(secret, totpCode(secret, now + STEP_MS), now), step + 1);
  assert.equal(matchingStep(secret, totpCode(secret, now + 2 * STEP_MS), now), undefined);
  assert.equal(matchingStep(secret, '12345', now), undefined);
  assert.equal(normalizeCode(' 287 082 '), '287082');
  assert.equal(normalizeCode('28708a'), undefined);
});

test('a code is accepted once; the secret is sealed to its user and survives a key rotation', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-totp-'));
  const store = await openSqliteStore(':memory:');
  try {
    const keyFile = path.join(dir, 'credentials.key');
    const vault = new CredentialVault(store, { file: keyFile }, {});
    const factor = new SecondFactor(store, vault);
    const ada = await createUser(store, 'ada', 'correct horse battery');
    const { secret, uri } = await factor.enable(ada);
    assert.match(uri, /^otpauth:\/\/totp\/Gatehouse:ada\?/);
    let stored = (await store.getUser(ada.id))!;
    assert.ok(stored.totpSecret && !stored.totpSecret.includes(secret));

    const now = Date.now();
    assert.equal(await factor.check(stored, totpCode(secret, now), now), 'ok');
    stored = (await store.getUser(ada.id))!;
    assert.equal(await factor.check(stored, totpCode(secret, now), now), 'replayed');
    assert.equal(await factor.check(stored, totpCode(secret, now - STEP_MS), now), 'replayed', 'an older step after a newer one');
    assert.equal(await factor.check(stored, totpCode(secret, now + 5 * STEP_MS), now), 'wrong');

    // Copied onto another user, the sealed secret does not open (it is bound to ada's id).
    const bob = await createUser(store, 'bob', 'correct horse battery');
    await store.setUserTotp('bob', stored.totpSecret);
    assert.equal(await factor.check((await store.getUser(bob.id))!, totpCode(secret, now + STEP_MS), now), 'unavailable');
    await factor.disable('bob');

    // `credentials rotate-key`: re-sealed under the new key, the same secret still checks.
    const current = (await vault.key())!.key;
    const next = randomBytes(32);
    assert.equal(await resealTotpSecrets(store, current, next), 1);
    fs.writeFileSync(keyFile, next.toString('hex') + '\n', { mode: 0o600 });
    assert.equal(await factor.check((await store.getUser(ada.id))!, totpCode(secret, now + STEP_MS), now), 'ok');
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a self-service enrolment takes effect only when a code of its secret confirms it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-totp-'));
  const store = await openSqliteStore(':memory:');
  try {
    const factor = new SecondFactor(store, new CredentialVault(store, { file: path.join(dir, 'credentials.key') }, {}));
    const ada = await createUser(store, 'ada', 'correct horse battery');
    const { secret } = await factor.begin(ada);
    assert.equal((await factor.pending(ada))?.secret, secret);
    assert.equal((await store.getUser(ada.id))?.totpSecret, undefined);
    const now = Date.now();
    assert.equal(await factor.confirm(ada, totpCode(secret, now + 3 * STEP_MS), now), false);
    assert.equal((await store.getUser(ada.id))?.totpSecret, undefined);
    assert.equal(await factor.confirm(ada, totpCode(secret, now), now), true);
    const on = (await store.getUser(ada.id))!;
    assert.equal(on.totpLastStep, totpStep(now), 'the confirming code is spent');
    assert.equal(await factor.check(on, totpCode(secret, now), now), 'replayed');
    assert.equal(await factor.pending(ada), undefined);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
