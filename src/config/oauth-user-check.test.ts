// Config of per-user upstream OAuth (servers.<name>.auth: oauth-user): what loads, and each
// refusal naming the file, the field (with its line) and what is expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from './load.ts';
import { ConfigError } from './errors.ts';
import { generateKeyPairSync } from 'node:crypto';

function refused(text: string, field: string, message: RegExp): void {
  let caught: unknown;
  try {
    parseConfigText(text, 'up.yaml', {});
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  const problem = caught.problems.find((p) => p.field === field);
  assert.ok(problem, `no problem for ${field} in:\n${caught.message}`);
  assert.match(problem.message, message);
  assert.match(caught.message, new RegExp(`up\\.yaml:${problem.line}:\\d+: ${field.replace(/[[\].]/g, '\\$&')}: `));
}

const API = `apis:
  - name: gh
    path: /gh
    server: gh
`;

test('a per-user server loads with its defaults', () => {
  const config = parseConfigText(`servers:\n  gh:\n    url: https://example.com/mcp\n    auth: { type: oauth-user }\n${API}`, 'up.yaml', {});
  const server = config.servers.gh!;
  assert.ok('url' in server);
  assert.deepEqual(server.auth, { type: 'oauth-user', anonymous: 'refuse', refreshBefore: 60_000, connectTtl: 600_000, connectAtSignIn: true });
});

test('anonymous: service needs serviceUser', () => {
  refused(`servers:\n  gh:\n    url: https://example.com/mcp\n    auth: { type: oauth-user, anonymous: service }\n${API}`, 'servers.gh.auth.serviceUser', /expected `serviceUser` with `anonymous: service`/);
});

test('a credential beside auth, and a shared list cache, are refused', () => {
  refused(`servers:\n  gh:\n    url: https://example.com/mcp\n    auth: { type: oauth-user }\n    credential: { type: bearer, token: abc }\n${API}`, 'servers.gh.credential', /remove `credential`/);
  refused(`servers:\n  gh:\n    url: https://example.com/mcp\n    auth: { type: oauth-user }\n    listCache: { enabled: true }\n${API}`, 'servers.gh.listCache.enabled', /expected false/);
});

test('a federated API or a virtual server includes a per-user server when the member can be left out and its calls placed by name', () => {
  const servers = `servers:\n  gh:\n    url: https://example.com/mcp\n    auth: { type: oauth-user }\n  other:\n    url: https://example.org/mcp\n`;
  parseConfigText(`${servers}apis:\n  - name: all\n    path: /all\n    servers: [other, gh]\n`, 'up.yaml', {});
  parseConfigText(`${servers}apis:\n  - name: v\n    path: /v\n    tools:\n      - { server: gh, name: whoami }\n`, 'up.yaml', {});
  refused(`${servers}apis:\n  - name: all\n    path: /all\n    servers: [other, gh]\n    onUpstreamFailure: fail\n`, 'apis[0].onUpstreamFailure', /expected omit: server "gh" \(per-user OAuth/);
  refused(`${servers}apis:\n  - name: all\n    path: /all\n    servers: [other, gh]\n    namespace: { prefix: conflicts }\n`, 'apis[0].namespace.prefix', /expected always/);
});

test('a scope with a space is refused', () => {
  refused(`servers:\n  gh:\n    url: https://example.com/mcp\n    auth: { type: oauth-user, scopes: ["repo read"] }\n${API}`, 'servers.gh.auth.scopes[0]', /OAuth scope token/);
});

const EXCHANGE = 'auth: { type: token-exchange, tokenUrl: "https://idp.example.com/token", client: { id: gatehouse, secret: s3cret } }';

test('a token-exchange server loads with its defaults', () => {
  const config = parseConfigText(`servers:\n  gh:\n    url: https://example.com/mcp\n    ${EXCHANGE}\n${API}`, 'up.yaml', {});
  const server = config.servers.gh!;
  assert.ok('url' in server);
  assert.deepEqual(server.auth, {
    type: 'token-exchange',
    tokenUrl: 'https://idp.example.com/token',
    client: { id: 'gatehouse', secret: 's3cret' },
    subjectTokenType: 'access_token',
    actor: { type: 'none' },
    anonymous: 'refuse',
    refreshBefore: 30_000,
    timeout: 10_000,
    maxCachedTokens: 10_000,
  });
});

test('token exchange: an unusable actor key, a missing client secret, a credential beside it and a federated API that would fail without it are refused', () => {
  refused(
    `servers:\n  gh:\n    url: https://example.com/mcp\n    auth: { type: token-exchange, tokenUrl: "https://idp.example.com/token", client: { id: gatehouse, secret: s }, actor: { type: jwt, issuer: gh, privateKey: "not a key" } }\n${API}`,
    'servers.gh.auth.actor.privateKey',
    /expected a PEM private key/,
  );
  refused(`servers:\n  gh:\n    url: https://example.com/mcp\n    auth: { type: token-exchange, tokenUrl: "https://idp.example.com/token", client: { id: gatehouse } }\n${API}`, 'servers.gh.auth.client.secret', /expected string/);
  refused(`servers:\n  gh:\n    url: https://example.com/mcp\n    ${EXCHANGE}\n    credential: { type: bearer, token: abc }\n${API}`, 'servers.gh.credential', /auth: \{ type: token-exchange \}.*remove `credential`/);
  const servers = `servers:\n  gh:\n    url: https://example.com/mcp\n    ${EXCHANGE}\n  other:\n    url: https://example.org/mcp\n`;
  refused(`${servers}apis:\n  - name: all\n    path: /all\n    servers: [other, gh]\n    onUpstreamFailure: fail\n`, 'apis[0].onUpstreamFailure', /token exchange \(auth: token-exchange\)/);
});

test('token exchange: agents without a user token are refused by default, or served as the service identity; other values are refused', () => {
  const exchange = (extra: string) => `servers:\n  gh:\n    url: https://example.com/mcp\n    auth: { type: token-exchange, tokenUrl: "https://idp.example.com/token", client: { id: gatehouse, secret: s }${extra} }\n${API}`;
  const auth = (extra: string) => {
    const server = parseConfigText(exchange(extra), 'up.yaml', {}).servers.gh!;
    return 'auth' in server && server.auth?.type === 'token-exchange' ? server.auth : undefined;
  };
  assert.equal(auth('')?.anonymous, 'refuse');
  assert.equal(auth(', anonymous: service, scopes: [wiki.read]')?.anonymous, 'service');
  refused(exchange(', anonymous: service-user'), 'servers.gh.auth.anonymous', /expected one of "refuse"\|"service"/);
  refused(exchange(', anonymous: service, serviceUser: robot'), 'servers.gh.auth.serviceUser', /unknown field `serviceUser`/);
});

test('token exchange: two servers whose different actor keys share a keyId are refused', () => {
  const pem = () => JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const server = (name: string, key: string) =>
    `  ${name}:\n    url: https://example.com/${name}\n    auth: { type: token-exchange, tokenUrl: "https://idp.example.com/token", client: { id: gatehouse, secret: s }, actor: { type: jwt, issuer: gh, keyId: k1, privateKey: ${key} } }\n`;
  const shared = pem();
  // One key under one kid on two servers is fine (published once).
  parseConfigText(`servers:\n${server('gh', shared)}${server('wiki', shared)}${API}`, 'up.yaml', {});
  refused(`servers:\n${server('gh', shared)}${server('wiki', pem())}${API}`, 'servers.wiki.auth.actor.keyId', /expected a keyId of its own: "k1" names another server's actor key/);
});
