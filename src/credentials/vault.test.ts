// The vault over a real SQLite store: what is stored is sealed, the key file is private, and
// rotation re-seals everything under the new key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../store/open.ts';
import { CredentialVault } from './vault.ts';
import { credentialsKeySource, keyId } from './key.ts';

async function setup(env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-vault-'));
  const store = await openStore({ type: 'sqlite', file: path.join(dir, 'gatehouse.db') });
  const source = credentialsKeySource(dir);
  return { dir, store, source, vault: new CredentialVault(store, source, env) };
}

test('set seals under a new private key file; get, list and delete work on names', async (t) => {
  const { store, source, vault } = await setup();
  t.after(() => store.close());
  assert.equal(await vault.key(), undefined, 'reading never creates a key');
  const key = await vault.set('github', { type: 'bearer', token: 'vault-secret-123456' });
  assert.equal(key.source, source.file);
  assert.equal(statSync(source.file).mode & 0o777, 0o600);
  const record = await store.getCredential('github');
  assert.ok(record && !record.sealed.includes('vault-secret-123456'));
  assert.deepEqual((await vault.get('github'))?.credential, { type: 'bearer', token: 'vault-secret-123456' });
  await vault.set('jira', { type: 'header', name: 'X-Api-Key', value: 'jira-secret-98765' });
  assert.deepEqual(
    (await vault.list()).map((c) => [c.name, c.type, c.keyId]),
    [['github', 'bearer', key.id], ['jira', 'header', key.id]],
  );
  assert.equal(await vault.delete('jira'), true);
  assert.equal(await vault.get('jira'), undefined);
});

test('a key from GATEHOUSE_CREDENTIALS_KEY is used instead of a file; records sealed with another key are listed as unreadable', async (t) => {
  const hex = randomBytes(32).toString('hex');
  const { store, source, vault } = await setup({ GATEHOUSE_CREDENTIALS_KEY: hex });
  t.after(() => store.close());
  const key = await vault.set('a', { type: 'bearer', token: 'env-key-secret-1' });
  assert.equal(key.source, 'GATEHOUSE_CREDENTIALS_KEY');
  assert.throws(() => statSync(source.file), /ENOENT/);
  const other = new CredentialVault(store, source, { GATEHOUSE_CREDENTIALS_KEY: randomBytes(32).toString('base64') });
  const [row] = await other.list();
  assert.equal(row?.type, undefined);
  assert.match(row?.problem ?? '', /sealed with key/);
  await assert.rejects(other.get('a'), /sealed with key/);
});

test('rekey re-seals every record under the new key, and finishes an interrupted run', async (t) => {
  const { store, vault, source } = await setup();
  t.after(() => store.close());
  await vault.set('a', { type: 'bearer', token: 'rekey-secret-a' });
  await vault.set('b', { type: 'bearer', token: 'rekey-secret-b' });
  const next = randomBytes(32);
  assert.deepEqual(await vault.rekey(next), { resealed: 2, unchanged: 0 });
  assert.deepEqual(await vault.rekey(next), { resealed: 0, unchanged: 2 }, 'a second run finds nothing left to do');
  // With the new key in place (env here), the records open.
  const after = new CredentialVault(store, source, { GATEHOUSE_CREDENTIALS_KEY: next.toString('hex') });
  assert.deepEqual((await after.list()).map((c) => [c.name, c.type, c.keyId]), [['a', 'bearer', keyId(next)], ['b', 'bearer', keyId(next)]]);
  assert.deepEqual((await after.get('b'))?.credential, { type: 'bearer', token: 'rekey-secret-b' });
});

test('setIf and deleteIf write only while the credential is the one stamped (null: none yet); two vaults on one store from the same read: one lands', async (t) => {
  const { store, vault, source } = await setup();
  t.after(() => store.close());
  assert.equal(await vault.setIf('c', { type: 'bearer', token: 'first-secret' }, 'no-such-stamp'), false, 'nothing to replace');
  assert.equal(await vault.setIf('c', { type: 'bearer', token: 'first-secret' }, null), true);
  assert.equal(await vault.setIf('c', { type: 'bearer', token: 'again' }, null), false, 'it exists now');
  const read = (await vault.summary('c'))!;
  // A second vault (another node) on the same store and key.
  const other = new CredentialVault(store, source, {});
  const results = await Promise.all([vault.setIf('c', { type: 'bearer', token: 'node-a' }, read.stamp), other.setIf('c', { type: 'bearer', token: 'node-b' }, read.stamp)]);
  assert.deepEqual([...results].sort(), [false, true]);
  const token = ((await vault.get('c'))?.credential as { token: string }).token;
  assert.equal(token, results[0] ? 'node-a' : 'node-b', 'the one that landed is stored');
  assert.equal(await vault.deleteIf('c', read.stamp), false, 'a stale delete');
  assert.ok(await vault.get('c'));
  assert.equal(await vault.deleteIf('c', (await vault.summary('c'))!.stamp), true);
  assert.equal(await vault.get('c'), undefined);
});
