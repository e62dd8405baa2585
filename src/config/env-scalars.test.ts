// ${env:…} in fields that take a number or a boolean (`port: ${env:PORT}`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from './load.ts';
import { ConfigError } from './errors.ts';

const FILE = `listen:
  host: 127.0.0.1
  port: \${env:PORT}
admin:
  port: \${env:ADMIN_PORT:-9101}
  enabled: \${env:ADMIN_ENABLED:-true}
timeouts:
  drain: \${env:DRAIN_MS}
servers:
  child:
    command: node
    maxChildren: \${env:MAX_CHILDREN}
apis:
  - name: child
    path: /mcp
    server: child
    policies:
      - rateLimit:
          limits:
            - rate: \${env:RATE}
              per: 1m
`;

const ENV = { PORT: '9100', DRAIN_MS: '30000', MAX_CHILDREN: '8', RATE: '120' };

function refusal(text: string, env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseConfigText(text, 'gatehouse.yaml', env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('the config was accepted');
}

test('${env:PORT} in a numeric field gives a number (listen and admin ports, a stdio server in a union, a rate limit inside a policy, a duration), and a boolean field takes true/false', () => {
  const config = parseConfigText(FILE, 'gatehouse.yaml', ENV);
  assert.equal(config.listen.port, 9100);
  assert.equal(config.admin.port, 9101, 'from the fallback of ${env:ADMIN_PORT:-9101}');
  assert.equal(config.admin.enabled, true);
  assert.equal(config.timeouts.drain, 30_000);
  const child = config.servers.child!;
  assert.ok('command' in child && child.maxChildren === 8);
  assert.match(JSON.stringify(config.apis[0]!.policies), /"rate":120/);
  assert.equal(parseConfigText(FILE, 'gatehouse.yaml', { ...ENV, ADMIN_ENABLED: 'false' }).admin.enabled, false);
});

test('a value from the environment that is not a number is refused naming the file, the line, the field and the variable', () => {
  const error = refusal(FILE, { ...ENV, PORT: '80 80' });
  assert.deepEqual(error.problems, [{ field: 'listen.port', message: 'expected a number; ${env:PORT} gave "80 80"', line: 3, column: 3 }]);
  assert.match(error.message, /gatehouse\.yaml:3:3: listen\.port: expected a number; \$\{env:PORT\} gave "80 80"/);
  const bool = refusal(FILE, { ...ENV, ADMIN_ENABLED: 'yes' });
  assert.deepEqual(bool.problems.map((p) => [p.field, p.message]), [['admin.enabled', 'expected true or false; ${env:ADMIN_ENABLED:-true} gave "yes"']]);
  // A number that breaks the field's own rule is refused by that rule.
  const range = refusal(FILE, { ...ENV, PORT: '70000' });
  assert.equal(range.problems[0]?.field, 'listen.port');
  assert.match(range.problems[0]!.message, /65535/);
});

test('a number written as a quoted string in the file is still refused: only environment values are converted', () => {
  const error = refusal(FILE.replace('port: ${env:PORT}', 'port: "9100"'), ENV);
  assert.equal(error.problems[0]?.field, 'listen.port');
  assert.match(error.problems[0]!.message, /expected number, got string "9100"/);
});
