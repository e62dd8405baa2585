// Payload logging: request params and responses are recorded for the APIs that ask for it,
// redacted (configured fields, fields named like secrets, values that look like secrets) and cut
// at maxPayloadBytes; an API left at the default records none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { connectClient, startEverything, startTestGateway, tempDir } from './helpers/gatehouse.ts';
import { only, readAuditFile, recordsWhen } from './helpers/audit-db.ts';
import { validateConfig } from '../src/config/load.ts';

// Secrets of the shapes real ones have, made up for this test.
const BEARER = 'Bearer 4f9c2e71a0b84d6e9f13c5a7b2d8e0f1';
const OPENAI_KEY = 'sk-proj-Q2h8mZ4rT9vX1cN6bL3kP0sW';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const PASSWORD = 'hunter2-correct-horse';
const SSN = '078-05-1120';

test('payloads are recorded redacted and capped where asked, and nowhere else', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  const dataDir = tempDir();
  const gh = await startTestGateway(
    {
      servers: { everything: { url: `${everything.origin}/mcp` } },
      audit: { payloads: false, maxPayloadBytes: '2kb', redact: ['ssn'] },
      apis: [
        { name: 'recorded', path: '/mcp', server: 'everything', audit: { payloads: true, redact: ['customerId'] } },
        { name: 'quiet', path: '/quiet', server: 'everything' },
      ],
    },
    { dataDir },
  );
  t.after(async () => {
    await gh.close();
    await everything.close();
  });

  const recorded = await connectClient(gh.url('recorded'));
  const message = `call me; Authorization: ${BEARER}; key ${OPENAI_KEY}; token ${JWT}`;
  const echoed = await recorded.client.callTool({ name: 'echo', arguments: { message, password: PASSWORD, ssn: SSN, customerId: 'c-4411', plain: 'kept' } });
  assert.match(JSON.stringify(echoed.content), /Echo: call me/);
  const sum = await recorded.client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
  assert.match(JSON.stringify(sum.content), /5/);
  const long = 'x'.repeat(6000);
  await recorded.client.callTool({ name: 'echo', arguments: { message: long } });
  await recorded.close();

  const quiet = await connectClient(gh.url('quiet'));
  await quiet.client.callTool({ name: 'echo', arguments: { message: `quiet ${PASSWORD}` } });
  await quiet.close();

  const calls = await recordsWhen(gh.gateway, { method: 'tools/call' }, (events) => events.length === 4);
  const echo = only(calls, (e) => e.api === 'recorded' && e.target === 'echo' && !e.request!.includes('xxxx'), 'the echo with secrets');
  const request = JSON.parse(echo.request!) as { name: string; arguments: Record<string, string> };
  assert.equal(request.name, 'echo');
  assert.equal(request.arguments.password, '[REDACTED]', 'a field named like a secret');
  assert.equal(request.arguments.ssn, '[REDACTED]', 'a field listed in audit.redact');
  assert.equal(request.arguments.customerId, '[REDACTED]', "a field listed in the API's audit.redact");
  assert.equal(request.arguments.plain, 'kept');
  assert.equal(request.arguments.message, 'call me; Authorization: [REDACTED]; key [REDACTED]; token [REDACTED]', 'secret-looking values inside text');
  // The response echoes the message back: redacted the same way.
  const response = JSON.parse(echo.response!) as { id: number; result: { content: Array<{ text: string }> } };
  assert.equal(response.result.content[0]!.text, 'Echo: call me; Authorization: [REDACTED]; key [REDACTED]; token [REDACTED]');

  const getSum = only(calls, (e) => e.target === 'get-sum', 'get-sum');
  assert.deepEqual(JSON.parse(getSum.request!), { name: 'get-sum', arguments: { a: 2, b: 3 } });
  assert.match(getSum.response!, /"text":"The sum of 2 and 3 is 5\."/);

  const cut = only(calls, (e) => e.api === 'recorded' && e.request!.includes('xxxx'), 'the long echo');
  assert.match(cut.request!, /…\[cut: \d+ more bytes\]$/);
  assert.ok(Buffer.byteLength(cut.request!) < 2048 + 40, `request capped: ${Buffer.byteLength(cut.request!)} bytes`);
  assert.match(cut.response!, /…\[cut: \d+ more bytes\]$/);

  const silent = only(calls, (e) => e.api === 'quiet', 'the call on the quiet API');
  assert.equal(silent.request, undefined);
  assert.equal(silent.response, undefined);

  // Initialize on the recorded API keeps its params too (the client's name and capabilities).
  const [init] = await recordsWhen(gh.gateway, { api: 'recorded', method: 'initialize' }, (events) => events.length === 1);
  assert.match(init!.request!, /"clientInfo":\{"name":"gatehouse-test"/);

  // No secret reached the disk in any form.
  await gh.close();
  const file = path.join(dataDir, 'audit.db');
  assert.equal(readAuditFile(file).filter((e) => e.method === 'tools/call').length, 4);
  for (const name of [file, `${file}-wal`]) {
    if (!existsSync(name)) continue;
    const bytes = readFileSync(name);
    for (const secret of [BEARER.slice(7), OPENAI_KEY, JWT, PASSWORD, SSN, 'c-4411']) assert.ok(!bytes.includes(secret), `${path.basename(name)} does not hold ${secret.slice(0, 6)}…`);
  }
});

