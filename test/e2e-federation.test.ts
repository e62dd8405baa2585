// Federated APIs end to end: the SDK client as the agent, against four real servers of different
// kinds behind one endpoint — server-everything over Streamable HTTP, server-memory and
// server-filesystem over stdio (on a temporary folder), and an SDK server answering in JSON.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMessageRequestSchema, ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, raw, rawSession, sessionHeaders, startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { filesystemServer, memoryServer, startFederationPeers, type FederationPeers } from './helpers/federation-peers.ts';
import { SDK_NOTE_TEXT, SDK_NOTE_URI } from './helpers/sdk-server.ts';
import { waitUntil } from './helpers/lifecycle-procs.ts';
import { startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';

let peers: FederationPeers;
let gh: TestGateway;
/** Records what reaches server-everything. */
let recorder: RecordingProxy;

before(async () => {
  peers = await startFederationPeers();
  recorder = await startRecordingProxy(peers.everything.origin);
  gh = await startTestGateway({
    servers: {
      everything: { url: `${recorder.origin}/mcp` },
      memory: memoryServer(),
      files: filesystemServer(peers.folder),
      sdk: { url: peers.sdk.url },
      ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`e${i}`, { url: `${peers.everything.origin}/mcp` }])),
    },
    apis: [
      { name: 'three', path: '/three', servers: ['e0', 'e1', 'e2'], auth: { type: 'keyless' } },
      { name: 'ten', path: '/ten', servers: Array.from({ length: 10 }, (_, i) => `e${i}`), auth: { type: 'keyless' } },
      { name: 'workspace', path: '/mcp', servers: ['everything', 'memory', 'files', 'sdk'], namespace: { prefix: 'always', separator: '__' }, auth: { type: 'keyless' } },
      { name: 'never', path: '/never', servers: ['everything', 'sdk'], namespace: { prefix: 'never' }, auth: { type: 'keyless' } },
      { name: 'conflicts', path: '/conflicts', servers: ['everything', 'sdk'], namespace: { prefix: 'conflicts' }, auth: { type: 'keyless' } },
    ],
  });
});

after(async () => {
  await gh?.close();
  await recorder?.close();
  await peers?.close();
});

test('initialize speaks for the servers: Gatehouse named, capabilities merged, instructions combined', { timeout: 30_000 }, async () => {
  const c = await connectClient(gh.url('workspace'));
  try {
    assert.equal(c.client.getServerVersion()?.name, 'gatehouse');
    const caps = c.client.getServerCapabilities()!;
    assert.deepEqual(caps.tools, { listChanged: true });
    assert.deepEqual(caps.prompts, { listChanged: true });
    assert.equal(caps.resources?.subscribe, true, 'server-everything offers subscriptions');
    assert.ok(caps.logging && caps.completions);
    assert.match(c.client.getInstructions() ?? '', /^## everything\n/, 'server-everything\'s instructions, under its name');
  } finally {
    await c.close();
  }
});

test('the union of four servers is listed, namespaced, in a deterministic order; each is called', { timeout: 30_000 }, async () => {
  const c = await connectClient(gh.url('workspace'));
  try {
    const names = (await c.client.listTools()).tools.map((t) => t.name);
    const servers = names.map((n) => n.split('__')[0]);
    assert.deepEqual([...new Set(servers)], ['everything', 'memory', 'files', 'sdk'], 'servers in config order, each one\'s tools together');
    for (const name of ['everything__echo', 'memory__create_entities', 'files__read_text_file', 'sdk__add']) assert.ok(names.includes(name), name);
    assert.deepEqual((await c.client.listTools()).tools.map((t) => t.name), names, 'the same order the second time');

    assert.deepEqual((await c.client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } })).content, [{ type: 'text', text: 'Echo: hi' }]);
    assert.deepEqual((await c.client.callTool({ name: 'sdk__add', arguments: { a: 2, b: 3 } })).content, [{ type: 'text', text: '5' }]);
    await c.client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'Gatehouse', entityType: 'gateway', observations: ['federates'] }] } });
    assert.match(JSON.stringify((await c.client.callTool({ name: 'memory__read_graph', arguments: {} })).content), /Gatehouse/);
    const faq = await c.client.callTool({ name: 'files__read_text_file', arguments: { path: peers.faq } });
    assert.match(JSON.stringify(faq.content), /Is Gatehouse a gateway/);

    const prompts = (await c.client.listPrompts()).prompts.map((p) => p.name);
    assert.ok(prompts.includes('everything__simple-prompt') && prompts.includes('sdk__greeting'), prompts.join(', '));
    const greeting = await c.client.getPrompt({ name: 'sdk__greeting', arguments: { name: 'Ada' } });
    assert.match(JSON.stringify(greeting.messages), /Say hello to Ada/);
    const completion = await c.client.complete({ ref: { type: 'ref/prompt', name: 'everything__completable-prompt' }, argument: { name: 'department', value: 'Eng' } });
    assert.deepEqual(completion.completion.values, ['Engineering'], 'a completion names the prompt by its federated name and reaches its server');
  } finally {
    await c.close();
  }
});

