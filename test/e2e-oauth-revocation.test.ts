// Access tokens of the embedded authorization server are JWTs, yet they can be taken back: a
// token revoked at /oauth/revoke (RFC 7009), the tokens of a grant whose refresh token was revoked
// or whose code was replayed, and the tokens of a user disabled with `gatehouse users disable` are
// refused on every node — two Gatehouse nodes sharing one store and data directory behind one
// public URL, as behind a load balancer. On SQLite always; on Postgres when
// GATEHOUSE_TEST_POSTGRES_URL is set (in a fresh schema, dropped afterwards).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { SignJWT, decodeJwt, importJWK, type JWK } from 'jose';
import { startGateway, type Gateway } from '../src/gateway.ts';
import { loadConfigFile } from '../src/config/load.ts';
import { createUser } from '../src/authserver/users.ts';
import { KEY_FILE } from '../src/authserver/keys.ts';
import { INIT_REQUEST, MCP_HEADERS, raw, startEverything, tempDir } from './helpers/gatehouse.ts';
import { cli } from './helpers/auth-cli.ts';
import { browse, CookieJar, hiddenField, pkcePair, playUser, registerClient, tokenRequest } from './helpers/oauth-flow.ts';

const PUBLIC = 'http://gatehouse.test';
const RESOURCE = `${PUBLIC}/mcp`;
const REDIRECT = 'http://127.0.0.1:9996/callback';
const PASSWORD = 'a long enough passphrase';

interface Node {
  gateway: Gateway;
  origin: string;
}

interface Cluster {
  a: Node;
  b: Node;
  config: string;
  clientId: string;
  close(): Promise<void>;
}

async function startCluster(store: string): Promise<Cluster> {
  const everything = await startEverything();
  const dir = tempDir();
  const config = path.join(dir, 'gatehouse.yaml');
  writeFileSync(
    config,
    [
      'dataDir: ./data',
      `publicUrl: ${PUBLIC}`,
      'listen: { host: 127.0.0.1, port: 0 }',
      // One store for both nodes (SQLite: node A's file, named so that node B opens it too).
      store || `store: { type: sqlite, file: ${JSON.stringify(path.join(dir, 'data', 'gatehouse.db'))} }`,
      'servers:',
      `  everything: { url: "${everything.origin}/mcp" }`,
      'apis:',
      '  - { name: everything, path: /mcp, server: everything, auth: { type: oauth2 } }',
      'authorizationServer: { scopes: [mcp, offline_access] }',
      '',
    ].join('\n'),
  );
  const env = { ...process.env };
  delete env.GATEHOUSE_DATA_DIR; // the config's dataDir decides, for both nodes and the CLI
  const start = async (dataDir?: string): Promise<Node> => {
    const gateway = await startGateway({ config: await loadConfigFile(config), configPath: config, logger: pino({ level: 'silent' }), env, ...(dataDir && { dataDir }) });
    return { gateway, origin: `http://127.0.0.1:${gateway.port}` };
  };
  const a = await start();
  // The signing key is made on first use: have node A make it (its JWKS), so that B gets a copy.
  assert.equal((await fetch(`${a.origin}/oauth/jwks`)).status, 200);
  // A second node has a data directory of its own (one running Gatehouse per directory) holding
  // the same keys as the first, as a deployment copies them to every node.
  const second = path.join(dir, 'data-b');
  mkdirSync(second);
  for (const file of ['session.key', KEY_FILE]) copyFileSync(path.join(dir, 'data', file), path.join(second, file));
  const b = await start(second).catch(async (error: unknown) => {
    await a.gateway.close();
    await everything.close();
    throw error;
  });
  await createUser(a.gateway.store, 'grace', PASSWORD);
  const clientId = await registerClient(a.origin, { redirect_uris: [REDIRECT], scope: 'mcp offline_access' });
  return {
    a,
    b,
    config,
    clientId,
    close: async () => {
      await a.gateway.close();
      await b.gateway.close();
      await everything.close();
    },
  };
}

/** A completed authorization at node A: its tokens, and the code and verifier that produced them. */
async function authorize(cluster: Cluster): Promise<{ access: string; refresh: string; code: string; verifier: string }> {
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: cluster.clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'mcp offline_access', resource: RESOURCE, state: crypto.randomUUID() });
  const { final } = await playUser(`${cluster.a.origin}/oauth/authorize?${query}`, { username: 'grace', password: PASSWORD });
  const code = final.searchParams.get('code')!;
  const tokens = await tokenRequest(cluster.a.origin, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: cluster.clientId, redirect_uri: REDIRECT, resource: RESOURCE });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  return { access: String(tokens.body.access_token), refresh: String(tokens.body.refresh_token), code, verifier };
}

