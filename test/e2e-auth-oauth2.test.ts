// oauth2 plan end to end: Gatehouse as an OAuth 2.1 protected resource in front of the real
// server-everything, with a real external authorization server (the SDK's handlers, jose-signed
// tokens or opaque tokens + introspection), and the official SDK client running the whole flow
// from nothing but the URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { INIT_REQUEST, MCP_HEADERS, raw, startEverything, startTestGateway, type RunningEverything, type TestGateway } from './helpers/gatehouse.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { connectWithOAuth } from './helpers/auth-client.ts';

let everything: RunningEverything;
let issuer: TestIssuer;
let opaqueIssuer: TestIssuer;
let gh: TestGateway;
const INTROSPECTION = { id: 'gatehouse', secret: 'introspection-secret-0123456789abcdef' };

before(async () => {
  everything = await startEverything();
  issuer = await startTestIssuer();
  opaqueIssuer = await startTestIssuer({ tokens: 'opaque', introspectionClient: INTROSPECTION });
  gh = await startTestGateway({
    servers: { everything: { url: `${everything.origin}/mcp` } },
    apis: [
      { name: 'oauth', path: '/mcp', server: 'everything', auth: { type: 'oauth2', issuer: issuer.issuer } },
      { name: 'scoped', path: '/scoped/', server: 'everything', auth: { type: 'oauth2', issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, requiredScopes: ['mcp', 'tools:write'] } },
      {
        name: 'opaque',
        path: '/opaque',
        server: 'everything',
        auth: { type: 'oauth2', issuer: opaqueIssuer.issuer, introspection: { url: opaqueIssuer.introspectionUrl, clientId: INTROSPECTION.id, clientSecret: INTROSPECTION.secret } },
      },
    ],
  });
});

after(async () => {
  await gh?.close();
  await issuer?.close();
  await opaqueIssuer?.close();
  await everything?.close();
});

const prmUrl = (path: string) => `${gh.origin}/.well-known/oauth-protected-resource${path}`;

test('the SDK client starts from the URL alone: 401, metadata discovery, registration, code + PKCE, then tools', async () => {
  const { client, close } = await connectWithOAuth(gh.url('oauth'));
  try {
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'echo'));
    const echoed = await client.callTool({ name: 'echo', arguments: { message: 'through oauth2' } });
    assert.deepEqual((echoed.content as Array<{ text: string }>)[0]?.text, 'Echo: through oauth2');
  } finally {
    await close();
  }
  const last = issuer.issued.at(-1)!;
  assert.equal(last.claims.aud, gh.url('oauth'), 'the client asked for a token bound to the API URL (RFC 8707)');
});

test('protected resource metadata: path-suffixed and root, resource equal to the URL the client uses', async () => {
  for (const url of [prmUrl('/mcp'), `${gh.origin}/.well-known/oauth-protected-resource`]) {
    const answer = await fetch(url);
    assert.equal(answer.status, 200, url);
    assert.equal(answer.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await answer.json(), {
      resource: gh.url('oauth'),
      authorization_servers: [issuer.issuer],
      scopes_supported: ['mcp'],
      bearer_methods_supported: ['header'],
      resource_name: 'oauth',
    });
  }
  // An API path with a trailing slash keeps it in `resource`, exactly.
  const scoped = (await (await fetch(prmUrl('/scoped/'))).json()) as { resource: string; scopes_supported: string[] };
  assert.equal(scoped.resource, `${gh.origin}/scoped/`);
  assert.deepEqual(scoped.scopes_supported, ['mcp', 'tools:write']);
  const withoutSlash = (await (await fetch(prmUrl('/scoped'))).json()) as { resource: string };
  assert.equal(withoutSlash.resource, `${gh.origin}/scoped/`);
});

test('no token: 401 naming the metadata and the scopes', async () => {
  const answer = await raw(gh.url('oauth'), { body: INIT_REQUEST });
  assert.equal(answer.status, 401);
  assert.equal(answer.headers.get('www-authenticate'), `Bearer resource_metadata="${prmUrl('/mcp')}", scope="mcp"`);
  assert.equal((answer.messages[0] as { error: { data: { code: string } } }).error.data.code, 'GH_UNAUTHORIZED');
});

