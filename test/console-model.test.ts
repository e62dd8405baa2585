// The Policy Studio's editable form of an ACL (web/src/console/model.ts) against the config's ACL
// schema: what the studio saves is what the config accepts, and what it does not edit survives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclPolicySchema } from '../src/policy/acl/schema.ts';
import { draftProblems, newRule, rulesFromConfig, rulesToConfig, type AclConfig } from '../web/src/console/model.ts';

const CONFIG: AclConfig = {
  rules: [
    { name: 'sums', effect: 'allow', features: [{ type: 'tools', methods: ['tools/call', 'tools/list'], pattern: { type: 'glob', value: 'get-*' }, arguments: { a: { max: 10 } } }], condition: 'agent.labels["team"] == "support"' },
    { effect: 'deny', features: [{ type: 'resources', methods: ['resources/read'], pattern: { type: 'literal', value: 'file:///secret' } }, { type: 'tools', methods: ['tools/call'], pattern: { type: 'any' } }] },
  ],
};

test('an ACL read into the studio and saved again is the same ACL (methods in the config\'s order), argument constraints kept', () => {
  const drafts = rulesFromConfig(CONFIG);
  // Every feature type shows, once at least, in the order Tools, Resources, Prompts.
  assert.deepEqual(drafts[0]!.features.map((f) => f.type), ['tools', 'resources', 'prompts']);
  assert.deepEqual(drafts[1]!.features.map((f) => f.type), ['tools', 'resources', 'prompts']);
  const saved = rulesToConfig(drafts);
  assert.deepEqual(saved, {
    rules: [
      { name: 'sums', effect: 'allow', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'glob', value: 'get-*' }, arguments: { a: { max: 10 } } }], condition: 'agent.labels["team"] == "support"' },
      { effect: 'deny', features: [{ type: 'tools', methods: ['tools/call'], pattern: { type: 'any' } }, { type: 'resources', methods: ['resources/read'], pattern: { type: 'literal', value: 'file:///secret' } }] },
    ],
  });
  assert.ok(AclPolicySchema.safeParse({ acl: saved }).success, 'the config schema accepts what the studio saves');
});

test('a new rule needs a method, and a pattern other than Any its value, before it is saved', () => {
  const rule = newRule();
  assert.deepEqual(draftProblems([rule]), ['Rule 1: tick at least one method']);
  rule.features[0]!.methods = ['tools/list'];
  rule.features[0]!.patternType = 'literal';
  assert.deepEqual(draftProblems([rule]), ['Rule 1: Tools: give the literal pattern\'s value']);
  rule.features[0]!.patternValue = 'echo';
  assert.deepEqual(draftProblems([rule]), []);
  assert.deepEqual(rulesToConfig([rule]), { rules: [{ effect: 'allow', features: [{ type: 'tools', methods: ['tools/list'], pattern: { type: 'literal', value: 'echo' } }] }] });
  assert.deepEqual(rulesToConfig([]), { rules: [] }, 'no rules: an ACL that allows nothing');
});
