// The simulator ("what would this agent see?") with a user, token claims and one tool call's
// arguments, through the management API of a real managed-mode Gatehouse in front of the real
// server-everything. An API with two ACL policies whose rules read agent labels, `claims.groups`,
// `user.name` and `mcp.arguments`, and check an argument: each verdict names the rule that decided,
// and for the calls an agent can really make (api-key plan), the SDK client through the deployed
// API gets what the simulator said. Bad input is refused with the field named (400), and an
// unknown agent, user or tool, or another tenant's agent, is answered 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { LOCAL_EGRESS, startEverything, type RunningEverything } from './helpers/gatehouse.ts';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';

let everything: RunningEverything;
let gh: ManagedGatehouse;
let helperKey = '';
let aliceId = '';

type Verdict = { method: string; allowed: boolean; rule: string | null; reason?: string };
type Sim = {
  agent: { id: string; known: boolean; name: string | null; labels: Record<string, string> };
  user: { id: string; name: string | null; known: boolean } | null;
  claims: Record<string, unknown>;
  call: { tool: string; arguments: Record<string, unknown>; verdict: Verdict } | null;
  acls: number;
  items: Array<{ kind: string; name: string; methods: Verdict[] }>;
  notes: string[];
};
const say = (v: Verdict) => (v.allowed ? `allowed by ${v.rule}` : `denied${v.rule ? ` by ${v.rule}` : ''}${v.reason ? `: ${v.reason}` : ''}`);
const verdict = (sim: Sim, kind: string, name: string, method: string) => say(sim.items.find((i) => i.kind === kind && i.name === name)!.methods.find((m) => m.method === method)!);

const ACL_TOOLS = {
  acl: {
    rules: [
      { name: 'support uses tools', condition: 'agent.labels["team"] == "support"', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'] }] },
      { name: 'ops uses tools', condition: '"groups" in claims && "ops" in claims.groups', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'] }] },
      { name: 'prompts are for the next ACL', features: [{ type: 'prompts', methods: ['prompts/list', 'prompts/get'] }] },
      { name: 'no secrets', effect: 'deny', condition: '"message" in mcp.arguments && string(mcp.arguments.message).contains("secret")', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'echo' } }] },
    ],
  },
};
const ACL_LIMITS = {
  acl: {
    rules: [
      { name: 'small b', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], arguments: { b: { max: 10 } } }] },
      { name: 'no big sums', effect: 'deny', condition: '"a" in mcp.arguments && double(mcp.arguments.a) > 100.0', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'get-sum' } }] },
      { name: 'alice prompts', condition: 'user.name == "alice"', features: [{ type: 'prompts', methods: ['prompts/list', 'prompts/get'] }] },
    ],
  },
};

