// The upstream's WWW-Authenticate, rewritten so that resource_metadata points at Gatehouse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteResourceMetadata } from './passthrough.ts';

const OURS = 'https://gw.example.com/.well-known/oauth-protected-resource/secured';

test('an existing resource_metadata is replaced, and the upstream\'s URL is reported', () => {
  const upstream = 'Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="http://10.0.0.5:3000/.well-known/oauth-protected-resource/mcp"';
  assert.deepEqual(rewriteResourceMetadata(upstream, OURS), {
    rewritten: `Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="${OURS}"`,
    named: 'http://10.0.0.5:3000/.well-known/oauth-protected-resource/mcp',
  });
});

test('a Bearer challenge without one gets it, first; other schemes are left alone', () => {
  assert.deepEqual(rewriteResourceMetadata('Bearer', OURS), { rewritten: `Bearer resource_metadata="${OURS}"`, named: undefined });
  assert.deepEqual(rewriteResourceMetadata('Bearer realm="up", scope="mcp"', OURS), { rewritten: `Bearer resource_metadata="${OURS}", realm="up", scope="mcp"`, named: undefined });
  assert.deepEqual(rewriteResourceMetadata('Basic realm="up"', OURS), { rewritten: 'Basic realm="up"', named: undefined });
});
