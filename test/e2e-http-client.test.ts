// The official SDK client talking to the real server-everything (Streamable HTTP) through
// Gatehouse: every client-visible MCP feature works, including server → client requests,
// notifications on the standalone stream, and progress streamed ahead of the result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  type CreateMessageRequest,
  type ElicitRequest,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { connectClient, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';

let everything: RunningEverything;
let gh: TestGateway;

before(async () => {
  everything = await startEverything();
  gh = await startTestGateway({
    servers: { everything: { url: `${everything.origin}/mcp` } },
    apis: [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } }],
  });
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

function texts(result: unknown): string[] {
  const content = ((result as { content?: unknown }).content ?? []) as Array<{ type: string; text?: string }>;
  return content.filter((c) => c.type === 'text').map((c) => c.text ?? '');
}

test('the SDK client lists tools and calls echo and get-sum through Gatehouse', async (t) => {
  const { client, close } = await connectClient(gh.url());
  t.after(close);
  assert.ok(client.getServerVersion()?.name.includes('everything'), 'server info comes from server-everything');
  const tools = await client.listTools();
  const names = tools.tools.map((tool) => tool.name);
  for (const name of ['echo', 'get-sum', 'trigger-long-running-operation', 'toggle-simulated-logging']) assert.ok(names.includes(name), `${name} listed: ${names.join(', ')}`);
  assert.deepEqual(texts(await client.callTool({ name: 'echo', arguments: { message: 'through the gate' } })), ['Echo: through the gate']);
  const sum = texts(await client.callTool({ name: 'get-sum', arguments: { a: 19, b: 23 } })).join(' ');
  assert.match(sum, /\b42\b/);
});

test('the SDK client lists and reads a resource, lists resource templates and reads a templated resource', async (t) => {
  const { client, close } = await connectClient(gh.url());
  t.after(close);
  const resources = await client.listResources();
  assert.ok(resources.resources.length > 0, 'server-everything lists resources');
  const first = resources.resources[0]!;
  const read = await client.readResource({ uri: first.uri });
  assert.equal(read.contents[0]?.uri, first.uri);

  const templates = await client.listResourceTemplates();
  const textTemplate = templates.resourceTemplates.find((tpl) => tpl.uriTemplate === 'demo://resource/dynamic/text/{resourceId}');
  assert.ok(textTemplate, `text template listed: ${JSON.stringify(templates.resourceTemplates.map((tpl) => tpl.uriTemplate))}`);
  const dynamic = await client.readResource({ uri: 'demo://resource/dynamic/text/7' });
  const content = dynamic.contents[0] as { uri: string; text?: string };
  assert.equal(content.uri, 'demo://resource/dynamic/text/7');
  assert.match(content.text ?? '', /^Resource 7:/);
});

test('the SDK client gets a prompt with arguments and completes prompt and template arguments', async (t) => {
  const { client, close } = await connectClient(gh.url());
  t.after(close);
  const prompts = await client.listPrompts();
  assert.ok(prompts.prompts.some((p) => p.name === 'args-prompt'), 'args-prompt listed');
  const prompt = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Lisbon', state: 'Estremadura' } });
  const message = prompt.messages[0]!;
  assert.equal(message.role, 'user');
  assert.deepEqual(message.content, { type: 'text', text: "What's weather in Lisbon, Estremadura?" });

  const department = await client.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'Eng' } });
  assert.deepEqual(department.completion.values, ['Engineering']);
  const member = await client.complete({
    ref: { type: 'ref/prompt', name: 'completable-prompt' },
    argument: { name: 'name', value: 'A' },
    context: { arguments: { department: 'Engineering' } },
  });
  assert.deepEqual(member.completion.values, ['Alice']);
  const resourceId = await client.complete({ ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' }, argument: { name: 'resourceId', value: '12' } });
  assert.deepEqual(resourceId.completion.values, ['12']);
});

