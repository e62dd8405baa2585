// A bridged `subscriptions/listen` stream — a 2026-07-28 client (the v2 SDK client) on the 2025
// server-everything, over Streamable HTTP and over stdio — hears of a reload that changes what it
// may see: the config file is rewritten to hide a tool, and the stream gets
// notifications/tools/list_changed tagged with its subscription id, only when its filter asked for
// tools, and not at all for a reload that leaves its API's lists as they were. The other way
// round too: a 2025 client's standalone stream on a 2026-07-28-only server, served by a listen of
// Gatehouse's, hears of such a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startCliGateway } from './helpers/lifecycle-cli.ts';
import { startTestGateway } from './helpers/gatehouse.ts';
import { PAGED_TOOLS, startPagedServer } from './helpers/paged-server.ts';
import { startStatelessServer } from './helpers/stateless-server.ts';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { validateConfig } from '../src/config/load.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { waitForLogLines } from './helpers/lifecycle-procs.ts';
import { deferred, type Deferred } from './helpers/deferred.ts';

/** A reload is debounced, then loads and validates the file: generous on a loaded machine. */
const RELOAD_WAIT_MS = 30_000;
/** How long a notification that should not come is waited for after its reload was applied. */
const QUIET_MS = 1_500;
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

type Step = 'start' | 'unrelated' | 'hide-echo';

/**
 * `guarded` (HTTP) and `guarded-stdio` let the agent list and call tools and prompts; `hide-echo`
 * denies the echo tool on both. `unrelated` changes nothing those APIs' clients may see: it adds a
 * rate limit to them (it hides nothing) and denies echo on another API, `bystander`.
 */
function apis(step: Step): string {
  const api = (name: string, server: string, hideEcho: boolean, limited: boolean) =>
    [
      `  - name: ${name}`,
      `    path: /${name}`,
      `    server: ${server}`,
      '    policies:',
      '      - acl:',
      '          rules:',
      '            - features: [{ type: tools, methods: [tools/list, tools/call] }, { type: prompts, methods: [prompts/list, prompts/get] }]',
      ...(hideEcho ? ['            - effect: deny', '              features: [{ type: tools, methods: [tools/list, tools/call], pattern: { type: literal, value: echo } }]'] : []),
      ...(limited ? ['      - rateLimit: { limits: [{ name: api-wide, key: [api], rate: 1000, per: 1s }] }'] : []),
    ].join('\n');
  return [
    api('guarded', 'everything', step === 'hide-echo', step !== 'start'),
    api('guarded-stdio', 'everything-stdio', step === 'hide-echo', step !== 'start'),
    api('bystander', 'everything', step !== 'start', false),
    '',
  ].join('\n');
}

/**
 * A v2 client pinned to 2026-07-28, listening with `filter`; records the list_changed
 * notifications it gets since `reset()` (server-everything announces tools of its own right
 * after a session opens, which is not what these tests are about).
 */
