// CEL conditions are type-checked at load against the documented context: unknown fields and
// non-bool conditions are config errors naming the file, line and field; the documented
// examples compile and decide as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCondition, type ConditionContext } from './condition.ts';
import { CompiledAcl } from './rules.ts';
import { conditionContext } from './acl-policy.ts';
import { parseConfigText } from '../../config/load.ts';
import { ConfigError } from '../../config/errors.ts';
import type { PolicyContext } from '../policy.ts';
import type { Principal } from '../../auth/principal.ts';
import type { AclConfig } from './schema.ts';

function refusal(source: string): string {
  try {
    compileCondition(source);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail(`${source} was accepted`);
}

/** A file whose ACL allows every tool and denies `echo` under `condition` (rules[1], line 15). */
function aclFile(condition: string): string {
  return `servers:
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
            - name: no-echo-for-alice
              effect: deny
              features: [{ type: tools, methods: [tools/call], pattern: { type: literal, value: echo } }]
              condition: ${JSON.stringify(condition)}
`;
}

function configProblem(text: string): { line: number | undefined; field: string; message: string; printed: string } {
  try {
    parseConfigText(text, '/etc/gatehouse/gatehouse.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.problems.length, 1, error.message);
    const [problem] = error.problems;
    return { line: problem!.line, field: problem!.field, message: problem!.message, printed: error.message };
  }
  assert.fail('the file was accepted');
}

function policyContext(principal: Partial<Principal>): PolicyContext {
  return {
    api: 'everything',
    server: 'everything',
    principal: { kind: 'agent', id: 'alice', key: 'agent:alice', plan: 'api-key', ...principal },
    protocolVersion: '2025-11-25',
    sessionId: undefined,
    request: { headers: { 'x-team': 'blue' }, remoteAddress: '127.0.0.1' },
    log: undefined as unknown as PolicyContext['log'],
    trace: [],
  };
}

test('a deny rule on an unknown field (agent.idd) is refused at load, naming file, line and field (it passed and silently never applied)', () => {
  const problem = configProblem(aclFile('agent.idd == "alice"'));
  assert.equal(problem.field, 'apis[0].policies[0].acl.rules[1].condition');
  assert.equal(problem.line, 15);
  assert.match(problem.message, /invalid CEL condition: unknown field `idd` of `agent` \(at column 7\); `agent` has id, kind, name, labels, tenant/);
  assert.match(problem.printed, /^ {2}\/etc\/gatehouse\/gatehouse\.yaml:15:\d+: apis\[0\]\.policies\[0\]\.acl\.rules\[1\]\.condition: invalid CEL condition: unknown field `idd`/m);
});

test('a condition that is not a bool (agent.id) is refused at load (it passed and never applied)', () => {
  const problem = configProblem(aclFile('agent.id'));
  assert.equal(problem.field, 'apis[0].policies[0].acl.rules[1].condition');
  assert.equal(problem.line, 15);
  assert.match(problem.message, /invalid CEL condition: the condition is of type string; a condition must be a bool/);
  // A value known only at run time is not a bool either: it would never apply when it is not one.
  assert.match(refusal('claims.admin'), /of type dyn .* must be a bool: compare the value/);
  assert.match(refusal('mcp.arguments.path'), /of type dyn/);
});

test('unknown fields are refused wherever they are written: has(), optional selection, indexing, macros, every closed object', () => {
  assert.match(refusal('has(agent.idd)'), /unknown field `idd` of `agent` \(at column 11\)/);
  assert.match(refusal('agent.?idd.orValue("") == "x"'), /unknown field `idd` of `agent`/);
  assert.match(refusal('agent["idd"] == "x"'), /unknown field `idd` of `agent`/);
  assert.match(refusal('[agent].exists(a, a.idd == "x")'), /unknown field `idd` of `agent`/);
  assert.match(refusal('user.email == "a@example.com"'), /unknown field `email` of `user` \(at column 6\); `user` has id, name/);
  assert.match(refusal('request.ip == "127.0.0.1"'), /unknown field `ip` of `request`.*has headers, address/);
  assert.match(refusal('mcp.tooll == "echo"'), /unknown field `tooll` of `mcp`.*has method, name, uri, arguments/);
  assert.match(refusal('agnet.id == "alice"'), /Unknown variable: agnet \(at column 1\); the context has agent, user, request, mcp, claims, now/);
  assert.match(refusal('agent.labels.team == 5'), /no such overload: string == int/);
  assert.match(refusal('agent.id == '), /Unexpected token/);
});

test('the documented context type-checks and decides as documented; free-form maps stay open', () => {
  const ctx: ConditionContext = {
    agent: { id: 'alice', kind: 'agent', name: 'Alice', labels: { team: 'blue' }, tenant: 'acme' },
    user: { id: 'u1', name: 'Ursula' },
    claims: { scope: 'mcp math', groups: ['admins'], admin: true },
    request: { headers: { 'x-team': 'blue' }, address: '127.0.0.1' },
    mcp: { method: 'tools/call', name: 'read_file', uri: '', arguments: { path: '/srv/public/a.txt', count: 5 }, server: 'files', originalName: 'read_file', tool: { annotations: { readOnly: true, destructive: false, openWorld: false, untrustedOutput: true, exfiltration: false } } },
    now: new Date(),
  };
  const cases: Array<[string, boolean]> = [
    ['agent.id == "alice"', true],
    ['agent.kind in ["agent", "user"] && agent.name == "Alice" && agent.tenant == "acme"', true],
    ['agent.labels.team == "blue" && "team" in agent.labels && has(agent.labels.team)', true],
    ['user.id == "u1" && user.name.startsWith("U")', true],
    ['"math" in claims.scope.split(" ") && claims.groups.exists(g, g == "admins") && claims.admin == true', true],
    ['request.headers["x-team"] == "blue" && request.address == "127.0.0.1"', true],
    ['mcp.name == "read_file" && mcp.arguments.path.startsWith("/srv/public/")', true],
    ['mcp.arguments.count > 3 && has(mcp.arguments.path) && !has(mcp.arguments.other)', true],
    ['mcp.method == "tools/call" && mcp.uri == ""', true],
    ['mcp.server == "files" && mcp.originalName == "read_file"', true],
    ['mcp.tool.annotations.readOnly && mcp.tool.annotations.untrustedOutput && !mcp.tool.annotations.exfiltration', true],
    ['now > timestamp("2020-01-01T00:00:00Z") && now.getHours("UTC") >= 0', true],
    ['agent.?name.orValue("") == "Alice"', true],
  ];
  for (const [source, expected] of cases) assert.equal(compileCondition(source)(ctx), expected, source);
});

test('mcp.tool.annotations: a misspelt flag is a config error naming the flags there are; reading them is not per request', () => {
  assert.throws(() => compileCondition('mcp.tool.annotations.exfiltraton'), /unknown field `exfiltraton` of `mcp\.tool\.annotations`.*readOnly, destructive, openWorld, untrustedOutput, exfiltration/);
  assert.throws(() => compileCondition('mcp.tool.annotation.readOnly'), /unknown field `annotation` of `mcp\.tool`/);
  assert.equal(compileCondition('mcp.tool.annotations.destructive').dynamic, false);
});

test('a deny rule on a field the principal lacks applies to it: agent.tenant != "acme" denies an agent without a tenant (a missing field made it skip)', () => {
  const config: AclConfig = {
    rules: [
      { effect: 'allow', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'any' } }] },
      { effect: 'deny', name: 'other-tenants', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'any' } }], condition: 'agent.tenant != "acme"' },
      { effect: 'deny', name: 'unnamed-users', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'admin' } }], condition: 'user.name == ""' },
    ],
  };
  const acl = new CompiledAcl(config);
  const decide = (principal: Partial<Principal>, name = 'echo') => acl.decide('tools/call', name, conditionContext(policyContext(principal), 'tools/call', { name, arguments: {} }), {});
  assert.deepEqual(decide({}), { allowed: false, rule: 'other-tenants' });
  assert.deepEqual(decide({ tenant: 'acme' }), { allowed: true, rule: 'rules[0]' });
  assert.deepEqual(decide({ tenant: 'acme' }, 'admin'), { allowed: false, rule: 'unnamed-users' });
  assert.deepEqual(decide({ tenant: 'acme', user: { id: 'u1', name: 'Ursula' } }, 'admin'), { allowed: true, rule: 'rules[0]' });
});

