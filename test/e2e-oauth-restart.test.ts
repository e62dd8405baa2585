// The authorization server keeps its state in the store and its signing key in the data
// directory: after a restart (same address, same data directory), registered clients, access
// tokens and refresh tokens issued before still work. On SQLite always; on Postgres when
// GATEHOUSE_TEST_POSTGRES_URL is set (in a fresh schema, dropped afterwards).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ConfigInput } from '../src/config/schema.ts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { tempDir } from './helpers/gatehouse.ts';
import { playUser, startOAuthGateway, TestOAuthClient, type OAuthSetup } from './helpers/oauth-flow.ts';
import { postgresRequirement } from './helpers/requirements.ts';

async function echo(setup: OAuthSetup, provider: TestOAuthClient, message: string): Promise<unknown> {
  const client = new Client({ name: 'restart-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider });
  await client.connect(transport);
  try {
    return (await client.callTool({ name: 'echo', arguments: { message } })).content;
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

async function restartScenario(store?: ConfigInput['store']): Promise<void> {
  const dataDir = tempDir();
  const extra = store ? { store } : {};
  let browserTrips = 0;
  const provider = new TestOAuthClient('http://127.0.0.1:45125/callback', async (url) => {
    browserTrips++;
    url.searchParams.set('scope', 'mcp offline_access');
    const { final } = await playUser(url);
    codes.push(final.searchParams.get('code')!);
  });
  const codes: string[] = [];

  const first = await startOAuthGateway(extra, { dataDir });
  const port = first.gh.gateway.port;
  try {
    await assert.rejects(new Client({ name: 'restart-test', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(new URL(first.url), { authProvider: provider })), UnauthorizedError);
    await new StreamableHTTPClientTransport(new URL(first.url), { authProvider: provider }).finishAuth(codes[0]!);
    assert.deepEqual(await echo(first, provider, 'before'), [{ type: 'text', text: 'Echo: before' }]);
  } finally {
    await first.close();
  }

  const second = await startOAuthGateway({ ...extra, listen: { host: '127.0.0.1', port } }, { dataDir });
  try {
    assert.equal(second.url, first.url);
    // The access token from before the restart verifies with the kept signing key.
    assert.deepEqual(await echo(second, provider, 'after restart'), [{ type: 'text', text: 'Echo: after restart' }]);
    // The refresh token and the client registration come from the store.
    const before = provider.saved!;
    provider.saved = { ...before, access_token: 'expired-or-garbage' };
    assert.deepEqual(await echo(second, provider, 'after refresh'), [{ type: 'text', text: 'Echo: after refresh' }]);
    assert.notEqual(provider.saved!.refresh_token, before.refresh_token);
    assert.equal(browserTrips, 1, 'no new sign-in was needed');
  } finally {
    await second.close();
  }
}

test('clients, access tokens and refresh tokens survive a restart (SQLite)', () => restartScenario());

const postgres = postgresRequirement();
const postgresUrl = postgres.url;
const schema = `gatehouse_oauth_${randomBytes(6).toString('hex')}`;
test(
  'clients, access tokens and refresh tokens survive a restart (Postgres)',
  { skip: postgres.skip },
  () => {
    postgres.check();
    return restartScenario({ type: 'postgres', url: postgresUrl!, schema });
  },
);
after(async () => {
  if (!postgresUrl) return;
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
});
