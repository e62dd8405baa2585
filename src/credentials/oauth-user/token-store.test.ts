// Users' upstream tokens and connect tickets over a real SQLite store: sealed (no token in the
// row), bound to their user and server, and tickets single use and short-lived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../store/open.ts';
import { CredentialVault } from '../vault.ts';
import { credentialsKeySource } from '../key.ts';
import { UserTokenStore } from './token-store.ts';
import { ConnectTickets } from './connect-ticket.ts';
import { sealJson, unsealJson } from './sealed-json.ts';
import { UnsealError } from '../seal.ts';

async function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-oauth-user-'));
  const store = await openStore({ type: 'sqlite', file: path.join(dir, 'gatehouse.db') });
  const vault = new CredentialVault(store, credentialsKeySource(dir), {});
  return { store, vault, tokens: new UserTokenStore(store, vault), tickets: new ConnectTickets(store, vault) };
}

test('a token is sealed per (user, server): the row holds no token, and a row moved to another user does not open', async (t) => {
  const { store, tokens } = await setup();
  t.after(() => store.close());
  const token = { accessToken: 'access-7d1f0c2b9e', refreshToken: 'refresh-4a8e6f1c3d', expiresAt: 1_900_000_000_000, issuer: 'https://as.example', obtainedAt: 1_899_999_000_000 };
  await tokens.put('alice', 'notes', token);
  assert.deepEqual({ ...(await tokens.get('alice', 'notes')) }, { ...token, scope: undefined });
  const row = (await store.getUpstreamToken('alice', 'notes'))!;
  assert.ok(!row.sealed.includes('access-7d1f') && !row.sealed.includes('refresh-4a8e'));
  assert.equal(row.expiresAt, token.expiresAt);
  await store.putUpstreamToken({ ...row, userId: 'mallory' });
  await assert.rejects(tokens.get('mallory', 'notes'), UnsealError);
  assert.deepEqual((await tokens.list('alice')).map((c) => c.server), ['notes']);
  assert.deepEqual(await tokens.delete('alice', 'notes'), { deleted: true, token: { ...token, scope: undefined } });
  assert.deepEqual(await tokens.delete('alice', 'notes'), { deleted: false, token: undefined });
});

test('sealed JSON opens only with its purpose and name', () => {
  const key = Buffer.alloc(32, 7);
  const sealed = sealJson(key, 'connect-ticket', 'notes', { u: 'alice' });
  assert.deepEqual(unsealJson(key, 'connect-ticket', 'notes', sealed), { u: 'alice' });
  assert.throws(() => unsealJson(key, 'connect-ticket', 'other', sealed), UnsealError);
  assert.throws(() => unsealJson(key, 'upstream-token', 'notes', sealed), UnsealError);
  assert.throws(() => unsealJson(Buffer.alloc(32, 8), 'connect-ticket', 'notes', sealed), /sealed with key/);
  const flipped = sealed.slice(0, -3) + (sealed.at(-3) === 'A' ? 'B' : 'A') + sealed.slice(-2);
  assert.throws(() => unsealJson(key, 'connect-ticket', 'notes', flipped), UnsealError);
});

test('a connect ticket is redeemed once, for its server only, before it expires', async (t) => {
  const { store, tickets } = await setup();
  t.after(() => store.close());
  const issued = await tickets.issue('https://gh.example', 'alice', 'notes', 60_000, 'tools/call');
  assert.match(issued.url, /^https:\/\/gh\.example\/-\/connect\/notes\?ticket=gj1\./);
  const ticket = new URL(issued.url).searchParams.get('ticket')!;
  assert.deepEqual(await tickets.redeem(ticket, 'other'), { ok: false, reason: 'this link is not valid for this server' });
  assert.deepEqual(await tickets.redeem(ticket, 'notes'), { ok: true, userId: 'alice', server: 'notes', method: 'tools/call' });
  assert.equal((await tickets.redeem(ticket, 'notes')).ok, false, 'single use');
  const expired = await tickets.issue('https://gh.example', 'alice', 'notes', -1, undefined);
  const late = await tickets.redeem(new URL(expired.url).searchParams.get('ticket')!, 'notes');
  assert.equal(late.ok, false);
  assert.match((late as { reason: string }).reason, /expired/);
});
