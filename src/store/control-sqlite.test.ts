import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { controlStoreContract } from './control-contract.ts';
import { openSqliteControlStore } from './control-sqlite.ts';
import { openSqliteStore } from './sqlite.ts';
import { SQLITE_MIGRATIONS } from './sqlite-schema.ts';
import { CONTROL_SQLITE_MIGRATIONS } from './control-sqlite-schema.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-control-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
controlStoreContract('sqlite', () => openSqliteControlStore(path.join(dir, `c${n++}.db`)));

test('the control tables share the store file on their own migration track: the Store\'s user_version is untouched', async () => {
  const file = path.join(dir, 'shared.db');
  const control = await openSqliteControlStore(file);
  const store = await openSqliteStore(file);
  await control.close();
  await store.close();
  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
  assert.deepEqual(db.prepare('SELECT version FROM control_migrations ORDER BY version').all(), CONTROL_SQLITE_MIGRATIONS.map((_, i) => ({ version: i + 1 })));
  db.close();
  // Opening again is a no-op.
  await (await openSqliteControlStore(file)).close();
});
