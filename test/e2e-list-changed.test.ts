// A reload that changes what open sessions may see tells them: SDK clients connected through
// Gatehouse get notifications/tools/list_changed when the config file is rewritten to hide a
// tool, and their next tools/list no longer shows it. Over a Streamable HTTP upstream (the
// notice is injected into the standalone GET stream piped from server-everything), over stdio
// (Gatehouse writes the session's streams itself), and on a 2026-07-28 subscriptions/listen
// stream (the notice carries the subscription id).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { startTestGateway } from './helpers/gatehouse.ts';
import { waitForLogLines } from './helpers/lifecycle-procs.ts';
import { startCliGateway } from './helpers/lifecycle-cli.ts';
import { startStatelessServer } from './helpers/stateless-server.ts';
import { validateConfig } from '../src/config/load.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { deferred } from './helpers/deferred.ts';

/** A reload is debounced, then loads and validates the file: generous on a loaded machine. */
const RELOAD_WAIT_MS = 30_000;

/** Two APIs with an ACL (HTTP and stdio upstream); `hideEcho` adds a rule denying the echo tool. */
function guardedApis(hideEcho: boolean): string {
  const api = (name: string, server: string) =>
    [
      `  - name: ${name}`,
      `    path: /${name}`,
      `    server: ${server}`,
      '    policies:',
      '      - acl:',
      '          rules:',
      '            - features: [{ type: tools, methods: [tools/list, tools/call] }]',
      ...(hideEcho ? ['            - effect: deny', '              features: [{ type: tools, methods: [tools/list, tools/call], pattern: { type: literal, value: echo } }]'] : []),
    ].join('\n');
  return `${api('guarded', 'everything')}\n${api('guarded-stdio', 'everything-stdio')}\n`;
}

/** The SDK client with a tools/list_changed handler. */
async function listeningClient(url: string) {
  const changed = deferred(`notifications/tools/list_changed on ${url}`, RELOAD_WAIT_MS);
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'list-changed-test', version: '1.0.0' });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed.resolve());
  await client.connect(transport);
  const toolNames = async () => (await client.listTools()).tools.map((t) => t.name);
  return { client, transport, changed: changed.promise, toolNames, close: () => transport.terminateSession().catch(() => undefined).then(() => client.close()) };
}

test('rewriting the config to hide a tool sends tools/list_changed to open HTTP and stdio sessions, and their next tools/list hides it', { timeout: 90_000 }, async (t) => {
  const gh = await startCliGateway(t);
  const isReloaded = (l: Record<string, unknown>) => l.msg === 'configuration reloaded';
  gh.writeConfig({ extraApis: guardedApis(false) });
  await waitForLogLines(gh.cli, isReloaded, 'the guarded APIs are applied', 1, RELOAD_WAIT_MS);

  const http = await listeningClient(gh.url('/guarded'));
  gh.defer(() => http.close());
  const stdio = await listeningClient(gh.url('/guarded-stdio'));
  gh.defer(() => stdio.close());
  // The SDK client opens its standalone GET stream after initializing; over HTTP it is the only
  // stream Gatehouse can reach (a stdio session keeps the notice until a stream opens).
  await waitForLogLines(gh.cli, (l) => l.msg === 'client stream open for reload notices' && l.api === 'guarded', 'the GET stream of the HTTP session is open', 1, RELOAD_WAIT_MS);
  assert.ok((await http.toolNames()).includes('echo'), 'echo is listed over HTTP before');
  assert.ok((await stdio.toolNames()).includes('echo'), 'echo is listed over stdio before');

  gh.writeConfig({ extraApis: guardedApis(true) });
  await Promise.all([http.changed, stdio.changed]);
  const told = await waitForLogLines(gh.cli, (l) => l.msg === 'told open client sessions that their lists may have changed', 'the reload tells both APIs', 2, RELOAD_WAIT_MS);
  assert.deepEqual(told.map((l) => [l.api, l.lists, l.reached]).sort(), [['guarded', ['tools'], 1], ['guarded-stdio', ['tools'], 1]]);

  const httpTools = await http.toolNames();
  const stdioTools = await stdio.toolNames();
  assert.ok(!httpTools.includes('echo') && httpTools.length > 0, `HTTP: echo hidden, the rest listed: ${httpTools.join(', ')}`);
  assert.ok(!stdioTools.includes('echo') && stdioTools.length > 0, `stdio: echo hidden, the rest listed: ${stdioTools.join(', ')}`);
});

test('a 2026-07-28 subscriptions/listen stream through Gatehouse gets tools/list_changed with its subscription id when a reload hides a tool', { timeout: 60_000 }, async (t) => {
  const upstream = await startStatelessServer();
  t.after(() => upstream.close());
  const config = (hideEcho: boolean): ConfigInput => ({
    listen: { host: '127.0.0.1', port: 0 },
    servers: { modern: { url: upstream.url } },
    apis: [
      {
        name: 'modern',
        path: '/mcp',
        server: 'modern',
        policies: hideEcho ? [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'regex', value: '(?!echo$).*' } }] }] } }] : [],
      },
    ],
  });
  const gh = await startTestGateway(config(false));
  t.after(() => gh.close());

  const notices: unknown[] = [];
  const changed = deferred('notifications/tools/list_changed on the listen stream', RELOAD_WAIT_MS);
  const client = new ModernClient({ name: 'list-changed-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  client.setNotificationHandler('notifications/tools/list_changed', (notification) => {
    notices.push(notification);
    changed.resolve();
  });
  // The listen request's JSON-RPC id is the subscription id, as sent on the wire.
  let listenId: unknown;
  const fetchAndNote: typeof fetch = async (input, init) => {
    if (typeof init?.body === 'string' && init.body.includes('"subscriptions/listen"')) listenId = (JSON.parse(init.body) as { id: unknown }).id;
    return fetch(input, init);
  };
  await client.connect(new ModernTransport(new URL(gh.url()), { fetch: fetchAndNote }));
  t.after(() => client.close());
  const subscription = await client.listen({ toolsListChanged: true });
  t.after(() => subscription.close());
  assert.ok((await client.listTools()).tools.some((tool) => tool.name === 'echo'), 'echo is listed before');

  gh.gateway.reload(validateConfig(config(true)));
  await changed.promise;
  assert.deepEqual(notices, [{ method: 'notifications/tools/list_changed', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': listenId } } }]);
  assert.notEqual(listenId, undefined);
  assert.equal(gh.logs.lines.filter((l) => l.msg === 'told open client sessions that their lists may have changed' && l.reached === 1).length, 1);
  const after = (await client.listTools()).tools.map((tool) => tool.name);
  assert.ok(!after.includes('echo') && after.length > 0, `echo hidden after the reload, the rest listed: ${after.join(', ')}`);
});
