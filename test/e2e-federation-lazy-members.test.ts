// A federated API's later sessions open a server's upstream session only when they first need
// that server: the first session of the API initializes every server (the merged capabilities
// and instructions need their answers); the next ones are answered from those answers, and a
// call to one server opens that server's session alone. A list needs every server, and opens
// the rest; a log level the client set before is passed on to a server opened after it.
// Real peers: server-everything twice and an SDK server answering in JSON, each behind a proxy
// that records what reaches it; the SDK client as the agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startSdkServer } from './helpers/sdk-server.ts';
import { startRecordingProxy, type RecordingProxy } from './helpers/http-peers.ts';
import { waitUntil } from './helpers/lifecycle-procs.ts';

let everything: RunningEverything;
let sdk: Awaited<ReturnType<typeof startSdkServer>>;
const recorders: Record<'a' | 'b' | 'sdk', RecordingProxy> = {} as Record<'a' | 'b' | 'sdk', RecordingProxy>;
let gh: TestGateway;

before(async () => {
  [everything, sdk] = await Promise.all([startEverything(), startSdkServer('json')]);
  recorders.a = await startRecordingProxy(everything.origin);
  recorders.b = await startRecordingProxy(everything.origin);
  recorders.sdk = await startRecordingProxy(new URL(sdk.url).origin);
  gh = await startTestGateway({
    servers: {
      a: { url: `${recorders.a.origin}/mcp` },
      b: { url: `${recorders.b.origin}/mcp` },
      sdk: { url: `${recorders.sdk.origin}${new URL(sdk.url).pathname}` },
    },
    apis: [
      { name: 'lazy', path: '/lazy', servers: ['a', 'b', 'sdk'], namespace: { prefix: 'always', separator: '__' }, auth: { type: 'keyless' } },
      { name: 'strict', path: '/strict', servers: ['a', 'b', 'sdk'], namespace: { prefix: 'always', separator: '__' }, onUpstreamFailure: 'fail', auth: { type: 'keyless' } },
    ],
  });
});

after(async () => {
  await gh?.close();
  await Promise.all(Object.values(recorders).map((r) => r.close()));
  await Promise.all([everything?.close(), sdk?.close()]);
});

/** How many JSON-RPC requests of `method` each server has received. */
function counts(method: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, recorder] of Object.entries(recorders)) {
    out[name] = recorder.exchanges.filter((e) => e.method === 'POST' && e.body.includes(`"method":"${method}"`)).length;
  }
  return out;
}

test('a later session of a federated API opens only the servers it uses: initialize is answered from the first session\'s answers, a call opens its server alone, a list opens the rest', { timeout: 60_000 }, async () => {
  const first = await connectClient(gh.url('lazy'));
  const expected = { capabilities: first.client.getServerCapabilities(), instructions: first.client.getInstructions() };
  assert.deepEqual(counts('initialize'), { a: 1, b: 1, sdk: 1 }, 'the first session initializes every server');
  await first.close();

  const second = await connectClient(gh.url('lazy'));
  try {
    assert.deepEqual(counts('initialize'), { a: 1, b: 1, sdk: 1 }, 'the second session\'s initialize reached no server');
    assert.deepEqual({ capabilities: second.client.getServerCapabilities(), instructions: second.client.getInstructions() }, expected, 'and says what the first one said');

    await second.client.setLoggingLevel('debug');
    const result = await second.client.callTool({ name: 'a__echo', arguments: { message: 'only a' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: only a' }]);
    assert.deepEqual(counts('initialize'), { a: 2, b: 1, sdk: 1 }, 'the call opened its own server\'s session, no other');
    await waitUntil(() => counts('logging/setLevel').a === 1, 'the server opened after setLevel is given the level');

    const { tools } = await second.client.listTools();
    assert.deepEqual(counts('initialize'), { a: 2, b: 2, sdk: 2 }, 'a list needs every server: the rest are opened');
    const servers = new Set(tools.map((t) => t.name.split('__')[0]));
    assert.deepEqual([...servers].sort(), ['a', 'b', 'sdk']);
    await waitUntil(() => counts('logging/setLevel').b === 1, 'b, which offers logging, is given the level too');
    const fromB = await second.client.callTool({ name: 'b__echo', arguments: { message: 'b too' } });
    assert.deepEqual(fromB.content, [{ type: 'text', text: 'Echo: b too' }]);
    assert.equal(counts('initialize').b, 2, 'b\'s session is reused');
  } finally {
    await second.close();
  }
});

test('with onUpstreamFailure: fail every session opens every server at initialize', { timeout: 60_000 }, async () => {
  const before = counts('initialize');
  for (let i = 0; i < 2; i++) {
    const c = await connectClient(gh.url('strict'));
    await c.close();
  }
  const after = counts('initialize');
  assert.deepEqual(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k]!])), { a: 2, b: 2, sdk: 2 });
});