// Secrets the redaction used to miss (issue 11), each made up for this test.
const MISSED = {
  jsonPassword: 'pa55-in-json-7Qx',
  adminToken: 'admin-tok-3Kd9wq',
  urlPassword: 'url-pw-8Zr2',
  clientSecret: 'cs-5Hn4Lm0Pq',
  stripeKey: 'sk_live_51HxQ2eLmNoPqRsTuVwXyZ01',
  pemBody: 'MIIEowIBAAKCAQEAx4UbaDzYk3vQ9',
  dbPass: 'dbpass-6Tg1',
  kebabPass: 'kebab-pass-2Vb7',
  upperPass: 'UPPER-PASS-9Jc4',
  camelKey: 'camel-key-4Nd8',
} as const;

/** A message and arguments with every kind of secret above; the echo tool sends the message back in its result. */
function secretCall(): { message: string; args: Record<string, unknown> } {
  const pem = `-----BEGIN RSA PRIVATE KEY-----\n${MISSED.pemBody}\n-----END RSA PRIVATE KEY-----`;
  const message = [
    `config ${JSON.stringify({ password: MISSED.jsonPassword, ADMIN_TOKEN: MISSED.adminToken, host: 'db.internal' })}`,
    `clone https://deploy:${MISSED.urlPassword}@git.example.com/app.git`,
    `token request: client_id=app&client_secret=${MISSED.clientSecret}&grant_type=client_credentials`,
    `charge with ${MISSED.stripeKey}`,
    pem,
    'commit 95d313bd9d706c69b513fba2e36b071b4ac3d380 by alice',
  ].join('\n');
  return { message, args: { message, dbPass: MISSED.dbPass, 'db-pass': MISSED.kebabPass, DB_PASS: MISSED.upperPass, apiKey: MISSED.camelKey, note: 'kept as is' } };
}

function assertRedacted(request: { arguments: Record<string, unknown> }, echoed: string, where: string): void {
  const args = request.arguments;
  for (const name of ['dbPass', 'db-pass', 'DB_PASS', 'apiKey']) assert.equal(args[name], '[REDACTED]', `${where}: ${name}`);
  assert.equal(args.note, 'kept as is', `${where}: an ordinary field`);
  for (const text of [args.message as string, echoed]) {
    assert.match(text, /config \{"password":"\[REDACTED\]","ADMIN_TOKEN":"\[REDACTED\]","host":"db\.internal"\}/, `${where}: JSON inside text`);
    assert.match(text, /https:\/\/deploy:\[REDACTED\]@git\.example\.com\/app\.git/, `${where}: the URL's password`);
    assert.match(text, /client_id=app&client_secret=\[REDACTED\]&grant_type=client_credentials/, `${where}: client_secret`);
    assert.match(text, /charge with \[REDACTED\]/, `${where}: the sk_live_ key`);
    assert.ok(text.includes('[REDACTED]\ncommit 95d313bd9d706c69b513fba2e36b071b4ac3d380 by alice'), `${where}: the PEM block, and the commit hash kept`);
  }
}

