import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grantedScopes, declaresJwtBearer, identityAssertionsEnabled, JWT_BEARER } from './identity-assertion.ts';
import { ExternalProviderSchema } from '../../config/oidc-login-schema.ts';

const api = { supported: new Set(['mcp', 'mcp:admin', 'offline_access']), defaults: ['mcp'] };

test('scopes: asked within the assertion and the API; else the assertion\'s; else the API\'s defaults; never offline_access', () => {
  assert.deepEqual(grantedScopes(api, 'mcp mcp:admin', 'mcp'), ['mcp']);
  assert.deepEqual(grantedScopes(api, undefined, 'mcp:admin mcp other'), ['mcp:admin', 'mcp']);
  assert.deepEqual(grantedScopes(api, undefined, undefined), ['mcp']);
  assert.deepEqual(grantedScopes(api, '', undefined), ['mcp']);
  assert.deepEqual(grantedScopes(api, 'mcp offline_access', 'mcp offline_access'), ['mcp']);
  assert.deepEqual(grantedScopes(api, 'mcp:admin', undefined), ['mcp:admin'], 'an assertion without scope does not narrow');
  assert.throws(() => grantedScopes(api, 'root', 'mcp'), /unsupported scope: root/);
  assert.throws(() => grantedScopes(api, 'mcp:admin', 'mcp'), /not within the assertion's scope/);
  assert.throws(() => grantedScopes(api, undefined, 'email'), /grants no scope this API knows/);
  assert.throws(() => grantedScopes(api, 'offline_access', 'offline_access'), /grants no scope|not within/);
  assert.throws(() => grantedScopes(api, undefined, ['mcp']), /space-separated string/);
});

test('the grant is on when a provider has identity assertions enabled; clients must declare it', () => {
  const provider = (extra: Record<string, unknown>) => ExternalProviderSchema.parse({ name: 'corp', issuer: 'https://sso.example.com', clientId: 'g', ...extra });
  assert.equal(identityAssertionsEnabled([provider({})]), false);
  assert.equal(identityAssertionsEnabled([provider({ identityAssertions: { enabled: false } })]), false);
  assert.equal(identityAssertionsEnabled([provider({}), provider({ identityAssertions: {} })]), true);
  assert.equal(declaresJwtBearer(['authorization_code', JWT_BEARER]), true);
  assert.equal(declaresJwtBearer(['authorization_code']), false);
  assert.equal(declaresJwtBearer(undefined), false);
});
