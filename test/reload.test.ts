// Hot reload of `gatehouse start`: edits to the watched file apply without dropping sessions; a
// bad edit is refused with its problems logged and the running configuration kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, raw, INIT_REQUEST } from './helpers/gatehouse.ts';
import { isAlive, waitForLogLines } from './helpers/lifecycle-procs.ts';
import { startCliGateway } from './helpers/lifecycle-cli.ts';

const SECOND_API = `  - name: everything-2
    path: /mcp2
    server: everything
`;

const isReloaded = (l: Record<string, unknown>) => l.msg === 'configuration reloaded';
const isRefused = (l: Record<string, unknown>) => typeof l.msg === 'string' && l.msg.startsWith('configuration change refused');

async function echo(client: Awaited<ReturnType<typeof connectClient>>['client'], message: string): Promise<void> {
  const result = await client.callTool({ name: 'echo', arguments: { message } });
  assert.deepEqual(result.content, [{ type: 'text', text: `Echo: ${message}` }]);
}

test('an edit adding an API applies live: the new path works, HTTP and stdio sessions keep working', { timeout: 40_000 }, async (t) => {
  const gh = await startCliGateway(t);
  const http = await connectClient(gh.url('/mcp'));
  gh.defer(() => http.close());
  const stdio = await connectClient(gh.url('/mcp-stdio'));
  gh.defer(() => stdio.close());
  const httpSession = http.transport.sessionId;
  const stdioSession = stdio.transport.sessionId;
  const [child] = gh.stdioChildren();
  assert.ok(child, 'the stdio session has a child');

  const before = await raw(gh.url('/mcp2'), { body: INIT_REQUEST });
  assert.equal(before.status, 404, 'no /mcp2 yet');

  // Add /mcp2 and change the stdio server's definition (an env var for new children).
  gh.writeConfig({ extraApis: SECOND_API, stdioEnv: { GATEHOUSE_RELOAD_MARK: 'second-config' } });
  await waitForLogLines(gh.cli, isReloaded, 'the edit is applied');

  const second = await connectClient(gh.url('/mcp2'));
  gh.defer(() => second.close());
  await echo(second.client, 'new path');

  // The sessions opened before the reload carry on, on the same session ids and the same child.
  await echo(http.client, 'http survives');
  await echo(stdio.client, 'stdio survives');
  assert.equal(http.transport.sessionId, httpSession);
  assert.equal(stdio.transport.sessionId, stdioSession);
  assert.ok(isAlive(child));
  assert.deepEqual(gh.stdioChildren(), [child], 'no child was restarted');

  // A stdio session started after the reload runs with the new definition.
  const fresh = await connectClient(gh.url('/mcp-stdio'));
  gh.defer(() => fresh.close());
  const env = await fresh.client.callTool({ name: 'get-env', arguments: {} });
  assert.match(JSON.stringify(env.content), /GATEHOUSE_RELOAD_MARK.*second-config/);
  const oldEnv = await stdio.client.callTool({ name: 'get-env', arguments: {} });
  assert.doesNotMatch(JSON.stringify(oldEnv.content), /GATEHOUSE_RELOAD_MARK/, 'the running child keeps its environment');
  assert.equal(gh.stdioChildren().length, 2);
});

test('a bad edit is refused: the error names the field, the running configuration stays in force', { timeout: 40_000 }, async (t) => {
  const gh = await startCliGateway(t);
  const http = await connectClient(gh.url('/mcp'));
  gh.defer(() => http.close());
  const stdio = await connectClient(gh.url('/mcp-stdio'));
  gh.defer(() => stdio.close());
  const [child] = gh.stdioChildren();

  gh.writeConfig({ extraApis: '  - name: broken\n    path: /mcp3\n    server: no-such-server\n' });
  const [refused] = await waitForLogLines(gh.cli, isRefused, 'the bad edit is refused');
  assert.equal(refused!.level, 50, 'logged as an error');
  const problems = String(refused!.problems);
  assert.ok(problems.includes(gh.file), `names the file: ${problems}`);
  assert.match(problems, /:19:\d+: apis\[2\]\.server: no server named "no-such-server"; expected one of the names under `servers`/);

  // Old paths and sessions are untouched; the refused API does not exist.
  await echo(http.client, 'still http');
  await echo(stdio.client, 'still stdio');
  assert.deepEqual(gh.stdioChildren(), [child]);
  assert.equal((await raw(gh.url('/mcp3'), { body: INIT_REQUEST })).status, 404);
  const again = await connectClient(gh.url('/mcp'));
  gh.defer(() => again.close());
  await echo(again.client, 'new session on the old config');

  // Fixing the edit applies it.
  gh.writeConfig({ extraApis: '  - name: fixed\n    path: /mcp3\n    server: everything\n' });
  await waitForLogLines(gh.cli, isReloaded, 'the fixed edit is applied');
  const fixed = await connectClient(gh.url('/mcp3'));
  gh.defer(() => fixed.close());
  await echo(fixed.client, 'fixed');
  await echo(stdio.client, 'stdio after two edits');
});

test('with --no-watch, SIGHUP reloads the file', { timeout: 40_000 }, async (t) => {
  const gh = await startCliGateway(t, ['--no-watch']);
  const stdio = await connectClient(gh.url('/mcp-stdio'));
  gh.defer(() => stdio.close());

  gh.writeConfig({ extraApis: SECOND_API });
  gh.cli.child.kill('SIGHUP');
  await waitForLogLines(gh.cli, isReloaded, 'SIGHUP reloads');
  const second = await connectClient(gh.url('/mcp2'));
  gh.defer(() => second.close());
  await echo(second.client, 'after SIGHUP');
  await echo(stdio.client, 'stdio after SIGHUP');
});
