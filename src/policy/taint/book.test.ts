import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { openSqliteStore } from '../../store/sqlite.ts';
import { tempDir } from '../../../test/helpers/gatehouse.ts';
import { TaintBook } from './book.ts';

test('taints: known here at once, seen by another book through the store, first taint kept, expired ones gone; the store holds no session id', async () => {
  const store = await openSqliteStore(`${tempDir('taint-book-')}/store.db`);
  try {
    const log = pino({ level: 'silent' });
    const here = new TaintBook(store, log);
    const there = new TaintBook(store, log);
    const key = TaintBook.keyOf('api', 'gh1.secret-session-id', 'agent:alice');
    assert.notEqual(key, TaintBook.keyOf('api', undefined, 'agent:alice'), 'a session and its principal are different keys');
    assert.doesNotMatch(key, /secret/);
    assert.equal(await there.taintOf(key), undefined);
    const now = Date.now();
    here.taint(key, { server: 'web', tool: 'fetch', taintedAt: now }, 60_000);
    here.taint(key, { server: 'mail', tool: 'read', taintedAt: now + 1 }, 60_000);
    assert.deepEqual(await here.taintOf(key), { server: 'web', tool: 'fetch', taintedAt: now, expiresAt: now + 60_000 });
    for (let i = 0; i < 50 && (await there.taintOf(key)) === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(await there.taintOf(key), { server: 'web', tool: 'fetch', taintedAt: now, expiresAt: now + 60_000 });
    assert.equal(await here.taintOf(key, now + 120_000), undefined, 'expired');
  } finally {
    await store.close();
  }
});
