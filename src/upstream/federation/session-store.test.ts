// Stored federated sessions on a real SQLite store: sealed rows, bound to their API and id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { openSqliteStore } from '../../store/sqlite.ts';
import { deriveKey, SealBox } from '../../session/seal-box.ts';
import { FederatedSessionStore, type FederatedState } from './session-store.ts';

const UPSTREAM_SESSION = 'upstream-session-3f9a1c0e-secret';
const state: FederatedState = {
  v: 1,
  version: '2025-06-18',
  initParams: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'agent', version: '1' } },
  members: { everything: { sessionId: UPSTREAM_SESSION, protocolVersion: '2025-06-18', init: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'e', version: '1' }, instructions: 'Echoes.' } } },
};

function box(key: Buffer): SealBox {
  return new SealBox(deriveKey(key, 'gatehouse federated session'), 'gatehouse-federated-session-v1');
}

async function until<T>(read: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the row was not written within 1 s');
}

test('a stored federated session keeps no upstream session id in clear (it was stored unencrypted); an altered, moved or foreign-key row does not open', async (t) => {
  const store = await openSqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-fed-')), 'store.db'));
  t.after(() => store.close());
  const key = randomBytes(32);
  const log = pino({ level: 'silent' });
  const sessions = new FederatedSessionStore(store, 'workspace', box(key), log);

  sessions.for('ch1').save(state);
  const row = await until(() => store.getFederatedSession('ch1'));
  const text = JSON.stringify(row.state);
  assert.ok(!text.includes(UPSTREAM_SESSION), 'the upstream session id is not readable in the store');
  assert.ok(!text.includes('clientInfo'), 'nor the client initialize');
  assert.deepEqual(await sessions.load('ch1'), state, 'the same key opens it');

  // Another node with the same session key continues it; one with another key does not.
  assert.deepEqual(await new FederatedSessionStore(store, 'workspace', box(key), log).load('ch1'), state);
  assert.equal(await new FederatedSessionStore(store, 'workspace', box(randomBytes(32)), log).load('ch1'), undefined);
  // Another API's connector does not take it.
  assert.equal(await new FederatedSessionStore(store, 'other', box(key), log).load('ch1'), undefined);

  // The row copied under another id does not open there.
  await store.putFederatedSession({ ...row, id: 'ch2' });
  assert.equal(await sessions.load('ch2'), undefined);
  // An altered row does not open.
  const sealed = (row.state as { sealed: string }).sealed;
  const flipped = sealed.slice(0, 20) + (sealed[20] === 'A' ? 'B' : 'A') + sealed.slice(21);
  await store.putFederatedSession({ ...row, id: 'ch3', state: { v: 2, sealed: flipped } });
  assert.equal(await sessions.load('ch3'), undefined);
  // A row in the clear format of before is not trusted.
  await store.putFederatedSession({ ...row, id: 'ch4', state: state as unknown as Record<string, unknown> });
  assert.equal(await sessions.load('ch4'), undefined);
});
