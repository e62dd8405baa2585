// A stdio child's stderr reaches the log under a budget per child: a child that floods stderr
// (10 MiB) gets a bounded number of log lines, the rest is dropped, counted (metrics) and said in
// a warning, and the child is not slowed down. A real SDK-built stdio server does the flooding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestGateway } from './helpers/gatehouse.ts';
import { stdioTestServer } from './helpers/stdio-test-server.ts';
import { randomKeyHex } from './helpers/gatehouse.ts';
import { channelIdOf, waitUntil } from './helpers/lifecycle-procs.ts';

const LINES = 100_000;
const LENGTH = 100; // 100 000 lines of 101 bytes: about 10 MiB

test("a child flooding stderr is rate-limited in the log, and what was dropped is counted (10 MiB in 10 s reached the log)", { timeout: 60_000 }, async (t) => {
  const key = randomKeyHex();
  const gh = await startTestGateway(
    {
      servers: { flood: { ...stdioTestServer(), stderr: { maxLines: 50, maxBytes: '1mb', interval: '1s', maxLineBytes: 64 } } },
      apis: [{ name: 'flood', path: '/flood', server: 'flood', auth: { type: 'keyless' } }],
    },
    { key },
  );
  t.after(() => gh.close());
  const agent = await connectClient(gh.url('flood'));
  t.after(() => agent.close());
  const session = channelIdOf(agent.transport.sessionId!, key);

  const started = Date.now();
  const result = await agent.client.callTool({ name: 'flood-stderr', arguments: { lines: LINES, length: LENGTH } });
  assert.deepEqual(result.content, [{ type: 'text', text: `wrote ${LINES} lines` }], 'the flooding child is answered');
  const intervals = Math.ceil((Date.now() - started) / 1000) + 1;

  const ofChild = () => gh.logs.lines.filter((l) => l.session === session && l.stream === 'stderr');
  const logged = () => ofChild().filter((l) => l.level === 30 && /^x+$/.test(String(l.msg)));
  const droppedSaid = () => ofChild().filter((l) => l.level === 40).reduce((sum, l) => sum + (l.droppedLines as number), 0);
  // Every line is either logged or said dropped once its interval has ended.
  await waitUntil(() => logged().length + droppedSaid() === LINES, 'every flooded line is logged or counted as dropped', 20_000);
  assert.ok(logged().length <= 50 * intervals, `at most 50 lines per interval were logged (${logged().length} in ${intervals} intervals)`);
  for (const line of logged()) {
    assert.equal(String(line.msg).length, 64, 'long lines are cut at maxLineBytes');
    assert.equal(line.truncatedBytes, LENGTH - 64);
  }

  const metrics = await gh.gateway.observability!.metrics!.text();
  const droppedLines = Number(/gatehouse_stdio_stderr_dropped_lines_total\{server="flood"\} (\d+)/.exec(metrics)?.[1]);
  const droppedBytes = Number(/gatehouse_stdio_stderr_dropped_bytes_total\{server="flood"\} (\d+)/.exec(metrics)?.[1]);
  assert.equal(droppedLines, droppedSaid());
  assert.equal(droppedBytes, droppedLines * LENGTH + logged().length * (LENGTH - 64), 'dropped lines and the cut ends of logged ones');
});