test('a resource of each server that has resources is read; a URI no server listed is answered as unknown', { timeout: 30_000 }, async () => {
  const c = await connectClient(gh.url('workspace'));
  try {
    const uris = (await c.client.listResources()).resources.map((r) => r.uri);
    assert.ok(uris.includes(SDK_NOTE_URI), 'the SDK server\'s note is listed');
    const demo = uris.find((u) => u.startsWith('demo://'));
    assert.ok(demo, 'server-everything\'s resources are listed');
    const read = await c.client.readResource({ uri: demo });
    assert.equal(read.contents[0]?.uri, demo);
    assert.deepEqual((await c.client.readResource({ uri: SDK_NOTE_URI })).contents[0], { uri: SDK_NOTE_URI, mimeType: 'text/plain', text: SDK_NOTE_TEXT });
    // A template of server-everything routes a URI it fits.
    const templates = (await c.client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    assert.ok(templates.length > 0);
    await assert.rejects(c.client.readResource({ uri: 'nowhere://nothing' }), /Resource nowhere:\/\/nothing not found/);
  } finally {
    await c.close();
  }
});

test('sampling and elicitation raised by server-everything reach the client, and its answers go back; progress arrives', { timeout: 30_000 }, async () => {
  const c = await connectClient(gh.url('workspace'), { capabilities: { capabilities: { sampling: {}, elicitation: {} } } });
  try {
    const sampled: string[] = [];
    c.client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const content = request.params.messages[0]?.content;
      sampled.push(content && 'text' in content ? String(content.text) : '');
      return { role: 'assistant', model: 'test-model', content: { type: 'text', text: 'sampled by the test client' } };
    });
    c.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada Lovelace' } }));
    const names = (await c.client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('everything__trigger-sampling-request'), 'the client\'s capabilities reached the server (it offers its sampling tool)');
    // Two servers' requests in flight at once: ids are Gatehouse's own, so they never meet.
    const [sampling, elicitation] = await Promise.all([
      c.client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'write a haiku' } }),
      c.client.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} }),
    ]);
    assert.match(sampled[0]!, /write a haiku/);
    assert.match(JSON.stringify(sampling.content), /sampled by the test client/);
    assert.match(JSON.stringify(elicitation.content), /Ada Lovelace/);

    const progress: number[] = [];
    await c.client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 3 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    assert.deepEqual(progress, [1, 2, 3]);
    // The JSON-answering SDK server sends its progress on its standalone stream, which races its
    // answer on the POST (the answer often wins, and the client then drops the late progress):
    // only the answer is checked here.
    const counted = await c.client.callTool({ name: 'sdk__count', arguments: { steps: 2 } }, undefined, { onprogress: () => undefined });
    assert.deepEqual(counted.content, [{ type: 'text', text: 'counted to 2' }]);
  } finally {
    await c.close();
  }
});

test('a prefixed name answers only under its exact spelling; an unknown one is answered like an unknown tool', { timeout: 30_000 }, async () => {
  const c = await connectClient(gh.url('workspace'));
  try {
    for (const name of ['echo', 'EVERYTHING__echo', 'everything_echo', 'everything.echo', 'everything__ECHO', 'sdk__echo__', '__echo', 'nobody__echo']) {
      const result = await c.client.callTool({ name, arguments: { message: 'x' } });
      assert.equal(result.isError, true, name);
      assert.deepEqual(result.content, [{ type: 'text', text: `MCP error -32602: Tool ${name} not found` }], name);
    }
  } finally {
    await c.close();
  }
});

test('a colliding name under prefix never is a clear error naming both servers; conflicts prefixes only what collides', { timeout: 30_000 }, async () => {
  const never = await connectClient(gh.url('never'));
  try {
    await assert.rejects(never.client.listTools(), (error: Error) => {
      assert.match(error.message, /Tool name "echo" is offered by servers "everything" and "sdk" of API "never" \(namespace.prefix: never\)/);
      return true;
    });
    const call = await never.client.callTool({ name: 'echo', arguments: { message: 'x' } }).catch((e: Error) => e);
    assert.ok(call instanceof Error && /offered by servers "everything" and "sdk"/.test(call.message), 'a call of the colliding name reaches neither server');
  } finally {
    await never.close();
  }
  const conflicts = await connectClient(gh.url('conflicts'));
  try {
    const names = (await conflicts.client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('everything__echo') && names.includes('sdk__echo') && !names.includes('echo'), names.join(', '));
    assert.ok(names.includes('add') && names.includes('get-sum'), 'names only one server offers stay as they are');
    assert.deepEqual((await conflicts.client.callTool({ name: 'add', arguments: { a: 1, b: 1 } })).content, [{ type: 'text', text: '2' }]);
    assert.deepEqual((await conflicts.client.callTool({ name: 'sdk__echo', arguments: { message: 'm' } })).content, [{ type: 'text', text: 'Echo: m' }]);
  } finally {
    await conflicts.close();
  }
});