test('a condition that fails at run time (a missing map key) reports the failure instead of false', () => {
  const ctx: ConditionContext = {
    agent: { id: 'bob', kind: 'agent', name: '', labels: {}, tenant: '' },
    user: { id: '', name: '' },
    claims: {},
    request: { headers: {}, address: '' },
    mcp: { method: 'tools/call', name: 'x', uri: '', arguments: {}, server: '', originalName: 'x', tool: { annotations: { readOnly: false, destructive: false, openWorld: false, untrustedOutput: false, exfiltration: false } } },
    now: new Date(),
  };
  assert.equal(compileCondition('claims.missing == "x"')(ctx), undefined);
  assert.equal(compileCondition('agent.labels.team != "admin"')(ctx), undefined);
  assert.equal(compileCondition('agent.id == "bob"')(ctx), true);
});

test('a deny rule whose condition fails at run time denies (fail closed); an allow rule whose condition fails does not allow (a deny on a label the agent lacks let it through)', () => {
  const config: AclConfig = {
    rules: [
      { effect: 'allow', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'any' } }] },
      { effect: 'deny', name: 'non-admins', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'delete' } }], condition: 'agent.labels.team != "admin"' },
      { effect: 'allow', name: 'by-claim', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'special' } }], condition: 'claims.special == true' },
    ],
  };
  const acl = new CompiledAcl(config);
  const ctx = (labels: Record<string, string>): ConditionContext => ({
    agent: { id: 'bob', kind: 'agent', name: '', labels, tenant: '' },
    user: { id: '', name: '' },
    claims: {},
    request: { headers: {}, address: '' },
    mcp: { method: 'tools/call', name: 'delete', uri: '', arguments: {}, server: '', originalName: 'delete', tool: { annotations: { readOnly: false, destructive: true, openWorld: false, untrustedOutput: false, exfiltration: false } } },
    now: new Date(),
  });
  assert.deepEqual(acl.decide('tools/call', 'delete', ctx({})), { allowed: false, rule: 'non-admins', conditionFailed: true });
  assert.deepEqual(acl.decide('tools/call', 'delete', ctx({ team: 'admin' })), { allowed: true, rule: 'rules[0]' });
  assert.deepEqual(acl.decide('tools/call', 'delete', ctx({ team: 'blue' })), { allowed: false, rule: 'non-admins' });
  // Only rules[0] allows `special`; the failing allow condition adds nothing and takes nothing away.
  assert.deepEqual(acl.decide('tools/call', 'special', ctx({})), { allowed: true, rule: 'rules[0]' });
});

