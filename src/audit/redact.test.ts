import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRedactor } from './redact.ts';

const r = compileRedactor(['ssn', 'customer_id']);

test('fields named like secrets, and configured ones, are redacted at any depth', () => {
  const value = {
    user: 'alice',
    password: 'p',
    nested: [{ API_KEY: 'k', clientSecret: 's', 'x-auth-token': 't', Authorization: 'a', SSN: '1', customerId: '2' }],
    max_tokens: 100,
    _meta: { progressToken: 7 },
    empty: { token: '' },
  };
  assert.deepEqual(r.value(value), {
    user: 'alice',
    password: '[REDACTED]',
    nested: [{ API_KEY: '[REDACTED]', clientSecret: '[REDACTED]', 'x-auth-token': '[REDACTED]', Authorization: '[REDACTED]', SSN: '[REDACTED]', customerId: '[REDACTED]' }],
    max_tokens: 100,
    _meta: { progressToken: 7 },
    empty: { token: '' },
  });
});

test('secret-looking values are redacted inside any text', () => {
  const cases: Array<[string, string]> = [
    ['Authorization: Bearer abc.def-ghi_jkl', 'Authorization: [REDACTED]'],
    ['use Bearer 0123456789abcdef please', 'use Bearer [REDACTED] please'],
    ['gh_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd', '[REDACTED]'],
    ['ghp_16C7e42F292c6912E7710c838347Ae178B4a and more', '[REDACTED] and more'],
    ['key=sk-ant-api03-abcdefghijklmnop', 'key=[REDACTED]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature', 'jwt [REDACTED]'],
    ['AKIAIOSFODNN7EXAMPLE', '[REDACTED]'],
    ['password=hunter2&user=bob', 'password=[REDACTED]&user=bob'],
    ['an ordinary sentence about tokens and keys', 'an ordinary sentence about tokens and keys'],
  ];
  for (const [input, expected] of cases) assert.equal(r.value(input), expected, input);
});

test('text that is not JSON any more (cut) is redacted by member and by value', () => {
  const cut = '{"jsonrpc":"2.0","id":3,"result":{"password" : "x\\"y","note":"Bearer abcdefghijkl","ssn":"1-2-3","tail":"unfinis';
  assert.equal(r.text(cut), '{"jsonrpc":"2.0","id":3,"result":{"password" : "[REDACTED]","note":"Bearer [REDACTED]","ssn":"[REDACTED]","tail":"unfinis');
});
