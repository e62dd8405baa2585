// The flow bookkeeping of "Sign in with Gatehouse" (sso.ts) where a clock matters: a flow older
// than ten minutes is refused before anything is exchanged, and is gone after. The whole flow
// against the real authorization server is in test/e2e-admin-sso*.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createLogger } from '../log.ts';
import { openStore } from '../store/open.ts';
import { GatehouseSignIn, type SignInServer } from './sso.ts';
import { resolveAdminGrant } from './admin-users.ts';

test('a sign-in flow older than ten minutes is refused (400) without exchanging its code, and cannot be used after', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sso-'));
  const store = await openStore({ type: 'sqlite', file: path.join(dir, 'store.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let exchanged = 0;
  // The authorization server is not reached on this path: its exchange only counts calls.
  const server: SignInServer = {
    client: { client_id: 'gatehouse-admin', redirect_uris: ['http://127.0.0.1/oauth/callback'] },
    fixedIssuer: undefined,
    keys: async () => {
      throw new Error('no key is needed on this path');
    },
    exchange: async () => {
      exchanged++;
      throw new Error('no code is exchanged on this path');
    },
    base: (hostname) => `http://${hostname}:8080`,
  };
  const signIn = new GatehouseSignIn(store, createLogger('silent'));
  const t0 = 1_000_000;
  const { location, cookie } = await signIn.begin(server, '127.0.0.1', 'http://127.0.0.1:8081/oauth/callback', '/', t0);
  const authorize = new URL(location);
  assert.equal(authorize.origin, 'http://127.0.0.1:8080');
  const answer = new URLSearchParams({ code: 'c', state: authorize.searchParams.get('state')!, iss: 'http://127.0.0.1:8080' });
  const late = await signIn.finish(server, cookie, answer, (user) => resolveAdminGrant(['ada'], undefined, user), t0 + 10 * 60_000 + 1);
  assert.equal(late.ok, false);
  assert.equal(!late.ok && late.status, 400);
  assert.match(!late.ok ? late.message : '', /expired/);
  const again = await signIn.finish(server, cookie, answer, (user) => resolveAdminGrant(['ada'], undefined, user), t0 + 1);
  assert.equal(!again.ok && again.status, 400, 'the refused flow is gone');
  assert.equal(exchanged, 0);
});