test('a tool call whose arguments and result hold secrets the redaction missed (JSON in text, URL passwords, client_secret, sk_live_ keys, PEM blocks, pass/apiKey in any case) is stored redacted, spilled or not', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  const dataDir = tempDir();
  // A queue of one record and a long batch interval: the first record waits in the queue, the
  // others go to the spill file, which is on disk while this test reads it.
  const gh = await startTestGateway(
    {
      servers: { everything: { url: `${everything.origin}/mcp` } },
      audit: { payloads: true, queue: { size: 1, overflow: 'spill' }, batch: { size: 500, interval: '10m' } },
      apis: [{ name: 'recorded', path: '/mcp', server: 'everything' }],
    },
    { dataDir },
  );
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const { client, close } = await connectClient(gh.url('recorded'));
  const { message, args } = secretCall();
  const result = await client.callTool({ name: 'echo', arguments: args });
  assert.ok(JSON.stringify(result.content).includes(MISSED.stripeKey), 'the upstream got the call as sent');
  await close();

  const spillFile = path.join(dataDir, 'audit-spill.jsonl');
  const spilled = (): string => (existsSync(spillFile) ? readFileSync(spillFile, 'utf8') : '');
  for (let i = 0; i < 100 && !spilled().includes('"tools/call"'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  const line = spilled().split('\n').find((l) => l.includes('"tools/call"'));
  assert.ok(line, 'the call went to the spill file');
  const spilledCall = JSON.parse(line) as { request: string; response: string; raw?: unknown };
  assert.equal(spilledCall.raw, undefined, 'no unredacted payload in the spill file');
  assertRedacted(JSON.parse(spilledCall.request) as { arguments: Record<string, unknown> }, (JSON.parse(spilledCall.response) as { result: { content: Array<{ text: string }> } }).result.content[0]!.text, 'spill file');

  // Through the writer thread into the database: the same redaction.
  await gh.close();
  const [stored] = readAuditFile(path.join(dataDir, 'audit.db')).filter((e) => e.method === 'tools/call');
  assertRedacted(JSON.parse(stored!.request!) as { arguments: Record<string, unknown> }, (JSON.parse(stored!.response!) as { result: { content: Array<{ text: string }> } }).result.content[0]!.text, 'database');
  assert.ok(message.includes(MISSED.pemBody));
  for (const name of [path.join(dataDir, 'audit.db'), path.join(dataDir, 'audit.db-wal'), spillFile]) {
    if (!existsSync(name)) continue;
    const bytes = readFileSync(name);
    for (const secret of Object.values(MISSED)) assert.ok(!bytes.includes(secret), `${path.basename(name)} does not hold ${secret.slice(0, 8)}…`);
  }
});

test('payloads are redacted by the writer thread with the API\'s own settings, and a reload\'s new settings apply to the records after it', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  const config = (redact: string[]) => ({ listen: { host: '127.0.0.1', port: 0 }, servers: { everything: { url: `${everything.origin}/mcp` } }, audit: { payloads: true, redact }, apis: [{ name: 'recorded', path: '/mcp', server: 'everything' }] });
  const gh = await startTestGateway(config(['note']), { dataDir: tempDir() });
  t.after(async () => {
    await gh.close();
    await everything.close();
  });
  const call = async (tag: string) => {
    const { client, close } = await connectClient(gh.url('recorded'));
    await client.callTool({ name: 'echo', arguments: { ...secretCall().args, tag } });
    await close();
  };
  await call('before');
  gh.gateway.reload(validateConfig(config(['note', 'tag'])));
  await call('after');
  const calls = await recordsWhen(gh.gateway, { method: 'tools/call' }, (events) => events.length === 2);
  const [first, second] = calls.sort((a, b) => a.time - b.time).map((e) => JSON.parse(e.request!) as { arguments: Record<string, unknown> });
  assert.equal(first!.arguments.note, '[REDACTED]', 'a configured name');
  assert.equal(first!.arguments.tag, 'before', 'not configured before the reload');
  assert.equal(second!.arguments.tag, '[REDACTED]', 'configured by the reload');
  for (const request of [first!, second!]) {
    request.arguments.note = 'kept as is';
    assertRedacted(request, request.arguments.message as string, 'writer');
  }
});
