// Per-tenant quotas: requests per day shared by all of a tenant's APIs (the SDK client gets
// GH_QUOTA_EXCEEDED once they are used up, the other tenant is unaffected), against the real
// server-everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { INIT_REQUEST, LOCAL_EGRESS, MCP_HEADERS, raw, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';

let everything: RunningEverything;
let gh: TestGateway;

before(async () => {
  everything = await startEverything();
  gh = await startTestGateway({
    tenants: [{ id: 'acme', quotas: { requestsPerDay: 5 }, egress: LOCAL_EGRESS }, { id: 'globex', egress: LOCAL_EGRESS }],
    servers: {
      acme: { url: `${everything.origin}/mcp`, tenant: 'acme' },
      globex: { url: `${everything.origin}/mcp`, tenant: 'globex' },
    },
    apis: [
      { name: 'acme-one', path: '/acme/one', server: 'acme', tenant: 'acme', auth: { type: 'keyless' } },
      { name: 'acme-two', path: '/acme/two', server: 'acme', tenant: 'acme', auth: { type: 'keyless' } },
      { name: 'globex', path: '/globex', server: 'globex', tenant: 'globex', auth: { type: 'keyless' } },
    ],
  });
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

async function connect(api: string): Promise<{ client: Client; close(): Promise<void> }> {
  const client = new Client({ name: 'quota-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(gh.url(api)));
  await client.connect(transport);
  return { client, close: async () => (await transport.terminateSession().catch(() => undefined), await client.close()) };
}

test('a tenant\'s requests per day are counted across its APIs; beyond them 429 GH_QUOTA_EXCEEDED until midnight UTC; the other tenant is unaffected', async () => {
  const one = await connect('acme-one'); // initialize: 1
  try {
    await one.client.listTools(); // 2
    await one.client.callTool({ name: 'echo', arguments: { message: 'a' } }); // 3
    const two = await connect('acme-two'); // 4
    try {
      await two.client.callTool({ name: 'echo', arguments: { message: 'b' } }); // 5
      await assert.rejects(two.client.callTool({ name: 'echo', arguments: { message: 'c' } }), /Quota of tenant \W+acme\W+ exhausted \(5 requests per day, UTC\).*GH_QUOTA_EXCEEDED/);
    } finally {
      await two.close();
    }
    await assert.rejects(one.client.listTools(), /Quota of tenant \W+acme\W+ exhausted/);
  } finally {
    await one.close();
  }
  const refused = await raw(gh.url('acme-one'), { headers: { ...MCP_HEADERS }, body: INIT_REQUEST });
  assert.equal(refused.status, 429);
  const retry = Number(refused.headers.get('retry-after'));
  const midnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1);
  assert.ok(retry >= 1 && retry <= Math.ceil((midnight - Date.now()) / 1000) + 1, `Retry-After ${retry} points at midnight UTC`);
  assert.equal((refused.messages[0] as { error: { data?: { code?: string } } }).error.data?.code, 'GH_QUOTA_EXCEEDED');
  const globex = await connect('globex');
  try {
    for (let i = 0; i < 6; i++) await globex.client.listTools();
  } finally {
    await globex.close();
  }
});
