// The management API endpoints the console relies on, against a real managed-mode Gatehouse:
// CEL conditions compiled by the policy's own compiler (valid exactly when a deploy accepts them),
// and where clients connect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startManaged } from './helpers/managed.ts';

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
