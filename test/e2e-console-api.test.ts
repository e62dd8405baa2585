// The management API endpoints the console relies on, against a real managed-mode Gatehouse:
// CEL conditions compiled by the policy's own compiler (valid exactly when a deploy accepts them),
// where clients connect, and the simulator ("what would this agent see?") against the real
// server-everything, checked against what the SDK client sees through the deployed API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startManaged } from './helpers/managed.ts';
import { connectClient, everythingStdioCommand, startEverything } from './helpers/gatehouse.ts';

test('POST /api/v1/validate/cel answers valid, or the compiler\'s error with its column, and agrees with what a save accepts', { timeout: 30_000 }, async (t) => {
  const gh = await startManaged();
  t.after(() => gh.close());
  const check = async (expression: unknown) => gh.call('POST', '/api/v1/validate/cel', { body: { expression } });

  assert.deepEqual((await check('agent.labels["team"] == "support" && mcp.name.startsWith("get_")')).body, { valid: true });
  const unknownField = await check('agent.idd == "x"');
  assert.equal(unknownField.status, 200);
  assert.deepEqual(unknownField.body, { valid: false, error: 'unknown field `idd` of `agent` (at column 7); `agent` has id, kind, name, labels, tenant', column: 7 });
  const unfinished = await check('agent.id == ');
  assert.equal(unfinished.body.valid, false);
  assert.equal(unfinished.body.column, 13);
  const unknownVariable = await check('foo == 1');
  assert.match(String(unknownVariable.body.error), /^Unknown variable: foo \(at column 1\); the context has agent, user, request, mcp, claims, now$/);
  const notBool = await check('agent.id');
  assert.deepEqual(notBool.body, { valid: false, error: 'the condition is of type string; a condition must be a bool, e.g. `agent.id == "alice"`' });

  // What it calls invalid, a save refuses with the same words; what it calls valid, a save takes.
  await gh.call('POST', '/api/v1/servers', { body: { name: 'up', url: 'http://127.0.0.1:9/mcp' } });
  const rule = (condition: string) => ({ name: 'w', path: '/w', server: 'up', policies: [{ acl: { rules: [{ condition, features: [{ type: 'tools', methods: ['tools/list'] }] }] } }] });
  const refused = await gh.call('POST', '/api/v1/apis', { body: rule('agent.idd == "x"') });
  assert.equal(refused.status, 400);
  assert.deepEqual(refused.body.problems, [{ field: 'apis[0].policies[0].acl.rules[0].condition', message: `invalid CEL condition: ${String(unknownField.body.error)}` }]);
  assert.equal((await gh.call('POST', '/api/v1/apis', { body: rule('agent.id != "blocked"') })).status, 201);

  // Bad requests are refused with the field named; nothing is stored.
  const missing = await check(undefined);
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.body.problems, [{ field: 'expression', message: 'required field is missing (expected string)' }]);
  assert.equal((await check('x'.repeat(8193))).status, 400);
  assert.equal((await gh.call('GET', '/api/v1/validate/cel')).status, 405);
  assert.equal((await gh.call('POST', '/api/v1/validate/yaml', { body: {} })).status, 404);
});