test('after logging/setLevel the SDK client receives notifications/message log messages from the upstream', async (t) => {
  const { client, close } = await connectClient(gh.url());
  const received: LoggingMessageNotification['params'][] = [];
  let wake: (() => void) | undefined;
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    received.push(notification.params);
    wake?.();
  });
  await client.setLoggingLevel('debug');
  const started = texts(await client.callTool({ name: 'toggle-simulated-logging', arguments: {} })).join(' ');
  assert.match(started, /Started simulated/);
  t.after(async () => {
    await client.callTool({ name: 'toggle-simulated-logging', arguments: {} }).catch(() => undefined);
    await close();
  });
  // The upstream sends one message at once and then one every 5 s on the standalone stream.
  if (received.length === 0) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no notifications/message within 12 s')), 12_000);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  const log = received[0]!;
  assert.ok(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'].includes(log.level), `level ${log.level}`);
  assert.match(String(log.data), /message/i);
});

test('progress notifications of a long-running tool reach the SDK client before its result', async (t) => {
  const { client, close } = await connectClient(gh.url());
  t.after(close);
  const progressAt: number[] = [];
  const progressValues: number[] = [];
  const result = await client.callTool(
    { name: 'trigger-long-running-operation', arguments: { duration: 4, steps: 4 } },
    undefined,
    {
      onprogress: (progress) => {
        progressAt.push(Date.now());
        progressValues.push(progress.progress);
      },
    },
  );
  const resultAt = Date.now();
  assert.match(texts(result).join(' '), /Long running operation completed/);
  assert.deepEqual(progressValues, [1, 2, 3, 4]);
  for (const at of progressAt) assert.ok(at <= resultAt, 'every progress notification arrives before the result');
  // Steps are 1 s apart: the first progress left the upstream ~3 s before the result. Had
  // Gatehouse buffered the stream, it would have arrived together with the result.
  assert.ok(resultAt - progressAt[0]! >= 1500, `first progress arrived ${resultAt - progressAt[0]!} ms before the result`);
});

test('a sampling request from the upstream reaches the SDK client and its answer reaches the tool', async (t) => {
  const { client, close } = await connectClient(gh.url(), { capabilities: { capabilities: { sampling: {} } } });
  t.after(close);
  const requests: CreateMessageRequest['params'][] = [];
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    requests.push(request.params);
    return { model: 'gatehouse-test-model', role: 'assistant', content: { type: 'text', text: 'sampled through the gate' } };
  });
  const tools = await client.listTools();
  const sampling = tools.tools.find((tool) => tool.name.includes('sampling') && !tool.name.includes('async'));
  assert.ok(sampling, `a sampling tool is listed for a client with the sampling capability: ${tools.tools.map((x) => x.name).join(', ')}`);
  const result = await client.callTool({ name: sampling.name, arguments: { prompt: 'what is a gatehouse?', maxTokens: 20 } });
  assert.equal(requests.length, 1);
  assert.match(JSON.stringify(requests[0]!.messages), /what is a gatehouse\?/);
  const text = texts(result).join('\n');
  assert.match(text, /sampled through the gate/);
  assert.match(text, /gatehouse-test-model/);
});

test('an elicitation request from the upstream reaches the SDK client and the accepted answer reaches the tool', async (t) => {
  const { client, close } = await connectClient(gh.url(), { capabilities: { capabilities: { elicitation: {} } } });
  t.after(close);
  const requests: ElicitRequest['params'][] = [];
  client.setRequestHandler(ElicitRequestSchema, (request) => {
    requests.push(request.params);
    return { action: 'accept', content: { name: 'Ada Lovelace', check: true, integer: 7 } };
  });
  const tools = await client.listTools();
  const elicitation = tools.tools.find((tool) => tool.name === 'trigger-elicitation-request');
  assert.ok(elicitation, `the elicitation tool is listed for a client with the elicitation capability: ${tools.tools.map((x) => x.name).join(', ')}`);
  const result = await client.callTool({ name: elicitation.name, arguments: {} });
  assert.equal(requests.length, 1);
  assert.match(String((requests[0] as { message?: string }).message), /provide inputs/);
  const text = texts(result).join('\n');
  assert.match(text, /User provided the requested information/);
  assert.match(text, /- Name: Ada Lovelace/);
  assert.match(text, /- Favorite Integer: 7/);
});
