// Graceful shutdown of `gatehouse start`: SIGTERM drains calls in flight, refuses new work,
// stops every stdio child and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INIT_REQUEST, MCP_HEADERS, connectClient } from './helpers/gatehouse.ts';
import { cliLogLines, isAlive, waitForLogLines } from './helpers/lifecycle-procs.ts';
import { startCliGateway } from './helpers/lifecycle-cli.ts';

/** A new request while draining: 503 GH_SHUTTING_DOWN, or the connection is refused (the listener is closed). */
async function requestDuringDrain(url: string): Promise<string> {
  try {
    const response = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS }, body: JSON.stringify(INIT_REQUEST) });
    const body = (await response.json()) as { error?: { data?: { code?: string } } };
    return `${response.status} ${body.error?.data?.code ?? ''}`.trim();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? String(error);
  }
}

test('SIGTERM drains calls in flight, refuses new requests, stops stdio children and exits 0', { timeout: 40_000 }, async (t) => {
  const gh = await startCliGateway(t);
  const stdioBusy = await connectClient(gh.url('/mcp-stdio'));
  gh.defer(() => stdioBusy.close());
  const stdioIdle = await connectClient(gh.url('/mcp-stdio'));
  gh.defer(() => stdioIdle.close());
  const http = await connectClient(gh.url('/mcp'));
  gh.defer(() => http.close());
  const children = gh.stdioChildren();
  assert.equal(children.length, 2, 'one child per stdio session');

  // A ~2 s call on the stdio upstream and one on the HTTP upstream; SIGTERM once both are under way.
  const started: Array<Promise<void>> = [];
  const longCall = (client: typeof http.client) => {
    let progressed!: () => void;
    started.push(new Promise<void>((resolve) => (progressed = resolve)));
    return client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 4 } }, undefined, { onprogress: () => progressed() });
  };
  const calls = Promise.allSettled([longCall(stdioBusy.client), longCall(http.client)]);
  await Promise.all(started);
  gh.cli.child.kill('SIGTERM');
  await waitForLogLines(gh.cli, (l) => l.msg === 'draining', 'Gatehouse starts draining');

  const refusals = [await requestDuringDrain(gh.url('/mcp')), await requestDuringDrain(gh.url('/mcp-stdio'))];
  t.diagnostic(`new requests while draining: ${refusals.join(', ')}`);
  for (const refusal of refusals) assert.ok(['503 GH_SHUTTING_DOWN', 'ECONNREFUSED'].includes(refusal), `refused while draining: ${refusal}`);

  const [stdioResult, httpResult] = await calls;
  for (const [name, result] of [
    ['stdio', stdioResult],
    ['http', httpResult],
  ] as const) {
    assert.equal(result!.status, 'fulfilled', `${name} call completed: ${result!.status === 'rejected' ? String(result!.reason) : ''}`);
    if (result!.status === 'fulfilled') assert.match(JSON.stringify(result!.value.content), /Long running operation completed/);
  }

  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    gh.cli.exited,
    new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 20_000))),
  ]);
  clearTimeout(timer);
  assert.deepEqual(exit, { code: 0, signal: null }, `the process exits by itself:\n${gh.cli.output().slice(-3000)}`);
  for (const pid of children) assert.ok(!isAlive(pid), `stdio child ${pid} is gone`);
  const stopped = cliLogLines(gh.cli).find((l) => l.msg === 'gatehouse stopped');
  assert.ok(stopped, 'logs that it stopped');
  assert.equal(stopped.cut, 0, 'no request was cut');
  assert.ok(Number(stopped.drained) >= 2, `both calls were drained (${String(stopped.drained)})`);
});
