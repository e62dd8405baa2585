// Authentication config problems are refused when the config loads, each naming the file, the
// field (with its line) and what is expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { compileAuthPlans } from './compile.ts';
import { openSqliteStore } from '../store/sqlite.ts';
import { pino } from 'pino';

const BASE = `servers:
  web:
    url: http://127.0.0.1:3001/mcp
  local:
    command: node
apis:
  - name: main
    path: /mcp
    server: web
`;

function problems(text: string): string {
  try {
    parseConfigText(text, 'gatehouse.yaml', { ALICE_KEY: 'alice-key-0123456789abcdef' });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  return '';
}

test('the issue\'s agents block is valid as written', () => {
  assert.equal(problems(`${BASE}agents:
  - id: alice
    name: Alice's coding agent
    apiKeys:
      - value: \${env:ALICE_KEY}
  - id: bob
    apiKeys:
      - sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
`), '');
});

test('agents: duplicate ids, a key declared twice, an unknown API, an unreadable expiry', () => {
  const message = problems(`${BASE}agents:
  - id: a
    apiKeys:
      - value: same-key-0123456789
        api: nope
  - id: a
    apiKeys:
      - sha256: ${'a'.repeat(64)}
        expires: next tuesday
      - value: same-key-0123456789
`);
  assert.match(message, /gatehouse\.yaml:15:5: agents\[1\]\.id: duplicate agent id "a" \(also agents\[0\]\)/);
  assert.match(message, /agents\[0\]\.apiKeys\[0\]\.api: no API named "nope"; expected one of main/);
  assert.match(message, /agents\[1\]\.apiKeys\[0\]\.expires: expected an ISO date/);
  assert.match(message, /agents\[1\]\.apiKeys\[1\]: the same key is declared twice \(also agents\[0\]\.apiKeys\[0\]\)/);
});

test('plans: passthrough alone and on an HTTP server; HMAC only with a long secret; PEM must parse; introspection needs an issuer', () => {
  const message = problems(`servers:
  web:
    url: http://127.0.0.1:3001/mcp
  local:
    command: node
apis:
  - name: a
    path: /a
    server: web
    auth: [{ type: passthrough }, { type: api-key }]
  - name: b
    path: /b
    server: local
    auth: { type: passthrough }
  - name: c
    path: /c
    server: web
    auth: { type: jwt, issuer: x, audience: y, jwksUrl: "http://127.0.0.1:1/jwks", algorithms: [HS256] }
  - name: d
    path: /d
    server: web
    auth: { type: jwt, issuer: x, audience: y, secret: short, algorithms: [HS256, RS256] }
  - name: e
    path: /e
    server: web
    auth: { type: jwt, issuer: x, audience: y, publicKey: "not a key" }
  - name: f
    path: /f
    server: web
    auth: { type: oauth2, introspection: { url: "http://127.0.0.1:1/i", clientId: c, clientSecret: s } }
`);
  assert.match(message, /apis\[0\]\.auth\[0\]: passthrough .* cannot be combined with other plans/);
  assert.match(message, /apis\[1\]\.auth: passthrough needs a Streamable HTTP server \(`url`\); server "local" is not one/);
  assert.match(message, /apis\[2\]\.auth\.algorithms: HS256 need a shared secret/);
  assert.match(message, /apis\[3\]\.auth\.secret: expected an HMAC secret of at least 32 bytes/);
  assert.match(message, /apis\[3\]\.auth\.algorithms: a secret verifies HS256\/HS384\/HS512 only; remove RS256/);
  assert.match(message, /apis\[4\]\.auth\.publicKey: expected a PEM public key/);
  assert.match(message, /apis\[5\]\.auth\.introspection: introspection needs `issuer`/);
});

test('oauth2 without issuer and without the embedded authorization server is a config error', async () => {
  const config = parseConfigText(`${BASE.replace('    server: web\n', '    server: web\n    auth: [{ type: api-key }, { type: oauth2 }]\n')}`, 'gatehouse.yaml');
  const store = await openSqliteStore(':memory:');
  try {
    assert.throws(
      () => compileAuthPlans(config.apis[0]!.auth, { store, log: pino({ level: 'silent' }), configFile: 'gatehouse.yaml' }, config.apis[0]!, config),
      (error: unknown) => error instanceof ConfigError && /gatehouse\.yaml: apis\[0\]\.auth\[1\]\.issuer: oauth2 without issuer needs the embedded authorization server/.test(error.message),
    );
  } finally {
    await store.close();
  }
});
