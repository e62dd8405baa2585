import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EgressRefusedError, EgressRule } from './egress.ts';
import { egressEntryProblem } from './egress-entries.ts';

test('an egress rule lets public addresses through, and private ones only when listed by address, range or name', () => {
  const none = new EgressRule('acme', []);
  for (const address of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', 'fd00::1', '::ffff:10.0.0.1', '100.64.0.1']) assert.equal(none.permitsAddress(address), false, address);
  for (const address of ['93.184.216.34', '2606:4700::1']) assert.equal(none.permitsAddress(address), true, address);
  const rule = new EgressRule('acme', ['10.20.0.0/16', '127.0.0.1', 'mcp.corp.example', '*.tools.corp.example', 'fd00::/8']);
  assert.equal(rule.permitsAddress('10.20.5.5'), true);
  assert.equal(rule.permitsAddress('10.21.0.1'), false);
  assert.equal(rule.permitsAddress('fd12::1'), true);
  assert.equal(rule.refusalOfHost('127.0.0.1'), undefined);
  assert.equal(rule.refusalOfHost('[fd00::9]'), undefined);
  assert.match(rule.refusalOfHost('127.0.0.2') ?? '', /127\.0\.0\.2 is outside the egress of tenant "acme"/);
  assert.match(rule.refusalOfHost('localhost') ?? '', /localhost \(a loopback address\)/);
  assert.equal(rule.refusalOfHost('MCP.corp.example.'), undefined, 'names are matched without case or a trailing dot');
  assert.equal(rule.refusalOfHost('a.tools.corp.example'), undefined);
  assert.equal(rule.refusalOfHost('tools.corp.example'), undefined, 'a name the lookup decides');
  assert.equal(rule.key, new EgressRule('acme', [...rule.allow]).key);
  assert.notEqual(rule.key, none.key);
});

test("an egress rule's lookup refuses a name that resolves to an address outside it, and passes a listed name whatever it resolves to", async () => {
  const resolve = (rule: EgressRule, name: string) =>
    new Promise<string>((done, fail) => rule.lookup()(name, { family: 4 }, (error, address) => (error ? fail(error) : done(String(address)))));
  await assert.rejects(resolve(new EgressRule('acme', []), 'localhost'), (error: unknown) => error instanceof EgressRefusedError && /localhost \(127\.0\.0\.1\) is outside the egress/.test(error.message));
  assert.equal(await resolve(new EgressRule('acme', ['localhost']), 'localhost'), '127.0.0.1');
  assert.equal(await resolve(new EgressRule('acme', ['127.0.0.0/8']), 'localhost'), '127.0.0.1');
});

test('egress entries: names, patterns, addresses and ranges are accepted; anything else is named', () => {
  for (const entry of ['api.example.com', '*.example.com', 'localhost', '10.0.0.5', '10.0.0.0/8', '::1', 'fd00::/8']) assert.equal(egressEntryProblem(entry), undefined, entry);
  for (const entry of ['http://x', '10.0.0.0/33', '*', 'a b', '10.0.0.0/8/1', '*.']) assert.match(egressEntryProblem(entry) ?? '', /expected a host name/, entry);
});
