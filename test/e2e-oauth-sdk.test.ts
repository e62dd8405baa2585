// The official SDK client, given nothing but the Gatehouse URL of an API with `auth: oauth2`,
// gets the 401, discovers the protected resource and authorization server metadata, registers,
// runs the authorization code flow with PKCE (the test plays the person on the sign-in and
// consent pages over real HTTP), obtains a token, and lists and calls tools of server-everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { playUser, startOAuthGateway, TestOAuthClient, USER, type OAuthSetup, type PlayedFlow } from './helpers/oauth-flow.ts';

let setup: OAuthSetup;
before(async () => {
  setup = await startOAuthGateway();
});
after(async () => {
  await setup.close();
});

/** Connects the SDK client the way an application does: try, let the person authorize, finish, reconnect. */
async function authorizeAndConnect(provider: TestOAuthClient, flows: PlayedFlow[]): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const first = new Client({ name: 'oauth-test', version: '1.0.0' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider })), UnauthorizedError);
  const flow = flows.at(-1)!;
  const code = flow.final.searchParams.get('code');
  assert.ok(code, `no code in ${flow.final.href}`);
  const pending = new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider });
  await pending.finishAuth(code);
  const client = new Client({ name: 'oauth-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider });
  await client.connect(transport);
  return { client, transport };
}

test('the SDK client goes from a bare URL to calling tools through the embedded authorization server', async () => {
  const flows: PlayedFlow[] = [];
  const provider = new TestOAuthClient('http://127.0.0.1:45123/callback', async (url) => {
    flows.push(await playUser(url));
  });
  const { client, transport } = await authorizeAndConnect(provider, flows);
  try {
    // What the person saw and where they were sent.
    const [flow] = flows;
    assert.equal(flows.length, 1);
    assert.match(flow!.consentPage, /Gatehouse test client/);
    assert.match(flow!.consentPage, /http:\/\/127\.0\.0\.1:45123\/callback/);
    assert.match(flow!.consentPage, /<code>mcp<\/code>/);
    assert.equal(flow!.final.origin + flow!.final.pathname, 'http://127.0.0.1:45123/callback');
    assert.equal(flow!.final.searchParams.get('state'), provider.lastState);
    assert.equal(flow!.final.searchParams.get('iss'), setup.gh.origin);

    // The authorization request the SDK built: S256 PKCE and the resource indicator.
    const request = provider.authorizationUrls[0]!;
    assert.equal(request.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(request.searchParams.get('resource'), setup.url);

    // The token: ours (ES256, issuer), for this API (aud), for the user, with the scope asked.
    const token = provider.saved!.access_token;
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
    const claims = decodeJwt(token);
    assert.equal(claims.iss, setup.gh.origin);
    assert.equal(claims.aud, setup.url);
    assert.equal(claims.preferred_username, USER.username);
    assert.equal(claims.client_id, (provider.info as { client_id: string }).client_id);
    assert.equal(claims.scope, 'mcp');

    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'through oauth' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: through oauth' }]);

    // Nothing secret reached the log: not the password, the token, the code or the verifier.
    const logs = setup.gh.logs.text();
    for (const secret of [USER.password, token, flow!.final.searchParams.get('code')!, provider.verifier!]) assert.ok(!logs.includes(secret), 'a secret was logged');
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
});

test('with offline_access the client gets a refresh token, and a refresh rotates it', async () => {
  const flows: PlayedFlow[] = [];
  const provider = new TestOAuthClient('http://localhost:45124/oauth/callback', async (url) => {
    // What mcp-remote does when offline_access is offered: ask for it.
    url.searchParams.set('scope', 'mcp offline_access');
    flows.push(await playUser(url));
  });
  const { client, transport } = await authorizeAndConnect(provider, flows);
  await transport.terminateSession().catch(() => undefined);
  await client.close();
  const first = provider.saved!;
  assert.ok(first.refresh_token, 'expected a refresh token');

  // An expired access token: the SDK refreshes by itself on the 401.
  provider.saved = { ...first, access_token: 'not-a-valid-token' };
  const again = new Client({ name: 'oauth-test', version: '1.0.0' });
  const againTransport = new StreamableHTTPClientTransport(new URL(setup.url), { authProvider: provider });
  await again.connect(againTransport);
  try {
    const result = await again.callTool({ name: 'echo', arguments: { message: 'after refresh' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: after refresh' }]);
    assert.equal(flows.length, 1, 'no second trip through the browser');
    assert.ok(provider.saved!.refresh_token);
    assert.notEqual(provider.saved!.refresh_token, first.refresh_token, 'public client: refresh token rotated');
    const logs = setup.gh.logs.text();
    for (const secret of [first.refresh_token!, provider.saved!.refresh_token!, provider.saved!.access_token]) assert.ok(!logs.includes(secret), 'a token was logged');
  } finally {
    await againTransport.terminateSession().catch(() => undefined);
    await again.close();
  }

  // The rotated-out refresh token is dead.
  const reuse = await fetch(`${setup.gh.origin}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: (provider.info as { client_id: string }).client_id }).toString(),
  });
  assert.equal(reuse.status, 400);
  assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');
});
