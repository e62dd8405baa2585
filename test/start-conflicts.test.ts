// A start that cannot run must change nothing: a second demo (or `start`) on the same data
// directory is refused before it touches the store, and so is a start whose port is taken (the
// listeners are bound before the store is opened). Each failure is one line with the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { runCli, startEverything, startTestGateway, tempDir, writeConfig, type CliProcess } from './helpers/gatehouse.ts';
import { ListenError } from '../src/http/listen-error.ts';
import { DataDirBusyError } from '../src/store/data-dir-lock.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';

/** The SDK client calls echo with the key; resolves to the tool's text. */
async function echoWithKey(url: string, key: string): Promise<unknown> {
  const client = new Client({ name: 'start-conflicts-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  try {
    const result = await client.callTool({ name: 'echo', arguments: { message: 'still here' } });
    return result.content;
  } finally {
    await client.close();
  }
}

async function stop(cli: CliProcess): Promise<void> {
  if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGTERM');
  await cli.exited;
}

/** Runs the CLI to its end; the exit code and what it printed. */
async function runToEnd(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const cli = runCli(args, env);
  const { code } = await cli.exited;
  return { code, output: cli.output() };
}

function listenOnFreePort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

test("a second start on a taken port leaves the running demo's key working", { timeout: 120_000 }, async (t) => {
  const dataDir = tempDir();
  const first = runCli(['demo', '--port', '0'], { GATEHOUSE_DATA_DIR: dataDir });
  t.after(() => stop(first));
  await first.waitFor(/Stop with Ctrl\+C/, 60_000);
  const url = /through Gatehouse:\s+(http:\/\/127\.0\.0\.1:(\d+)\/mcp)\n/.exec(first.output());
  const key = /Agent key[^:]*:\s+(gh_[\w-]+)/.exec(first.output())?.[1];
  assert.ok(url && key, first.output());
  const port = url[2]!;

  // The second `npm start` of the report: same folder, same port.
  const second = await runToEnd(['demo', '--port', port], { GATEHOUSE_DATA_DIR: dataDir });
  assert.equal(second.code, 1, second.output);
  const lines = second.output.trim().split('\n');
  assert.equal(lines.length, 1, `one line, no stack trace: ${second.output}`);
  assert.match(lines[0]!, new RegExp(`^gatehouse demo: the data directory ${dataDir.replace(/[/\\.]/g, '\\$&')} is in use by another running Gatehouse \\(pid \\d+\\)`));

  // Another port, same folder: also refused (it would make a new key and revoke the first).
  const third = await runToEnd(['demo', '--port', '0'], { GATEHOUSE_DATA_DIR: dataDir });
  assert.equal(third.code, 1, third.output);
  assert.match(third.output, /is in use by another running Gatehouse/);

  assert.deepEqual(await echoWithKey(url[1]!, key), [{ type: 'text', text: 'Echo: still here' }]);
});

test('a start on a taken port leaves a shared store untouched: the listeners are bound before the store is opened', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const storeFile = path.join(tempDir(), 'shared.db');
  const apis = [{ name: 'e', path: '/mcp', server: 'e', auth: { type: 'api-key' as const } }];
  const servers = { e: { url: `${everything.origin}/mcp` } };
  const running = await startTestGateway({ servers, apis, store: { type: 'sqlite', file: storeFile }, agents: [{ id: 'alice', apiKeys: [{ value: 'alice-key-0123456789abcdef' }] }] });
  t.after(() => running.close());

  // Another data directory, the same store, another agent: its config sync would revoke alice's
  // key (config keys that leave the file are revoked), if it ran before the port was found taken.
  await assert.rejects(
    startTestGateway({
      listen: { host: '127.0.0.1', port: running.gateway.port },
      servers,
      apis,
      store: { type: 'sqlite', file: storeFile },
      agents: [{ id: 'bob', apiKeys: [{ value: 'bob-key-0123456789abcdef0' }] }],
    }),
    (error: unknown) => error instanceof ListenError && error.portInUse && error.listener === 'mcp',
  );
  const store = await openSqliteStore(storeFile);
  try {
    assert.equal(await store.getAgent('bob'), undefined, 'the failed start wrote nothing');
    const keys = await store.listApiKeys();
    assert.deepEqual(keys.map((k) => [k.agentId, k.revokedAt]), [['alice', undefined]]);
  } finally {
    await store.close();
  }
  assert.deepEqual(await echoWithKey(running.url('e'), 'alice-key-0123456789abcdef'), [{ type: 'text', text: 'Echo: still here' }]);
});

test('a second gateway on one data directory is refused, in the same process too, and the directory is free again after close', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const dataDir = tempDir();
  const config = { servers: { e: { url: `${everything.origin}/mcp` } }, apis: [{ name: 'e', path: '/mcp', server: 'e' }] };
  const first = await startTestGateway(config, { dataDir });
  await assert.rejects(startTestGateway(config, { dataDir }), (error: unknown) => error instanceof DataDirBusyError && error.pid === process.pid);
  await first.close();
  const again = await startTestGateway(config, { dataDir });
  await again.close();
});

test('gatehouse start on a port in use fails with one line naming it; the hint does not suggest --port 8090 when --port was given', { timeout: 60_000 }, async (t) => {
  const { server, port } = await listenOnFreePort();
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const file = writeConfig(['listen: { host: 127.0.0.1, port: ' + port + ' }', 'servers:', '  e: { url: "http://127.0.0.1:9/mcp" }', 'apis:', '  - { name: e, path: /mcp, server: e }', ''].join('\n'));

  const fromFile = await runToEnd(['start', '--config', file]);
  assert.equal(fromFile.code, 1, fromFile.output);
  assert.deepEqual(fromFile.output.trim().split('\n'), [
    `gatehouse start: MCP listener: cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE); choose another port (listen.port in ${file}, or --port)`,
  ]);

  const fromOption = await runToEnd(['start', '--config', file, '--port', String(port)]);
  assert.equal(fromOption.code, 1, fromOption.output);
  assert.deepEqual(fromOption.output.trim().split('\n'), [`gatehouse start: MCP listener: cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE); choose another --port`]);

  const demo = await runToEnd(['demo', '--port', String(port)], { GATEHOUSE_DATA_DIR: tempDir() });
  assert.equal(demo.code, 1, demo.output);
  assert.deepEqual(demo.output.trim().split('\n'), [`gatehouse demo: MCP listener: cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE); choose another --port`]);
  assert.doesNotMatch(demo.output, /8090/);
});

test("the demo with its dashboard's port taken: one line naming the dashboard's port", { timeout: 60_000 }, async (t) => {
  const { server, port } = await listenOnFreePort();
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const demo = await runToEnd(['demo', '--port', String(port - 1)], { GATEHOUSE_DATA_DIR: tempDir() });
  assert.equal(demo.code, 1, demo.output);
  const lines = demo.output.trim().split('\n');
  assert.equal(lines.length, 1, demo.output);
  assert.match(lines[0]!, new RegExp(`^gatehouse demo: admin listener: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(EADDRINUSE\\); the dashboard takes the port after the MCP one \\(${port}\\): choose another --port$`));
});
