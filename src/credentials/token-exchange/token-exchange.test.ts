// The token-exchange credential source without a token endpoint: who it refuses before any
// exchange (no caller, a caller without a user token), what `anonymous: service` still refuses
// and how it names such calls for the audit, and which agent it names as actor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { TokenExchangeCredentials, agentOf, type TokenExchangeConfig } from './token-exchange.ts';
import { GatehouseError } from '../../errors.ts';
import type { Principal } from '../../auth/principal.ts';
import { withSubjectToken } from '../../auth/subject-token.ts';

const CONFIG: TokenExchangeConfig = {
  type: 'token-exchange',
  tokenUrl: 'http://127.0.0.1:9/token',
  client: { id: 'gatehouse', secret: 'unit-secret' },
  subjectTokenType: 'access_token',
  actor: { type: 'none' },
  refreshBefore: 30_000,
  timeout: 1000,
  anonymous: 'refuse',
  maxCachedTokens: 10,
};

const source = () => new TokenExchangeCredentials('notes', 'http://127.0.0.1:9/mcp', CONFIG, pino({ level: 'silent' }));

test('without a caller (idle-session cleanup) the answer is a rejected promise, never a synchronous throw', async () => {
  let result: unknown;
  assert.doesNotThrow(() => {
    result = source().headers();
  });
  assert.ok(result instanceof Promise);
  await assert.rejects(result, (error: unknown) => error instanceof GatehouseError && error.code === 'GH_UPSTREAM_UNAVAILABLE');
});

test('a caller without a user token (an API key) is refused before any exchange', async () => {
  const principal: Principal = { kind: 'agent', id: 'bot', key: 'key:bot', plan: 'api-key' };
  const result = source().headers({ principal, req: {} as IncomingMessage, method: 'tools/call' });
  await assert.rejects(Promise.resolve(result), (error: unknown) => error instanceof GatehouseError && error.code === 'GH_UPSTREAM_USER_REQUIRED' && /presented none/.test(error.message));
});

test('anonymous: service: a request that carries no caller is still refused; only callers without a user token are named the service identity', async () => {
  const service = new TokenExchangeCredentials('notes', 'http://127.0.0.1:9/mcp', { ...CONFIG, anonymous: 'service' }, pino({ level: 'silent' }));
  await assert.rejects(Promise.resolve(service.headers()), (error: unknown) => error instanceof GatehouseError && error.code === 'GH_UPSTREAM_UNAVAILABLE');
  const req = {} as IncomingMessage;
  const bot: Principal = { kind: 'agent', id: 'bot', key: 'key:bot', plan: 'api-key' };
  const alice = withSubjectToken({ kind: 'user', id: 'alice', key: 'k', plan: 'jwt' }, 'a.b.c');
  assert.equal(service.identityOf({ principal: bot, req }), 'service identity (client gatehouse)');
  assert.equal(service.identityOf({ principal: alice, req }), undefined);
  assert.equal(service.identityOf(), undefined);
  assert.equal(source().identityOf({ principal: bot, req }), undefined, 'under refuse nothing goes out as a service');
});

test('the actor is the OAuth client the token was issued to (client_id, else azp), else the principal', () => {
  const base: Principal = { kind: 'user', id: 'alice', key: 'k', plan: 'oauth2' };
  assert.equal(agentOf({ ...base, claims: { client_id: 'agent-app', azp: 'other' } }), 'agent-app');
  assert.equal(agentOf({ ...base, claims: { azp: 'cli-app' } }), 'cli-app');
  assert.equal(agentOf({ ...base, claims: {} }), 'alice');
});
