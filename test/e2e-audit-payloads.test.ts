// Payload logging: request params and responses are recorded for the APIs that ask for it,
// redacted (configured fields, fields named like secrets, values that look like secrets) and cut
// at maxPayloadBytes; an API left at the default records none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { connectClient, startEverything, startTestGateway, tempDir } from './helpers/gatehouse.ts';
import { only, readAuditFile, recordsWhen } from './helpers/audit-db.ts';

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
