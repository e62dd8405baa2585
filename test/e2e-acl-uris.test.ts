// Resource rules against every spelling of a URI, end to end: a real SDK server that reads
// `file://` URIs the way Node does (WHATWG URL + fileURLToPath) and server-everything's own
// `demo://` scheme, behind an ACL that allows reading anything but `file://**`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, connectClient, raw, rawSession, sessionHeaders, startEverything, startTestGateway, tempDir, writeConfig, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startFileServer, type RunningFileServer } from './helpers/file-server.ts';

const RESOURCES = ['resources/list', 'resources/read', 'resources/templates/list', 'resources/subscribe'];

/** Read anything, except `file://**`. */
const ALLOW_ANY_DENY_FILES = {
  acl: {
    rules: [
      { name: 'read-any', features: [{ type: 'resources' as const, methods: RESOURCES, pattern: { type: 'any' as const } }] },
      { name: 'no-files', effect: 'deny' as const, features: [{ type: 'resources' as const, methods: RESOURCES, pattern: { type: 'glob' as const, value: 'file://**' } }] },
    ],
  },
};

let dir: string;
let secret: string;
let files: RunningFileServer;
let everything: RunningEverything;
let gh: TestGateway;

before(async () => {
  dir = tempDir('gatehouse-uris-');
  mkdirSync(path.join(dir, 'x'));
  secret = path.join(dir, 'secret.txt');
  writeFileSync(secret, 'the secret file\n');
  files = await startFileServer([secret]);
  everything = await startEverything();
  gh = await startTestGateway({
    servers: { files: { url: files.url }, everything: { url: `${everything.origin}/mcp` } },
    apis: [
      { name: 'files', path: '/files', server: 'files', policies: [ALLOW_ANY_DENY_FILES] },
      { name: 'everything', path: '/everything', server: 'everything', policies: [ALLOW_ANY_DENY_FILES] },
    ],
  });
});

after(async () => {
  await gh?.close();
  await files?.close();
  await everything?.close();
});

interface ErrorAnswer {
  id: unknown;
  error?: { code: number; message: string; data?: { code?: string; canonical?: string | null; uri?: string } };
}

test('a deny rule on file://** holds for FILE:, File:, file:/x, file:x and a leading space: refused as not canonical, never forwarded (they read the file)', async () => {
  const sid = await rawSession(gh.url('files'));
  const canonical = `file://${secret}`;
  const spellings = [`FILE://${secret}`, `File://${secret}`, `file:${secret}`, `file:${secret.slice(1)}`, ` file://${secret}`, `file://localhost${secret}`, `file://${dir}/x/../secret.txt`, `file://${dir}/x/%2e%2e/secret.txt`, `file://${dir}/%73ecret.txt`];
  let id = 100;
  for (const uri of spellings) {
    const res = await raw(gh.url('files'), { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: ++id, method: 'resources/read', params: { uri } } });
    assert.equal(res.status, 400, `${JSON.stringify(uri)}: ${res.text}`);
    assert.ok(!res.text.includes('the secret file'), JSON.stringify(uri));
    const answer = res.messages[0] as ErrorAnswer;
    assert.equal(answer.id, id);
    assert.equal(answer.error?.code, -32602);
    assert.equal(answer.error?.data?.code, 'GH_URI_NOT_CANONICAL');
    assert.equal(answer.error?.data?.canonical, canonical, JSON.stringify(uri));
    assert.ok(answer.error!.message.endsWith(`send "${canonical}"`), answer.error!.message);
  }
  // Ambiguous spellings have no canonical form to name.
  for (const uri of [`file://${dir}/x\\..\\secret.txt`, `file://${dir}%2Fsecret.txt`, `file://${dir}//secret.txt`]) {
    const res = await raw(gh.url('files'), { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: ++id, method: 'resources/read', params: { uri } } });
    assert.equal(res.status, 400, `${JSON.stringify(uri)}: ${res.text}`);
    assert.equal((res.messages[0] as ErrorAnswer).error?.data?.canonical, null, JSON.stringify(uri));
  }
  // The canonical spelling is decided by the rules: hidden, answered like a missing resource.
  const hidden = await raw(gh.url('files'), { headers: sessionHeaders(sid), body: { jsonrpc: '2.0', id: ++id, method: 'resources/read', params: { uri: canonical } } });
  assert.equal(hidden.status, 200);
  assert.deepEqual(hidden.messages, [{ jsonrpc: '2.0', id, error: { code: -32602, message: `MCP error -32602: Resource ${canonical} not found` } }]);
  assert.deepEqual(files.reads, [], 'no spelling reached the server');

  // What the server lists is filtered on the same form.
  const { client, close } = await connectClient(gh.url('files'));
  assert.deepEqual((await client.listResources()).resources, []);
  assert.deepEqual((await client.listResourceTemplates()).resourceTemplates, []);
  await close();
});

test("custom schemes keep working behind an ACL: server-everything's demo:// resources list, read, subscribe, templates and completion", async () => {
  const { client, close } = await connectClient(gh.url('everything'));
  try {
    const resources = (await client.listResources()).resources;
    const doc = resources.find((r) => r.uri.startsWith('demo://resource/static/document/'));
    assert.ok(doc, JSON.stringify(resources.map((r) => r.uri)));
    const read = await client.readResource({ uri: doc.uri });
    assert.equal(read.contents[0]?.uri, doc.uri);
    await client.subscribeResource({ uri: doc.uri });
    await client.unsubscribeResource({ uri: doc.uri });
    const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    assert.ok(templates.includes('demo://resource/dynamic/text/{resourceId}'), JSON.stringify(templates));
    const dynamic = await client.readResource({ uri: 'demo://resource/dynamic/text/1' });
    assert.equal(dynamic.contents[0]?.uri, 'demo://resource/dynamic/text/1');
    const completion = await client.complete({ ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' }, argument: { name: 'resourceId', value: '1' } });
    assert.ok(Array.isArray(completion.completion.values));
    // Another spelling of the same resource is refused, naming this one.
    await assert.rejects(client.readResource({ uri: doc.uri.replace('demo:', 'DEMO:') }), (error: Error) => error.message.includes('GH_URI_NOT_CANONICAL') && error.message.includes(doc.uri));
  } finally {
    await close();
  }
});

test('gatehouse acl explain refuses a resource URI not in canonical form as the gateway does (it said allowed)', async () => {
  const file = writeConfig(`
servers:
  files:
    url: http://127.0.0.1:9/mcp
apis:
  - name: files
    path: /mcp
    server: files
    policies:
      - acl:
          rules:
            - features: [{ type: resources, methods: [resources/read], pattern: { type: any } }]
            - effect: deny
              features: [{ type: resources, methods: [resources/read], pattern: { type: glob, value: "file://**" } }]
`);
  const explain = (uri: string) =>
    promisify(execFile)(process.execPath, [CLI, 'acl', 'explain', '--config', file, '--agent', 'anyone', '--method', 'resources/read', '--name', uri], { env: { ...process.env, GATEHOUSE_DATA_DIR: tempDir() } }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
  const upper = await explain('FILE:///etc/passwd');
  assert.equal(upper.code, 1);
  assert.match(upper.out, /GH_URI_NOT_CANONICAL.*send "file:\/\/\/etc\/passwd"/);
  const canonical = await explain('file:///etc/passwd');
  assert.equal(canonical.code, 1);
  assert.match(canonical.out, /denied by rules\[1\]/);
  assert.match((await explain('demo://resource/static/document/a.md')).out, /allowed by rules\[0\]/);
});
