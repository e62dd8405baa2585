// A keyless API (anyone may call) on a listener open to other machines is a config error unless
// the config says so explicitly: a copied example must not expose an open MCP endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../src/config/load.ts';
import { ConfigError } from '../src/config/errors.ts';
import { runCli, writeConfig } from './helpers/gatehouse.ts';

const file = (listenHost: string, auth: string, extra = '') => `listen:
  host: ${listenHost}
  port: 8080
${extra}servers:
  e:
    url: http://127.0.0.1:3001/mcp
apis:
  - name: e
    path: /mcp
    server: e
${auth}`;

function refusal(text: string): ConfigError {
  try {
    parseConfigText(text, 'gatehouse.yaml', {});
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('the config was accepted');
}

test('a keyless API on a listener open to other machines is refused naming the file, the field and the fix', () => {
  const explicit = refusal(file('0.0.0.0', '    auth:\n      type: keyless\n'));
  assert.equal(explicit.problems.length, 1);
  assert.equal(explicit.problems[0]!.field, 'apis[0].auth');
  assert.equal(explicit.problems[0]!.line, 11);
  assert.match(explicit.problems[0]!.message, /keyless \(anyone may call\) on a listener open to other machines \(listen\.host 0\.0\.0\.0\)/);
  assert.match(explicit.problems[0]!.message, /auth: api-key, jwt or oauth2/);
  assert.match(explicit.problems[0]!.message, /security\.allowAnonymousOnPublicListener: true/);
  assert.match(explicit.message, /^invalid configuration in gatehouse\.yaml/);

  // No `auth:` at all is keyless too; and every address that is not loopback counts.
  for (const host of ['"::"', '192.0.2.10', 'mcp.example.com']) {
    const implicit = refusal(file(host, ''));
    assert.equal(implicit.problems[0]!.field, 'apis[0].auth', host);
  }
  // keyless as a fallback after another plan is still anonymous access.
  const fallback = refusal(file('0.0.0.0', '    auth:\n      - type: api-key\n      - type: keyless\n'));
  assert.equal(fallback.problems[0]!.field, 'apis[0].auth[1]');
});

test('keyless on a public listener is accepted when security.allowAnonymousOnPublicListener says so; keyed APIs and loopback listeners need nothing', () => {
  const allowed = parseConfigText(file('0.0.0.0', '', 'security:\n  allowAnonymousOnPublicListener: true\n'), 'gatehouse.yaml', {});
  assert.equal(allowed.security.allowAnonymousOnPublicListener, true);
  assert.doesNotThrow(() => parseConfigText(file('0.0.0.0', '    auth:\n      type: api-key\n'), 'gatehouse.yaml', {}));
  for (const host of ['127.0.0.1', 'localhost', '"::1"', '127.0.0.2']) assert.doesNotThrow(() => parseConfigText(file(host, ''), 'gatehouse.yaml', {}), host);
});

test('gatehouse start --host 0.0.0.0 in front of a keyless API is refused before listening, naming the file and the field', { timeout: 40_000 }, async () => {
  const config = writeConfig(file('127.0.0.1', '').replace('port: 8080', 'port: 0'));
  const cli = runCli(['start', '--config', config, '--host', '0.0.0.0']);
  const { code } = await cli.exited;
  assert.equal(code, 2, cli.output());
  assert.match(cli.output(), new RegExp(`invalid configuration in ${config.replace(/[/\\.]/g, '\\$&')}`));
  assert.match(cli.output(), /apis\[0\]\.auth: keyless \(anyone may call\) on a listener open to other machines \(listen\.host 0\.0\.0\.0\)/);
  assert.doesNotMatch(cli.output(), /gatehouse listening/);
});
