// A user's grants at the embedded authorization server: the official SDK client authorizes,
// the person finds the grant on /-/connections ("Applications you authorized") and revokes it
// there; the client's access token is then refused (401) and its refresh token too
// (invalid_grant), and the revocation is a `grant-revoked` security event. The CLI lists and
// ends grants on the store (`gatehouse users grants`, `users revoke-grant`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { decodeJwt } from 'jose';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { browse, CookieJar, hiddenField, pkcePair, playUser, registerClient, startOAuthGateway, tokenRequest, TestOAuthClient, USER, type OAuthSetup, type PlayedFlow, type Step } from './helpers/oauth-flow.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { CLI, tempDir } from './helpers/gatehouse.ts';
import { startGateway } from '../src/gateway.ts';
import { loadConfigFile } from '../src/config/load.ts';
import { createUser } from '../src/authserver/users.ts';

let setup: OAuthSetup;
before(async () => {
  // offline_access advertised, so that the SDK client asks for it and gets a refresh token.
  setup = await startOAuthGateway({ apis: [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'oauth2', scopes: ['mcp', 'offline_access'] } }] });
});
after(async () => {
  await setup?.close();
});

/** An MCP request with a bearer token: the HTTP status. */
async function mcpStatus(url: string, token: string): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  await response.body?.cancel();
  return response.status;
}

/** A browser signed in on /-/connections. */
async function pageBrowser(origin: string, username: string, password: string): Promise<{ jar: CookieJar; get(): Promise<Step>; post(form: Record<string, string>): Promise<Step> }> {
  const page = `${origin}/-/connections`;
  const jar = new CookieJar();
  assert.equal((await browse(jar, page)).status, 200);
  const post = async (form: Record<string, string>) => browse(jar, page, { csrf: hiddenField((await browse(jar, page)).text, 'csrf'), ...form });
  const signIn = await post({ action: 'signin', username, password });
  assert.equal(signIn.status, 303, signIn.text);
  return { jar, get: () => browse(jar, page), post };
}

