// ACL: filtering across list pages, a CEL condition on a JWT claim switching a tool on and off,
// and the bypass routes that remain: batches, tasks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connectClient, raw, rawSession, sessionHeaders, startEverything, startTestGateway } from './helpers/gatehouse.ts';
import { PAGED_TOOLS, startPagedServer } from './helpers/paged-server.ts';

test('every page of a paginated list is filtered, cursors pass through', async (t) => {
  const paged = await startPagedServer();
  const gh = await startTestGateway({
    servers: { paged: { url: paged.url } },
    apis: [{ name: 'paged', path: '/mcp', server: 'paged', policies: [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'regex', value: 'tool_(0[2-3]|0[7-9]|11)' } }] }] } }] }],
  });
  t.after(async () => {
    await gh.close();
    await paged.close();
  });
  const { client, close } = await connectClient(gh.url());
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    seen.push(...page.tools.map((x) => x.name));
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 10);
  assert.equal(pages, Math.ceil(PAGED_TOOLS.length / 5), 'the client walked every page');
  assert.deepEqual(seen, ['tool_02', 'tool_03', 'tool_07', 'tool_08', 'tool_09', 'tool_11']);
  await close();
});

test('a CEL condition on a JWT claim switches a tool on and off', async (t) => {
  const everything = await startEverything();
  const secret = 'a-test-hmac-secret-of-enough-length-0123456789';
  const gh = await startTestGateway({
    servers: { e: { url: `${everything.origin}/mcp` } },
    apis: [
      {
        name: 'e',
        path: '/mcp',
        server: 'e',
        auth: { type: 'jwt', issuer: 'https://issuer.test', audience: 'gatehouse', secret },
        policies: [
          {
            acl: {
              rules: [
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] },
                { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'get-sum' } }], condition: '"math" in claims.scope.split(" ")' },
              ],
            },
          },
        ],
      },
    ],
  });
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const token = (scope: string) =>
    new SignJWT({ scope }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.test').setAudience('gatehouse').setSubject('agent-7').setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(secret));
  const tools = async (scope: string) => {
    const client = new Client({ name: 'claims', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gh.url()), { requestInit: { headers: { authorization: `Bearer ${await token(scope)}` } } }));
    const names = (await client.listTools()).tools.map((x) => x.name).sort();
    const sum = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    await client.close();
    return { names, sumRefused: sum.isError === true };
  };
  assert.deepEqual(await tools('mcp math'), { names: ['echo', 'get-sum'], sumRefused: false });
  assert.deepEqual(await tools('mcp'), { names: ['echo'], sumRefused: true });
});

test('batches and tasks cannot reach a hidden tool', async (t) => {
  const everything = await startEverything();
  const gh = await startTestGateway({
    servers: { e: { url: `${everything.origin}/mcp` } },
    apis: [{ name: 'e', path: '/mcp', server: 'e', policies: [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] }] } }] }],
  });
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const sid = await rawSession(gh.url());
  // A 2025-03-26 client may batch: a hidden call inside the batch stops it all.
  const batch = await raw(gh.url(), {
    headers: { ...sessionHeaders(sid), 'mcp-protocol-version': '2025-03-26' },
    body: [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x' } } },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get-env', arguments: {} } },
    ],
  });
  const answers = batch.messages[0] as Array<{ id: number; result?: { isError?: boolean; content: Array<{ text: string }> }; error?: { code: number } }>;
  assert.equal(batch.status, 200);
  const hidden = answers.find((a) => a.id === 2)!;
  assert.match(hidden.result!.content[0]!.text, /Tool get-env not found/);
  assert.equal(answers.find((a) => a.id === 1)!.error!.code, -32600, 'nothing of the batch was forwarded');
  // A task-augmented call of a hidden tool is refused like any call of it.
  const task = await raw(gh.url(), { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get-env', arguments: {}, task: { ttl: 60000 } } } });
  assert.match(JSON.stringify(task.messages), /Tool get-env not found/);
  // tasks/list works for the agent's own session (it only holds tasks of allowed calls).
  const list = await raw(gh.url(), { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: 4, method: 'tasks/list' } });
  assert.equal(list.status, 200);
  assert.ok(!JSON.stringify(list.messages).includes('get-env'));
});
