// Config of federated APIs and virtual servers: what loads, and each refusal naming the file,
// the field (with its line) and what is expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from './load.ts';
import { ConfigError } from './errors.ts';

const SERVERS = `servers:
  everything:
    url: http://127.0.0.1:3001/mcp
  memory:
    command: node
  files:
    command: node
`;

function refused(text: string, field: string, message: RegExp): void {
  let caught: unknown;
  try {
    parseConfigText(text, 'fed.yaml', {});
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  const problem = caught.problems.find((p) => p.field === field);
  assert.ok(problem, `no problem for ${field} in:\n${caught.message}`);
  assert.match(problem.message, message);
  assert.ok(problem.line !== undefined, 'the problem names its line');
  assert.match(caught.message, new RegExp(`fed\\.yaml:${problem.line}:\\d+: ${field.replace(/[[\].]/g, '\\$&')}: `));
}

test('a federated API and a virtual server load; a single-server API keeps its shape', () => {
  const config = parseConfigText(
    `${SERVERS}apis:
  - name: one
    path: /one
    server: everything
  - name: workspace
    path: /mcp
    servers: [everything, memory, files]
    namespace: { prefix: always, separator: "__" }
  - name: support
    path: /support
    tools:
      - { server: everything, name: echo, as: say, description: Repeat. }
      - server: files
        name: read_text_file
        arguments: { fixed: { path: /srv/public/faq.md } }
    prompts:
      - { server: everything, name: simple-prompt }
    resources:
      - { server: files, uri: "file:///srv/public/**" }
`,
    'fed.yaml',
    {},
  );
  assert.equal(config.apis[0]!.server, 'everything');
  assert.equal(config.apis[0]!.servers, undefined);
  assert.equal(config.apis[0]!.namespace, undefined, 'no federation fields are added to a single-server API');
  assert.deepEqual(config.apis[1]!.servers, ['everything', 'memory', 'files']);
  assert.deepEqual(config.apis[1]!.namespace, { prefix: 'always', separator: '__' });
  assert.equal(config.apis[2]!.tools?.[0]?.as, 'say');
});

test('an API with both server and servers, or with neither, is refused', () => {
  refused(`${SERVERS}apis:\n  - name: a\n    path: /a\n    server: everything\n    servers: [memory]\n`, 'apis[0].servers', /exactly one of `server`, `servers`/);
  refused(`${SERVERS}apis:\n  - name: a\n    path: /a\n`, 'apis[0].server', /required field is missing/);
});

test('a federated API naming an unknown server, or one twice, is refused', () => {
  refused(`${SERVERS}apis:\n  - name: a\n    path: /a\n    servers: [everything, nope]\n`, 'apis[0].servers[1]', /no server named "nope"; expected one of the names under `servers` \(everything, memory, files\)/);
  refused(`${SERVERS}apis:\n  - name: a\n    path: /a\n    servers: [memory, memory]\n`, 'apis[0].servers[1]', /listed twice/);
});

test('a server name holding the separator is refused (a prefixed name could be split two ways)', () => {
  const text = `servers:\n  my__srv:\n    url: http://127.0.0.1:1/mcp\n  b:\n    url: http://127.0.0.1:2/mcp\napis:\n  - name: a\n    path: /a\n    servers: [my__srv, b]\n`;
  refused(text, 'apis[0].servers[0]', /contains the namespace separator "__"/);
  // With prefix: never no prefix is made, so the name is fine.
  assert.doesNotThrow(() => parseConfigText(text.replace('servers: [my__srv, b]', 'servers: [my__srv, b]\n    namespace: { prefix: never }'), 'fed.yaml', {}));
});

test('a separator outside the MCP tool-name characters is refused', () => {
  refused(`${SERVERS}apis:\n  - name: a\n    path: /a\n    servers: [memory]\n    namespace: { separator: "/" }\n`, 'apis[0].namespace.separator', /letters, digits, "_", "-" or "\."/);
});

test('two tools of a virtual server under one name are a collision, refused at load', () => {
  refused(
    `${SERVERS}apis:\n  - name: a\n    path: /a\n    tools:\n      - { server: everything, name: echo }\n      - { server: memory, name: read_graph, as: echo }\n`,
    'apis[0].tools[1].as',
    /tool name "echo" is already used by tools\[0\]/,
  );
});

test('a virtual tool renamed outside the MCP tool-name rules is refused', () => {
  refused(`${SERVERS}apis:\n  - name: a\n    path: /a\n    tools:\n      - { server: everything, name: echo, as: "say it" }\n`, 'apis[0].tools[0].as', /MCP tool name: 1 to 128/);
  refused(`${SERVERS}apis:\n  - name: a\n    path: /a\n    tools:\n      - { server: everything, name: echo, as: "${'x'.repeat(129)}" }\n`, 'apis[0].tools[0].as', /MCP tool name: 1 to 128/);
});

test('an argument both fixed and defaulted is refused; a virtual tool of an unknown server is refused', () => {
  refused(
    `${SERVERS}apis:\n  - name: a\n    path: /a\n    tools:\n      - server: files\n        name: read_text_file\n        arguments: { fixed: { path: /x }, defaults: { path: /y } }\n`,
    'apis[0].tools[0].arguments.defaults',
    /"path" is both fixed and defaulted/,
  );
  refused(`${SERVERS}apis:\n  - name: a\n    path: /a\n    tools:\n      - { server: nope, name: echo }\n`, 'apis[0].tools[0].server', /no server named "nope"/);
});

test('namespace on a single-server API, or passthrough on a federated one, is refused', () => {
  refused(`${SERVERS}apis:\n  - name: a\n    path: /a\n    server: memory\n    namespace: { prefix: never }\n`, 'apis[0].namespace', /applies to a federated API/);
  refused(`${SERVERS}apis:\n  - name: a\n    path: /a\n    servers: [everything]\n    auth: { type: passthrough }\n`, 'apis[0].auth', /cannot use it/);
});