test('the SDK client authorizes; the user sees the grant on /-/connections, revokes it there, and the access and refresh tokens are refused', async () => {
  const flows: PlayedFlow[] = [];
  // The person answers the first authorization; after the revocation nobody is there to.
  let personPresent = true;
  const provider = new TestOAuthClient('http://127.0.0.1:45131/callback', async (url) => void (personPresent && flows.push(await playUser(url))), { client_name: 'Grants <test> app', scope: 'mcp offline_access' });
  const first = new Client({ name: 'grants-test', version: '1.0.0' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider })), UnauthorizedError);
  await new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider }).finishAuth(flows.at(-1)!.final.searchParams.get('code')!);
  const client = new Client({ name: 'grants-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider }));
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'echo'));

  const { access_token: access, refresh_token: refresh } = provider.saved!;
  assert.ok(refresh, 'a refresh token was issued (offline_access)');
  const grantId = String(decodeJwt(access).grant_id);
  const clientId = (provider.info as { client_id: string }).client_id;

  // The person's page lists it: the client's name (escaped), the API, the scopes, the dates.
  const browser = await pageBrowser(setup.gh.origin, USER.username, USER.password);
  const listed = await browser.get();
  assert.match(listed.text, /<h2>Applications you authorized<\/h2>/);
  assert.match(listed.text, /Grants &lt;test&gt; app/);
  assert.ok(listed.text.includes(clientId));
  assert.match(listed.text, /<td>everything<\/td><td>mcp offline_access<\/td>/);
  assert.match(listed.text, new RegExp(`name="grant" value="${grantId}"`));
  assert.ok(!listed.text.includes(access) && !listed.text.includes(refresh!), 'no token on the page');

  // A refresh first: it still works, and the grant's last use moves.
  const refreshed = await tokenRequest(setup.gh.origin, { grant_type: 'refresh_token', refresh_token: refresh!, client_id: clientId });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  const newRefresh = String(refreshed.body.refresh_token);
  const newAccess = String(refreshed.body.access_token);
  provider.saveTokens(refreshed.body as unknown as OAuthTokens); // the SDK client holds the current ones
  assert.equal(decodeJwt(newAccess).grant_id, grantId);
  assert.equal(await mcpStatus(setup.url, newAccess), 200);

  // A form without the page's CSRF token is refused, and changes nothing.
  const forged = await browse(browser.jar, `${setup.gh.origin}/-/connections`, { csrf: 'x'.repeat(43), action: 'revoke-grant', grant: grantId });
  assert.equal(forged.status, 403);
  assert.equal(await mcpStatus(setup.url, newAccess), 200);

  const revoked = await browser.post({ action: 'revoke-grant', grant: grantId });
  assert.equal(revoked.status, 200, revoked.text);
  assert.match(revoked.text, /Access revoked/);
  assert.ok(!revoked.text.includes(`value="${grantId}"`), 'the grant is no longer listed');
  assert.match(revoked.text, /No application has access to your account/);

  // Refused at once on this node: every access token of the grant, and its refresh token.
  assert.equal(await mcpStatus(setup.url, newAccess), 401);
  assert.equal(await mcpStatus(setup.url, access), 401);
  // The SDK client, still connected: its call gets 401, it tries its refresh token, which is
  // refused (invalid_grant), and the call fails.
  personPresent = false;
  await assert.rejects(client.listTools(), (error: Error) => error.constructor.name === 'InvalidGrantError' && /refresh token is invalid/.test(error.message));
  await client.close();
  const afterRevoke = await tokenRequest(setup.gh.origin, { grant_type: 'refresh_token', refresh_token: newRefresh, client_id: clientId });
  assert.equal(afterRevoke.status, 400);
  assert.equal(afterRevoke.body.error, 'invalid_grant');

  // Again, or a made-up id, or another user's grant: 404, nothing crashes.
  assert.equal((await browser.post({ action: 'revoke-grant', grant: grantId })).status, 404);
  assert.equal((await browser.post({ action: 'revoke-grant', grant: '../../etc' })).status, 404);
  assert.equal((await browser.post({ action: 'revoke-grant' })).status, 404);

  const userId = (await setup.gh.gateway.store.getUserByName(USER.username))!.id;
  const records = await recordsWhen(setup.gh.gateway, {}, (events) => events.some((e) => e.target === 'grant-revoked'));
  const event = records.find((e) => e.target === 'grant-revoked');
  assert.ok(event, 'a grant-revoked security event');
  assert.equal(event.user, userId);
  assert.equal(event.agent, clientId);
  assert.equal(event.method, '/-/connections');
  assert.match(event.reason ?? '', /revoked by the user on \/-\/connections/);
});

test('another user cannot revoke a grant that is not theirs (404), and it keeps working', async () => {
  await createUser(setup.gh.gateway.store, 'mallory', 'mallory long password');
  const redirect = 'http://127.0.0.1:45132/cb';
  const clientId = await registerClient(setup.gh.origin, { redirect_uris: [redirect], scope: 'mcp offline_access' });
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', scope: 'mcp offline_access', resource: setup.url });
  const { final } = await playUser(`${setup.gh.origin}/oauth/authorize?${query}`);
  const tokens = await tokenRequest(setup.gh.origin, { grant_type: 'authorization_code', code: final.searchParams.get('code')!, code_verifier: verifier, client_id: clientId, redirect_uri: redirect, resource: setup.url });
  const access = String(tokens.body.access_token);
  const mallory = await pageBrowser(setup.gh.origin, 'mallory', 'mallory long password');
  assert.match((await mallory.get()).text, /No application has access to your account/);
  assert.equal((await mallory.post({ action: 'revoke-grant', grant: String(decodeJwt(access).grant_id) })).status, 404);
  assert.equal(await mcpStatus(setup.url, access), 200);
});