before(async () => {
  everything = await startEverything();
  gh = await startManaged();
  const ok = async (method: string, path: string, body: unknown, status: number) => {
    const answer = await gh.call(method, path, { body });
    assert.equal(answer.status, status, `${method} ${path}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  await ok('POST', '/api/v1/servers', { name: 'everything', url: `${everything.origin}/mcp` }, 201);
  await ok('POST', '/api/v1/apis', { name: 'tools', path: '/tools', server: 'everything', auth: { type: 'api-key' }, policies: [ACL_TOOLS, ACL_LIMITS] }, 201);
  await ok('POST', '/api/v1/agents', { id: 'helper', name: 'Help desk bot', labels: { team: 'support' } }, 201);
  helperKey = String((await ok('POST', '/api/v1/agents/helper/keys', {}, 201)).key);
  aliceId = String((await ok('POST', '/api/v1/users', { username: 'alice', password: 'correct horse battery staple' }, 201)).id);
  await ok('POST', '/api/v1/tenants', { id: 'globex', name: 'Globex' }, 201);
  await ok('POST', '/api/v1/agents', { id: 'gina', tenant: 'globex', labels: { team: 'support' } }, 201);
  await ok('POST', '/api/v1/deployments', {}, 201);
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

const simulate = async (body: unknown) => gh.call('POST', '/api/v1/apis/tools/simulate', { body });
const simulated = async (body: unknown): Promise<Sim> => {
  const answer = await simulate(body);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as unknown as Sim;
};

/** A tools/call through the deployed API as the helper agent: the text, or the JSON-RPC error. */
async function callAsHelper(name: string, args: Record<string, unknown>): Promise<string> {
  const client = new Client({ name: 'simulate-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(gh.mcpUrl('/tools')), { requestInit: { headers: { authorization: `Bearer ${helperKey}` } } });
  await client.connect(transport);
  try {
    const result = await client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema);
    const text = (result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('');
    return result.isError ? `tool error: ${text}` : text;
  } catch (error) {
    if (error instanceof McpError) return `error ${error.code}: ${error.message}`;
    throw error;
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

test('a tool call\'s arguments are decided by the rules that read them, naming the rule, as the deployed gateway decides the same call', { timeout: 60_000 }, async () => {
  const cases: Array<{ tool: string; args: Record<string, unknown>; simulated: string; gateway: RegExp }> = [
    { tool: 'echo', args: { message: 'hello' }, simulated: 'allowed by acl #2: small b', gateway: /^Echo: hello$/ },
    { tool: 'echo', args: { message: 'my secret plan' }, simulated: 'denied by acl #1: no secrets', gateway: /Tool echo not found/ },
    { tool: 'get-sum', args: { a: 1, b: 2 }, simulated: 'allowed by acl #2: small b', gateway: /3/ },
    { tool: 'get-sum', args: { a: 500, b: 2 }, simulated: 'denied by acl #2: no big sums', gateway: /Tool get-sum not found/ },
    { tool: 'get-sum', args: { a: 1, b: 50 }, simulated: 'denied by acl #2: small b: invalid arguments: ', gateway: /^error -32602: .*\bb\b/ },
  ];
  for (const c of cases) {
    const sim = await simulated({ agent: 'helper', tool: c.tool, arguments: c.args });
    assert.deepEqual(sim.agent, { id: 'helper', known: true, name: 'Help desk bot', labels: { team: 'support' } });
    assert.equal(sim.acls, 2);
    assert.deepEqual(sim.call?.arguments, c.args);
    assert.ok(say(sim.call!.verdict).startsWith(c.simulated), `${c.tool} ${JSON.stringify(c.args)}: simulated ${say(sim.call!.verdict)}`);
    assert.deepEqual(verdict(sim, 'tool', c.tool, 'tools/call'), say(sim.call!.verdict), 'the item shows the same verdict');
    assert.equal(verdict(sim, 'tool', c.tool, 'tools/list'), 'allowed by acl #2: small b', 'listing reads no arguments');
    const real = await callAsHelper(c.tool, c.args);
    assert.match(real, c.gateway, `${c.tool} ${JSON.stringify(c.args)} through the gateway: ${real}`);
    assert.equal(c.gateway.source.includes('not found') || c.gateway.source.includes('32602'), !sim.call!.verdict.allowed, 'refused exactly when the simulator says denied');
  }
  // Without arguments, another tool's call is judged with none: the deny rule on echo does not apply.
  const plain = await simulated({ agent: 'helper' });
  assert.equal(plain.call, null);
  assert.equal(verdict(plain, 'tool', 'echo', 'tools/call'), 'allowed by acl #2: small b');
  assert.match(plain.notes.join(' '), /no arguments/);
});

test('a user of the authorization server with typed claims: claims.groups, user.name and the user\'s sub reach the conditions', { timeout: 60_000 }, async () => {
  // An agent described in the request (no labels): only the ops group opens the tools.
  const stranger = await simulated({ agent: { id: 'bot' } });
  assert.deepEqual(stranger.agent, { id: 'bot', known: false, name: null, labels: {} });
  assert.equal(stranger.user, null);
  assert.deepEqual(stranger.claims, {});
  assert.equal(verdict(stranger, 'tool', 'echo', 'tools/list'), 'denied: no rule of acl #1 allows it');
  assert.equal(verdict(stranger, 'prompt', 'simple-prompt', 'prompts/list'), 'denied: no rule of acl #2 allows it', 'the first ACL lets prompts through; the second has the say');

  const byName = await simulated({ agent: { id: 'bot' }, user: 'alice', claims: { groups: ['ops'] }, tool: 'echo', arguments: { message: 'hi' } });
  assert.deepEqual(byName.user, { id: aliceId, name: 'alice', known: true });
  assert.deepEqual(byName.claims, { sub: aliceId, preferred_username: 'alice', groups: ['ops'] }, 'as the embedded server\'s token would carry them, with the given groups');
  assert.equal(say(byName.call!.verdict), 'allowed by acl #2: small b');
  assert.equal(verdict(byName, 'tool', 'get-sum', 'tools/list'), 'allowed by acl #2: small b');
  assert.equal(verdict(byName, 'prompt', 'simple-prompt', 'prompts/get'), 'allowed by acl #2: alice prompts');
  assert.deepEqual((await simulated({ agent: { id: 'bot' }, user: aliceId })).user, { id: aliceId, name: 'alice', known: true }, 'by id as well as by username');

  // Another group: the tools stay closed (the first ACL has no rule for it), the prompts open (alice).
  const otherGroup = await simulated({ agent: { id: 'bot' }, user: 'alice', claims: { groups: ['sales'] } });
  assert.equal(verdict(otherGroup, 'tool', 'echo', 'tools/list'), 'denied: no rule of acl #1 allows it');
  assert.equal(verdict(otherGroup, 'prompt', 'simple-prompt', 'prompts/list'), 'allowed by acl #2: alice prompts');

  // A user described in the request, not in the authorization server: taken as given.
  const described = await simulated({ agent: { id: 'bot', labels: { team: 'support' } }, user: { id: 'u-77', name: 'alice' } });
  assert.deepEqual(described.user, { id: 'u-77', name: 'alice', known: false });
  assert.deepEqual(described.claims, { sub: 'u-77', preferred_username: 'alice' });
  assert.equal(verdict(described, 'tool', 'echo', 'tools/call'), 'allowed by acl #2: small b', 'the described agent\'s labels are used');
});

test('bad input is refused with the field named (400); an unknown agent, user or tool, or another tenant\'s agent, is missing (404)', { timeout: 60_000 }, async () => {
  const refused = async (body: unknown, status: number, message: RegExp) => {
    const answer = await simulate(body);
    assert.equal(answer.status, status, `${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`);
    assert.match(String(answer.body.error), message);
  };
  await refused({ agent: 'helper', tool: 'echo', arguments: '{"message": "hi"' }, 400, /^arguments: expected a JSON object of the tool's arguments; got a string that is not JSON either \(/);
  await refused({ agent: 'helper', tool: 'echo', arguments: '{"message": "hi"}' }, 400, /^arguments: expected a JSON object .*not a string holding object JSON: send the object itself$/);
  await refused({ agent: 'helper', tool: 'echo', arguments: ['hi'] }, 400, /^arguments: expected a JSON object of the tool's arguments, got a list$/);
  await refused({ agent: 'helper', arguments: { message: 'hi' } }, 400, /^arguments: .*name the tool in "tool"$/);
  await refused({ agent: 'helper', claims: 'ops' }, 400, /^claims: expected a JSON object of token claims/);
  await refused({ agent: 'helper', user: 42 }, 400, /^user: expected a user of the embedded authorization server/);
  await refused({ agent: { labels: {} } }, 400, /^agent\.id: expected a non-empty string, got undefined$/);
  await refused({ agent: { id: 'x', labels: { team: 7 } } }, 400, /^agent\.labels\.team: expected a string, got number$/);
  await refused({ agent: 'helper', tools: 'echo' }, 400, /^tools: unknown field; expected agent, user, claims, tool, arguments, source$/);
  await refused({}, 400, /^agent: required field is missing/);
  const problems = (await simulate({ agent: 'helper', tool: 'echo', arguments: 7 })).body.problems;
  assert.deepEqual(problems, [{ field: 'arguments', message: 'expected a JSON object of the tool\'s arguments, got number' }]);

  // A body that is not JSON at all.
  const raw = await fetch(`${gh.admin}/api/v1/apis/tools/simulate`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{"agent": "helper", "arguments": {' });
  assert.equal(raw.status, 400);
  assert.match(String(((await raw.json()) as { error: string }).error), /^the body is not JSON: /);

  await refused({ agent: 'ghost' }, 404, /^agent "ghost" not found \(neither in the store nor among the document's agents\); to simulate an agent that is not, describe it/);
  await refused({ agent: 'helper', user: 'nobody' }, 404, /^user "nobody" not found \(no user of the authorization server has this id or username\)/);
  await refused({ agent: 'helper', tool: 'no-such-tool', arguments: {} }, 404, /^tool "no-such-tool" not found: no server of API "tools" lists it; name it as the API's agents see it$/);

  // Another tenant's agent, for that tenant's neighbour: missing, as one that does not exist.
  assert.equal((await gh.call('POST', '/api/v1/tenants', { body: { id: 'acme', name: 'Acme', egress: LOCAL_EGRESS } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/servers', { body: { name: 'acme-srv', url: `${everything.origin}/mcp`, tenant: 'acme' } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/apis', { body: { name: 'acme-api', path: '/acme', server: 'acme-srv', tenant: 'acme', policies: [ACL_TOOLS] } })).status, 201);
  const acme = String((await gh.call('POST', '/api/v1/tokens', { body: { name: 'acme admin', role: 'admin', tenant: 'acme' } })).body.token);
  const asAcme = async (body: unknown) => {
    const response = await fetch(`${gh.admin}/api/v1/apis/acme-api/simulate`, { method: 'POST', headers: { authorization: `Bearer ${acme}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const foreign = await asAcme({ agent: 'gina' });
  assert.equal(foreign.status, 404);
  assert.match(String(foreign.body.error), /^agent "gina" not found/);
  assert.doesNotMatch(JSON.stringify(foreign.body), /globex|support/);
  const ghost = await asAcme({ agent: 'ghost' });
  assert.deepEqual(ghost.body.error, String(foreign.body.error).replace('gina', 'ghost'), 'worded as for an agent that does not exist');
  // Users of the authorization server belong to the platform: a tenant's identity describes one.
  assert.equal((await asAcme({ agent: { id: 'bot' }, user: 'alice' })).status, 404);
  const typed = await asAcme({ agent: { id: 'bot' }, user: { id: 'u-1', name: 'alice' }, claims: { groups: ['ops'] } });
  assert.equal(typed.status, 200, JSON.stringify(typed.body));
  // The platform sees the same agent with its labels.
  assert.equal(((await gh.call('POST', '/api/v1/apis/acme-api/simulate', { body: { agent: 'gina' } })).body.agent as { known: boolean }).known, true);
});
