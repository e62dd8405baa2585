// examples/federated.yaml, as written, with real peers: server-everything over Streamable HTTP,
// server-memory and server-filesystem over stdio on a temporary folder (their bins run from
// node_modules instead of npx). The federated /mcp and the virtual server /support.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { REPO_ROOT, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { filesystemServer, memoryServer, publicFolder } from './helpers/federation-peers.ts';
import { loadConfigFile } from '../src/config/load.ts';

const KEY = 'federated-example-key-0123456789';
let everything: RunningEverything;
let gh: TestGateway;
let folder: string;
let faq: string;

before(async () => {
  everything = await startEverything();
  ({ folder, faq } = publicFolder());
  const config = await loadConfigFile(path.join(REPO_ROOT, 'examples', 'federated.yaml'), { EVERYTHING_URL: `${everything.origin}/mcp`, PUBLIC_DIR: folder });
  // The example's servers, run from node_modules rather than fetched by npx; args as written.
  const files = config.servers.files as { args: string[] };
  assert.equal(files.args.at(-1), folder, 'the example hands PUBLIC_DIR to server-filesystem');
  config.servers.memory = { ...config.servers.memory!, ...memoryServer() } as (typeof config.servers)[string];
  config.servers.files = { ...config.servers.files!, ...filesystemServer(folder) } as (typeof config.servers)[string];
  gh = await startTestGateway({ ...config, agents: [{ id: 'helper', apiKeys: [{ value: KEY }], labels: {} }], listen: { host: '127.0.0.1', port: 0 } } as never);
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

async function connect(api: string): Promise<Client> {
  const client = new Client({ name: 'example-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url(api)), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
  return client;
}

test('examples/federated.yaml: /mcp lists and calls the three servers, namespaced', { timeout: 30_000 }, async () => {
  const client = await connect('workspace');
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const name of ['everything__echo', 'memory__create_entities', 'files__read_text_file']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.deepEqual((await client.callTool({ name: 'everything__echo', arguments: { message: 'one endpoint' } })).content, [{ type: 'text', text: 'Echo: one endpoint' }]);
    assert.match(JSON.stringify((await client.callTool({ name: 'memory__read_graph', arguments: {} })).content), /entities/);
    assert.match(JSON.stringify((await client.callTool({ name: 'files__read_text_file', arguments: { path: faq } })).content), /Is Gatehouse a gateway/);
  } finally {
    await client.close();
  }
});

test('examples/federated.yaml: /support exposes exactly its selection, renamed, re-described, with the fixed argument injected and refused', { timeout: 30_000 }, async () => {
  const client = await connect('support-bot');
  try {
    const tools = (await client.listTools()).tools;
    assert.deepEqual(tools.map((t) => t.name), ['say', 'read_text_file'], 'exactly the selection, in the order of the servers');
    const say = tools.find((t) => t.name === 'say')!;
    assert.equal(say.description, 'Repeat the user\'s message back to them.');
    const read = tools.find((t) => t.name === 'read_text_file')!;
    assert.equal((read.inputSchema.properties as Record<string, unknown>).path, undefined, 'the fixed argument left the schema');
    assert.ok(!(read.inputSchema.required ?? []).includes('path'));

    assert.deepEqual((await client.callTool({ name: 'say', arguments: { message: 'hello' } })).content, [{ type: 'text', text: 'Echo: hello' }]);
    // The fixed path is injected: the call names no path, and reads the FAQ.
    assert.match(JSON.stringify((await client.callTool({ name: 'read_text_file', arguments: {} })).content), /Is Gatehouse a gateway/);
    // Passing it is refused (-32602), whatever the value.
    await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path: '/etc/passwd' } }), (error: Error & { code?: number }) => {
      assert.equal(error.code, -32602);
      assert.match(error.message, /argument "path" is set by the gateway and cannot be passed/);
      return true;
    });
    // Names outside the selection, the original name of a renamed tool included, are unknown.
    for (const name of ['echo', 'everything__echo', 'get-sum', 'write_file']) {
      assert.deepEqual((await client.callTool({ name, arguments: {} })).content, [{ type: 'text', text: `MCP error -32602: Tool ${name} not found` }], name);
    }
    assert.deepEqual((await client.listPrompts()).prompts.map((p) => p.name), ['simple-prompt']);
    assert.match(JSON.stringify((await client.getPrompt({ name: 'simple-prompt' })).messages), /simple prompt/i);
    await assert.rejects(client.getPrompt({ name: 'args-prompt', arguments: { city: 'x' } }), /Prompt args-prompt not found/);
  } finally {
    await client.close();
  }
});