function gatehouse(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.GATEHOUSE_DATA_DIR;
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

test('gatehouse users grants lists a user\'s grants and users revoke-grant ends one (or --all): the running Gatehouse refuses their tokens within a second', async () => {
  const config = path.join(tempDir(), 'gatehouse.yaml');
  writeFileSync(config, ['dataDir: ./data', 'listen: { host: 127.0.0.1, port: 0 }', 'servers:', `  everything: { url: "${setup.everything.origin}/mcp" }`, 'apis:', '  - { name: tools, path: /mcp, server: everything, auth: { type: oauth2 } }', ''].join('\n'));
  const env = { ...process.env };
  delete env.GATEHOUSE_DATA_DIR;
  const gateway = await startGateway({ config: await loadConfigFile(config), configPath: config, logger: pino({ level: 'silent' }), env });
  try {
    await createUser(gateway.store, 'grace', 'a long enough passphrase');
    const origin = `http://127.0.0.1:${gateway.port}`;
    const redirect = 'http://127.0.0.1:9997/cb';
    const clientId = await registerClient(origin, { client_name: 'CLI listed app', redirect_uris: [redirect], scope: 'mcp offline_access' });
    const authorize = async () => {
      const { verifier, challenge } = await pkcePair();
      const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', scope: 'mcp offline_access', resource: `${origin}/mcp` });
      const { final } = await playUser(`${origin}/oauth/authorize?${query}`, { username: 'grace', password: 'a long enough passphrase' });
      const answer = await tokenRequest(origin, { grant_type: 'authorization_code', code: final.searchParams.get('code')!, code_verifier: verifier, client_id: clientId, redirect_uri: redirect, resource: `${origin}/mcp` });
      assert.equal(answer.status, 200);
      return { access: String(answer.body.access_token), refresh: String(answer.body.refresh_token), id: String(decodeJwt(String(answer.body.access_token)).grant_id) };
    };
    const one = await authorize();
    const two = await authorize();
    const three = await authorize();

    const table = await gatehouse(['users', 'grants', 'grace', '-c', config]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^GRANT +CLIENT +API +SCOPES +AUTHORIZED +LAST USED\n/);
    for (const g of [one, two, three]) assert.match(table.stdout, new RegExp(`${g.id} +CLI listed app \\(${clientId}\\) +tools +mcp offline_access +\\S+Z +\\S+Z`));
    const json = JSON.parse((await gatehouse(['users', 'grants', 'grace', '--json', '-c', config])).stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(new Set(json.map((g) => g.id)), new Set([one.id, two.id, three.id]));
    assert.deepEqual(Object.keys(json[0]!).sort(), ['api', 'clientId', 'clientName', 'createdAt', 'expiresAt', 'id', 'idp', 'lastUsedAt', 'resource', 'scopes']);
    assert.equal(json[0]!.api, 'tools');
    assert.ok(!JSON.stringify(json).includes(one.refresh), 'never a token');

    const ended = await gatehouse(['users', 'revoke-grant', 'grace', one.id, '-c', config]);
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stdout, new RegExp(`ended grant ${one.id} of grace`));
    // The CLI wrote the denylist in the store: the Gatehouse heeds it once its one-second verdict lapses.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(await mcpStatus(`${origin}/mcp`, one.access), 401);
    assert.equal((await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: one.refresh, client_id: clientId })).body.error, 'invalid_grant');
    assert.equal(await mcpStatus(`${origin}/mcp`, two.access), 200);

    const again = await gatehouse(['users', 'revoke-grant', 'grace', one.id, '-c', config]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /grace has no grant/);
    assert.equal((await gatehouse(['users', 'revoke-grant', 'grace', '-c', config])).code, 1);
    assert.equal((await gatehouse(['users', 'revoke-grant', 'grace', two.id, '--all', '-c', config])).code, 1);
    const nobody = await gatehouse(['users', 'grants', 'nobody', '-c', config]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no user named "nobody"/);

    const all = await gatehouse(['users', 'revoke-grant', 'grace', '--all', '-c', config]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /ended 2 grants of grace/);
    assert.match((await gatehouse(['users', 'grants', 'grace', '-c', config])).stdout, /grace has authorized no application/);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    for (const g of [two, three]) {
      assert.equal(await mcpStatus(`${origin}/mcp`, g.access), 401);
      assert.equal((await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: g.refresh, client_id: clientId })).body.error, 'invalid_grant');
    }
  } finally {
    await gateway.close();
  }
});
