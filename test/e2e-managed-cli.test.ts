// Managed mode through the command line: `gatehouse start --managed` (the built CLI), the quick
// start script run with bash and curl, a restart that keeps the deployed version, and
// `gatehouse export` → `gatehouse apply` against the store and against the running gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT, connectClient, runCli, startEverything, tempDir, type CliProcess } from './helpers/gatehouse.ts';
import { freePort, stopCli, waitUntil } from './helpers/lifecycle-procs.ts';

const run = promisify(execFile);
const TOKEN = 'cli-managed-admin-token-0123456789abcdef';
const QUICKSTART = path.join(REPO_ROOT, 'examples', 'management', 'quickstart.sh');

async function gatehouse(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

async function startManagedCli(nodeFile: string): Promise<CliProcess> {
  const cli = runCli(['start', '--managed', '--config', nodeFile], { GATEHOUSE_SESSION_KEY: '11'.repeat(32) });
  await cli.waitFor(/managed mode: change the configuration/, 20_000);
  return cli;
}

async function toolNames(url: string): Promise<string[]> {
  const { client, close } = await connectClient(url);
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await close();
  }
}

test('quickstart.sh against a fresh managed gateway; the deployment survives a restart; export → apply is idempotent, through the store and the API', { timeout: 120_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const dir = tempDir('gatehouse-managed-cli-');
  const [port, adminPort] = [await freePort(), await freePort()];
  const nodeFile = path.join(dir, 'node.yaml');
  writeFileSync(nodeFile, `managed: true\nlisten:\n  host: 127.0.0.1\n  port: ${port}\nadmin:\n  port: ${adminPort}\n  token: ${TOKEN}\nlog:\n  level: debug\n`);
  const admin = `http://127.0.0.1:${adminPort}`;
  let cli = await startManagedCli(nodeFile);
  t.after(() => stopCli(cli));

  // The quick start, as a user runs it (bash + curl are on the machine).
  assert.ok(existsSync('/usr/bin/curl') || existsSync('/bin/curl'), 'curl is installed');
  const quick = await run('bash', [QUICKSTART, admin, TOKEN], { env: { ...process.env, UPSTREAM_URL: `${everything.origin}/mcp` }, timeout: 30_000 });
  assert.match(quick.stdout, /deployed version 1/);
  const mcpUrl = /MCP URL: (\S+)/.exec(quick.stdout)?.[1];
  assert.equal(mcpUrl, `http://127.0.0.1:${port}/weather`);
  const { client, close } = await connectClient(mcpUrl);
  assert.deepEqual((await client.listTools()).tools.map((tool) => tool.name), ['echo'], 'only echo is visible');
  assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'hi' } })).content, [{ type: 'text', text: 'Echo: hi' }]);
  await close();

  // A second run of the script is refused, naming what exists (nothing changed).
  await assert.rejects(run('bash', [QUICKSTART, admin, TOKEN], { env: { ...process.env, UPSTREAM_URL: `${everything.origin}/mcp` } }), /409.*already exists/s);

  // Restart: the deployed version is served again from the store.
  await stopCli(cli);
  cli = await startManagedCli(nodeFile);
  assert.deepEqual(await toolNames(mcpUrl), ['echo'], 'after a restart');

  // export → apply (store directly, while the gateway runs): nothing to change.
  const exported = path.join(dir, 'managed.yaml');
  const exportRun = await gatehouse(['export', '-c', nodeFile, '-o', exported]);
  assert.equal(exportRun.code, 0, exportRun.err);
  assert.match(readFileSync(exported, 'utf8'), /path: \/weather/);
  const again = await gatehouse(['apply', '-f', exported, '-c', nodeFile]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /^no changes: the deployed configuration \(version 1\) equals/);

  // A change to the file: the dry run shows the diff and changes nothing.
  writeFileSync(exported, readFileSync(exported, 'utf8').replace('value: echo', 'value: get-sum'));
  const dry = await gatehouse(['apply', '-f', exported, '--url', admin, '--dry-run'], { GATEHOUSE_ADMIN_TOKEN: TOKEN });
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /-\s+value: echo\n\+\s+value: get-sum/);
  assert.match(dry.out, /dry run: nothing changed/);
  assert.deepEqual(await toolNames(mcpUrl), ['echo']);

  // Applied through the running gateway's API: live at once.
  const applied = await gatehouse(['apply', '-f', exported, '--url', admin, '--token', TOKEN]);
  assert.equal(applied.code, 0, applied.err);
  assert.match(applied.out, /deployed version 2/);
  assert.deepEqual(await toolNames(mcpUrl), ['get-sum']);
  const second = await gatehouse(['apply', '-f', exported, '--url', admin, '--token', TOKEN]);
  assert.match(second.out, /^no changes/, 'a second apply changes nothing');

  // Applied to the store directly: the running gateway finds the new version (polling).
  writeFileSync(exported, readFileSync(exported, 'utf8').replace('value: get-sum', 'value: echo'));
  const direct = await gatehouse(['apply', '-f', exported, '-c', nodeFile]);
  assert.match(direct.out, /deployed version 3/);
  await waitUntil(async () => (await toolNames(mcpUrl)).join() === 'echo', 'the gateway serves version 3', 10_000);

  // A file with a mistake is refused in gatehouse check's words, before anything changes.
  writeFileSync(exported, readFileSync(exported, 'utf8').replace('server: weather', 'server: nowhere'));
  const bad = await gatehouse(['apply', '-f', exported, '-c', nodeFile]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /apis\[0\]\.server: no server named "nowhere"/);
});
