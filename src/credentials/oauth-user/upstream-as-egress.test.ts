// The authorization server an oauth-user server of a tenant points to is held to the tenant's
// egress, as the server is: discovery goes through the rule's lookup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { OAuthUserAuthSchema } from '../../config/auth-schema.ts';
import { EgressRule } from '../../upstream/egress.ts';
import { UpstreamAuthorizationResolver } from './upstream-as.ts';
import type { Store } from '../../store/store.ts';
import type { CredentialVault } from '../vault.ts';

// Never reached: discovery fails before a client is registered or stored.
const NO_STORE = {} as Store;
const NO_VAULT = {} as CredentialVault;

test("a tenant's oauth-user server's authorization server at an address outside the tenant's egress is not asked (discovery refused, the reason named)", async () => {
  const config = OAuthUserAuthSchema.parse({ type: 'oauth-user', issuer: 'http://localhost:19999/' });
  const resolver = new UpstreamAuthorizationResolver('tools', 'https://mcp.example/mcp', config, NO_STORE, NO_VAULT, pino({ level: 'silent' }), new EgressRule('acme', []));
  await assert.rejects(resolver.resolve('https://gatehouse.example'), /outside the egress of tenant "acme"/);
});
