import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfigFile, parseConfigText, validateConfig } from './load.ts';
import { ConfigError } from './errors.ts';

const MINIMAL = `listen:
  host: 127.0.0.1
  port: 8080
servers:
  everything:
    url: http://127.0.0.1:3001/mcp
  everything-stdio:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-everything"]
apis:
  - name: everything
    path: /mcp
    server: everything
    auth:
      type: keyless
`;

/** A small valid file; `extra` is appended as is (mind the indentation). */
function config(extra = ''): string {
  return `servers:
  a:
    url: http://127.0.0.1:3001/mcp
apis:
  - name: a
    path: /mcp
    server: a
${extra}`;
}

interface Expected {
  line: number;
  field: string;
  message: RegExp;
}

/** Asserts that `text` is refused with a problem naming file:line, the field and the expectation. */
function refuses(text: string, expected: Expected, env: NodeJS.ProcessEnv = {}): ConfigError {
  let caught: unknown;
  try {
    parseConfigText(text, 'gatehouse.yaml', env);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  const problem = caught.problems.find((p) => p.field === expected.field);
  assert.ok(problem, `no problem for ${expected.field} in:\n${caught.message}`);
  assert.match(problem.message, expected.message);
  assert.equal(problem.line, expected.line, `line of ${expected.field}`);
  assert.equal(caught.file, 'gatehouse.yaml');
  // The printed message carries all three: where, which field, what is expected.
  const printed = caught.message.split('\n').find((l) => l.includes(`: ${expected.field}: `));
  assert.ok(printed, `message names ${expected.field}:\n${caught.message}`);
  assert.match(printed, new RegExp(`gatehouse\\.yaml:${expected.line}:\\d+: `));
  assert.match(printed, expected.message);
  return caught;
}

test('the minimal file validates and gets every default', () => {
  const c = parseConfigText(MINIMAL, 'gatehouse.yaml', {});
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(c.servers.everything, { url: 'http://127.0.0.1:3001/mcp' });
  assert.deepEqual(c.servers['everything-stdio'], {
    command: 'npx',
    args: ['-y', '@modelcontextprotocol/server-everything'],
    env: {},
    maxChildren: 64,
    stderr: { maxLines: 100, maxBytes: 64 * 1024, interval: 10_000, maxLineBytes: 4096 },
  });
  assert.deepEqual(c.apis, [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' }, policies: [] }]);
  assert.deepEqual(c.limits, { maxRequestBytes: 4 * 1024 * 1024, maxResponseBytes: 16 * 1024 * 1024, maxHeaderBytes: 16 * 1024, maxJsonDepth: 128 });
  assert.deepEqual(c.timeouts, { connect: 10_000, response: 300_000, drain: 10_000, clientHeaders: 20_000, clientRequest: 60_000, clientIdle: 65_000 });
  assert.deepEqual(c.sessions, { idleTimeout: 30 * 60_000 });
  assert.deepEqual(c.security, {});
  assert.deepEqual(c.log, { level: 'info' });
});

test('loadConfigFile reads YAML and JSON files, and names a missing file', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-load-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const yamlFile = path.join(dir, 'gatehouse.yaml');
  await writeFile(yamlFile, MINIMAL);
  assert.equal((await loadConfigFile(yamlFile, {})).apis[0]!.path, '/mcp');

  const jsonFile = path.join(dir, 'gatehouse.json');
  await writeFile(jsonFile, JSON.stringify({ servers: { a: { url: 'http://127.0.0.1:1/mcp' } }, apis: [{ name: 'a', path: '/a', server: 'a' }] }));
  assert.equal((await loadConfigFile(jsonFile, {})).apis[0]!.server, 'a');

  const missing = path.join(dir, 'nope.yaml');
  await assert.rejects(loadConfigFile(missing, {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.file, missing);
    assert.match(error.message, /nope\.yaml/);
    assert.match(error.message, /file not found/);
    return true;
  });

  const broken = path.join(dir, 'broken.yaml');
  await writeFile(broken, config('bogus: true\n'));
  await assert.rejects(loadConfigFile(broken, {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8:\\d+: bogus: unknown field`));
    return true;
  });
});

test('unknown fields are refused at every level, with the top-level field list as a hint', () => {
  refuses(config('bogus: 1\n'), { line: 8, field: 'bogus', message: /unknown field `bogus`.*top-level fields: listen, servers, apis/ });
  refuses(config('    bogus: 1\n'), { line: 8, field: 'apis[0].bogus', message: /unknown field `bogus`/ });
  refuses(config('listen:\n  hots: 0.0.0.0\n'), { line: 9, field: 'listen.hots', message: /unknown field `hots`/ });
  refuses(
    `servers:
  a:
    url: http://127.0.0.1:3001/mcp
    header:
      x: y
apis:
  - name: a
    path: /mcp
    server: a
`,
    { line: 4, field: 'servers.a.header', message: /unknown field `header`/ },
  );
});

test('a wrong type names what was expected and what was found', () => {
  refuses(config('listen:\n  port: eighty\n'), { line: 9, field: 'listen.port', message: /expected number, got string "eighty"/ });
  refuses(config('security:\n  allowedHosts: example.com\n'), { line: 9, field: 'security.allowedHosts', message: /expected array, got string/ });
  refuses(config('log:\n  level: loud\n'), { line: 9, field: 'log.level', message: /expected one of .*"info"/ });
  refuses(config('listen:\n  port: 70000\n'), { line: 9, field: 'listen.port', message: /65535/ });
  refuses('servers:\n  a:\n    url: http://127.0.0.1:3001/mcp\napis: {}\n', { line: 4, field: 'apis', message: /expected array, got a mapping/ });
});

test('a URL that is not absolute http(s) is refused', () => {
  for (const url of ['ftp://127.0.0.1/mcp', 'not a url', '/mcp', 'localhost:3001/mcp']) {
    refuses(config().replace('http://127.0.0.1:3001/mcp', JSON.stringify(url)), {
      line: 3,
      field: 'servers.a.url',
      message: /expected an absolute http:\/\/ or https:\/\/ URL/,
    });
  }
  refuses(config('').replace('url: http://127.0.0.1:3001/mcp', 'sse: ws://127.0.0.1/sse'), { line: 3, field: 'servers.a.sse', message: /absolute http/ });
});

test('an upstream header that is not a header name, or that the HTTP client sets itself, is refused', () => {
  const withHeader = (name: string) => config().replace('url: http://127.0.0.1:3001/mcp', `url: http://127.0.0.1:3001/mcp\n    headers:\n      "${name}": x`);
  refuses(withHeader('bad name'), { line: 5, field: 'servers.a.headers.bad name', message: /expected an HTTP header name/ });
  for (const name of ['Connection', 'transfer-encoding', 'Content-Length', 'Host']) {
    refuses(withHeader(name), { line: 5, field: `servers.a.headers.${name}`, message: /expected a header other than connection, .* \(set by the HTTP client\)/ });
  }
  assert.doesNotThrow(() => parseConfigText(withHeader('X-Api-Key'), 'gatehouse.yaml', {}));
});

test('a missing required field is named, at its parent', () => {
  refuses('servers:\n  a:\n    url: http://127.0.0.1:3001/mcp\n', { line: 1, field: 'apis', message: /required field is missing/ });
  refuses('apis:\n  - name: a\n    path: /mcp\n    server: a\n', { line: 1, field: 'servers', message: /required field is missing/ });
  refuses(config().replace('    server: a\n', ''), { line: 5, field: 'apis[0].server', message: /required field is missing \(expected string\)/ });
  refuses(config().replace('    path: /mcp\n', ''), { line: 5, field: 'apis[0].path', message: /required field is missing/ });
  refuses(config().replace(/apis:[\s\S]*/, 'apis: []\n'), { line: 4, field: 'apis', message: /at least one API/ });
});

test('a server entry needs exactly one of url, command and sse', () => {
  const none = config().replace('    url: http://127.0.0.1:3001/mcp\n', '    headers:\n      x: y\n');
  refuses(none, { line: 2, field: 'servers.a', message: /expected exactly one of `url` \(Streamable HTTP\), `command` \(stdio\) or `sse` \(HTTP\+SSE\)/ });
  const both = config().replace('    url: http://127.0.0.1:3001/mcp\n', '    url: http://127.0.0.1:3001/mcp\n    command: npx\n');
  refuses(both, { line: 2, field: 'servers.a', message: /expected exactly one of `url`/ });
  const three = config().replace('    url: http://127.0.0.1:3001/mcp\n', '    url: http://127.0.0.1:3001/mcp\n    sse: http://127.0.0.1:3001/sse\n    command: npx\n');
  refuses(three, { line: 2, field: 'servers.a', message: /exactly one of/ });
  // With exactly one key, the problem is reported inside that kind.
  const stdio = config().replace('    url: http://127.0.0.1:3001/mcp\n', '    command: npx\n    maxChildren: 0\n');
  refuses(stdio, { line: 4, field: 'servers.a.maxChildren', message: />0/ });
  const stdioExtra = config().replace('    url: http://127.0.0.1:3001/mcp\n', '    command: npx\n    url2: x\n');
  refuses(stdioExtra, { line: 4, field: 'servers.a.url2', message: /unknown field `url2`/ });
});

test('an API naming a server that does not exist lists the servers there are', () => {
  refuses(config().replace('    server: a\n', '    server: b\n'), { line: 7, field: 'apis[0].server', message: /no server named "b"; expected one of the names under `servers` \(a\)/ });
});

test('a pinning override or tool annotations naming a server that does not exist are refused at load (they used to be accepted and ignored)', () => {
  const pinning = config('    policies:\n      - pinning:\n          servers:\n            b: { mode: observe }\n');
  refuses(pinning, { line: 11, field: 'apis[0].policies[0].pinning.servers.b', message: /no server named "b"; expected one of the names under `servers` \(a\)/ });
  const annotations = config().replace('apis:\n', 'toolAnnotations:\n  b:\n    echo: { readOnly: true }\napis:\n');
  refuses(annotations, { line: 5, field: 'toolAnnotations.b', message: /no server named "b"/ });
});

test('duplicate API paths (with or without a trailing slash) and names are refused', () => {
  const twice = config('  - name: b\n    path: /mcp/\n    server: a\n');
  refuses(twice, { line: 9, field: 'apis[1].path', message: /duplicate path "\/mcp\/" \(also apis\[0\]\)/ });
  const sameName = config('  - name: a\n    path: /other\n    server: a\n');
  refuses(sameName, { line: 8, field: 'apis[1].name', message: /duplicate API name "a" \(also apis\[0\]\)/ });
  refuses(config().replace('path: /mcp', 'path: /-/health'), { line: 6, field: 'apis[0].path', message: /reserved/ });
  refuses(config().replace('path: /mcp', 'path: mcp'), { line: 6, field: 'apis[0].path', message: /absolute path/ });
});

test('durations and sizes: units are parsed, anything else is refused with an example', () => {
  const c = parseConfigText(config('timeouts:\n  connect: 1.5s\n  response: 5m\n  drain: 250\nlimits:\n  maxRequestBytes: 64kb\n  maxResponseBytes: 2MB\n'), 'g.yaml', {});
  assert.deepEqual(c.timeouts, { connect: 1500, response: 300_000, drain: 250, clientHeaders: 20_000, clientRequest: 60_000, clientIdle: 65_000 });
  assert.equal(c.limits.maxRequestBytes, 64 * 1024);
  assert.equal(c.limits.maxResponseBytes, 2 * 1024 * 1024);
  refuses(config('timeouts:\n  clientHeaders: 2m\n'), { line: 9, field: 'timeouts.clientHeaders', message: /at most timeouts\.clientRequest/ });
  refuses(config('timeouts:\n  connect: 30 seconds\n'), { line: 9, field: 'timeouts.connect', message: /expected a duration such as 30s, 5m, 1h or a number of milliseconds; got "30 seconds"/ });
  refuses(config('timeouts:\n  drain: -5\n'), { line: 9, field: 'timeouts.drain', message: /expected a duration/ });
  refuses(config('sessions:\n  idleTimeout: 1w\n'), { line: 9, field: 'sessions.idleTimeout', message: /expected a duration/ });
  refuses(config('limits:\n  maxRequestBytes: 4 megabytes\n'), { line: 9, field: 'limits.maxRequestBytes', message: /expected a size such as 64kb or 4mb/ });
  refuses(config('limits:\n  maxRequestBytes: 0\n'), { line: 9, field: 'limits.maxRequestBytes', message: /expected a size/ });
});

test('${env:NAME} is substituted; a missing variable is named with the field and line', () => {
  const text = config().replace('    url: http://127.0.0.1:3001/mcp\n', '    url: http://127.0.0.1:3001/mcp\n    headers:\n      Authorization: Bearer ${env:UPSTREAM_TOKEN}\n');
  const c = parseConfigText(text, 'g.yaml', { UPSTREAM_TOKEN: 's3cret' });
  assert.deepEqual((c.servers.a as { headers?: Record<string, string> }).headers, { Authorization: 'Bearer s3cret' });
  const error = refuses(text, { line: 5, field: 'servers.a.headers.Authorization', message: /environment variable UPSTREAM_TOKEN is not set \(referenced as \$\{env:UPSTREAM_TOKEN\}\)/ });
  assert.equal(error.problems.length, 1);
  // Substitution happens before validation: the substituted value is what is checked.
  refuses(config().replace('http://127.0.0.1:3001/mcp', '${env:UPSTREAM_URL}'), { line: 3, field: 'servers.a.url', message: /absolute http/ }, { UPSTREAM_URL: 'ftp://x' });
  // Several variables in one value, in a list, in a key's value of a mapping.
  const many = config().replace('    url: http://127.0.0.1:3001/mcp\n', '    command: ${env:CMD}\n    args: ["${env:A}-${env:B}"]\n    env:\n      KEY: ${env:KEY}\n');
  const s = parseConfigText(many, 'g.yaml', { CMD: 'node', A: 'x', B: 'y', KEY: 'k' }).servers.a;
  assert.deepEqual(s, { command: 'node', args: ['x-y'], env: { KEY: 'k' }, maxChildren: 64, stderr: { maxLines: 100, maxBytes: 64 * 1024, interval: 10_000, maxLineBytes: 4096 } });
  let caught: unknown;
  try {
    parseConfigText(many, 'g.yaml', { CMD: 'node' });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError);
  assert.deepEqual(
    caught.problems.map((p) => [p.field, /variable (\w+)/.exec(p.message)?.[1]]),
    [
      ['servers.a.args[0]', 'A'],
      ['servers.a.args[0]', 'B'],
      ['servers.a.env.KEY', 'KEY'],
    ],
  );
});

test('${env:NAME:-fallback} uses the fallback only when NAME is unset', () => {
  const text = config().replace('    url: http://127.0.0.1:3001/mcp\n', '    url: ${env:UPSTREAM_URL:-http://127.0.0.1:9/mcp}\n');
  assert.deepEqual(parseConfigText(text, 'g.yaml', {}).servers.a, { url: 'http://127.0.0.1:9/mcp' });
  assert.deepEqual(parseConfigText(text, 'g.yaml', { UPSTREAM_URL: 'https://up.example/mcp' }).servers.a, { url: 'https://up.example/mcp' });
  const empty = config('log:\n  level: ${env:LOG_LEVEL:-}warn\n');
  assert.equal(parseConfigText(empty, 'g.yaml', {}).log.level, 'warn');
  // Text that only looks like a reference is left alone.
  const literal = config().replace('    url: http://127.0.0.1:3001/mcp\n', '    command: echo\n    args: ["${HOME}", "$env:X", "${env:}"]\n');
  assert.deepEqual((parseConfigText(literal, 'g.yaml', {}).servers.a as { args: string[] }).args, ['${HOME}', '$env:X', '${env:}']);
});

test('YAML syntax errors and duplicate keys name the line', () => {
  refuses('servers:\n  a: [\n', { line: 3, field: '(syntax)', message: /Flow sequence/ });
  refuses(config().replace('    url: http://127.0.0.1:3001/mcp\n', '    url: http://127.0.0.1:3001/mcp\n    url: http://127.0.0.1:3002/mcp\n'), {
    line: 4,
    field: '(syntax)',
    message: /Map keys must be unique/,
  });
  assert.throws(() => parseConfigText('- just\n- a list\n', 'g.yaml', {}), /g\.yaml.*expected a mapping with at least `servers` and `apis`/s);
  assert.throws(() => parseConfigText('', 'g.yaml', {}), /expected a mapping/);
});

test('every problem is reported at once', () => {
  let caught: unknown;
  try {
    parseConfigText(config('bogus: 1\nlisten:\n  port: x\n').replace('server: a', 'server: zz'), 'g.yaml', {});
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError);
  assert.deepEqual(caught.problems.map((p) => p.field).sort(), ['bogus', 'listen.port']);
  assert.match(caught.message, /\(2 problems\)/);
});

test('validateConfig checks a config given in code, and names it', () => {
  const ok = validateConfig({ servers: { a: { command: 'node', args: ['s.js'] } }, apis: [{ name: 'a', path: '/a', server: 'a' }] });
  assert.equal(ok.listen.port, 8080);
  assert.throws(
    () => validateConfig({ servers: {}, apis: [{ name: 'a', path: '/a', server: 'a' }] }),
    (error: unknown) => error instanceof ConfigError && error.file === '(inline config)' && /apis\[0\]\.server: no server named "a".*none defined/.test(error.message),
  );
});

test('cluster settings: defaults, and a bad advertiseUrl or nodeTimeout named with the fix', () => {
  const c = parseConfigText(config(), 'gatehouse.yaml', {});
  assert.deepEqual(c.cluster, { heartbeatInterval: 2000, nodeTimeout: 10000, forwardConnectTimeout: 2000 });
  refuses(config('cluster:\n  advertiseUrl: http://10.0.0.11:8080/mcp\n'), { line: 9, field: 'cluster.advertiseUrl', message: /no path or query, e\.g\. http:\/\/10\.0\.0\.11:8080/ });
  refuses(config('cluster:\n  heartbeatInterval: 5s\n  nodeTimeout: 6s\n'), { line: 10, field: 'cluster.nodeTimeout', message: /at least twice cluster\.heartbeatInterval/ });
});
