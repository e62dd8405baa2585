// The built command line (bin/gatehouse.js → dist/): help, version, check, schema, and start
// with the minimal configuration file users copy from the documentation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, connectClient, runCli, startEverything, writeConfig } from './helpers/gatehouse.ts';
import { freePort, isAlive, stopCli, waitForLogLines } from './helpers/lifecycle-procs.ts';

/** The minimal configuration, exactly as documented. */
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

/** Runs the CLI to completion. */
async function run(args: string[]): Promise<{ code: number | null; output: string }> {
  const cli = runCli(args);
  const { code } = await cli.exited;
  return { code, output: cli.output() };
}

test('--help lists the commands', { timeout: 40_000 }, async () => {
  const { code, output } = await run(['--help']);
  assert.equal(code, 0);
  for (const command of ['start', 'demo', 'check', 'schema']) {
    assert.match(output, new RegExp(`^\\s+${command}\\b.*\\S`, 'm'), `--help lists "${command}" with a description`);
  }
});

test('--version prints the package version', { timeout: 40_000 }, async () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const { code, output } = await run([flag]);
    assert.equal(code, 0);
    assert.equal(output.trim(), pkg.version);
  }
});

test('check accepts the minimal configuration file as documented', { timeout: 40_000 }, async () => {
  const file = writeConfig(MINIMAL);
  const { code, output } = await run(['check', '--config', file]);
  assert.equal(code, 0, output);
  assert.match(output, /valid \(2 servers, 1 APIs\)/);
});

test('check refuses an invalid file: exit 1, naming the file, the field with its line, and what is expected', { timeout: 40_000 }, async () => {
  const unknownServer = writeConfig(MINIMAL.replace('    server: everything\n', '    server: evrything\n'));
  const a = await run(['check', '--config', unknownServer]);
  assert.equal(a.code, 1);
  assert.ok(a.output.includes(`${unknownServer}:13:`), `file and line 13 named:\n${a.output}`);
  assert.match(a.output, /apis\[0\]\.server: no server named "evrything"; expected one of the names under `servers` \(everything, everything-stdio\)/);

  const badPort = writeConfig(MINIMAL.replace('  port: 8080\n', '  port: eighty\n'), 'gatehouse.yml');
  const b = await run(['check', '--config', badPort]);
  assert.equal(b.code, 1);
  assert.ok(b.output.includes(`${badPort}:3:`), `file and line 3 named:\n${b.output}`);
  assert.match(b.output, /listen\.port: expected number, got string "eighty"/);

  const typo = writeConfig(MINIMAL.replace('    command: npx\n', '    command: npx\n    argz: []\n'));
  const c = await run(['check', '--config', typo]);
  assert.equal(c.code, 1);
  assert.ok(c.output.includes(`${typo}:9:`), `file and line 9 named:\n${c.output}`);
  assert.match(c.output, /servers\.everything-stdio\.argz: unknown field `argz`/);

  const missing = path.join(path.dirname(typo), 'does-not-exist.yaml');
  const d = await run(['check', '--config', missing]);
  assert.equal(d.code, 1);
  assert.ok(d.output.includes(missing) && /file not found/.test(d.output), d.output);
});

test('schema prints the JSON Schema of the configuration', { timeout: 40_000 }, async () => {
  const { code, output } = await run(['schema']);
  assert.equal(code, 0);
  const schema = JSON.parse(output) as {
    $schema: string;
    type: string;
    required: string[];
    properties: Record<string, { properties?: Record<string, unknown>; additionalProperties?: { anyOf?: Array<{ properties?: Record<string, unknown> }> } }>;
  };
  assert.match(schema.$schema, /json-schema\.org/);
  assert.equal(schema.type, 'object');
  assert.deepEqual([...schema.required].sort(), ['apis', 'servers']);
  for (const field of ['listen', 'servers', 'apis', 'limits', 'timeouts', 'sessions', 'security', 'log']) assert.ok(field in schema.properties, `documents ${field}`);
  const kinds = schema.properties.servers!.additionalProperties!.anyOf!.map((branch) => Object.keys(branch.properties ?? {}));
  assert.ok(kinds.some((k) => k.includes('url')) && kinds.some((k) => k.includes('command')) && kinds.some((k) => k.includes('sse')), 'the three server kinds');
});

test('start with the minimal file (free port, real upstream): an SDK client works through it; SIGTERM exits 0', { timeout: 40_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const port = await freePort();
  const file = writeConfig(MINIMAL.replace('port: 8080', `port: ${port}`).replace('http://127.0.0.1:3001/mcp', `${everything.origin}/mcp`));
  const cli = runCli(['start', '--config', file]);
  t.after(() => stopCli(cli));
  const [listening] = await waitForLogLines(cli, (l) => l.msg === 'gatehouse listening', 'Gatehouse listens');
  assert.equal(listening!.port, port);
  assert.deepEqual(listening!.apis, ['/mcp']);

  const agent = await connectClient(`http://127.0.0.1:${port}/mcp`);
  const tools = await agent.client.listTools();
  assert.ok(tools.tools.some((tool) => tool.name === 'echo'));
  const echo = await agent.client.callTool({ name: 'echo', arguments: { message: 'via the CLI' } });
  assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: via the CLI' }]);
  await agent.close();

  cli.child.kill('SIGTERM');
  const exit = await cli.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(!isAlive(cli.child.pid!));
});

test('start refuses an invalid file before listening, naming the field', { timeout: 40_000 }, async () => {
  const file = writeConfig(MINIMAL.replace('    server: everything\n', '    server: nowhere\n'));
  const { code, output } = await run(['start', '--config', file]);
  assert.notEqual(code, 0);
  assert.match(output, /apis\[0\]\.server: no server named "nowhere"/);
  assert.doesNotMatch(output, /gatehouse listening/);
});
