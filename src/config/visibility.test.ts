// Which lists a reload announces as changed, per API: only what can change what a client sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changedLists } from './visibility.ts';
import { validateConfig } from './load.ts';
import type { ConfigInput } from './schema.ts';

const allowAll = { features: [{ type: 'tools', methods: ['tools/list', 'tools/call'] }, { type: 'prompts', methods: ['prompts/list', 'prompts/get'] }] };

function config(change: (c: ConfigInput) => void = () => undefined): ReturnType<typeof validateConfig> {
  const c = {
    servers: { one: { url: 'http://127.0.0.1:3001/mcp' }, two: { command: 'server' } },
    agents: [{ id: 'alice', name: 'Alice', labels: { team: 'blue' } }],
    apis: [
      { name: 'guarded', path: '/guarded', server: 'one', policies: [{ acl: { rules: [allowAll] } }, { rateLimit: { limits: [{ name: 'l', key: ['agent'], rate: 10, per: '1m' }] } }] },
      { name: 'open', path: '/open', server: 'two' },
    ],
  } as unknown as ConfigInput;
  change(c);
  return validateConfig(c);
}

type Api = { server: string; policies: Array<{ acl?: { rules: unknown[] }; rateLimit?: { limits: Array<{ rate: number }> } }> };
const api = (c: ConfigInput, i: number) => (c.apis as unknown as Api[])[i]!;

test('a reload announces the lists an ACL change can alter, and nothing for changes that hide nothing', () => {
  const before = config();
  assert.deepEqual(changedLists(before, config()), new Map(), 'the same file');
  const hideEcho = config((c) => api(c, 0).policies[0]!.acl!.rules.push({ effect: 'deny', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'echo' } }] }));
  assert.deepEqual(changedLists(before, hideEcho), new Map([['guarded', ['tools']]]));
  const rateOnly = config((c) => (api(c, 0).policies[1]!.rateLimit!.limits[0]!.rate = 20));
  assert.deepEqual(changedLists(before, rateOnly), new Map(), 'rate limits hide nothing');
  const argumentsOnly = config((c) => ((api(c, 0).policies[0]!.acl!.rules[0] as typeof allowAll).features[0] = { ...allowAll.features[0]!, arguments: { message: { maxLength: 5 } } } as never));
  assert.deepEqual(changedLists(before, argumentsOnly), new Map(), 'argument constraints hide nothing');
  const aclAdded = config((c) => (api(c, 1).policies = [{ acl: { rules: [] } }]));
  assert.deepEqual(changedLists(before, aclAdded), new Map([['open', ['tools', 'resources', 'prompts']]]), 'an ACL with no rules hides everything');
});

test('a reload that changes the server behind an API announces every list; an agent change only matters to conditions', () => {
  const before = config();
  const otherServer = config((c) => (api(c, 1).server = 'one'));
  assert.deepEqual(changedLists(before, otherServer), new Map([['open', ['tools', 'resources', 'prompts']]]));
  const serverMoved = config((c) => ((c.servers as Record<string, unknown>).one = { url: 'http://127.0.0.1:3002/mcp' }));
  assert.deepEqual(changedLists(before, serverMoved), new Map([['guarded', ['tools', 'resources', 'prompts']]]));

  const relabel = (c: ConfigInput) => ((c.agents as Array<{ labels: Record<string, string> }>)[0]!.labels = { team: 'red' });
  assert.deepEqual(changedLists(before, config(relabel)), new Map(), 'no rule looks at agents');
  const conditional = (c: ConfigInput) => ((api(c, 0).policies[0]!.acl!.rules[0] as Record<string, unknown>).condition = 'agent.labels.team == "blue"');
  assert.deepEqual(
    changedLists(config(conditional), config((c) => (conditional(c), relabel(c)))),
    new Map([['guarded', ['tools', 'prompts']]]),
    'a rule with a condition on agents: relabelling an agent changes what it names',
  );
  const renamedApi = config((c) => (api(c, 0) as unknown as { name: string }).name = 'renamed');
  assert.deepEqual(changedLists(before, renamedApi), new Map(), 'a new API has no sessions yet');
});

test('a reload that adds tool pinning or changes its mode announces the tools list; a new webhook announces nothing', () => {
  const before = config();
  const observed = config((c) => (api(c, 0).policies as unknown[]).push({ pinning: { mode: 'observe' } }));
  assert.deepEqual(changedLists(before, observed), new Map([['guarded', ['tools']]]));
  const enforced = config((c) => (api(c, 0).policies as unknown[]).push({ pinning: { mode: 'enforce' } }));
  assert.deepEqual(changedLists(observed, enforced), new Map([['guarded', ['tools']]]));
  const hooked = config((c) => (api(c, 0).policies as unknown[]).push({ pinning: { mode: 'enforce', webhook: { url: 'http://127.0.0.1:9/hook' } } }));
  assert.deepEqual(changedLists(enforced, hooked), new Map());
});