async function listener(url: string, filter: { toolsListChanged?: true; promptsListChanged?: true }) {
  const notices: Array<{ method: string; params?: Record<string, unknown> }> = [];
  let toolsChanged: Deferred<void> | undefined;
  const client = new Client({ name: 'bridge-listen-reload', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  for (const method of ['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed'] as const) {
    client.setNotificationHandler(method, (notification) => {
      notices.push(notification as { method: string; params?: Record<string, unknown> });
      if (method === 'notifications/tools/list_changed') toolsChanged?.resolve();
    });
  }
  // The listen request's JSON-RPC id is the subscription id, as sent on the wire.
  let listenId: unknown;
  const noting: typeof fetch = async (input, init) => {
    if (typeof init?.body === 'string' && init.body.includes('"subscriptions/listen"')) listenId = (JSON.parse(init.body) as { id: unknown }).id;
    return fetch(input, init);
  };
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: noting }));
  assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
  const subscription = await client.listen(filter);
  assert.deepEqual(subscription.honoredFilter, filter, `${url}: the filter is honored`);
  return {
    notices,
    listenId: () => listenId,
    /** Forgets what came so far. */
    reset: () => void (notices.length = 0),
    /** Settles with the next tools notice. */
    nextToolsNotice: () => (toolsChanged = deferred(`notifications/tools/list_changed on ${url}`, RELOAD_WAIT_MS)).promise,
    toolNames: async () => (await client.listTools()).tools.map((tool) => tool.name),
    close: async () => {
      await subscription.close();
      await client.close();
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a reload hiding a tool reaches bridged 2026-07-28 listen streams on 2025 HTTP and stdio servers, tagged with their subscription id, and only streams that asked for tools', { timeout: 120_000 }, async (t) => {
  const gh = await startCliGateway(t);
  const reloaded = (count: number) => waitForLogLines(gh.cli, (l) => l.msg === 'configuration reloaded', `reload ${count} is applied`, count, RELOAD_WAIT_MS);
  gh.writeConfig({ extraApis: apis('start') });
  await reloaded(1);

  const http = await listener(gh.url('/guarded'), { toolsListChanged: true });
  gh.defer(() => http.close());
  const stdio = await listener(gh.url('/guarded-stdio'), { toolsListChanged: true });
  gh.defer(() => stdio.close());
  // Same API, same agent, same bridged session as `http`: only its filter differs.
  const promptsOnly = await listener(gh.url('/guarded'), { promptsListChanged: true });
  gh.defer(() => promptsOnly.close());
  assert.ok((await http.toolNames()).includes('echo'), 'echo is listed over HTTP before');
  assert.ok((await stdio.toolNames()).includes('echo'), 'echo is listed over stdio before');

  // The server's own notices of a session's start are over before the reloads.
  await pause(QUIET_MS);
  const streams = [http, stdio, promptsOnly];
  streams.forEach((stream) => stream.reset());

  // A reload that changes nothing these agents may see says nothing to them.
  gh.writeConfig({ extraApis: apis('unrelated') });
  await reloaded(2);
  const bystander = await waitForLogLines(gh.cli, (l) => l.msg === 'told open client sessions that their lists may have changed', 'the reload tells the bystander API', 1, RELOAD_WAIT_MS);
  assert.deepEqual(bystander.map((l) => [l.api, l.lists]), [['bystander', ['tools']]]);
  await pause(QUIET_MS);
  assert.deepEqual(streams.map((stream) => stream.notices), [[], [], []], 'no notice for a reload that hides nothing from them');

  const [httpChanged, stdioChanged] = [http.nextToolsNotice(), stdio.nextToolsNotice()];
  gh.writeConfig({ extraApis: apis('hide-echo') });
  await Promise.all([httpChanged, stdioChanged]);
  for (const [label, stream] of [['HTTP', http], ['stdio', stdio]] as const) {
    assert.notEqual(stream.listenId(), undefined);
    assert.deepEqual(stream.notices, [{ method: 'notifications/tools/list_changed', params: { _meta: { [SUBSCRIPTION_ID]: stream.listenId() } } }], `${label}: one notice, with the subscription id`);
  }
  const told = await waitForLogLines(gh.cli, (l) => l.msg === 'told open client sessions that their lists may have changed', 'the reload tells both guarded APIs', 3, RELOAD_WAIT_MS);
  // The prompts-only stream is registered too (reached), and its filter keeps the tools notice out.
  assert.deepEqual(told.slice(1).map((l) => [l.api, l.lists, l.reached]).sort(), [['guarded', ['tools'], 2], ['guarded-stdio', ['tools'], 1]]);
  await pause(QUIET_MS);
  assert.deepEqual(promptsOnly.notices, [], 'a stream that did not ask for tools gets no tools notice');
  assert.equal(http.notices.length + stdio.notices.length, 2, 'one notice per stream');

  const httpTools = await http.toolNames();
  const stdioTools = await stdio.toolNames();
  assert.ok(!httpTools.includes('echo') && httpTools.length > 0, `HTTP: echo hidden, the rest listed: ${httpTools.join(', ')}`);
  assert.ok(!stdioTools.includes('echo') && stdioTools.length > 0, `stdio: echo hidden, the rest listed: ${stdioTools.join(', ')}`);
});

