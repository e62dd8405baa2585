import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { storeContract } from './contract.ts';
import { openSqliteStore } from './sqlite.ts';
import { SQLITE_MIGRATIONS } from './sqlite-schema.ts';
import { openStore } from './open.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-store-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite (file)', () => openSqliteStore(path.join(dir, 'contract', 'gatehouse.db')));
storeContract('sqlite (:memory:)', () => openSqliteStore(':memory:'));

describe('sqlite store file', () => {
  test('creates the parent directory 0700 and the file 0600, in WAL mode', async () => {
    const file = path.join(dir, 'nested', 'deeper', 'g.db');
    const store = await openSqliteStore(file);
    await store.close();
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
    db.close();
  });

  test('reopening keeps the data and does not migrate again', async () => {
    const file = path.join(dir, 'reopen.db');
    const first = await openSqliteStore(file);
    await first.createAgent({ id: 'a', name: 'n', labels: {}, tenant: undefined, createdAt: 1, disabled: false });
    await first.close();
    const second = await openStore({ type: 'sqlite', file });
    assert.equal(second.kind, 'sqlite');
    assert.equal((await second.getAgent('a'))?.name, 'n');
    await second.close();
  });

  test('two stores on one file: a grant is taken once', async () => {
    const file = path.join(dir, 'shared.db');
    const [a, b] = await Promise.all([openSqliteStore(file), openSqliteStore(file)]);
    await a.putGrant({ key: 'code:x', payload: {}, expiresAt: Date.now() + 60_000 });
    const results = await Promise.all([a.takeGrant('code:x'), b.takeGrant('code:x'), a.takeGrant('code:x')]);
    assert.equal(results.filter((r) => r !== undefined).length, 1);
    await a.close();
    await b.close();
  });

  test('a version 1 database is brought up to date with its OAuth clients kept (never used so far)', async () => {
    const file = path.join(dir, 'v1.db');
    const db = new Database(file);
    db.exec(SQLITE_MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.prepare('INSERT INTO oauth_clients (client_id, metadata, secret_hash, created_at) VALUES (?, ?, ?, ?)').run('old', '{"client_name":"old"}', null, 5);
    db.close();
    const store = await openSqliteStore(file);
    assert.deepEqual(await store.getOAuthClient('old'), { clientId: 'old', metadata: { client_name: 'old' }, secretHash: undefined, createdAt: 5, usedAt: undefined });
    await store.addRevocation('jti:x', Date.now() + 60_000);
    assert.deepEqual(await store.findRevocations(['jti:x']), ['jti:x']);
    await store.close();
  });

  test('a version 8 database gets users.tenant; its users stay in the default tenant', async () => {
    const file = path.join(dir, 'v8.db');
    const db = new Database(file);
    for (const step of SQLITE_MIGRATIONS.slice(0, 8)) db.exec(step);
    db.pragma('user_version = 8');
    db.prepare('INSERT INTO users (id, username, password_hash, created_at, disabled) VALUES (?, ?, ?, ?, 0)').run('u-old', 'old-user', 'scrypt$x', 5);
    db.close();
    const store = await openSqliteStore(file);
    const old = await store.getUserByName('old-user');
    assert.equal(old?.id, 'u-old');
    assert.equal(old?.tenant, undefined);
    await store.createUser({ id: 'u-new', username: 'new-user', passwordHash: 'scrypt$y', createdAt: 6, disabled: false, tenant: 'acme' });
    assert.equal((await store.getUser('u-new'))?.tenant, 'acme');
    await store.close();
  });

  test('refuses a database written by a newer version', async () => {
    const file = path.join(dir, 'future.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
    db.close();
    await assert.rejects(openSqliteStore(file), /newer than this Gatehouse supports/);
  });
});
