import { test } from 'node:test';
import assert from 'node:assert/strict';
import { declaresFormElicitation } from './client-capabilities.ts';

const init = (capabilities: unknown) => ({ jsonrpc: '2.0' as const, id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'c', version: '1' } } });

test('form elicitation: an empty elicitation object (2025-06-18, and form in 2025-11-25) or form mode; not url mode alone, not absent', () => {
  assert.equal(declaresFormElicitation(init({ elicitation: {} })), true);
  assert.equal(declaresFormElicitation(init({ elicitation: { form: {} } })), true);
  assert.equal(declaresFormElicitation(init({ elicitation: { form: {}, url: {} } })), true);
  assert.equal(declaresFormElicitation(init({ elicitation: { url: {} } })), false);
  assert.equal(declaresFormElicitation(init({ sampling: {} })), false);
  assert.equal(declaresFormElicitation(init(undefined)), false);
  assert.equal(declaresFormElicitation({ jsonrpc: '2.0', method: 'notifications/initialized' }), false);
});
