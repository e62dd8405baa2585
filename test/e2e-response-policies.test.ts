// Every response path through every kind of policy chain: no policy (piped), an ACL (decodes and
// filters server messages), a rate limit (request side only) and both, in front of an SDK-built
// server that answers with SSE streams, one that answers with single JSON bodies, and the same
// server over stdio. The official SDK client is the agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ConfigInput } from '../src/config/schema.ts';
import { connectClient, raw, startTestGateway } from './helpers/gatehouse.ts';
import { openRawSession } from './helpers/http-peers.ts';
import { SDK_NOTE_TEXT, SDK_NOTE_URI, sdkServerStdioCommand, startSdkServer } from './helpers/sdk-server.ts';

type PolicyList = NonNullable<ConfigInput['apis'][number]['policies']>;

const ACL: PolicyList[number] = {
  acl: {
    rules: [
      {
        features: [
          { type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } },
          { type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'count' } },
          { type: 'resources', methods: ['resources/list', 'resources/read'], pattern: { type: 'literal', value: SDK_NOTE_URI } },
          { type: 'prompts', methods: ['prompts/list', 'prompts/get'], pattern: { type: 'literal', value: 'greeting' } },
        ],
      },
    ],
  },
};

/** A limit no test comes near: it runs on every request and never refuses. */
const RATE_LIMIT: PolicyList[number] = { rateLimit: { limits: [{ name: 'roomy', key: ['agent'], rate: 10_000, per: '1m' }] } };

const POLICIES: Record<string, PolicyList> = { none: [], acl: [ACL], 'rate-limit': [RATE_LIMIT], both: [ACL, RATE_LIMIT] };
const UPSTREAMS = ['http-sse', 'http-json', 'stdio'] as const;

/** The table: each upstream behind each chain. */
const ROWS = UPSTREAMS.flatMap((upstream) => Object.keys(POLICIES).map((policies) => ({ upstream, policies, path: `/${upstream}/${policies}` })));

test('every response path answers initialize, lists, a call with progress and a read through every policy chain (a JSON-answering upstream behind a response policy got an empty reply)', async (t) => {
  const sse = await startSdkServer('sse');
  const json = await startSdkServer('json');
  const stdio = sdkServerStdioCommand();
  const gh = await startTestGateway({
    servers: { 'http-sse': { url: sse.url }, 'http-json': { url: json.url }, stdio: { command: stdio.command, args: stdio.args } },
    apis: ROWS.map((row) => ({ name: `${row.upstream}-${row.policies}`, path: row.path, server: row.upstream, policies: POLICIES[row.policies] })),
  });
  t.after(async () => {
    await gh.close();
    await sse.close();
    await json.close();
  });

  for (const row of ROWS) {
    await t.test(`${row.upstream} behind ${row.policies}`, async () => {
      const filtered = row.policies === 'acl' || row.policies === 'both';
      const { client, close } = await connectClient(`${gh.origin}${row.path}`);
      try {
        assert.equal(client.getServerVersion()?.name, 'sdk-test-server', 'initialize answered');
        const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
        assert.deepEqual(tools, filtered ? ['count', 'echo'] : ['add', 'count', 'echo', 'hold'], 'tools/list answered (and filtered by the ACL)');

        const progress: number[] = [];
        let allProgress!: () => void;
        const progressDone = new Promise<void>((resolve) => (allProgress = resolve));
        const onProgress = (value: number) => {
          if (progress.push(value) === 3) allProgress();
        };
        if (row.upstream === 'http-json') {
          // A JSON answer cannot carry notifications: the server sends the progress on the
          // standalone stream, so it may reach the client after the answer, when the SDK client
          // no longer routes it to the call. It is collected as it comes.
          client.setNotificationHandler(ProgressNotificationSchema, (notification) => onProgress(notification.params.progress));
        }
        const result = await client.callTool({ name: 'count', arguments: { steps: 3 } }, undefined, { onprogress: (p) => onProgress(p.progress) });
        assert.deepEqual(result.content, [{ type: 'text', text: 'counted to 3' }], 'tools/call answered');
        await within(progressDone, 10_000, 'the progress notifications');
        assert.deepEqual(progress, [1, 2, 3], 'progress notifications delivered');

        const read = await client.readResource({ uri: SDK_NOTE_URI });
        assert.deepEqual(read.contents, [{ uri: SDK_NOTE_URI, mimeType: 'text/plain', text: SDK_NOTE_TEXT }], 'resources/read answered');
        const prompt = await client.getPrompt({ name: 'greeting', arguments: { name: 'Ada' } });
        assert.deepEqual(prompt.messages[0]?.content, { type: 'text', text: 'Say hello to Ada.' }, 'prompts/get answered');
      } finally {
        await close();
      }
    });
  }
});

/** Settles with `promise`, or rejects after `ms` saying what did not come. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not come within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('a batch answered with one JSON array is filtered member by member behind an ACL (a JSON batch answer was relayed unfiltered)', async (t) => {
  const json = await startSdkServer('json');
  const gh = await startTestGateway({ servers: { json: { url: json.url } }, apis: [{ name: 'acl', path: '/acl', server: 'json', policies: [ACL] }] });
  t.after(async () => {
    await gh.close();
    await json.close();
  });
  const { headers } = await openRawSession(gh.url('acl'), '2025-03-26');
  const answer = await raw(gh.url('acl'), {
    headers,
    body: [
      { jsonrpc: '2.0', id: 'list', method: 'tools/list' },
      { jsonrpc: '2.0', id: 'ping', method: 'ping' },
    ],
  });
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  const members = answer.messages[0] as Array<{ id: string; result: { tools?: Array<{ name: string }> } }>;
  assert.ok(Array.isArray(members), answer.text);
  const list = members.find((member) => member.id === 'list');
  assert.deepEqual(list?.result.tools?.map((tool) => tool.name).sort(), ['count', 'echo']);
  assert.ok(members.some((member) => member.id === 'ping'));
});
