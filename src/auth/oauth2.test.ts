// The oauth2 plan with the embedded authorization server's interface (EmbeddedIssuer): the issuer
// follows the public base URL when no publicUrl is set, tokens are verified with its keys, and the
// audience must be the API's resource URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { pino } from 'pino';
import { oauth2Plan } from './oauth2.ts';
import type { AuthContext } from './plan.ts';
import { authContextFor, compilePublicBase } from './public-url.ts';

test('embedded issuer: issuer per public base, its keys, the resource as audience; the principal is the user', async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  const plan = oauth2Plan(
    { scopes: ['mcp'], requiredScopes: [] },
    { apiName: 'main', embedded: { issuer: (base) => `${base}/oauth`, keys: createLocalJWKSet({ keys: [jwk] }) }, yieldForeign: false, log: pino({ level: 'silent' }) },
  );
  const ctx = (host: string, token?: string): AuthContext => {
    const headers = { host, ...(token !== undefined && { authorization: `Bearer ${token}` }) };
    const req = { headers, rawHeaders: Object.entries(headers).flat() } as unknown as IncomingMessage;
    return authContextFor(req, 'main', '/mcp', compilePublicBase({ trustProxy: false }));
  };
  assert.deepEqual(await plan.resourceMetadata!(ctx('localhost:8080')), {
    resource: 'http://localhost:8080/mcp',
    authorization_servers: ['http://localhost:8080/oauth'],
    scopes_supported: ['mcp'],
    bearer_methods_supported: ['header'],
    resource_name: 'main',
  });
  const sign = (claims: Record<string, unknown>, typ: string | null = 'at+jwt') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', ...(typ === null ? {} : { typ }) }).setIssuer('http://localhost:8080/oauth').setExpirationTime('5m').sign(privateKey);
  const good = await sign({ sub: 'u-42', aud: 'http://localhost:8080/mcp', client_id: 'vscode', scope: 'mcp', preferred_username: 'ada' });
  const result = await plan.authenticate(ctx('localhost:8080', good));
  assert.ok('principal' in result, JSON.stringify(result));
  assert.deepEqual({ ...result.principal, claims: undefined }, {
    kind: 'user',
    id: 'u-42',
    key: 'oauth2:http://localhost:8080/oauth:u-42:vscode',
    plan: 'oauth2',
    user: { id: 'u-42', name: 'ada' },
    claims: undefined,
    scopes: ['mcp'],
    name: 'vscode',
  });
  // Reached under another host name, the same token is for another resource and issuer.
  const elsewhere = await plan.authenticate(ctx('127.0.0.1:8080', good));
  assert.ok('error' in elsewhere && elsewhere.error.status === 401);
  // Signed by the same key but not typed as an access token (RFC 9068): refused.
  for (const typ of [null, 'JWT', 'id+jwt']) {
    const untyped = await sign({ sub: 'u-42', aud: 'http://localhost:8080/mcp', client_id: 'vscode', scope: 'mcp' }, typ);
    const refused = await plan.authenticate(ctx('localhost:8080', untyped));
    assert.ok('error' in refused && refused.error.status === 401, String(typ));
    assert.match(refused.error.headers?.['www-authenticate'] ?? '', /not an access token/);
  }
});

test('no issuer and no embedded server: the plan cannot be built', () => {
  assert.throws(() => oauth2Plan({ scopes: ['mcp'], requiredScopes: [] }, { apiName: 'main', yieldForeign: false, log: pino({ level: 'silent' }) }), /embedded authorization server/);
});
