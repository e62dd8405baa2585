// `gatehouse users create NAME --external`: a user without a password, who signs in only through
// an external OpenID Connect provider (authorizationServer.externalProviders, `users: existing`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigFile } from '../src/config/load.ts';
import { openStore } from '../src/store/open.ts';
import { dataPaths } from '../src/data-paths.ts';
import { checkLogin } from '../src/authserver/users.ts';
import { CLI, tempDir } from './helpers/gatehouse.ts';

const BASE = ['listen: { host: 127.0.0.1, port: 0 }', 'servers:', '  everything: { url: "http://127.0.0.1:9/mcp" }', 'apis:', '  - { name: everything, path: /mcp, server: everything, auth: { type: oauth2 } }'];

function gatehouse(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.GATEHOUSE_DATA_DIR; // the config's dataDir decides
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

test('users create --external makes a user without a password, who cannot sign in with one', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'gatehouse.yaml');
  writeFileSync(file, ['dataDir: ./data', ...BASE, ''].join('\n'));
  const created = await gatehouse(['users', 'create', 'u-1@corp', '--external', '-c', file]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^created user u-1@corp \(id [0-9a-f-]{36}\), without a password \(external sign-in only\)\n$/);
  const both = await gatehouse(['users', 'create', 'u-2@corp', '--external', '--password-stdin', '-c', file], 'a long enough password\n');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /give no password/);

  const config = await loadConfigFile(file);
  const store = await openStore(dataPaths(config, file, {}).store);
  try {
    const user = await store.getUserByName('u-1@corp');
    assert.ok(user && !user.disabled);
    assert.equal(await store.getUserByName('u-2@corp'), undefined);
    for (const guess of ['external', '', user.passwordHash]) assert.equal(await checkLogin(store, 'u-1@corp', guess), undefined);
  } finally {
    await store.close();
  }
});