/** initialize with the token at a node: the status, and the refusal's reason from WWW-Authenticate. */
async function use(node: Node, token: string): Promise<{ status: number; reason: string }> {
  const answer = await raw(`${node.origin}/mcp`, { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: INIT_REQUEST });
  return { status: answer.status, reason: /error_description="([^"]*)"/.exec(answer.headers.get('www-authenticate') ?? '')?.[1] ?? '' };
}

/** A node that had the token accepted a moment ago may trust that for up to a second: wait for it to see the change. */
async function refusedSoon(node: Node, token: string): Promise<{ status: number; reason: string }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const got = await use(node, token);
    if (got.status !== 200 || Date.now() > deadline) return got;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function revoke(cluster: Cluster, node: Node, token: string, hint?: string): Promise<Response> {
  const form = new URLSearchParams({ token, client_id: cluster.clientId, ...(hint ? { token_type_hint: hint } : {}) });
  return fetch(`${node.origin}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
}

async function scenario(store: string): Promise<void> {
  const cluster = await startCluster(store);
  const { a, b } = cluster;
  try {
    // An access token revoked at node A (RFC 7009): refused at once by A; by B at once when B has
    // not judged it before, and within a second when B accepted it a moment ago.
    const seen = await authorize(cluster);
    const unseen = await authorize(cluster);
    for (const node of [a, b]) assert.equal((await use(node, seen.access)).status, 200);
    for (const token of [seen.access, unseen.access]) assert.equal((await revoke(cluster, a, token, 'access_token')).status, 200);
    assert.deepEqual(await use(a, seen.access), { status: 401, reason: 'token revoked' });
    assert.deepEqual(await use(b, unseen.access), { status: 401, reason: 'token revoked' });
    assert.deepEqual(await refusedSoon(b, seen.access), { status: 401, reason: 'token revoked' });
    // Revoking the access token leaves the refresh token (RFC 7009 lets a server choose), so the
    // client can get a new access token, which works.
    const refreshed = await tokenRequest(a.origin, { grant_type: 'refresh_token', refresh_token: seen.refresh, client_id: cluster.clientId });
    assert.equal(refreshed.status, 200);
    assert.equal((await use(b, String(refreshed.body.access_token))).status, 200);

    // A refresh token revoked at node B ends its grant: the access tokens issued with it are refused too.
    const grant = await authorize(cluster);
    assert.equal((await use(a, grant.access)).status, 200);
    assert.equal((await revoke(cluster, b, grant.refresh)).status, 200);
    assert.deepEqual(await use(b, grant.access), { status: 401, reason: 'token revoked' });
    assert.deepEqual(await refusedSoon(a, grant.access), { status: 401, reason: 'token revoked' });

    // A token of another client is not this client's to revoke; the answer does not say so.
    const other = await authorize(cluster);
    const stranger = await registerClient(a.origin, { redirect_uris: [REDIRECT] });
    const foreign = await fetch(`${a.origin}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: other.access, client_id: stranger }).toString() });
    assert.equal(foreign.status, 200);
    assert.equal((await use(a, other.access)).status, 200);

    // A replayed authorization code (RFC 6749 §4.1.2): the tokens the first exchange produced stop working.
    const replayed = await tokenRequest(b.origin, { grant_type: 'authorization_code', code: other.code, code_verifier: other.verifier, client_id: cluster.clientId, redirect_uri: REDIRECT, resource: RESOURCE });
    assert.equal(replayed.body.error, 'invalid_grant');
    assert.deepEqual(await use(b, other.access), { status: 401, reason: 'token revoked' });
    assert.deepEqual(await refusedSoon(a, other.access), { status: 401, reason: 'token revoked' });

    // A grant its user revokes on node A's /-/connections: node B refuses its access token within
    // a second, and its refresh token at either node (invalid_grant); then `gatehouse users
    // revoke-grant` (another process) ends another, refused by both within a second.
    const given = await authorize(cluster);
    assert.equal((await use(b, given.access)).status, 200);
    const jar = new CookieJar();
    const connections = `${a.origin}/-/connections`;
    const post = async (form: Record<string, string>) => browse(jar, connections, { csrf: hiddenField((await browse(jar, connections)).text, 'csrf'), ...form });
    assert.equal((await post({ action: 'signin', username: 'grace', password: PASSWORD })).status, 303);
    assert.equal((await post({ action: 'revoke-grant', grant: String(decodeJwt(given.access).grant_id) })).status, 200);
    assert.deepEqual(await use(a, given.access), { status: 401, reason: 'token revoked' });
    assert.deepEqual(await refusedSoon(b, given.access), { status: 401, reason: 'token revoked' });
    assert.equal((await tokenRequest(b.origin, { grant_type: 'refresh_token', refresh_token: given.refresh, client_id: cluster.clientId })).body.error, 'invalid_grant');
    const byCli = await authorize(cluster);
    for (const node of [a, b]) assert.equal((await use(node, byCli.access)).status, 200);
    const ended = await cli(['users', 'revoke-grant', 'grace', String(decodeJwt(byCli.access).grant_id), '--config', cluster.config], { GATEHOUSE_DATA_DIR: undefined });
    assert.equal(ended.code, 0, ended.stderr);
    for (const node of [a, b]) assert.deepEqual(await refusedSoon(node, byCli.access), { status: 401, reason: 'token revoked' });

    // `gatehouse users disable` (another process): the user's access tokens are refused by both nodes.
    const before = await authorize(cluster);
    const fresh = await authorize(cluster);
    assert.equal((await use(a, before.access)).status, 200);
    const disabled = await cli(['users', 'disable', 'grace', '--config', cluster.config], { GATEHOUSE_DATA_DIR: undefined });
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.deepEqual(await use(b, fresh.access), { status: 401, reason: 'the token\'s user is disabled' });
    assert.deepEqual(await refusedSoon(a, before.access), { status: 401, reason: 'the token\'s user is disabled' });
    assert.equal((await cli(['users', 'enable', 'grace', '--config', cluster.config], { GATEHOUSE_DATA_DIR: undefined })).code, 0);
    assert.equal((await refusedSoonAccepted(b, fresh.access)).status, 200, 'enabled again: the tokens work again');
  } finally {
    await cluster.close();
  }
}

