// Bad credentials against the real server-everything behind Gatehouse: each is refused with the
// right status and WWW-Authenticate, and none of them reaches the upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { INIT_REQUEST, MCP_HEADERS, raw, startEverything, startTestGateway, tempDir, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { cli, createKey } from './helpers/auth-cli.ts';
import { sendRaw } from './helpers/raw-http.ts';
import { parseConfigText } from '../src/config/load.ts';

let everything: RunningEverything;
let issuer: TestIssuer;
let gh: TestGateway;
let configFile: string;
const AUDIENCE = 'https://gatehouse.test/mcp';

before(async () => {
  everything = await startEverything();
  issuer = await startTestIssuer();
  const dir = tempDir();
  configFile = path.join(dir, 'gatehouse.yaml');
  const text = `servers:
  everything:
    url: ${everything.origin}/mcp
apis:
  - name: main
    path: /mcp
    server: everything
    auth:
      - type: api-key
      - type: jwt
        issuer: ${issuer.issuer}
        audience: ${AUDIENCE}
        jwksUrl: ${issuer.jwksUrl}
  - name: other
    path: /other
    server: everything
    auth:
      type: api-key
  - name: oauth
    path: /oauth
    server: everything
    auth:
      type: oauth2
      issuer: ${issuer.issuer}
      jwksUrl: ${issuer.jwksUrl}
  - name: mixed
    path: /mixed
    server: everything
    auth:
      - type: api-key
      - type: oauth2
        issuer: ${issuer.issuer}
        jwksUrl: ${issuer.jwksUrl}
`;
  writeFileSync(configFile, text);
  gh = await startTestGateway({ ...parseConfigText(text, configFile), listen: { host: '127.0.0.1', port: 0 } }, { dataDir: path.join(dir, '.gatehouse') });
  assert.equal((await cli(['agents', 'create', 'mallory', '--config', configFile])).code, 0);
});

