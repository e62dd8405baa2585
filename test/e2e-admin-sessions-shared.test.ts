// Admin sign-in sessions live in the store, not in one process: a session outlives a restart,
// every node sharing the store knows it (a balancer needs no sticky routing for the admin
// listener), and sign-out on one node ends it on all of them at once (regression: sessions were
// kept in each node's memory, so a browser signed in on one node was refused by the next).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startTestGateway, tempDir, type TestGateway } from './helpers/gatehouse.ts';
import { postgresRequirement } from './helpers/requirements.ts';
import type { ConfigInput } from '../src/config/schema.ts';

const TOKEN = 'admin-token-for-shared-sessions-0123456789';

function config(store?: ConfigInput['store']): Omit<ConfigInput, 'listen'> {
  return {
    ...(store && { store }),
    servers: { none: { url: 'http://127.0.0.1:9/mcp' } },
    apis: [{ name: 'open', path: '/mcp', server: 'none' }],
    admin: { enabled: true, port: 0, token: TOKEN },
  };
}

function adminOf(gh: TestGateway): string {
  return gh.gateway.admin!.url.replace(/\/$/, '');
}

/** Signs in with the admin token's form on `gh`; the session cookie. */
async function signIn(gh: TestGateway): Promise<string> {
  const response = await fetch(`${adminOf(gh)}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: adminOf(gh) },
    body: new URLSearchParams({ token: TOKEN, next: '/api/meta' }).toString(),
    redirect: 'manual',
  });
  assert.equal(response.status, 303);
  const cookie = /^(gatehouse_admin=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(cookie, 'a session cookie');
  return cookie;
}

async function meta(gh: TestGateway, cookie: string): Promise<number> {
  return (await fetch(`${adminOf(gh)}/api/meta`, { headers: { cookie }, redirect: 'manual' })).status;
}

async function signOut(gh: TestGateway, cookie: string): Promise<void> {
  const response = await fetch(`${adminOf(gh)}/logout`, { method: 'POST', headers: { cookie, origin: adminOf(gh), 'content-type': 'application/x-www-form-urlencoded' }, body: '', redirect: 'manual' });
  assert.equal(response.status, 303);
}

test('an admin session outlives a restart of the gateway (SQLite store) and sign-out ends it', { timeout: 60_000 }, async () => {
  const dataDir = tempDir();
  const first = await startTestGateway(config(), { dataDir });
  const cookie = await signIn(first);
  assert.equal(await meta(first, cookie), 200);
  await first.close();
  const second = await startTestGateway(config(), { dataDir });
  try {
    assert.equal(await meta(second, cookie), 200, 'the session is known after the restart');
    assert.equal(await meta(second, 'gatehouse_admin=' + randomBytes(32).toString('base64url')), 401, 'a made-up cookie is not');
    await signOut(second, cookie);
    assert.equal(await meta(second, cookie), 401);
  } finally {
    await second.close();
  }
});

const postgres = postgresRequirement();

test('an admin session made on one node works on another sharing the Postgres store; sign-out on that one ends it on the first', { skip: postgres.skip, timeout: 60_000 }, async (t) => {
  postgres.check();
  const schema = `gatehouse_admin_sessions_${randomBytes(5).toString('hex')}`;
  const store = { type: 'postgres' as const, url: postgres.url!, schema };
  const dir = tempDir();
  const key = randomBytes(32).toString('hex');
  const a = await startTestGateway(config(store), { key, dataDir: path.join(dir, 'a') });
  const b = await startTestGateway(config(store), { key, dataDir: path.join(dir, 'b') });
  t.after(async () => {
    await Promise.all([a.close(), b.close()]);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  const cookie = await signIn(a);
  assert.equal(await meta(b, cookie), 200, 'the other node knows the session');
  await signOut(b, cookie);
  assert.equal(await meta(a, cookie), 401, 'signed out everywhere');
  assert.equal(await meta(b, cookie), 401);
});
