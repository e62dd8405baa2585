// A federated session whose servers are all Streamable HTTP lives in the store every node shares:
// the SDK client's session opened on node A continues on node B (same session key, same store),
// and on a node started again after both stopped, on the same upstream sessions (no new
// initialize reaches the servers). A server that lost its session meanwhile gets a new one,
// transparently. Both nodes are Gatehouse instances in this process, each with its own data
// directory, on one SQLite store file (as e2e-oauth-revocation.test.ts runs two nodes).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startEverything, startTestGateway, tempDir, type TestGateway } from './helpers/gatehouse.ts';
import { startSdkServer, type RunningSdkServer } from './helpers/sdk-server.ts';
import { startRecordingProxy } from './helpers/http-peers.ts';
import { freePort } from './helpers/lifecycle-procs.ts';
import { startTaskMember } from './helpers/task-members.ts';
import { CallToolResultSchema, CreateTaskResultSchema, GetTaskResultSchema, ListTasksResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ConfigInput } from '../src/config/schema.ts';

const KEY = 'alice-key-federation-nodes-0123456';
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function client(url: string, sessionId?: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { sessionId, requestInit: { headers: { authorization: `Bearer ${KEY}` } } });
  const c = new Client({ name: 'nodes-test', version: '1.0.0' });
  // With a session id the SDK client does not initialize again: it continues that session.
  await c.connect(transport);
  return { client: c, transport };
}

const initializes = (exchanges: ReadonlyArray<{ method: string; body: string }>) => exchanges.filter((e) => e.method === 'POST' && e.body.includes('"method":"initialize"')).length;

