// The jwt plan against a real JWKS endpoint: rotated keys are picked up (a token naming an unknown
// key id makes the set be fetched again), retired keys stop working, fetches are cached.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { jwtPlan, peekJwt } from './jwt.ts';
import type { AuthContext, AuthPlan } from './plan.ts';
import { startTestIssuer, type TestIssuer } from '../../test/helpers/auth-issuer.ts';

let issuer: TestIssuer;
before(async () => {
  issuer = await startTestIssuer();
});
after(async () => {
  await issuer?.close();
});

function context(token: string): AuthContext {
  const req = { headers: { authorization: `Bearer ${token}` }, rawHeaders: ['Authorization', `Bearer ${token}`] } as unknown as IncomingMessage;
  return { req, api: 'main', publicBase: 'http://gw', resourceUrl: 'http://gw/mcp', metadataUrl: 'http://gw/.well-known/oauth-protected-resource/mcp' };
}

async function outcome(plan: AuthPlan, token: string): Promise<string> {
  const result = await plan.authenticate(context(token));
  if ('principal' in result) return `agent ${result.principal.id}`;
  if ('error' in result) return result.error.message;
  return 'absent';
}

const config = () => ({ issuer: issuer.issuer, audience: 'gatehouse', jwksUrl: issuer.jwksUrl, clockTolerance: 30_000, principalClaim: 'sub', requiredScopes: [] });

test('rotated keys are picked up, retired keys refused, and the set is not fetched per request', async () => {
  const plan = jwtPlan(config(), { yieldForeign: false, jwksCooldownMs: 0, log: pino({ level: 'silent' }) });
  const first = await issuer.sign({ aud: 'gatehouse', sub: 'one' });
  assert.equal(await outcome(plan, first), 'agent one');
  const fetches = issuer.counts.jwks;
  assert.equal(await outcome(plan, await issuer.sign({ aud: 'gatehouse', sub: 'again' })), 'agent again');
  assert.equal(issuer.counts.jwks, fetches, 'a known key id is served from the cache');

  await issuer.rotate({ retireOld: true });
  assert.equal(await outcome(plan, await issuer.sign({ aud: 'gatehouse', sub: 'two' })), 'agent two', 'the new key id makes the set be fetched again');
  assert.equal(issuer.counts.jwks, fetches + 1);
  assert.equal(await outcome(plan, first), 'Unauthorized: no key of the issuer matches the token', 'the retired key no longer verifies');
});

test('the principal carries the claims and scopes; another issuer\'s token is left to a later plan', async () => {
  const plan = jwtPlan(config(), { yieldForeign: true, log: pino({ level: 'silent' }) });
  const result = await plan.authenticate(context(await issuer.sign({ aud: 'gatehouse', sub: 'svc', scope: 'a b', team: 'payments' })));
  assert.ok('principal' in result);
  assert.equal(result.principal.key, `jwt:${issuer.issuer}:svc`);
  assert.deepEqual(result.principal.scopes, ['a', 'b']);
  assert.equal(result.principal.claims?.team, 'payments');
  assert.equal(await outcome(plan, await issuer.sign({ aud: 'gatehouse' }, { issuer: 'https://someone-else.test' })), 'absent');
  assert.equal(await outcome(plan, 'gh_notAJwt'), 'absent');
});

test('peekJwt reads only compact JWS with an alg', () => {
  assert.equal(peekJwt('a.b'), undefined);
  assert.equal(peekJwt(`${Buffer.from('{"typ":"JWT"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`), undefined);
  assert.deepEqual(peekJwt(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"iss":"x"}').toString('base64url')}.`), { iss: 'x' });
});
