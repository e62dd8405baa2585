// No secret in any log line: a full Gatehouse (debug logging) with api-key, jwt (HMAC and JWKS)
// and oauth2 introspection, used with good and bad credentials, reloaded, a key revoked by
// removing it from the config; then every captured line is searched for every secret used, and
// for the digests of the keys (a digest of a weak key can be reversed by guessing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { INIT_REQUEST, MCP_HEADERS, raw, rawSession, sessionHeaders, startEverything, startTestGateway } from './helpers/gatehouse.ts';
import { startTestIssuer } from './helpers/auth-issuer.ts';
import { connectWithOAuth } from './helpers/auth-client.ts';
import { validateConfig } from '../src/config/load.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { digestKey, generateApiKey, keyPrefix } from '../src/auth/api-key.ts';

test('a full run with several kinds of secrets logs none of them', async () => {
  const everything = await startEverything();
  const issuer = await startTestIssuer();
  const opaque = await startTestIssuer({ tokens: 'opaque', introspectionClient: { id: 'gatehouse', secret: 'introspection-client-secret-77a1c0' } });
  const configKey = 'config-key-6e0f4c1b9d2a7358';
  const removedKey = 'removed-key-0c9b8a7f6e5d4c3b';
  const hmacSecret = 'hmac-secret-for-the-log-test-5f2e8d1c0b';
  const config: ConfigInput = {
    servers: { everything: { url: `${everything.origin}/mcp` } },
    apis: [
      { name: 'main', path: '/mcp', server: 'everything', auth: [{ type: 'api-key', header: 'x-api-key' }, { type: 'jwt', issuer: issuer.issuer, audience: 'gatehouse', jwksUrl: issuer.jwksUrl }] },
      { name: 'hmac', path: '/hmac', server: 'everything', auth: { type: 'jwt', issuer: 'https://hmac.test', audience: 'gatehouse', secret: hmacSecret } },
      { name: 'opaque', path: '/opaque', server: 'everything', auth: { type: 'oauth2', issuer: opaque.issuer, introspection: { url: opaque.introspectionUrl, clientId: 'gatehouse', clientSecret: 'introspection-client-secret-77a1c0' } } },
    ],
    agents: [{ id: 'cfg-agent', apiKeys: [{ value: configKey }, { value: removedKey }] }],
  };
  const gh = await startTestGateway(config);
  const secrets: string[] = [configKey, removedKey, hmacSecret, 'introspection-client-secret-77a1c0'];
  try {
    const storeKey = generateApiKey();
    secrets.push(storeKey);
    await gh.gateway.store.createAgent({ id: 'store-agent', name: undefined, labels: {}, tenant: undefined, createdAt: Date.now(), disabled: false });
    await gh.gateway.store.createApiKey({ id: 'key_logtest', agentId: 'store-agent', hash: digestKey(storeKey), prefix: keyPrefix(storeKey), api: undefined, createdAt: Date.now(), expiresAt: undefined, revokedAt: undefined, lastUsedAt: undefined });

    const jwt = await issuer.sign({ aud: 'gatehouse', sub: 'svc' });
    const badJwt = await issuer.sign({ aud: 'elsewhere', sub: 'svc' });
    const now = Math.floor(Date.now() / 1000);
    const hmacJwt = await new SignJWT({ sub: 'h', aud: 'gatehouse' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://hmac.test').setExpirationTime(now + 60).sign(new TextEncoder().encode(hmacSecret));
    const wrongKey = 'gh_wrongKeyThatShouldNotBeLogged00000000';
    secrets.push(jwt, badJwt, hmacJwt, wrongKey);

    const credentials: Array<Record<string, string>> = [{ authorization: `Bearer ${configKey}` }, { 'x-api-key': storeKey }, { authorization: `Bearer ${jwt}` }];
    for (const headers of credentials) {
      const sessionId = await rawSession(gh.url('main'), headers);
      const call = await raw(gh.url('main'), { headers: { ...sessionHeaders(sessionId), ...headers }, body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x' } } } });
      assert.equal(call.status, 200);
    }
    assert.equal((await raw(gh.url('hmac'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${hmacJwt}` }, body: INIT_REQUEST })).status, 200);
    for (const [url, authorization] of [[gh.url('main'), `Bearer ${badJwt}`], [gh.url('main'), `Bearer ${wrongKey}`], [gh.url('opaque'), `Bearer ${wrongKey}`], [gh.url('main'), `Bearer ${'x'.repeat(9000)}`]] as const) {
      assert.equal((await raw(url, { headers: { ...MCP_HEADERS, authorization }, body: INIT_REQUEST })).status, 401);
    }
    const { client, close } = await connectWithOAuth(gh.url('opaque'));
    await client.listTools();
    await close();
    secrets.push(...opaque.issued.map((i) => i.token));

    // Reload without one of the config keys: it is revoked (and logged, by key id only).
    const reloaded = structuredClone(config);
    reloaded.agents = [{ id: 'cfg-agent', apiKeys: [{ value: configKey }] }];
    reloaded.listen = { host: '127.0.0.1', port: gh.gateway.port };
    gh.gateway.reload(validateConfig(reloaded));
    assert.equal((await raw(gh.url('main'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${removedKey}` }, body: INIT_REQUEST })).status, 401);
    for (let i = 0; i < 100 && !gh.logs.text().includes('revoked'); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    await gh.close();
    await opaque.close();
    await issuer.close();
    await everything.close();
  }
  const logged = gh.logs.text();
  assert.ok(gh.logs.lines.filter((l) => l.msg === 'authentication refused').length >= 4, 'refusals were logged: there is something to search');
  assert.match(logged, /API key removed from the config: revoked/, 'the revocation was logged (by key id)');
  for (const secret of secrets) {
    assert.ok(!logged.includes(secret), `a secret (${secret.slice(0, 4)}…) appears in the logs`);
    // Tokens are long; a fragment of one is as bad.
    if (secret.length > 40) assert.ok(!logged.includes(secret.slice(-24)), `part of a token (…${secret.slice(-6)}) appears in the logs`);
  }
  for (const key of [configKey, removedKey, secrets[4]!]) assert.ok(!logged.includes(digestKey(key)), 'a key digest appears in the logs');
});