test('a reload that takes a tool out of a virtual server reaches a 2026-07-28 listen stream of that virtual server, and its next tools/list shows the new selection', { timeout: 120_000 }, async (t) => {
  const gh = await startCliGateway(t);
  const curated = (tools: string[]) =>
    ['  - name: curated', '    path: /curated', '    tools:', ...tools.map((name) => `      - { server: everything, name: ${name} }`), ''].join('\n');
  gh.writeConfig({ extraApis: curated(['echo', 'get-sum']) });
  await waitForLogLines(gh.cli, (l) => l.msg === 'configuration reloaded', 'the virtual server is applied', 1, RELOAD_WAIT_MS);

  const stream = await listener(gh.url('/curated'), { toolsListChanged: true });
  gh.defer(() => stream.close());
  assert.deepEqual((await stream.toolNames()).sort(), ['echo', 'get-sum']);
  await pause(QUIET_MS);
  stream.reset();

  const changed = stream.nextToolsNotice();
  gh.writeConfig({ extraApis: curated(['get-sum']) });
  await changed;
  assert.deepEqual(stream.notices, [{ method: 'notifications/tools/list_changed', params: { _meta: { [SUBSCRIPTION_ID]: stream.listenId() } } }]);
  assert.deepEqual(await stream.toolNames(), ['get-sum']);
});

test('a bridged listen stream asking for tools of a 2025 server that never announces list changes is honored, and hears of a reload that hides a tool', { timeout: 60_000 }, async (t) => {
  // The SDK server declares `tools: {}` without listChanged; the ACL tells the client its list may
  // change (a reload), so the listen stream must stay open for Gatehouse's own notice.
  const upstream = await startPagedServer();
  t.after(() => upstream.close());
  const hidden = PAGED_TOOLS[0]!;
  const config = (hide: boolean): ConfigInput => ({
    listen: { host: '127.0.0.1', port: 0 },
    servers: { paged: { url: upstream.url } },
    apis: [
      {
        name: 'paged',
        path: '/mcp',
        server: 'paged',
        policies: [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], ...(hide ? { pattern: { type: 'regex', value: `(?!${hidden}$).*` } } : {}) }] }] } }],
      },
    ],
  });
  const gh = await startTestGateway(config(false));
  t.after(() => gh.close());

  const stream = await listener(gh.url(), { toolsListChanged: true });
  t.after(() => stream.close());
  assert.ok((await stream.toolNames()).includes(hidden));
  const changed = stream.nextToolsNotice();
  gh.gateway.reload(validateConfig(config(true)));
  await changed;
  assert.deepEqual(stream.notices, [{ method: 'notifications/tools/list_changed', params: { _meta: { [SUBSCRIPTION_ID]: stream.listenId() } } }]);
  const after = await stream.toolNames();
  assert.ok(!after.includes(hidden) && after.length === PAGED_TOOLS.length - 1, after.join(', '));
});

test('a 2025 client\'s standalone stream on a 2026-07-28-only server (a bridged listen) gets tools/list_changed when a reload hides a tool', { timeout: 60_000 }, async (t) => {
  const upstream = await startStatelessServer({ modernOnly: true });
  t.after(() => upstream.close());
  const config = (hideEcho: boolean): ConfigInput => ({
    listen: { host: '127.0.0.1', port: 0 },
    servers: { modern: { url: upstream.url } },
    apis: [
      {
        name: 'modern',
        path: '/mcp',
        server: 'modern',
        policies: [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], ...(hideEcho ? { pattern: { type: 'regex', value: '(?!echo$).*' } } : {}) }] }] } }],
      },
    ],
  });
  const gh = await startTestGateway(config(false));
  t.after(() => gh.close());

  const client = new LegacyClient({ name: 'bridge-listen-reload-2025', version: '1.0.0' });
  const notices: unknown[] = [];
  const changed = deferred('notifications/tools/list_changed on the 2025 client\'s stream', RELOAD_WAIT_MS);
  client.setNotificationHandler(ToolListChangedNotificationSchema, (notification) => {
    notices.push(notification);
    changed.resolve();
  });
  await client.connect(new LegacyTransport(new URL(gh.url())));
  t.after(() => client.close());
  assert.ok((await client.listTools()).tools.some((tool) => tool.name === 'echo'), 'echo is listed before');
  // The SDK client opens its standalone stream after initializing; Gatehouse serves it with a listen.
  for (const end = Date.now() + 10_000; !upstream.received.some((r) => r.body.includes('"subscriptions/listen"')); ) {
    if (Date.now() > end) throw new Error('the standalone stream\'s listen did not reach the server within 10 s');
    await pause(50);
  }

  gh.gateway.reload(validateConfig(config(true)));
  await changed.promise;
  assert.deepEqual(notices, [{ method: 'notifications/tools/list_changed' }], 'a 2025 notification: no subscription id');
  const after = (await client.listTools()).tools.map((tool) => tool.name);
  assert.ok(!after.includes('echo') && after.length > 0, `echo hidden after the reload, the rest listed: ${after.join(', ')}`);
});