test('conditions that read the request, the clock or the arguments are dynamic; principal and method/name/uri are not', () => {
  const dynamic = (source: string) => compileCondition(source).dynamic;
  assert.equal(dynamic('agent.labels.team == "blue" && mcp.method == "tools/call" && mcp.name.startsWith("get_") && mcp.server == "a" && mcp.originalName != "b"'), false);
  assert.equal(dynamic('user.id != "" || claims.admin == true || mcp.uri.startsWith("file:///")'), false);
  assert.equal(dynamic('request.headers["x-team"] == "blue"'), true);
  assert.equal(dynamic('now < timestamp("2030-01-01T00:00:00Z")'), true);
  assert.equal(dynamic('mcp.arguments.size() < 3'), true);
  assert.equal(dynamic('has(mcp.arguments.path)'), true);
  assert.equal(dynamic('[1, 2].exists(x, x == 1) && request.address == "127.0.0.1"'), true);
});

// Decisions are remembered per principal object (lists decide every item); one that depended on
// the request must be made again for the next request.
test('a decision that read the request is not remembered; one that read only the principal is', () => {
  const acl = new CompiledAcl({
    rules: [
      { name: 'by-team', effect: 'allow', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'echo' } }], condition: 'agent.labels.team == "blue"' },
      { name: 'by-header', effect: 'allow', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'literal', value: 'add' } }], condition: 'request.headers["x-team"] == "blue"' },
    ],
  } as AclConfig);
  const principal: Principal = Object.freeze({ kind: 'agent', id: 'alice', key: 'agent:alice', plan: 'api-key', labels: { team: 'blue' } });
  const ctx = (headers: Record<string, string>) => {
    const base = policyContext(principal);
    return conditionContext({ ...base, principal, request: { headers, remoteAddress: '127.0.0.1' } }, 'tools/call', { name: 'add' });
  };
  let built = 0;
  const decide = (name: string, headers: Record<string, string>) =>
    acl.decideFor(principal, 'tools/call', name, () => {
      built++;
      return ctx(headers);
    }).allowed;
  assert.equal(decide('echo', {}), true);
  assert.equal(decide('echo', {}), true);
  assert.equal(built, 1, 'the static decision was remembered');
  assert.equal(decide('add', { 'x-team': 'blue' }), true);
  assert.equal(decide('add', { 'x-team': 'red' }), false, 'the header decision is made again with the new request');
  assert.equal(built, 3);
});
