import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalStateSealer } from './request-state.ts';

const CLAIMS = { api: 'a', sub: 'key:1', a: 'approval-id', h: '0'.repeat(64), exp: 1 };

test('an approval state opens only where it was sealed, unaltered', () => {
  const sealer = new ApprovalStateSealer();
  const state = sealer.seal(CLAIMS);
  assert.match(state, /^gha1\./);
  assert.deepEqual(sealer.unseal(state), CLAIMS);
  assert.equal(new ApprovalStateSealer().unseal(state), undefined, 'another process (key) cannot open it');
  const altered = state.slice(0, -2) + (state.endsWith('A') ? 'BB' : 'AA');
  assert.equal(sealer.unseal(altered), undefined, 'altered');
  assert.equal(sealer.unseal(`ghs1.${state.slice(5)}`), undefined, 'the bridge prefix');
  assert.equal(sealer.unseal(`gha1.${'A'.repeat(3000)}`), undefined, 'too long');
});
