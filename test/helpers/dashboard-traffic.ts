// A Gatehouse with real traffic for the dashboard tests: server-everything behind an api-key API
// with an ACL (alice and bob call tools, some calls are denied), an API whose upstream is down
// (errors), and a stdio API (children). Every HTTP request the SDK clients make is counted, so a
// test can compare what the dashboard shows with what was sent.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Gateway } from '../../src/gateway.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { everythingStdioCommand, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './gatehouse.ts';

export const ALICE_KEY = 'alice-dashboard-key-0123456789';
export const BOB_KEY = 'bob-dashboard-key-0123456789ab';
export const ADMIN_TOKEN = 'admin-dashboard-token-0123456789';

/** Tool calls each agent makes; get-env is not allowed by the ACL, so those calls are denied. */
export const CALLS = {
  alice: { echo: 3, 'get-sum': 2, 'get-env': 1 },
  bob: { echo: 1, 'get-env': 2 },
} as const;
export const DENIED_TOOL = 'get-env';
/** Alice's first get-sum call has a bad argument: server-everything answers it with a tool result marked isError. */
export const TOOL_ERRORS = { agent: 'alice', tool: 'get-sum', times: 1 } as const;
export const DOCUMENT = 'demo://resource/static/document/architecture.md';

export interface DashboardSetup {
  gh: TestGateway;
  gateway: Gateway;
  everything: RunningEverything;
  /** The admin listener's base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  admin: string;
  /** HTTP requests sent to each API's URL by the clients of this setup. */
  sent: Map<string, number>;
  /** An SDK client for an API; `key` is an agent's API key (api-key APIs). */
  connect(api: 'tools' | 'broken' | 'stdio', key?: string): Promise<{ client: Client; close(): Promise<void> }>;
  /** Resolves once every exchange sent so far is in the audit log's database. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startDashboardSetup(): Promise<DashboardSetup> {
  const everything = await startEverything();
  const stdio = everythingStdioCommand();
  const deadPort = await closedPort();
  const config: ConfigInput = {
    servers: {
      everything: { url: `${everything.origin}/mcp` },
      dead: { url: `http://127.0.0.1:${deadPort}/mcp` },
      'everything-stdio': { command: stdio.command, args: stdio.args },
    },
    agents: [
      { id: 'alice', apiKeys: [{ value: ALICE_KEY }] },
      { id: 'bob', apiKeys: [{ value: BOB_KEY }] },
    ],
    apis: [
      {
        name: 'tools',
        path: '/mcp',
        server: 'everything',
        auth: { type: 'api-key' },
        audit: { payloads: true },
        policies: [
          {
            acl: {
              rules: [
                {
                  name: 'everyday-tools',
                  features: [
                    { type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } },
                    { type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'get-sum' } },
                    { type: 'resources', methods: ['resources/list', 'resources/read'], pattern: { type: 'glob', value: 'demo://resource/static/document/*' } },
                    { type: 'prompts', methods: ['prompts/list', 'prompts/get'], pattern: { type: 'literal', value: 'simple-prompt' } },
                  ],
                },
              ],
            },
          },
        ],
      },
      { name: 'broken', path: '/broken', server: 'dead' },
      { name: 'stdio', path: '/stdio', server: 'everything-stdio' },
    ],
    audit: { batch: { interval: 20 } },
    admin: { token: ADMIN_TOKEN },
  };
  const gh = await startTestGateway(config);
  const gateway = gh.gateway;
  if (!gateway.admin) throw new Error('the admin listener did not start');
  const admin = gateway.admin.url.replace(/\/$/, '');
  const sent = new Map<string, number>();
  const total = () => [...sent.values()].reduce((a, b) => a + b, 0);

  const connect: DashboardSetup['connect'] = async (api, key) => {
    const url = gh.url(api);
    const counting = (input: string | URL | Request, init?: RequestInit) => {
      sent.set(api, (sent.get(api) ?? 0) + 1);
      return fetch(input, init);
    };
    const client = new Client({ name: `dashboard-test-${api}`, version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      fetch: counting,
      ...(key ? { requestInit: { headers: { authorization: `Bearer ${key}` } } } : {}),
    });
    await client.connect(transport);
    return {
      client,
      close: async () => {
        await transport.terminateSession().catch(() => undefined);
        await client.close();
      },
    };
  };

  return {
    gh,
    gateway,
    everything,
    admin,
    sent,
    connect,
    settle: async () => {
      const audit = gateway.audit;
      if (!audit) throw new Error('the audit log is off');
      // An exchange is recorded when its response has closed, a moment after the client read it.
      const deadline = Date.now() + 20_000;
      while (audit.counters.enqueued < total()) {
        if (Date.now() > deadline) throw new Error(`the audit log has ${audit.counters.enqueued} records for ${total()} requests sent`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await audit.flush();
    },
    close: async () => {
      await gh.close();
      await everything.close();
    },
  };
}

/** The traffic of the tests: tool calls by alice and bob (some denied, one a tool error), a read, a prompt, and a failed connection. */
export async function sendTraffic(setup: DashboardSetup): Promise<void> {
  for (const [agent, key] of [['alice', ALICE_KEY], ['bob', BOB_KEY]] as const) {
    const { client, close } = await setup.connect('tools', key);
    if (agent === 'alice') await client.listTools();
    for (const [tool, times] of Object.entries(CALLS[agent])) {
      for (let i = 0; i < times; i++) {
        const toolError = agent === TOOL_ERRORS.agent && tool === TOOL_ERRORS.tool && i < TOOL_ERRORS.times;
        const result = await client.callTool({ name: tool, arguments: tool === 'echo' ? { message: `${agent} ${i}` } : tool === 'get-sum' ? { a: toolError ? 'not a number' : i, b: 2 } : {} });
        if ((tool === DENIED_TOOL || toolError) !== (result.isError === true)) throw new Error(`${agent} ${tool}: unexpected outcome ${JSON.stringify(result)}`);
      }
    }
    if (agent === 'bob') {
      await client.readResource({ uri: DOCUMENT });
      await client.getPrompt({ name: 'simple-prompt' });
    }
    await close();
  }
  // The upstream of "broken" is down: the client cannot even initialize.
  await setup.connect('broken').then(
    (c) => c.close().then(() => Promise.reject(new Error('the broken API answered'))),
    () => undefined,
  );
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
