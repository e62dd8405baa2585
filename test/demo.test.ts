// `npm start` runs `gatehouse demo`: the bundled server behind Gatehouse, a dashboard, and a printed
// agent key that an MCP client can use as printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { raw, INIT_REQUEST, MCP_HEADERS, runCli, tempDir } from './helpers/gatehouse.ts';

test('the demo prints URLs and an agent key that work as printed; no key is refused', async (t) => {
  const dataDir = tempDir();
  const demo = runCli(['demo', '--port', '0'], { GATEHOUSE_DATA_DIR: dataDir });
  t.after(async () => {
    demo.child.kill('SIGTERM');
    await demo.exited;
  });
  await demo.waitFor(/Stop with Ctrl\+C/, 30_000);
  const out = demo.output();
  const http = /through Gatehouse:\s+(http:\/\/127\.0\.0\.1:\d+\/mcp)\n/.exec(out)?.[1];
  const stdio = /(http:\/\/127\.0\.0\.1:\d+\/mcp-stdio)/.exec(out)?.[1];
  const key = /Agent key[^:]*:\s+(gh_\w+)/.exec(out)?.[1];
  assert.ok(http && stdio && key, `printed URLs and key: ${out}`);
  assert.match(out, /admin token: \S+/);
  for (const url of [http, stdio]) {
    const client = new Client({ name: 'demo-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'demo' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: demo' }]);
    await client.close();
  }
  const anonymous = await raw(http, { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(anonymous.status, 401);
  assert.equal(statSync(path.join(dataDir, 'credentials.key')).mode & 0o777, 0o600, 'the credentials key file is private');
});

/** The demo's printed snippet for a client: the line after "  <client> — <where>:". */
function snippetFor(out: string, client: string): string {
  const lines = out.split('\n');
  const label = lines.findIndex((line) => line.startsWith(`  ${client} — `) && line.endsWith(':'));
  assert.ok(label >= 0, `a snippet for ${client} in: ${out}`);
  return lines[label + 1]!.trim();
}

/** Splits a command line as a POSIX shell would, for the double-quoted words the demo prints. */
function shellWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

test("the demo prints one snippet per client (VS Code, Cursor, Claude Desktop, Claude Code), each in that client's documented shape", { timeout: 90_000 }, async (t) => {
  const demo = runCli(['demo', '--port', '0'], { GATEHOUSE_DATA_DIR: tempDir() });
  t.after(async () => {
    demo.child.kill('SIGTERM');
    await demo.exited;
  });
  await demo.waitFor(/Stop with Ctrl\+C/, 60_000);
  const out = demo.output();
  const url = /through Gatehouse:\s+(http:\/\/127\.0\.0\.1:\d+\/mcp)\n/.exec(out)?.[1];
  const key = /Agent key[^:]*:\s+(gh_[\w-]+)/.exec(out)?.[1];
  assert.ok(url && key, out);
  const authorization = `Bearer ${key}`;

  // VS Code, .vscode/mcp.json: top-level `servers`; an HTTP server has "type": "http", `url`, `headers`.
  const vscode = JSON.parse(snippetFor(out, 'VS Code')) as Record<string, unknown>;
  assert.match(out, /VS Code — \.vscode\/mcp\.json:/);
  assert.deepEqual(Object.keys(vscode), ['servers']);
  const [vscodeServer] = Object.values(vscode.servers as Record<string, Record<string, unknown>>);
  assert.deepEqual(vscodeServer, { type: 'http', url, headers: { Authorization: authorization } });

  // Cursor, .cursor/mcp.json: top-level `mcpServers`; a remote server has `url` and `headers`.
  const cursor = JSON.parse(snippetFor(out, 'Cursor')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(cursor), ['mcpServers']);
  const [cursorServer] = Object.values(cursor.mcpServers as Record<string, Record<string, unknown>>);
  assert.deepEqual(Object.keys(cursorServer!).sort(), ['headers', 'url']);
  assert.equal(cursorServer!.url, url);
  assert.ok(isStringRecord(cursorServer!.headers));
  assert.equal(cursorServer!.headers.Authorization, authorization);

  // Claude Desktop, claude_desktop_config.json: top-level `mcpServers`; it starts local commands
  // only: `command` and `args` (strings) run mcp-remote with the URL and an Authorization header.
  const desktop = JSON.parse(snippetFor(out, 'Claude Desktop')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(desktop), ['mcpServers']);
  const [desktopServer] = Object.values(desktop.mcpServers as Record<string, Record<string, unknown>>);
  assert.equal(desktopServer!.command, 'npx');
  assert.equal(desktopServer!.url, undefined, 'no url: Claude Desktop would skip the entry');
  const args = desktopServer!.args as unknown[];
  assert.ok(Array.isArray(args) && args.every((a) => typeof a === 'string'));
  assert.ok(isStringRecord(desktopServer!.env));
  const env = desktopServer!.env;
  const bridged = args.slice(args.indexOf('mcp-remote'));
  assert.equal(bridged[0], 'mcp-remote');
  assert.equal(bridged[1], url);
  assert.equal(bridged[2], '--header');
  // mcp-remote splits "Name: value" at the first colon and replaces ${VAR} in the value from its
  // environment; no spaces in args (Claude Desktop on Windows splits them).
  const header = /^([A-Za-z0-9_-]+):\s*(.*)$/.exec(bridged[3] as string);
  assert.ok(header, `a header argument: ${bridged[3]}`);
  assert.equal(header[1], 'Authorization');
  assert.equal(header[2]!.replace(/\$\{([^}]+)\}/g, (_m, name: string) => env[name] ?? ''), authorization);
  assert.ok(args.every((a) => !(a as string).includes(' ')), 'no spaces inside args');

  // Claude Code: claude mcp add --transport http <name> <url> --header "Authorization: Bearer KEY"
  const words = shellWords(snippetFor(out, 'Claude Code'));
  assert.deepEqual(words.slice(0, 5), ['claude', 'mcp', 'add', '--transport', 'http']);
  assert.match(words[5]!, /^[A-Za-z0-9_-]+$/, 'a server name');
  assert.deepEqual(words.slice(6), [url, '--header', `Authorization: ${authorization}`]);

  // What the JSON snippets give a client works: their URL and headers, through the SDK client.
  const client = new Client({ name: 'snippet-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(vscodeServer!.url as string), { requestInit: { headers: vscodeServer!.headers as Record<string, string> } }));
  assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'snippet' } })).content, [{ type: 'text', text: 'Echo: snippet' }]);
  await client.close();
});
