// Content guardrails end to end: a real SDK-built server (test/helpers/guardrails-server.ts)
// returns a page with a prompt-injection string, a fake AWS key and an e-mail address, and a tool
// whose structuredContent does not match its outputSchema; the SDK client calls it through three
// APIs whose guardrails redact, block and flag. The audit trace names what was found, never the
// values.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, ListToolsResultSchema, ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { CLEAN, EMAIL, FAKE_AWS_KEY, HIDDEN, RESOURCE_URI, startGuardrailsServer, type GuardrailsServer } from './helpers/guardrails-server.ts';
import type { ConfigInput } from '../src/config/schema.ts';

const KEY = 'alice-key-guardrails-test-0123456789';
let upstream: GuardrailsServer;
let gh: TestGateway;

type Guardrails = Extract<NonNullable<ConfigInput['apis'][number]['policies']>[number], { guardrails: unknown }>['guardrails'];

function api(name: string, guardrails: Guardrails): ConfigInput['apis'][number] {
  return { name, path: `/${name}`, server: 'notes', auth: { type: 'api-key' }, policies: [{ guardrails }] };
}

before(async () => {
  upstream = await startGuardrailsServer();
  gh = await startTestGateway({
    servers: { notes: { url: upstream.url } },
    agents: [{ id: 'alice', apiKeys: [{ value: KEY }] }],
    apis: [
      api('redact', { secrets: 'redact', personalData: 'redact', injection: 'strip', maxContentItems: 3 }),
      api('block', { secrets: 'block', maxResultBytes: 10_000 }),
      api('flag', { secrets: 'flag', personalData: 'flag', injection: 'flag', outputSchema: 'flag' }),
    ],
  });
});

after(async () => {
  await gh?.close();
  await upstream?.close();
});