after(async () => {
  await gh?.close();
  await issuer?.close();
  await everything?.close();
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusal(url: string, authorization: string | undefined): Promise<{ status: number; challenge: string; code: string }> {
  const headers: Record<string, string> = { ...MCP_HEADERS };
  if (authorization !== undefined) headers.authorization = authorization;
  const answer = await raw(url, { headers, body: INIT_REQUEST });
  const code = (answer.messages[0] as { error?: { data?: { code?: string } } } | undefined)?.error?.data?.code ?? '';
  return { status: answer.status, challenge: answer.headers.get('www-authenticate') ?? '', code };
}

test('malformed Authorization headers, wrong schemes, oversized tokens, a missing token', async () => {
  const url = gh.url('main');
  const invalidRequest = (reason: string) => `Bearer realm="gatehouse", error="invalid_request", error_description="${reason}"`;
  const cases: Array<[string, string | undefined, string]> = [
    ['no token after Bearer', 'Bearer', invalidRequest('malformed Bearer credential')],
    ['spaces inside the token', 'Bearer abc def', invalidRequest('malformed Bearer credential')],
    ['a quote inside the token', 'Bearer abc"def', invalidRequest('malformed Bearer credential')],
    ['oversized token (9 KB)', `Bearer ${'a'.repeat(9000)}`, invalidRequest('credential longer than 8192 characters')],
    ['Basic scheme', `Basic ${Buffer.from('user:pass').toString('base64')}`, 'Bearer realm="gatehouse"'],
    ['unknown scheme', 'Token abcdef', 'Bearer realm="gatehouse"'],
    ['missing', undefined, 'Bearer realm="gatehouse"'],
  ];
  for (const [name, authorization, challenge] of cases) {
    const got = await refusal(url, authorization);
    assert.deepEqual(got, { status: 401, challenge, code: 'GH_UNAUTHORIZED' }, name);
  }
  // On an OAuth API the refusals name the metadata, so a client can still find the authorization server.
  const prm = `${gh.origin}/.well-known/oauth-protected-resource/oauth`;
  assert.deepEqual(await refusal(gh.url('oauth'), 'Bearer abc def'), {
    status: 401,
    challenge: `Bearer resource_metadata="${prm}", scope="mcp", error="invalid_request", error_description="malformed Bearer credential"`,
    code: 'GH_UNAUTHORIZED',
  });
  assert.deepEqual(await refusal(gh.url('oauth'), 'Basic abc'), { status: 401, challenge: `Bearer resource_metadata="${prm}", scope="mcp"`, code: 'GH_UNAUTHORIZED' });
  // Several plans: every challenge, OAuth's first (some clients read only the first).
  assert.deepEqual(await refusal(gh.url('mixed'), undefined), {
    status: 401,
    challenge: `Bearer resource_metadata="${gh.origin}/.well-known/oauth-protected-resource/mixed", scope="mcp", Bearer realm="gatehouse"`,
    code: 'GH_UNAUTHORIZED',
  });
});

test('two Authorization headers are refused with 400, whichever comes first (the first used to win silently)', async () => {
  const { key } = await createKey(configFile, 'mallory');
  const jwt = await issuer.sign({ aud: AUDIENCE });
  const oauthToken = await issuer.sign({ aud: gh.url('oauth'), scope: 'mcp' });
  const send = (api: string, values: string[]) =>
    sendRaw(gh.url(api), { headers: [...Object.entries(MCP_HEADERS), ...values.map((v): [string, string] => ['Authorization', v])], body: JSON.stringify(INIT_REQUEST) });
  for (const [api, good] of [['main', key], ['main', jwt], ['other', key], ['oauth', oauthToken], ['mixed', key]] as const) {
    assert.equal((await send(api, [`Bearer ${good}`])).status, 200, `${api}: one good credential passes`);
    for (const pair of [[`Bearer ${good}`, 'Bearer junk'], ['Bearer junk', `Bearer ${good}`], [`Bearer ${good}`, `Bearer ${good}`]]) {
      const answer = await send(api, pair);
      assert.equal(answer.status, 400, `${api}: ${pair.map((p) => p.slice(0, 14)).join(' + ')}`);
      const body = JSON.parse(answer.text) as { error: { code: number; message: string; data: { code: string } } };
      assert.equal(body.error.data.code, 'GH_BAD_HEADER');
      assert.match(body.error.message, /Authorization header must be sent once/);
    }
  }
});

test('JWTs: alg none, HMAC signed with the public key, expired, not yet valid, tampered, another audience, another issuer', async () => {
  const url = gh.url('main');
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: issuer.issuer, aud: AUDIENCE, sub: 'agent-7', exp: now + 600 };
  const good = await issuer.sign({ aud: AUDIENCE, sub: 'agent-7' });
  const [h, p, s] = good.split('.') as [string, string, string];
  const publicJwk = ((await (await fetch(issuer.jwksUrl)).json()) as { keys: Array<Record<string, unknown>> }).keys[0]!;
  const cases: Array<[string, string, string]> = [
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'token algorithm not accepted'],
    ['HS256 keyed with the public key', await issuer.sign({ aud: AUDIENCE }, { alg: 'HS256', key: new TextEncoder().encode(JSON.stringify(publicJwk)) }), 'token algorithm not accepted'],
    ['expired', await issuer.sign({ aud: AUDIENCE }, { expiresIn: -300 }), 'token expired'],
    ['not yet valid', await issuer.sign({ aud: AUDIENCE, nbf: now + 600 }), 'token not yet valid'],
    ['tampered payload', `${h}.${b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'root' })}.${s}`, 'token signature invalid'],
    ['tampered signature', `${h}.${p}.${s.slice(0, -4)}AAAA`, 'token signature invalid'],
    ['another audience', await issuer.sign({ aud: 'https://elsewhere.test/mcp' }), 'token audience is not this API'],
    ['no exp', await issuer.sign({ aud: AUDIENCE, exp: undefined }), 'token has no valid exp claim'],
  ];
  for (const [name, token, reason] of cases) {
    const got = await refusal(url, `Bearer ${token}`);
    assert.deepEqual(got, { status: 401, challenge: `Bearer realm="gatehouse", error="invalid_token", error_description="${reason}"`, code: 'GH_UNAUTHORIZED' }, name);
  }
  // A JWT of another issuer is not for the jwt plan; api-key (tried first) finds no such key either.
  const foreign = await startTestIssuer();
  try {
    const got = await refusal(url, `Bearer ${await foreign.sign({ aud: AUDIENCE })}`);
    assert.equal(got.status, 401);
    assert.match(got.challenge, /error="invalid_token"/);
  } finally {
    await foreign.close();
  }
  assert.equal((await refusal(url, `Bearer ${good}`)).status, 200, 'the untampered token passes');
});