test('a federated session of HTTP servers continues on another node and after a restart, on the same upstream sessions', { timeout: 90_000 }, async () => {
  const everything = await startEverything();
  cleanups.push(() => everything.close());
  const sdkPort = await freePort();
  let sdk: RunningSdkServer = await startSdkServer('json', { port: sdkPort });
  cleanups.push(() => sdk.close());
  const sse = await startSdkServer('sse');
  cleanups.push(() => sse.close());
  const recorder = await startRecordingProxy(`http://127.0.0.1:${sdkPort}`);
  cleanups.push(() => recorder.close());

  const dir = tempDir();
  const config: Omit<ConfigInput, 'listen'> = {
    store: { type: 'sqlite', file: path.join(dir, 'shared.db') },
    servers: { everything: { url: `${everything.origin}/mcp` }, sdk: { url: `${recorder.origin}/mcp` }, sse: { url: sse.url } },
    agents: [{ id: 'alice', apiKeys: [{ value: KEY }] }],
    apis: [{ name: 'workspace', path: '/mcp', servers: ['everything', 'sdk', 'sse'], auth: { type: 'api-key' } }],
  } as Omit<ConfigInput, 'listen'>;
  const key = randomBytes(32).toString('hex');
  const node = async (name: string): Promise<TestGateway> => {
    const gh = await startTestGateway(config, { key, dataDir: path.join(dir, name) });
    cleanups.push(() => gh.close());
    return gh;
  };

  const a = await node('a');
  const b = await node('b');
  const onA = await client(a.url('workspace'));
  const sessionId = onA.transport.sessionId!;
  assert.ok(sessionId, 'node A issued a session id');
  const names = (await onA.client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes('everything__echo') && names.includes('sdk__add') && names.includes('sse__add'), `the union is listed: ${names.join(', ')}`);
  assert.deepEqual((await onA.client.callTool({ name: 'sdk__add', arguments: { a: 1, b: 2 } })).content, [{ type: 'text', text: '3' }]);
  assert.equal(initializes(recorder.exchanges), 1, 'one upstream session on the sdk server');

  // Node B continues the session A opened: same client session id, no new upstream session.
  const onB = await client(b.url('workspace'), sessionId);
  assert.deepEqual((await onB.client.callTool({ name: 'everything__echo', arguments: { message: 'on B' } })).content, [{ type: 'text', text: 'Echo: on B' }]);
  assert.deepEqual((await onB.client.callTool({ name: 'sdk__add', arguments: { a: 2, b: 2 } })).content, [{ type: 'text', text: '4' }]);
  assert.deepEqual((await onB.client.callTool({ name: 'sse__add', arguments: { a: 3, b: 3 } })).content, [{ type: 'text', text: '6' }]);
  assert.equal((await onB.client.listTools()).tools.length, names.length, 'the same merged list on node B');
  assert.equal(initializes(recorder.exchanges), 1, 'node B took the upstream session over (no initialize)');

  // Both nodes stop (their hold on the session ends; the upstream sessions and the store row stay),
  // and a node started again on the same store continues it.
  await onA.transport.close();
  await onB.transport.close();
  await a.close();
  await b.close();
  const c = await node('c');
  const onC = await client(c.url('workspace'), sessionId);
  cleanups.push(() => onC.client.close());
  assert.deepEqual((await onC.client.callTool({ name: 'sdk__add', arguments: { a: 5, b: 5 } })).content, [{ type: 'text', text: '10' }]);
  assert.deepEqual((await onC.client.callTool({ name: 'everything__echo', arguments: { message: 'after restart' } })).content, [{ type: 'text', text: 'Echo: after restart' }]);
  assert.equal(initializes(recorder.exchanges), 1, 'after the restart, still the same upstream session');

  // A server restarted meanwhile has forgotten its session: it answers 404, gets a new session
  // (initialize again) and the call goes through, the client's session whole.
  await onC.transport.close();
  await c.close();
  await sdk.close();
  sdk = await startSdkServer('json', { port: sdkPort });
  const d = await node('d');
  const onD = await client(d.url('workspace'), sessionId);
  cleanups.push(() => onD.client.close());
  assert.deepEqual((await onD.client.callTool({ name: 'sdk__add', arguments: { a: 20, b: 22 } })).content, [{ type: 'text', text: '42' }]);
  assert.equal(initializes(recorder.exchanges), 2, 'the restarted server got one new session');
  assert.deepEqual((await onD.client.callTool({ name: 'everything__echo', arguments: { message: 'still here' } })).content, [{ type: 'text', text: 'Echo: still here' }]);

  // The client ends the session: every node forgets it.
  await onD.transport.terminateSession();
  const e = await node('e');
  const again = await fetch(e.url('workspace'), {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(again.status, 404, 'an ended session is not found on any node');
});

test('a task started through a federated session on one node is got, read and listed on another (its id needs no table)', { timeout: 60_000 }, async () => {
  const [alpha, beta] = await Promise.all([startTaskMember('alpha'), startTaskMember('beta')]);
  cleanups.push(() => alpha.close(), () => beta.close());
  const dir = tempDir();
  const config: Omit<ConfigInput, 'listen'> = {
    store: { type: 'sqlite', file: path.join(dir, 'shared.db') },
    servers: { alpha: { url: alpha.url }, beta: { url: beta.url } },
    agents: [{ id: 'alice', apiKeys: [{ value: KEY }] }],
    apis: [{ name: 'workspace', path: '/mcp', servers: ['alpha', 'beta'], auth: { type: 'api-key' } }],
  } as Omit<ConfigInput, 'listen'>;
  const key = randomBytes(32).toString('hex');
  const [a, b] = await Promise.all(['a', 'b'].map(async (name) => {
    const gh = await startTestGateway(config, { key, dataDir: path.join(dir, name) });
    cleanups.push(() => gh.close());
    return gh;
  }));
  const onA = await client(a!.url('workspace'));
  const created = await onA.client.request({ method: 'tools/call', params: { name: 'beta__work', arguments: { ms: 200, label: 'moved' }, task: { ttl: 60_000 } } }, CreateTaskResultSchema);
  const taskId = created.task.taskId;
  const onB = await client(b!.url('workspace'), onA.transport.sessionId);
  try {
    const deadline = Date.now() + 20_000;
    let status = 'working';
    while (status === 'working') {
      assert.ok(Date.now() < deadline, 'the task did not end');
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await onB.client.request({ method: 'tasks/get', params: { taskId } }, GetTaskResultSchema)).status;
    }
    assert.equal(status, 'completed');
    const result = await onB.client.request({ method: 'tasks/result', params: { taskId } }, CallToolResultSchema);
    assert.deepEqual(result.content, [{ type: 'text', text: 'moved done by beta' }]);
    const listed = await onB.client.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema);
    assert.deepEqual(listed.tasks.map((t) => t.taskId), [taskId], 'alpha holds no task of the session: the first page is beta\'s');
  } finally {
    await onB.client.close();
    await onA.client.close();
  }
});
