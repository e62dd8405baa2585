// Agents and keys declared in the config, synced into a real (SQLite) store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { openSqliteStore } from '../store/sqlite.ts';
import { validateConfig } from '../config/load.ts';
import { configKeyId, configKeys, syncConfigAgents } from './agents-sync.ts';
import { digestKey } from './api-key.ts';
import { LogCapture } from '../../test/helpers/gatehouse.ts';

const ALICE = 'alice-key-0123456789abcdef';
const TEST_DIGEST = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

function agents(list: unknown) {
  return validateConfig({ servers: { s: { url: 'http://127.0.0.1:1/mcp' } }, apis: [{ name: 'main', path: '/mcp', server: 's' }], agents: list }).agents;
}

const ISSUE = agents([
  { id: 'alice', name: "Alice's coding agent", apiKeys: [{ value: ALICE }] },
  { id: 'bob', apiKeys: [{ sha256: TEST_DIGEST }] },
]);

test('key ids come from the digest; sha256 entries take any digest (here of "test"), upper case too', () => {
  const keys = configKeys(agents([{ id: 'bob', apiKeys: [{ sha256: TEST_DIGEST.toUpperCase(), api: 'main', expires: '2030-01-01' }] }]));
  assert.deepEqual([...keys.values()], [{ id: 'cfg_9f86d081884c', agentId: 'bob', digest: TEST_DIGEST, prefix: 'sha256:9f86d081', api: 'main', expiresAt: Date.parse('2030-01-01') }]);
  assert.equal(configKeyId(digestKey(ALICE)), `cfg_${digestKey(ALICE).slice(0, 12)}`);
});

test('sync creates agents and keys, is idempotent, and keeps what the CLI changed', async () => {
  const store = await openSqliteStore(':memory:');
  const logs = new LogCapture();
  const log = pino({ level: 'debug' }, logs);
  assert.deepEqual(await syncConfigAgents(store, ISSUE, log, 1000), { agents: 2, created: 2, revoked: 0 });
  assert.deepEqual(await syncConfigAgents(store, ISSUE, log, 2000), { agents: 2, created: 0, revoked: 0 });
  const alice = await store.getAgent('alice');
  assert.equal(alice?.name, "Alice's coding agent");
  assert.equal(alice?.createdAt, 1000);
  const key = await store.findApiKeyByHash(digestKey('test'));
  assert.equal(key?.agentId, 'bob');
  assert.equal(key?.id, 'cfg_9f86d081884c');
  assert.ok(!JSON.stringify(await store.listApiKeys()).includes(ALICE), 'the key itself is not stored');

  // Disabled and revoked with the CLI: a restart (another sync) does not undo either.
  await store.setAgentDisabled('alice', true);
  await store.revokeApiKey('cfg_9f86d081884c', 2500);
  await syncConfigAgents(store, ISSUE, log, 3000);
  assert.equal((await store.getAgent('alice'))?.disabled, true);
  assert.equal((await store.findApiKeyByHash(TEST_DIGEST))?.revokedAt, 2500);
  assert.ok(logs.lines.some((l) => l.msg === 'a key declared in the config was revoked; it stays refused (remove it from the config)' && l.keyId === 'cfg_9f86d081884c'));
  await store.close();
});

test('a key removed from the config is revoked; a key already owned by another agent is not handed over', async () => {
  const store = await openSqliteStore(':memory:');
  const logs = new LogCapture();
  const log = pino({ level: 'debug' }, logs);
  await syncConfigAgents(store, ISSUE, log, 1000);
  const withoutBob = agents([{ id: 'alice', apiKeys: [{ value: ALICE }] }, { id: 'bob' }]);
  assert.deepEqual(await syncConfigAgents(store, withoutBob, log, 2000), { agents: 2, created: 0, revoked: 1 });
  assert.equal((await store.findApiKeyByHash(TEST_DIGEST))?.revokedAt, 2000);
  assert.equal((await store.findApiKeyByHash(digestKey(ALICE)))?.revokedAt, undefined);

  const stolen = agents([{ id: 'alice', apiKeys: [{ value: ALICE }] }, { id: 'eve', apiKeys: [{ value: ALICE }] }].slice(1));
  await syncConfigAgents(store, stolen, log, 3000);
  assert.equal((await store.findApiKeyByHash(digestKey(ALICE)))?.agentId, 'alice');
  assert.ok(logs.lines.some((l) => l.level === 50 && l.declaredFor === 'eve'));
  assert.ok(!logs.text().includes(ALICE));
  await store.close();
});