test('a token for another audience, an expired one, a tampered one, another issuer\'s: 401 invalid_token with the metadata URL', async () => {
  const other = await startTestIssuer();
  try {
    const good = await issuer.sign({ aud: gh.url('oauth'), scope: 'mcp' });
    const [header, payload] = good.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'admin' })).toString('base64url');
    const cases: Array<[string, string, RegExp]> = [
      ['another audience', await issuer.sign({ aud: gh.url('scoped'), scope: 'mcp' }), /audience/],
      ['expired', await issuer.sign({ aud: gh.url('oauth'), scope: 'mcp' }, { expiresIn: -120 }), /expired/],
      ['tampered', `${header}.${forged}.${good.split('.')[2]}`, /signature/],
      ['another issuer', await other.sign({ aud: gh.url('oauth'), scope: 'mcp' }), /issuer/],
    ];
    for (const [name, token, reason] of cases) {
      const answer = await raw(gh.url('oauth'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: INIT_REQUEST });
      assert.equal(answer.status, 401, name);
      const challenge = answer.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer /, name);
      assert.match(challenge, /error="invalid_token"/, name);
      assert.ok(challenge.includes(`resource_metadata="${prmUrl('/mcp')}"`), `${name}: ${challenge}`);
      assert.match(challenge, reason, name);
    }
    const ok = await raw(gh.url('oauth'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${good}` }, body: INIT_REQUEST });
    assert.equal(ok.status, 200, 'the untampered token is accepted');
  } finally {
    await other.close();
  }
});

test('missing scope: 403 insufficient_scope naming the scopes needed (step-up)', async () => {
  const url = gh.url('scoped');
  const narrow = await issuer.sign({ aud: url, scope: 'mcp' });
  const answer = await raw(url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${narrow}` }, body: INIT_REQUEST });
  assert.equal(answer.status, 403);
  assert.equal(answer.headers.get('www-authenticate'), `Bearer error="insufficient_scope", scope="mcp tools:write", resource_metadata="${prmUrl('/scoped/')}"`);
  assert.equal((answer.messages[0] as { error: { data: { code: string } } }).error.data.code, 'GH_INSUFFICIENT_SCOPE');
  const wide = await issuer.sign({ aud: url, scp: ['mcp', 'tools:write'] });
  const ok = await raw(url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${wide}` }, body: INIT_REQUEST });
  assert.equal(ok.status, 200);
});

test('the SDK client gets the scopes the 401 names and reaches an API that requires them', async () => {
  const { client, close } = await connectWithOAuth(gh.url('scoped'));
  try {
    assert.ok((await client.listTools()).tools.length > 0);
  } finally {
    await close();
  }
  assert.equal(issuer.issued.at(-1)!.claims.scope, 'mcp tools:write');
});

test('opaque tokens by introspection (RFC 7662): the flow works, answers are cached, inactive tokens refused', async () => {
  const { client, close } = await connectWithOAuth(gh.url('opaque'));
  try {
    const before = opaqueIssuer.counts.introspection;
    await client.listTools();
    await client.listTools();
    assert.equal(opaqueIssuer.counts.introspection, before, 'active answers are cached');
  } finally {
    await close();
  }
  const unknown = await raw(gh.url('opaque'), { headers: { ...MCP_HEADERS, authorization: 'Bearer not-a-token-the-server-issued' }, body: INIT_REQUEST });
  assert.equal(unknown.status, 401);
  assert.match(unknown.headers.get('www-authenticate') ?? '', /error="invalid_token".*not active/);
});

test('an opaque token for another audience is refused after introspection', async () => {
  // A token the server issued for the other API (the SDK client asks for the URL it was given).
  const { close } = await connectWithOAuth(gh.url('opaque'));
  await close();
  const token = opaqueIssuer.issued.at(-1)!.token;
  const other = await startTestGateway({
    servers: { everything: { url: `${everything.origin}/mcp` } },
    apis: [{ name: 'elsewhere', path: '/elsewhere', server: 'everything', auth: { type: 'oauth2', issuer: opaqueIssuer.issuer, introspection: { url: opaqueIssuer.introspectionUrl, clientId: INTROSPECTION.id, clientSecret: INTROSPECTION.secret } } }],
  });
  try {
    const answer = await raw(other.url(), { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: INIT_REQUEST });
    assert.equal(answer.status, 401);
    assert.match(answer.headers.get('www-authenticate') ?? '', /audience/);
  } finally {
    await other.close();
  }
});

test('behind a proxy: resource and metadata URLs follow X-Forwarded-* only with trustProxy; publicUrl overrides both', async () => {
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'mcp.example.com' };
  const api = { name: 'oauth', path: '/mcp', server: 'everything', auth: { type: 'oauth2' as const, issuer: issuer.issuer } };
  const servers = { everything: { url: `${everything.origin}/mcp` } };
  // The forwarded host is checked like a Host header: the proxy's public name must be listed.
  const proxied = await startTestGateway({ servers, apis: [api], trustProxy: true, security: { allowedHosts: ['mcp.example.com'] } });
  const fixed = await startTestGateway({ servers, apis: [api], publicUrl: 'https://gw.example.org/', trustProxy: true });
  try {
    const metadata = (await (await fetch(`${proxied.origin}/.well-known/oauth-protected-resource/mcp`, { headers: forwarded })).json()) as { resource: string };
    assert.equal(metadata.resource, 'https://mcp.example.com/mcp');
    const challenge = (await raw(proxied.url(), { headers: { ...MCP_HEADERS, ...forwarded }, body: INIT_REQUEST })).headers.get('www-authenticate');
    assert.equal(challenge, 'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp"');
    // A token for the forwarded URL is the right audience there.
    const token = await issuer.sign({ aud: 'https://mcp.example.com/mcp', scope: 'mcp' });
    assert.equal((await raw(proxied.url(), { headers: { ...MCP_HEADERS, ...forwarded, authorization: `Bearer ${token}` }, body: INIT_REQUEST })).status, 200);

    const pinned = (await (await fetch(`${fixed.origin}/.well-known/oauth-protected-resource`, { headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'gw.example.org' } })).json()) as { resource: string };
    assert.equal(pinned.resource, 'https://gw.example.org/mcp');
    // A forwarded host that is neither the public URL's nor listed is refused, not echoed.
    assert.equal((await fetch(`${fixed.origin}/.well-known/oauth-protected-resource`, { headers: forwarded })).status, 403);
    assert.equal((await fetch(`${proxied.origin}/.well-known/oauth-protected-resource/mcp`, { headers: { ...forwarded, 'x-forwarded-host': 'evil.example' } })).status, 403);
    // Without trustProxy (the shared gateway), the forwarded headers are ignored.
    const ignored = (await (await fetch(prmUrl('/mcp'), { headers: forwarded })).json()) as { resource: string };
    assert.equal(ignored.resource, gh.url('oauth'));
  } finally {
    await proxied.close();
    await fixed.close();
  }
});
