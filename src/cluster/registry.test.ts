// The node registry on the embedded store: a node that registers is found by the others; one
// that stops heartbeating (killed: it never deletes its row) is dropped once nodeTimeout has
// passed, and its row deleted later; one that stops cleanly is gone at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { openSqliteStore } from '../store/sqlite.ts';
import { NodeRegistry } from './registry.ts';

const log = pino({ level: 'silent' });

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`timed out waiting until ${what}`);
}

test('nodes find each other; a node that misses its heartbeats is dropped; a closed node is gone at once', async () => {
  const store = await openSqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-registry-')), 'store.db'));
  const settings = { heartbeatInterval: 50, nodeTimeout: 300 };
  const a = new NodeRegistry(store, { id: 'node-a', url: 'http://10.0.0.1:8080' }, settings, log);
  const b = new NodeRegistry(store, { id: 'node-b', url: 'http://10.0.0.2:8080' }, settings, log);
  await a.start();
  await b.start();
  // A node registered after a's last read is looked up in the store.
  assert.equal(await a.addressOf('node-b'), 'http://10.0.0.2:8080');
  assert.equal(await b.addressOf('node-a'), 'http://10.0.0.1:8080');
  assert.equal(await a.addressOf('never-registered'), undefined);

  // A node killed: its row stays, its heartbeats stop (written by hand here, once).
  await store.putNode({ id: 'node-k', url: 'http://10.0.0.3:8080', startedAt: Date.now(), seenAt: Date.now() });
  await until(async () => (await a.addressOf('node-k')) === 'http://10.0.0.3:8080', 'node-k is known');
  await until(async () => (await a.addressOf('node-k')) === undefined, 'node-k is dropped after nodeTimeout without heartbeats');
  await until(async () => (await store.getNode('node-k', 0)) === undefined, 'its row is deleted');

  // A node that stops cleanly removes its row: the others stop finding it at once.
  await b.close();
  a.unreachable('node-b');
  assert.equal(await a.addressOf('node-b'), undefined);
  assert.equal(a.size, 1);
  await a.close();
  assert.equal(await store.getNode('node-a', 0), undefined);
  await store.close();
});