/** The reverse of refusedSoon: a verdict cached for a second may still refuse. */
async function refusedSoonAccepted(node: Node, token: string): Promise<{ status: number }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const got = await use(node, token);
    if (got.status === 200 || Date.now() > deadline) return got;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('revoked access tokens, ended grants (also a grant its user revokes) and disabled users are refused on every node (SQLite)', () => scenario(''));

const postgresUrl = process.env.GATEHOUSE_TEST_POSTGRES_URL;
const schema = `gatehouse_revoke_${randomBytes(6).toString('hex')}`;
test(
  'revoked access tokens, ended grants (also a grant its user revokes) and disabled users are refused on every node (Postgres)',
  { skip: postgresUrl ? false : 'GATEHOUSE_TEST_POSTGRES_URL not set: Postgres tests skipped' },
  () => scenario(`store: { type: postgres, url: "${postgresUrl}", schema: ${schema} }`),
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

test('a JWT signed with the authorization server\'s own key is refused unless typed as an access token (RFC 9068 typ: at+jwt)', async () => {
  const cluster = await startCluster('');
  try {
    const { access } = await authorize(cluster);
    assert.equal((await use(cluster.a, access)).status, 200);
    const dataDir = path.join(path.dirname(cluster.config), 'data');
    const { keys } = JSON.parse(readFileSync(path.join(dataDir, 'oauth-signing-key.json'), 'utf8')) as { keys: JWK[] };
    const key = await importJWK(keys[0]!, 'ES256');
    const claims = JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const typ of [undefined, 'JWT', 'id_token+jwt']) {
      const forged = await new SignJWT({ ...claims, jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: keys[0]!.kid!, ...(typ ? { typ } : {}) }).sign(key);
      assert.deepEqual(await use(cluster.a, forged), { status: 401, reason: 'not an access token (typ must be at+jwt)' }, String(typ));
    }
    const typed = await new SignJWT({ ...claims, jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: keys[0]!.kid!, typ: 'at+jwt' }).sign(key);
    assert.equal((await use(cluster.a, typed)).status, 200, 'the same claims typed as an access token pass');
  } finally {
    await cluster.close();
  }
});
