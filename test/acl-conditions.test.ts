// CEL conditions are type-checked at load: `gatehouse check` and a hot reload refuse a condition
// on an unknown field or one that is not a bool, naming the file, the line and the field; on a
// reload the running configuration stays in force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, runCli, writeConfig } from './helpers/gatehouse.ts';
import { waitForLogLines } from './helpers/lifecycle-procs.ts';
import { startCliGateway } from './helpers/lifecycle-cli.ts';

/** A reload is debounced, then loads and validates the file: generous on a loaded machine. */
const RELOAD_WAIT_MS = 30_000;

/** An API appended to the reload helper's file (its `apis` list starts on line 17): echo is denied to anonymous callers. */
function guardedApi(condition: string): string {
  return [
    '  - name: guarded', //                                                         line 17
    '    path: /guarded',
    '    server: everything',
    '    policies:',
    '      - acl:',
    '          rules:',
    '            - features: [{ type: tools, methods: [tools/list, tools/call] }]',
    '            - effect: deny',
    '              features: [{ type: tools, methods: [tools/call], pattern: { type: literal, value: echo } }]',
    `              condition: ${JSON.stringify(condition)}`, //                     line 26
    '',
  ].join('\n');
}

const CHECKED_FILE = `servers:
  everything:
    url: http://127.0.0.1:3001/mcp
apis:
  - name: everything
    path: /mcp
    server: everything
    policies:
      - acl:
          rules:
            - features: [{ type: tools, methods: [tools/list, tools/call] }]
            - effect: deny
              features: [{ type: tools, methods: [tools/call], pattern: { type: literal, value: echo } }]
              condition: agent.idd == "alice"
            - effect: deny
              features: [{ type: tools, methods: [tools/call], pattern: { type: literal, value: add } }]
              condition: agent.id
`;

test('gatehouse check refuses a deny rule on an unknown field and a non-boolean condition, naming file, line and field (both passed before)', { timeout: 40_000 }, async () => {
  const file = writeConfig(CHECKED_FILE);
  const cli = runCli(['check', '--config', file]);
  const { code } = await cli.exited;
  const output = cli.output();
  assert.equal(code, 1, output);
  assert.ok(output.includes(`${file}:14:`), `file and line 14 named:\n${output}`);
  assert.match(output, /apis\[0\]\.policies\[0\]\.acl\.rules\[1\]\.condition: invalid CEL condition: unknown field `idd` of `agent` \(at column 7\); `agent` has id, kind, name, labels, tenant/);
  assert.ok(output.includes(`${file}:17:`), `file and line 17 named:\n${output}`);
  assert.match(output, /apis\[0\]\.policies\[0\]\.acl\.rules\[2\]\.condition: invalid CEL condition: the condition is of type string; a condition must be a bool/);
});

test('a reload with an unknown field or a non-boolean condition is refused, naming file, line and field; the running ACL stays in force', { timeout: 60_000 }, async (t) => {
  const gh = await startCliGateway(t);
  const isReloaded = (l: Record<string, unknown>) => l.msg === 'configuration reloaded';
  const isRefused = (l: Record<string, unknown>) => typeof l.msg === 'string' && l.msg.startsWith('configuration change refused');

  gh.writeConfig({ extraApis: guardedApi('agent.id == "anonymous"') });
  await waitForLogLines(gh.cli, isReloaded, 'the guarded API is applied', 1, RELOAD_WAIT_MS);
  const session = await connectClient(gh.url('/guarded'));
  gh.defer(() => session.close());
  const denied = async (what: string) => {
    const result = await session.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    assert.equal(result.isError, true, `${what}: echo is denied`);
    assert.match(JSON.stringify(result.content), /Tool echo not found/);
  };
  await denied('before the bad edits');

  gh.writeConfig({ extraApis: guardedApi('agent.idd == "anonymous"') });
  const [unknownField] = await waitForLogLines(gh.cli, isRefused, 'the unknown field is refused', 1, RELOAD_WAIT_MS);
  const first = String(unknownField!.problems);
  assert.ok(first.includes(`${gh.file}:26:`), `names the file and line 26: ${first}`);
  assert.match(first, /apis\[2\]\.policies\[0\]\.acl\.rules\[1\]\.condition: invalid CEL condition: unknown field `idd` of `agent`/);
  await denied('after the refused unknown field');

  gh.writeConfig({ extraApis: guardedApi('agent.id') });
  const refusals = await waitForLogLines(gh.cli, isRefused, 'the non-boolean condition is refused', 2, RELOAD_WAIT_MS);
  const second = String(refusals[1]!.problems);
  assert.ok(second.includes(`${gh.file}:26:`), `names the file and line 26: ${second}`);
  assert.match(second, /apis\[2\]\.policies\[0\]\.acl\.rules\[1\]\.condition: invalid CEL condition: the condition is of type string; a condition must be a bool/);
  await denied('after the refused non-boolean condition');
  const add = await session.client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
  assert.notEqual(add.isError, true, 'other tools still work');
});
