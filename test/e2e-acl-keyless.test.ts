// ACL end to end on a keyless API: list filtering (JSON and SSE, HTTP and stdio upstreams),
// hidden items answered exactly like missing ones, argument constraints, default deny.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../src/config/schema.ts';
import { connectClient, everythingStdioCommand, raw, rawSession, sessionHeaders, startEverything, startTestGateway } from './helpers/gatehouse.ts';

const ECHO_ONLY: NonNullable<ConfigInput['apis'][number]['policies']>[number] = {
  acl: {
    rules: [
      {
        features: [
          { type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } },
          { type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'get-sum' }, arguments: { a: { min: 0, max: 100 }, b: { min: 0, max: 100 } } },
          { type: 'prompts', methods: ['prompts/list', 'prompts/get'], pattern: { type: 'glob', value: 'simple-*' } },
          { type: 'resources', methods: ['resources/list', 'resources/read'], pattern: { type: 'glob', value: 'demo://resource/static/document/*' } },
        ],
      },
      { effect: 'deny', features: [{ type: 'resources', methods: ['resources/read', 'resources/list'], pattern: { type: 'regex', value: '.*extension\\.md' } }] },
    ],
  },
};

test('an ACL filters lists and hides everything else, on HTTP and stdio upstreams', async (t) => {
  const everything = await startEverything();
  const stdio = everythingStdioCommand();
  const gh = await startTestGateway({
    servers: { http: { url: `${everything.origin}/mcp` }, stdio: { command: stdio.command, args: stdio.args } },
    apis: [
      { name: 'http', path: '/mcp', server: 'http', policies: [ECHO_ONLY] },
      { name: 'stdio', path: '/stdio', server: 'stdio', policies: [ECHO_ONLY] },
      { name: 'nothing', path: '/nothing', server: 'http', policies: [{ acl: { rules: [] } }] },
      { name: 'open', path: '/open', server: 'http' },
    ],
  });
  t.after(async () => {
    await gh.close();
    await everything.close();
  });

  for (const api of ['http', 'stdio']) {
    const { client, close } = await connectClient(gh.url(api));
    const tools = await client.listTools();
    assert.deepEqual(tools.tools.map((x) => x.name).sort(), ['echo', 'get-sum'], `${api}: only allowed tools are listed`);
    assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'hi' } })).content, [{ type: 'text', text: 'Echo: hi' }]);
    const prompts = await client.listPrompts();
    assert.deepEqual(prompts.prompts.map((p) => p.name), ['simple-prompt']);
    const resources = await client.listResources();
    const uris = resources.resources.map((r) => r.uri);
    assert.ok(uris.length > 0 && uris.every((u) => u.startsWith('demo://resource/static/document/')), `${api}: only documents listed`);
    assert.ok(!uris.some((u) => u.endsWith('extension.md')), 'deny overrides allow');
    await close();
  }

  // Hidden answers look exactly like missing ones: compare with an unfiltered API.
  const open = await rawSession(gh.url('open'));
  const filtered = await rawSession(gh.url('http'));
  const ask = async (sid: string, url: string, body: object) => (await raw(url, { headers: sessionHeaders(sid), body })).messages[0];
  const cases: Array<[object, object]> = [
    [{ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'get-env', arguments: {} } }, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'no-such-tool-get-env', arguments: {} } }],
    [{ jsonrpc: '2.0', id: 8, method: 'prompts/get', params: { name: 'args-prompt' } }, { jsonrpc: '2.0', id: 8, method: 'prompts/get', params: { name: 'no-such-prompt' } }],
  ];
  for (const [hiddenReq, missingReq] of cases) {
    const hiddenAnswer = await ask(filtered, gh.url('http'), hiddenReq);
    const missingAnswer = await ask(open, gh.url('open'), missingReq);
    const hiddenName = (hiddenReq as { params: { name: string } }).params.name;
    const missingName = (missingReq as { params: { name: string } }).params.name;
    assert.deepEqual(hiddenAnswer, JSON.parse(JSON.stringify(missingAnswer).replace(missingName, hiddenName)), 'hidden is answered like missing');
  }

  // Bypass attempts.
  const bypass = async (body: string) => JSON.stringify((await raw(gh.url('http'), { headers: sessionHeaders(filtered), body })).messages);
  assert.match(await bypass('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","name":"get-env","arguments":{}}}'), /Tool get-env not found/, 'duplicate keys: the last one is what is decided and forwarded');
  assert.match(await bypass('{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"Echo","arguments":{"message":"x"}}}'), /Tool Echo not found/, 'case variant');
  assert.match(await bypass('{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"ech\\u043e","arguments":{"message":"x"}}}'), /not found/, 'Unicode look-alike');
  // Other spellings of a URI are refused (GH_URI_NOT_CANONICAL), naming the canonical one.
  assert.match(await bypass('{"jsonrpc":"2.0","id":12,"method":"resources/read","params":{"uri":"demo://resource/static/document/../../dynamic/text/1"}}'), /"canonical":"demo:\/\/resource\/dynamic\/text\/1","code":"GH_URI_NOT_CANONICAL"/, 'dot segments');
  assert.match(await bypass('{"jsonrpc":"2.0","id":13,"method":"resources/read","params":{"uri":"demo://resource/static/document/%2e%2e/extension.md"}}'), /GH_URI_NOT_CANONICAL/, 'encoded dots');
  assert.match(await bypass('{"jsonrpc":"2.0","id":14,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"completable-prompt"},"argument":{"name":"department","value":"E"}}}'), /Prompt completable-prompt not found/, 'completion against a hidden prompt');
  assert.match(await bypass('{"jsonrpc":"2.0","id":15,"method":"foo/bar","params":{}}'), /Method not found/, 'unlisted methods are refused');

  // Argument constraints: a bad value refused with the argument named, a good one passes.
  const bad = await bypass('{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"get-sum","arguments":{"a":1000,"b":1}}}');
  assert.match(bad, /-32602/);
  assert.match(bad, /argument \\"a\\" must be at most 100/);
  assert.match(await bypass('{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"get-sum","arguments":{"a":2,"b":3}}}'), /5/);

  // No rules: clients connect, lists are empty, calls are refused.
  const nothing = await connectClient(gh.url('nothing'));
  assert.equal((await nothing.client.listTools()).tools.length, 0);
  const refused = await nothing.client.callTool({ name: 'echo', arguments: { message: 'x' } });
  assert.equal(refused.isError, true);
  assert.equal(nothing.client.getServerCapabilities()?.tools, undefined, 'capabilities trimmed to what the agent may use');
  await nothing.close();
});
