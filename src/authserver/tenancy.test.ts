import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceTenants, userMayReach } from './tenancy.ts';

test('a resource URL names its API\'s tenant, the longest API path winning; anything else names none', () => {
  const tenantOf = resourceTenants([{ path: '/weather' }, { path: '/acme/weather', tenant: 'acme' }, { path: '/globex/mcp/', tenant: 'globex' }]);
  assert.equal(tenantOf('https://gw.example/acme/weather'), 'acme');
  assert.equal(tenantOf('https://gw.example/weather'), 'default');
  assert.equal(tenantOf('https://gw.example/globex/mcp'), 'globex');
  assert.equal(tenantOf('https://gw.example/base/acme/weather/'), 'acme', 'a public base with a path');
  assert.equal(tenantOf('https://gw.example/fooweather'), undefined);
  assert.equal(tenantOf('urn:gatehouse:admin'), undefined);
  assert.equal(tenantOf('not a url'), undefined);
});

test('a user reaches its own tenant\'s APIs only; no tenant is the default one', () => {
  assert.equal(userMayReach({ tenant: 'acme' }, 'acme'), true);
  assert.equal(userMayReach({ tenant: 'acme' }, 'globex'), false);
  assert.equal(userMayReach({ tenant: 'acme' }, 'default'), false);
  assert.equal(userMayReach({}, 'default'), true);
  assert.equal(userMayReach({}, 'acme'), false);
  assert.equal(userMayReach({ tenant: 'acme' }, undefined), true, 'not an API (the admin listener): not this rule\'s to decide');
});