test('API keys: unknown, for another API, revoked with the CLI from another process', async () => {
  const { key: forOther } = await createKey(configFile, 'mallory', ['--api', 'other']);
  const wrongApi = await refusal(gh.url('main'), `Bearer ${forOther}`);
  assert.deepEqual(wrongApi, { status: 401, challenge: 'Bearer realm="gatehouse", error="invalid_token", error_description="API key is not valid for this API"', code: 'GH_UNAUTHORIZED' });
  assert.equal((await refusal(gh.url('other'), `Bearer ${forOther}`)).status, 200);

  const { key, id } = await createKey(configFile, 'mallory');
  assert.equal((await refusal(gh.url('main'), `Bearer ${key}`)).status, 200);
  assert.equal((await cli(['keys', 'revoke', id, '--config', configFile])).code, 0);
  assert.deepEqual(await refusal(gh.url('main'), `Bearer ${key}`), {
    status: 401,
    challenge: 'Bearer realm="gatehouse", error="invalid_token", error_description="API key revoked"',
    code: 'GH_UNAUTHORIZED',
  });
  // Not a JWT and not a key: the last bearer plan (jwt) refuses it.
  assert.deepEqual(await refusal(gh.url('main'), 'Bearer gh_neverIssued000000000000000000000000'), {
    status: 401,
    challenge: 'Bearer realm="gatehouse", error="invalid_token", error_description="not a JWT"',
    code: 'GH_UNAUTHORIZED',
  });
  assert.deepEqual(await refusal(gh.url('other'), 'Bearer gh_neverIssued000000000000000000000000'), {
    status: 401,
    challenge: 'Bearer realm="gatehouse", error="invalid_token", error_description="unknown API key"',
    code: 'GH_UNAUTHORIZED',
  });
});

test('OAuth: a token for another audience, expired, tampered, missing — 401 with the metadata URL', async () => {
  const url = gh.url('oauth');
  const prm = `${gh.origin}/.well-known/oauth-protected-resource/oauth`;
  const good = await issuer.sign({ aud: url, scope: 'mcp' });
  const [h, p, s] = good.split('.') as [string, string, string];
  const cases: Array<[string, string, string]> = [
    ['another audience', await issuer.sign({ aud: gh.url('main'), scope: 'mcp' }), 'token audience is not this API'],
    ['expired', await issuer.sign({ aud: url }, { expiresIn: -300 }), 'token expired'],
    ['tampered', `${h}.${p}.${s.slice(0, -4)}AAAA`, 'token signature invalid'],
  ];
  for (const [name, token, reason] of cases) {
    const got = await refusal(url, `Bearer ${token}`);
    assert.deepEqual(got, { status: 401, challenge: `Bearer resource_metadata="${prm}", scope="mcp", error="invalid_token", error_description="${reason}"`, code: 'GH_UNAUTHORIZED' }, name);
  }
  assert.deepEqual(await refusal(url, undefined), { status: 401, challenge: `Bearer resource_metadata="${prm}", scope="mcp"`, code: 'GH_UNAUTHORIZED' });
  assert.equal((await refusal(url, `Bearer ${good}`)).status, 200);
});
