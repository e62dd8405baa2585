// authorizationServer.externalProviders as a file declares it: ${env:…} for the secret, defaults,
// and config errors that name the file, the field and what is expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../src/config/load.ts';
import { ConfigError } from '../src/config/errors.ts';

const BASE = ['listen: { host: 127.0.0.1, port: 0 }', 'servers:', '  everything: { url: "http://127.0.0.1:9/mcp" }', 'apis:', '  - { name: everything, path: /mcp, server: everything, auth: { type: oauth2 } }'];

function withProvider(lines: string[]): string {
  return [...BASE, 'authorizationServer:', '  externalProviders:', ...lines.map((l) => `    ${l}`), ''].join('\n');
}

test('a provider is read with its secret from the environment and the safe defaults', () => {
  const config = parseConfigText(withProvider(['- name: keycloak', '  issuer: https://sso.example.com/realms/corp', '  clientId: gatehouse', '  clientSecret: ${env:KC_SECRET}']), 'gatehouse.yaml', { KC_SECRET: 'from-the-environment' });
  const [provider] = config.authorizationServer!.externalProviders;
  assert.equal(provider!.clientSecret, 'from-the-environment');
  assert.deepEqual(provider!.scopes, ['openid', 'email', 'profile']);
  assert.equal(provider!.username, 'sub');
  assert.equal(provider!.users, 'existing');
  assert.equal(provider!.timeout, 10_000);
});

function problem(text: string): string {
  try {
    parseConfigText(text, 'gatehouse.yaml', {});
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('the config was accepted');
}

test('a bad issuer, a missing client id, a duplicate name or scopes without openid are config errors naming the file and the field', () => {
  const badIssuer = problem(withProvider(['- { name: corp, issuer: "http://sso.example.com", clientId: gatehouse }']));
  assert.match(badIssuer, /gatehouse\.yaml/);
  assert.match(badIssuer, /authorizationServer\.externalProviders\[0\]\.issuer/);
  assert.match(badIssuer, /expected an https:\/\/ issuer URL/);
  assert.match(problem(withProvider(['- { name: corp, issuer: "not a url", clientId: gatehouse }'])), /externalProviders\[0\]\.issuer/);

  const noClient = problem(withProvider(['- { name: corp, issuer: "https://sso.example.com" }']));
  assert.match(noClient, /authorizationServer\.externalProviders\[0\]\.clientId/);

  const twice = problem(withProvider(['- { name: corp, issuer: "https://a.example", clientId: a }', '- { name: corp, issuer: "https://b.example", clientId: b }']));
  assert.match(twice, /externalProviders\[1\]\.name/);
  assert.match(twice, /"corp" is used twice/);

  assert.match(problem(withProvider(['- { name: corp, issuer: "https://a.example", clientId: a, scopes: [email] }'])), /externalProviders\[0\]\.scopes.*openid/s);
  assert.match(problem(withProvider(['- { name: "Corp SSO", issuer: "https://a.example", clientId: a }'])), /externalProviders\[0\]\.name/);
});

test('identity assertions: on with the block, its defaults, and config errors naming the field', () => {
  const config = parseConfigText(withProvider(['- name: corp', '  issuer: https://sso.example.com', '  clientId: gatehouse', '  identityAssertions: {}']), 'gatehouse.yaml', {});
  const assertions = config.authorizationServer!.externalProviders[0]!.identityAssertions!;
  assert.equal(assertions.enabled, true);
  assert.equal(assertions.maxLifetime, 600_000);
  assert.equal(assertions.clients, undefined);
  assert.ok(!(assertions.algorithms as string[]).includes('none') && !(assertions.algorithms as string[]).includes('HS256'));
  assert.equal(parseConfigText(withProvider(['- { name: corp, issuer: "https://sso.example.com", clientId: g }']), 'gatehouse.yaml', {}).authorizationServer!.externalProviders[0]!.identityAssertions, undefined, 'off without the block');

  const hmac = problem(withProvider(['- { name: corp, issuer: "https://a.example", clientId: a, identityAssertions: { algorithms: [HS256] } }']));
  assert.match(hmac, /authorizationServer\.externalProviders\[0\]\.identityAssertions\.algorithms/);
  assert.match(problem(withProvider(['- { name: corp, issuer: "https://a.example", clientId: a, identityAssertions: { algorithms: [none] } }'])), /identityAssertions\.algorithms/);
  assert.match(problem(withProvider(['- { name: corp, issuer: "https://a.example", clientId: a, identityAssertions: { maxLifetime: "ten minutes" } }'])), /identityAssertions\.maxLifetime/);
  assert.match(problem(withProvider(['- { name: corp, issuer: "https://a.example", clientId: a, identityAssertions: { clients: [] } }'])), /identityAssertions\.clients/);
  assert.match(problem(withProvider(['- { name: corp, issuer: "https://a.example", clientId: a, identityAssertions: { enable: true } }'])), /identityAssertions/);
  const twoForOneIssuer = problem(withProvider(['- { name: corp, issuer: "https://a.example", clientId: a, identityAssertions: {} }', '- { name: mail, issuer: "https://a.example", clientId: a, username: email, identityAssertions: {} }']));
  assert.match(twoForOneIssuer, /externalProviders\[1\]\.identityAssertions/);
  assert.match(twoForOneIssuer, /one provider per issuer: "corp" already redeems/);
  // A provider trusted for assertions alone needs no client of Gatehouse there; any other does.
  const assertionsOnly = parseConfigText(withProvider(['- { name: partner, issuer: "https://p.example", identityAssertions: {} }']), 'gatehouse.yaml', {});
  assert.equal(assertionsOnly.authorizationServer!.externalProviders[0]!.clientId, undefined);
  assert.match(problem(withProvider(['- { name: partner, issuer: "https://p.example", identityAssertions: { enabled: false } }'])), /externalProviders\[0\]\.clientId/);
  assert.match(problem(withProvider(['- { name: partner, issuer: "https://p.example", clientSecret: s, identityAssertions: {} }'])), /externalProviders\[0\]\.clientSecret/);
  // Sign-in alone may share an issuer with the provider that redeems its assertions.
  parseConfigText(withProvider(['- { name: corp, issuer: "https://a.example", clientId: a, identityAssertions: {} }', '- { name: mail, issuer: "https://a.example", clientId: a, username: email }']), 'gatehouse.yaml', {});
});