test('a viewer may validate a condition (it changes nothing) but still not change anything', { timeout: 30_000 }, async (t) => {
  const gh = await startManaged();
  t.after(() => gh.close());
  const made = await gh.call('POST', '/api/v1/tokens', { body: { name: 'console viewer', role: 'viewer' } });
  assert.equal(made.status, 201);
  const asViewer = (method: string, path: string, body: unknown) =>
    fetch(`${gh.admin}${path}`, { method, headers: { authorization: `Bearer ${String(made.body.token)}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const validated = await asViewer('POST', '/api/v1/validate/cel', { expression: 'agent.id == "a"' });
  assert.equal(validated.status, 200);
  assert.deepEqual(await validated.json(), { valid: true });
  assert.equal((await asViewer('POST', '/api/v1/servers', { name: 'x', url: 'http://127.0.0.1:9/mcp' })).status, 403);
});

test('GET /api/v1/info says where clients connect and which version is live', { timeout: 30_000 }, async (t) => {
  const gh = await startManaged();
  t.after(() => gh.close());
  const before = await gh.call('GET', '/api/v1/info');
  assert.equal(before.status, 200);
  assert.deepEqual(before.body, { mode: 'managed', mcpBase: gh.mcpUrl(''), deployedVersion: null });
  await gh.call('POST', '/api/v1/servers', { body: { name: 'up', url: 'http://127.0.0.1:9/mcp' } });
  await gh.call('POST', '/api/v1/apis', { body: { name: 'w', path: '/w', server: 'up' } });
  const deployed = await gh.call('POST', '/api/v1/deployments', {});
  assert.equal(deployed.status, 201);
  assert.equal((await gh.call('GET', '/api/v1/info')).body.deployedVersion, 1);
  assert.equal((await gh.call('POST', '/api/v1/info', { body: {} })).status, 405);
});

type Sim = {
  acls: number;
  source: string;
  version: number | null;
  agent: { id: string; known: boolean; labels: Record<string, string> };
  servers: Array<{ server: string; error: string | null }>;
  items: Array<{ kind: string; name: string; server: string; original: string; methods: Array<{ method: string; allowed: boolean; rule: string | null; reason?: string }> }>;
};
const verdicts = (sim: Sim, kind: string, name: string) => Object.fromEntries(sim.items.find((i) => i.kind === kind && i.name === name)!.methods.map((m) => [m.method, m.allowed ? `allowed by ${m.rule}` : `denied${m.rule ? ` by ${m.rule}` : ''}${m.reason ? `: ${m.reason}` : ''}`]));

test('POST /api/v1/apis/{name}/simulate lists every item of the real server and decides the draft\'s ACL per agent and method, naming the rule', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const direct = await connectClient(`${everything.origin}/mcp`);
  const tools = (await direct.client.listTools()).tools.map((x) => x.name).sort();
  const prompts = (await direct.client.listPrompts()).prompts.map((x) => x.name).sort();
  const resources = (await direct.client.listResources()).resources.map((x) => x.uri);
  await direct.close();
  const gh = await startManaged();
  t.after(() => gh.close());
  await gh.call('POST', '/api/v1/servers', { body: { name: 'everything', url: `${everything.origin}/mcp` } });
  await gh.call('POST', '/api/v1/apis', { body: { name: 'weather', path: '/weather', server: 'everything' } });
  const simulate = async (body: unknown, api = 'weather') => gh.call('POST', `/api/v1/apis/${api}/simulate`, { body });

  // No ACL: everything allowed, and every item of the server is listed.
  const open = (await simulate({ agent: { id: 'bot' } })).body as unknown as Sim;
  assert.equal(open.acls, 0);
  assert.deepEqual(open.items.filter((i) => i.kind === 'tool').map((i) => i.name).sort(), tools);
  assert.deepEqual(open.items.filter((i) => i.kind === 'prompt').map((i) => i.name).sort(), prompts);
  assert.deepEqual(open.items.filter((i) => i.kind === 'resource').map((i) => i.name), resources);
  assert.ok(open.items.every((i) => i.methods.every((m) => m.allowed)));

  // An ACL in the draft only (never deployed): echo for everyone, prompts for the support team, a deny on one prompt.
  const acl = {
    acl: {
      rules: [
        { name: 'echo only', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'echo' } }] },
        { name: 'support prompts', condition: 'agent.labels["team"] == "support"', features: [{ type: 'prompts', methods: ['prompts/list', 'prompts/get'] }] },
        { name: 'no args prompt', effect: 'deny', features: [{ type: 'prompts', methods: ['prompts/get'], pattern: { type: 'literal', value: 'args-prompt' } }] },
      ],
    },
  };
  assert.equal((await gh.call('POST', '/api/v1/apis/weather/policies', { body: acl })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/agents', { body: { id: 'helper', labels: { team: 'support' } } })).status, 201);

  const stranger = (await simulate({ agent: { id: 'bot' } })).body as unknown as Sim;
  assert.equal(stranger.source, 'draft');
  assert.deepEqual(stranger.agent, { id: 'bot', known: false, name: null, labels: {} });
  assert.deepEqual(verdicts(stranger, 'tool', 'echo'), { 'tools/list': 'allowed by echo only', 'tools/call': 'allowed by echo only' });
  assert.deepEqual(verdicts(stranger, 'tool', 'get-sum'), { 'tools/list': 'denied: no rule allows it', 'tools/call': 'denied: no rule allows it' });
  assert.deepEqual(verdicts(stranger, 'prompt', 'simple-prompt'), { 'prompts/list': 'denied: no rule allows it', 'prompts/get': 'denied: no rule allows it' });
  assert.ok(stranger.items.filter((i) => i.kind === 'resource').every((i) => i.methods.every((m) => !m.allowed)));

  const helper = (await simulate({ agent: 'helper', source: 'draft' })).body as unknown as Sim;
  assert.deepEqual(helper.agent.labels, { team: 'support' }, 'the agent\'s labels come from the store');
  assert.deepEqual(verdicts(helper, 'prompt', 'simple-prompt'), { 'prompts/list': 'allowed by support prompts', 'prompts/get': 'allowed by support prompts' });
  assert.deepEqual(verdicts(helper, 'prompt', 'args-prompt'), { 'prompts/list': 'allowed by support prompts', 'prompts/get': 'denied by no args prompt' });

  // Nothing deployed yet: the deployed configuration cannot be simulated; after a deploy it can.
  assert.equal((await simulate({ agent: { id: 'bot' }, source: 'deployed' })).status, 404);
  await gh.call('POST', '/api/v1/deployments', {});
  const deployed = (await simulate({ agent: { id: 'bot' }, source: 'deployed' })).body as unknown as Sim;
  assert.equal(deployed.version, 1);
  assert.deepEqual(verdicts(deployed, 'tool', 'echo'), verdicts(stranger, 'tool', 'echo'));

  // What the simulator says is what the gateway does: the SDK client through the deployed API.
  const agent = await connectClient(gh.mcpUrl('/weather'));
  t.after(() => agent.close());
  const visible = (await agent.client.listTools()).tools.map((x) => x.name);
  assert.deepEqual(visible, deployed.items.filter((i) => i.kind === 'tool' && i.methods.find((m) => m.method === 'tools/list')!.allowed).map((i) => i.name));

  // Bad input and missing things are clear refusals.
  assert.equal((await simulate({})).status, 400);
  assert.equal((await simulate({ agent: { id: 'bot' }, source: 'tomorrow' })).status, 400);
  assert.equal((await simulate({ agent: { id: 'bot' } }, 'nope')).status, 404);
  assert.equal((await gh.call('GET', '/api/v1/apis/weather/simulate')).status, 405);
});

test('simulating a federated API names items as its agents see them; a server that is down is reported, not fatal', { timeout: 60_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  const gh = await startManaged();
  t.after(() => gh.close());
  await gh.call('POST', '/api/v1/servers', { body: { name: 'a', url: `${everything.origin}/mcp` } });
  await gh.call('POST', '/api/v1/servers', { body: { name: 'down', url: 'http://127.0.0.1:9/mcp' } });
  const rule = { name: 'echo of a', condition: 'mcp.server == "a"', features: [{ type: 'tools', methods: ['tools/list'], pattern: { type: 'glob', value: '*echo' } }] };
  await gh.call('POST', '/api/v1/apis', { body: { name: 'fed', path: '/fed', servers: ['a', 'down'], policies: [{ acl: { rules: [rule] } }] } });
  const sim = (await gh.call('POST', '/api/v1/apis/fed/simulate', { body: { agent: { id: 'bot' } } })).body as unknown as Sim;
  assert.deepEqual(sim.servers.map((s) => s.server), ['a', 'down']);
  assert.equal(sim.servers[0]!.error, null);
  assert.match(String(sim.servers[1]!.error), /ECONNREFUSED|fetch failed/);
  const echo = sim.items.find((i) => i.name === 'a__echo');
  assert.deepEqual({ server: echo?.server, original: echo?.original }, { server: 'a', original: 'echo' }, 'the default namespace prefixes the server');
  assert.deepEqual(verdicts(sim, 'tool', 'a__echo'), { 'tools/list': 'allowed by echo of a', 'tools/call': 'denied: no rule allows it' });
  assert.ok(sim.items.filter((i) => i.kind === 'tool' && i.name !== 'a__echo').every((i) => !i.methods[0]!.allowed));
});

test('simulating an API on a stdio server starts the command, lists it, and stops it', { timeout: 60_000 }, async (t) => {
  const gh = await startManaged();
  t.after(() => gh.close());
  const stdio = everythingStdioCommand();
  assert.equal((await gh.call('POST', '/api/v1/servers', { body: { name: 'local', command: stdio.command, args: stdio.args } })).status, 201);
  const rule = { name: 'sums only', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'regex', value: 'get-su.' } }] };
  await gh.call('POST', '/api/v1/apis', { body: { name: 'local', path: '/local', server: 'local', policies: [{ acl: { rules: [rule] } }] } });
  const sim = (await gh.call('POST', '/api/v1/apis/local/simulate', { body: { agent: { id: 'bot' } } })).body as unknown as Sim;
  assert.deepEqual(sim.servers, [{ server: 'local', error: null }]);
  assert.ok(sim.items.some((i) => i.kind === 'tool' && i.name === 'echo'));
  assert.deepEqual(verdicts(sim, 'tool', 'get-sum'), { 'tools/list': 'allowed by sums only', 'tools/call': 'allowed by sums only' });
  assert.deepEqual(verdicts(sim, 'tool', 'echo'), { 'tools/list': 'denied: no rule allows it', 'tools/call': 'denied: no rule allows it' });
  // The child the simulation started is gone (the gateway itself started none: no client connected).
  const children = () => execFileSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(stdio.args.join(' ')));
  for (let tries = 0; children().length > 0 && tries < 50; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(children(), []);
});