test('a stdio child that dies is started again for that server; the client session stays whole', { timeout: 40_000 }, async () => {
  const c = await connectClient(gh.url('workspace'));
  try {
    const changed: number[] = [];
    c.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changed.push(Date.now());
    });
    await c.client.callTool({ name: 'memory__read_graph', arguments: {} });
    const memoryChildren = () => gh.logs.lines.filter((l) => l.msg === 'started stdio server' && l.member === 'memory').map((l) => l.pid as number);
    const pids = memoryChildren();
    const pid = pids[pids.length - 1];
    assert.ok(pid, 'the memory child logged its pid');
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => memoryChildren().length > pids.length, 'a new memory child', 15_000);
    await waitUntil(() => changed.length >= 2, 'list_changed when it went and when it came back', 15_000);
    assert.match(JSON.stringify((await c.client.callTool({ name: 'memory__read_graph', arguments: {} })).content), /entities/);
    assert.deepEqual((await c.client.callTool({ name: 'everything__echo', arguments: { message: 'still' } })).content, [{ type: 'text', text: 'Echo: still' }]);
  } finally {
    await c.close();
  }
});

test('the merged list is cached per upstream session: a second tools/list costs no upstream round trip', { timeout: 30_000 }, async () => {
  const c = await connectClient(gh.url('workspace'));
  try {
    const lists = () => recorder.exchanges.filter((e) => e.body.includes('"tools/list"')).length;
    const start = lists();
    await c.client.listTools();
    assert.equal(lists(), start + 1, 'the first list of the session asks server-everything');
    for (let i = 0; i < 20; i++) await c.client.listTools();
    assert.equal(lists(), start + 1, 'later lists are answered from the session\'s cache');
    // server-everything says its list changed: the next list asks again.
    await c.client.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} }).catch(() => undefined);
  } finally {
    await c.close();
  }
});

test('a call under prefix always asks only its own server for its list: the first call of a session fetched every server\'s list', { timeout: 30_000 }, async () => {
  const c = await connectClient(gh.url('workspace'));
  try {
    const lists = () => recorder.exchanges.filter((e) => e.body.includes('"tools/list"')).length;
    const start = lists();
    const other = await c.client.callTool({ name: 'memory__read_graph', arguments: {} });
    assert.notEqual(other.isError, true);
    assert.equal(lists(), start, 'a call to another server does not list server-everything\'s tools');
    const own = await c.client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
    assert.match(JSON.stringify(own.content), /hi/);
    assert.equal(lists(), start + 1, 'a call to server-everything checks its name against its list, once');
    await c.client.callTool({ name: 'everything__echo', arguments: { message: 'again' } });
    assert.equal(lists(), start + 1, 'the list is cached for the session');
    const unknown = await c.client.callTool({ name: 'everything__no-such-tool', arguments: {} });
    assert.equal(unknown.isError, true);
    assert.match(JSON.stringify(unknown.content), /Tool everything__no-such-tool not found/, 'a name its server does not list is answered as an unknown tool');
    assert.equal(lists(), start + 1);
  } finally {
    await c.close();
  }
});

test('a session id is answered 404 on another API; raw initialize gets the merged answer with one session id', { timeout: 30_000 }, async () => {
  const sid = await rawSession(gh.url('workspace'));
  const other = await raw(gh.url('never'), { method: 'POST', headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
  assert.equal(other.status, 404);
  const own = await raw(gh.url('workspace'), { method: 'POST', headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: 1, method: 'ping' } });
  assert.equal(own.status, 200);
});

test('the sealed session id does not grow with the servers: the same size with 3 and 10 (member sessions are kept in the store, not in the id)', { timeout: 30_000 }, async () => {
  const three = await rawSession(gh.url('three'));
  const ten = await rawSession(gh.url('ten'));
  const single = await rawSession(gh.url('workspace'));
  // Only the API's name (in the sealed claims) makes them differ: "three" is two characters longer than "ten".
  assert.ok(Math.abs(three.length - ten.length) <= 4, `${three.length} vs ${ten.length}`);
  assert.ok(Math.abs(single.length - ten.length) <= 12, `${single.length} vs ${ten.length}`);
  assert.ok(ten.length < 200, `session id of ${ten.length} characters`);
  process.stdout.write(`# session id: ${three.length} characters with 3 servers, ${ten.length} with 10\n`);
  const c = await connectClient(gh.url('ten'));
  try {
    const names = (await c.client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('e0__echo') && names.includes('e9__echo'));
  } finally {
    await c.close();
  }
});
