// The client-credentials token cache against a real token endpoint, on a clock the test moves:
// one fetch for concurrent callers, refresh ahead of expiry in the background, a fetch before
// use once the token is too old, a fresh token after a 401, and a clear failure without secrets.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ClientCredentialsToken } from './client-credentials.ts';
import { startTokenServer, type TokenServer } from '../../test/helpers/credentials-peers.ts';
import { LogCapture } from '../../test/helpers/gatehouse.ts';
import { waitUntil } from '../../test/helpers/lifecycle-procs.ts';
import { GatehouseError } from '../errors.ts';

const SECRET = 'unit-client-secret-5f4e3d2c1b';

async function setup(t: TestContext, clientSecret = SECRET, grant: { timeout?: number; refreshBefore?: number } = {}) {
  const server = await startTokenServer({ clientId: 'gh client', clientSecret: SECRET, expiresIn: 100 });
  t.after(() => server.close());
  const logs = new LogCapture();
  const clock = { now: 1_000_000 };
  const token = new ClientCredentialsToken('api', { tokenUrl: server.tokenUrl, clientId: 'gh client', clientSecret, ...grant }, pino({ level: 'debug' }, logs), () => clock.now);
  return { server, logs, clock, token };
}

async function bearer(token: ClientCredentialsToken, server: TokenServer): Promise<string> {
  const headers = await token.headers();
  assert.ok(await server.accepts(headers), 'the token endpoint issued it');
  return headers.authorization!;
}

test('concurrent callers share one token request, and then the cached token', async (t) => {
  const { server, token } = await setup(t);
  const all = await Promise.all(Array.from({ length: 10 }, () => token.headers()));
  assert.equal(server.requests(), 1);
  assert.equal(new Set(all.map((h) => h.authorization)).size, 1);
  await bearer(token, server);
  assert.equal(server.requests(), 1);
});

test('near expiry the token is refreshed in the background; past its use-by time, before use', async (t) => {
  const { server, token, clock, logs } = await setup(t);
  const obtained = () => logs.lines.filter((line) => line.msg === 'obtained an upstream token').length;
  const first = await bearer(token, server);
  // 100 s token: refresh from 70 s, use until 90 s.
  clock.now += 75_000;
  assert.equal(await bearer(token, server), first, 'still served while a new one is fetched');
  await waitUntil(() => obtained() === 2, 'the background refresh');
  const second = await bearer(token, server);
  assert.notEqual(second, first);
  clock.now += 95_000;
  const third = await bearer(token, server);
  assert.notEqual(third, second);
  assert.equal(server.issued(), 3);
});

test('a token the upstream refused is not used again', async (t) => {
  const { server, token } = await setup(t);
  const first = await bearer(token, server);
  token.rejected();
  assert.notEqual(await bearer(token, server), first);
  assert.equal(server.issued(), 2);
});

test('a refused token request fails with GH_UPSTREAM_UNAVAILABLE; neither message nor log holds the secret', async (t) => {
  const wrong = 'unit-wrong-secret-0000aaaa';
  const { token, logs } = await setup(t, wrong);
  await assert.rejects(token.headers(), (error: unknown) => {
    assert.ok(error instanceof GatehouseError);
    assert.equal(error.code, 'GH_UPSTREAM_UNAVAILABLE');
    assert.match(error.message, /could not obtain upstream credential/);
    assert.ok(!error.message.includes(wrong));
    return true;
  });
  assert.ok(logs.lines.some((line) => line.reason === 'HTTP 401, error invalid_client'));
  assert.ok(!logs.text().includes(wrong) && !logs.text().includes(SECRET));
});

test('a token endpoint that does not answer within the timeout fails the call with GH_UPSTREAM_TIMEOUT (504), not as unavailable', async (t) => {
  const { server, token, logs } = await setup(t, SECRET, { timeout: 300 });
  const release = server.hold();
  t.after(release);
  await assert.rejects(token.headers(), (error: unknown) => {
    assert.ok(error instanceof GatehouseError);
    assert.equal(error.code, 'GH_UPSTREAM_TIMEOUT');
    assert.equal(error.status, 504);
    assert.match(error.message, /did not answer the token request within 300 ms/);
    return true;
  });
  assert.ok(logs.lines.some((line) => line.msg === 'upstream token request timed out' && line.timeoutMs === 300));
  release();
  // The next call asks again and is served.
  await bearer(token, server);
});

test('with refreshBefore (token exchange\'s service identity), the token is used until that long before expiry and refreshed as long again before', async (t) => {
  const { server, token, clock, logs } = await setup(t, SECRET, { refreshBefore: 20_000 });
  const obtained = () => logs.lines.filter((line) => line.msg === 'obtained an upstream token').length;
  const first = await bearer(token, server);
  // 100 s token: refresh from 60 s, use until 80 s (the defaults would be 70 s and 90 s).
  clock.now += 55_000;
  assert.equal(await bearer(token, server), first);
  assert.equal(server.requests(), 1, 'no refresh before 60 s');
  clock.now += 10_000;
  assert.equal(await bearer(token, server), first, 'still served while a new one is fetched');
  await waitUntil(() => obtained() === 2, 'the background refresh');
  const second = await bearer(token, server);
  assert.notEqual(second, first);
  // Past 80 s of the second token's life: a fetch before use.
  clock.now += 81_000;
  assert.notEqual(await bearer(token, server), second);
  assert.equal(server.issued(), 3);
});
