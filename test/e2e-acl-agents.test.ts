// The ACL file, as written, with api-key agents: alice sees and calls only echo; bob
// sees every tool and calls none; anyone else sees nothing. Plus `gatehouse acl explain`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI, raw, rawSession, sessionHeaders, startEverything, startTestGateway, tempDir, writeConfig } from './helpers/gatehouse.ts';
import { parseConfigText } from '../src/config/load.ts';

const run = promisify(execFile);

const ALICE_KEY = 'alice-key-0123456789abcdef';
const BOB_KEY = 'bob-key-0123456789abcdef-bob';
const CAROL_KEY = 'carol-key-0123456789abcdef-c';

function configText(upstream: string): string {
  return `
servers:
  everything:
    url: ${upstream}
agents:
  - id: alice
    name: Alice's coding agent
    apiKeys:
      - value: \${env:ALICE_KEY}
  - id: bob
    apiKeys:
      - sha256: ${createHash('sha256').update(BOB_KEY).digest('hex')}
  - id: carol
    apiKeys:
      - value: \${env:CAROL_KEY}
apis:
  - name: everything
    path: /mcp
    server: everything
    auth:
      type: api-key
    policies:
      - acl:
          rules:
            - features:
                - type: tools
                  methods: [tools/list, tools/call]
                  pattern: { type: literal, value: echo }
              condition: 'agent.id == "alice"'
            - features:
                - type: tools
                  methods: [tools/list]
                  pattern: { type: any }
              condition: 'agent.id == "bob"'
`;
}

async function clientFor(url: string, key: string): Promise<{ client: Client; close(): Promise<void> }> {
  const client = new Client({ name: 'acl-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  await client.connect(transport);
  return { client, close: () => client.close() };
}

test('alice sees and calls only echo; bob sees every tool and calls none; carol sees nothing', async (t) => {
  const everything = await startEverything();
  const env = { ...process.env, ALICE_KEY, CAROL_KEY };
  const config = parseConfigText(configText(`${everything.origin}/mcp`), 'gatehouse.yaml', env);
  // A free port: the parsed file has the default listen.port (8080), which may be taken.
  const gh = await startTestGateway({ ...config, listen: { host: '127.0.0.1', port: 0 } } as never);
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const url = gh.url();

  const alice = await clientFor(url, ALICE_KEY);
  assert.deepEqual((await alice.client.listTools()).tools.map((x) => x.name), ['echo']);
  assert.deepEqual((await alice.client.callTool({ name: 'echo', arguments: { message: 'a' } })).content, [{ type: 'text', text: 'Echo: a' }]);
  assert.equal((await alice.client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })).isError, true);
  await alice.close();

  const bob = await clientFor(url, BOB_KEY);
  const bobTools = (await bob.client.listTools()).tools.map((x) => x.name);
  assert.ok(bobTools.length > 5 && bobTools.includes('echo'), 'bob sees every tool');
  const bobCall = await bob.client.callTool({ name: 'echo', arguments: { message: 'b' } });
  assert.equal(bobCall.isError, true, 'bob calls none');
  assert.deepEqual(bobCall.content, [{ type: 'text', text: 'MCP error -32602: Tool echo not found' }]);
  await bob.close();

  const carol = await clientFor(url, CAROL_KEY);
  assert.deepEqual((await carol.client.listTools()).tools, []);
  await carol.close();

  // A session opened by alice is not bob's: 404.
  const aliceSession = await rawSession(url, { authorization: `Bearer ${ALICE_KEY}` });
  const stolen = await raw(url, { headers: { ...sessionHeaders(aliceSession), authorization: `Bearer ${BOB_KEY}` }, body: { jsonrpc: '2.0', id: 3, method: 'tools/list' } });
  assert.equal(stolen.status, 404);

  // The decision trace is in the debug log.
  assert.ok(gh.logs.lines.some((l) => l.msg === 'acl decision' && JSON.stringify(l).includes('"rule":"rules[0]"')), 'decision trace logged');
});

test('gatehouse acl explain prints the decision and the rule without running the gateway', async () => {
  const file = writeConfig(configText('http://127.0.0.1:9/mcp'));
  const env = { ...process.env, ALICE_KEY, CAROL_KEY, GATEHOUSE_DATA_DIR: tempDir() };
  const explain = (...args: string[]) => run(process.execPath, [CLI, 'acl', 'explain', '--config', file, ...args], { env }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
  );
  const allowed = await explain('--agent', 'alice', '--method', 'tools/call', '--name', 'echo', '--args', '{"message":"x"}');
  assert.equal(allowed.code, 0);
  assert.match(allowed.out, /everything: allowed by rules\[0\]/);
  const bob = await explain('--agent', 'bob', '--method', 'tools/call', '--name', 'echo');
  assert.equal(bob.code, 1);
  assert.match(bob.out, /denied: no rule allows tools\/call of "echo" for agent bob/);
  const bobList = await explain('--agent', 'bob', '--method', 'tools/list', '--name', 'get-env');
  assert.match(bobList.out, /allowed by rules\[1\]/);
});