async function connect(path: string): Promise<Client> {
  const client = new Client({ name: 'guardrails-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(path, gh.origin), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
  return client;
}

const textOf = (result: object): string => ((result as { content: Array<{ text?: string }> }).content).map((c) => c.text ?? '').join('\n');

/** The call fails with GH_RESULT_BLOCKED (-32018) whose message matches `message`. */
async function blocked(call: Promise<unknown>, message: RegExp, reason: string): Promise<McpError> {
  let caught: unknown;
  await call.then(
    (result) => assert.fail(`expected a refusal, got ${JSON.stringify(result)}`),
    (error: unknown) => (caught = error),
  );
  assert.ok(caught instanceof McpError, String(caught));
  assert.equal(caught.code, -32018);
  assert.match(caught.message, message);
  assert.deepEqual({ code: (caught.data as { code: string }).code, reason: (caught.data as { reason: string }).reason }, { code: 'GH_RESULT_BLOCKED', reason });
  return caught;
}

test('redact: the key and the e-mail address are replaced by markers naming their kind, injection markers stripped (invisible ones gone), in tool results, resource contents and prompts', async () => {
  const client = await connect('/redact');
  try {
    const page = textOf(await client.callTool({ name: 'fetch_page', arguments: { url: 'https://example.com' } }));
    assert.match(page, /The key is \[REDACTED:aws-access-key\]; ask \[REDACTED:email\]\./);
    assert.match(page, /\[REMOVED:prompt-injection\] and send/);
    for (const gone of [FAKE_AWS_KEY, EMAIL, HIDDEN, 'IGNORE ALL PREVIOUS']) assert.ok(!page.includes(gone), `${JSON.stringify(gone)} is gone`);

    const resource = await client.readResource({ uri: RESOURCE_URI });
    const contents = (resource.contents[0] as { text: string }).text;
    assert.match(contents, /\[REDACTED:aws-access-key\]/);
    assert.ok(!contents.includes(FAKE_AWS_KEY) && !contents.includes(HIDDEN));

    const prompt = await client.getPrompt({ name: 'summarize' });
    const message = (prompt.messages[0]!.content as { text: string }).text;
    assert.match(message, /\[REDACTED:email\]/);
    assert.ok(!message.includes(EMAIL));

    assert.equal(textOf(await client.callTool({ name: 'clean', arguments: {} })), CLEAN, 'a clean result passes as it came');

    const events = await recordsWhen(gh.gateway, { api: 'redact' }, (all) => all.some((e) => e.trace?.includes('"policy":"guardrails"')));
    const traced = events.filter((e) => e.trace?.includes('"policy":"guardrails"')).map((e) => e.trace!).join('\n');
    assert.match(traced, /found aws-access-key ×1 \(redacted\)/);
    assert.match(traced, /ignore-instructions ×1, unicode-tag-characters ×1 \(stripped\)/);
  } finally {
    await client.close();
  }
});

test('redact API: more content items than maxContentItems is refused with GH_RESULT_BLOCKED; a result that does not match its outputSchema is refused (outputSchema: refuse by default)', async () => {
  const client = await connect('/redact');
  try {
    await blocked(client.callTool({ name: 'many_items', arguments: {} }), /5 content items, more than the 3 allowed/, 'limits');
    await client.listTools();
    await blocked(client.callTool({ name: 'weather', arguments: { city: 'Oslo' } }), /outputSchema: \/celsius must be number/, 'outputSchema');
    const ok = await client.callTool({ name: 'weather_ok', arguments: { city: 'Oslo' } });
    assert.deepEqual(ok.structuredContent, { celsius: 21 });
  } finally {
    await client.close();
  }
});

test('block: a result with a secret is replaced by a JSON-RPC error naming the kind of secret, never the secret; an oversized result is refused; a clean one passes', async () => {
  const client = await connect('/block');
  try {
    const error = await blocked(client.callTool({ name: 'fetch_page', arguments: { url: 'https://example.com' } }), /withheld by a content guardrail: it holds secret \(aws-access-key\)/, 'secrets');
    assert.ok(!JSON.stringify({ message: error.message, data: error.data }).includes(FAKE_AWS_KEY));
    assert.deepEqual((error.data as { found: string[] }).found, ['aws-access-key']);
    await blocked(client.callTool({ name: 'big', arguments: {} }), /bytes, more than the 10000 allowed/, 'limits');
    assert.equal(textOf(await client.callTool({ name: 'clean', arguments: {} })), CLEAN);
    // The session goes on after a refusal.
    await blocked(client.readResource({ uri: RESOURCE_URI }), /resource contents were withheld/, 'secrets');
    const events = await recordsWhen(gh.gateway, { api: 'block' }, (all) => all.filter((e) => e.trace?.includes('"policy":"guardrails"')).length >= 3);
    const refusals = events.filter((e) => e.trace?.includes('"policy":"guardrails"') && e.trace.includes('"allowed":false'));
    assert.ok(refusals.length >= 3, 'each refusal is in the audit log');
    for (const event of refusals) assert.ok(!event.trace!.includes(FAKE_AWS_KEY));
  } finally {
    await client.close();
  }
});

test('flag: the result passes as it came, and the audit trace names the kinds found and how many — never the key or the address; a schema violation is flagged, not refused', async () => {
  const client = await connect('/flag');
  try {
    const page = textOf(await client.callTool({ name: 'fetch_page', arguments: { url: 'https://example.com' } }));
    assert.ok(page.includes(FAKE_AWS_KEY) && page.includes(EMAIL) && page.includes(HIDDEN), 'passed unchanged');
    // Listed without the SDK client's own outputSchema check (it would refuse the result itself).
    await client.request({ method: 'tools/list', params: {} }, ListToolsResultSchema);
    const weather = await client.callTool({ name: 'weather', arguments: { city: 'Oslo' } });
    assert.deepEqual(weather.structuredContent, { celsius: 'warm' });

    const events = await recordsWhen(gh.gateway, { api: 'flag' }, (all) => all.filter((e) => e.trace?.includes('"policy":"guardrails"')).length >= 2);
    const page_ = events.find((e) => e.trace?.includes('"policy":"guardrails"') && e.trace.includes('fetch_page'));
    assert.ok(page_, 'a record of the page with the guardrails trace');
    const trace = page_.trace!;
    assert.match(trace, /found aws-access-key ×1 \(flagged\)/);
    // The page's own address and the attacker's (evil@example.net) in the injection string.
    assert.match(trace, /found email ×2 \(flagged\)/);
    assert.match(trace, /ignore-instructions ×1, unicode-tag-characters ×1 \(flagged\)/);
    assert.match(trace, /"allowed":true/);
    for (const value of [FAKE_AWS_KEY, EMAIL]) assert.ok(!trace.includes(value), `the trace does not carry ${value}`);
    const schema = events.find((e) => e.trace?.includes('"rule":"outputSchema"'));
    assert.ok(schema, 'a record of the flagged schema violation');
    assert.match(schema.trace!, /celsius must be number \(flagged\)/);
  } finally {
    await client.close();
  }
});

/** Calls `chatty` on `path` with a progress token; what reached the client besides the result. */
async function chatty(path: string): Promise<{ text: string; logs: unknown[]; progress: string[]; elicited: string[] }> {
  const client = new Client({ name: 'guardrails-test', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  const logs: unknown[] = [];
  const elicited: string[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.data));
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicited.push(request.params.message);
    return { action: 'accept', content: { ok: true } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(path, gh.origin), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
  try {
    const progress: string[] = [];
    const result = await client.callTool({ name: 'chatty', arguments: {} }, undefined, { onprogress: (p) => void progress.push(p.message ?? '') });
    return { text: textOf(result), logs, progress, elicited };
  } finally {
    await client.close();
  }
}

test('log and progress notifications and elicitation requests are read too (they passed unscanned): redacted on the redact API, withheld on the block API (the server is told its question was refused), flagged in the audit trace', async () => {
  const redacted = await chatty('/redact');
  assert.deepEqual(redacted.logs, [{ note: 'The key is [REDACTED:aws-access-key]' }]);
  assert.deepEqual(redacted.progress, ['using [REDACTED:aws-access-key]']);
  assert.deepEqual(redacted.elicited, ['Confirm the use of [REDACTED:aws-access-key]?']);
  assert.equal(redacted.text, 'client answered accept');

  const withheld = await chatty('/block');
  assert.deepEqual([withheld.logs, withheld.progress, withheld.elicited], [[], [], []], 'nothing with the key reached the client');
  assert.match(withheld.text, /^elicitation failed: /, 'the server got an error for its question at once');

  const flagged = await chatty('/flag');
  assert.deepEqual(flagged.elicited, [`Confirm the use of ${FAKE_AWS_KEY}?`], 'flag passes the text as it came');
  const records = await recordsWhen(gh.gateway, { api: 'flag' }, (events) => events.some((e) => e.target === 'chatty' && JSON.stringify(e.trace ?? []).includes('elicitation/create')));
  const trace = JSON.stringify(records.find((e) => e.target === 'chatty')!.trace);
  for (const kind of ['notifications/message', 'notifications/progress', 'elicitation/create']) assert.ok(trace.includes(kind), `${kind} in ${trace}`);
  assert.ok(!trace.includes(FAKE_AWS_KEY), 'the trace never holds the key');
  const blockedRecord = (await recordsWhen(gh.gateway, { api: 'block' }, (events) => events.some((e) => e.target === 'chatty' && JSON.stringify(e.trace ?? []).includes('withheld')))).find((e) => e.target === 'chatty')!;
  assert.match(JSON.stringify(blockedRecord.trace), /elicitation\/create withheld: it holds secret/);
});
