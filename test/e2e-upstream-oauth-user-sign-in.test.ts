// Upstream accounts connected at sign-in (`auth: { type: oauth-user }`, `connectAtSignIn`): the
// official SDK client authorizes at Gatehouse's embedded authorization server; after the person
// allows it, the browser goes through each per-user server's authorization (oidc-provider as the
// upstream's authorization server, an SDK-built server that wants each user's own token) and
// only then back to the client with its code, so the client's first session already works as
// that person. A federated API chains its per-user members; a declined upstream authorization
// still gives the client its code (the call prompts later); `connectAtSignIn: false`, or an
// account already connected, goes straight back; the chain belongs to the browser that consented.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, type TestGateway } from './helpers/gatehouse.ts';
import { CookieJar, playUser, TestOAuthClient, type PlayedFlow } from './helpers/oauth-flow.ts';
import { type UpstreamIdp, type UserUpstream, startIdpWithUpstream } from './helpers/upstream-idp.ts';
import { createUser } from '../src/authserver/users.ts';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:45931/callback';

let idp: UpstreamIdp;
let upstream: UserUpstream;
let gh: TestGateway;
const ids = new Map<string, string>();

before(async () => {
  ({ idp, upstream } = await startIdpWithUpstream());
  const oauthUser = { type: 'oauth-user' } as const;
  gh = await startTestGateway({
    servers: {
      notes: { url: upstream.url, auth: oauthUser },
      // The same upstream under a second name: a second connection of its own.
      journal: { url: upstream.url, auth: oauthUser },
      later: { url: upstream.url, auth: { type: 'oauth-user', connectAtSignIn: false } },
    },
    apis: [
      { name: 'notes', path: '/mcp', server: 'notes', auth: { type: 'oauth2' } },
      { name: 'both', path: '/both', servers: ['notes', 'journal'], namespace: { prefix: 'always' }, auth: { type: 'oauth2' } },
      { name: 'later', path: '/later', server: 'later', auth: { type: 'oauth2' } },
    ],
  });
  for (const name of ['ada', 'bob', 'carol', 'dan']) ids.set(name, (await createUser(gh.gateway.store, name, PASSWORD)).id);
});

after(async () => {
  await gh?.close();
  await upstream?.close();
  await idp?.close();
});

interface Browsed {
  /** The client's redirect URI with its answer, once the browser got there. */
  final: URL;
  /** Every URL the browser was sent to after the consent. */
  visited: string[];
  flow: PlayedFlow;
}

/** Follows redirects with the browser's cookies until the browser is sent to the client's redirect URI (nobody listens there). */
async function followToClient(start: URL, jar: CookieJar): Promise<{ final: URL; visited: string[] }> {
  const visited: string[] = [];
  let current = start.href;
  for (let hop = 0; hop < 20; hop++) {
    if (current.startsWith(REDIRECT)) return { final: new URL(current), visited };
    visited.push(current);
    const headers: Record<string, string> = { accept: 'text/html' };
    if (jar.cookies.size > 0) headers.cookie = jar.header();
    const response = await fetch(current, { headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    jar.take(response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) throw new Error(`${current} answered ${response.status}: ${await response.text()}`);
    await response.body?.cancel();
    current = new URL(location, current).href;
  }
  throw new Error(`more than 20 redirects from ${start.href}`);
}

/** The SDK client's authorization on `api` by `username` in a scripted browser: its provider (tokens saved) and the browsing. */
async function authorize(api: string, username: string): Promise<{ provider: TestOAuthClient; browsed: Browsed }> {
  let browsed: Browsed | undefined;
  const provider = new TestOAuthClient(REDIRECT, async (url) => {
    const flow = await playUser(url, { username, password: PASSWORD });
    browsed = { ...(await followToClient(flow.final, flow.jar)), flow };
  });
  const first = new Client({ name: 'sign-in-test', version: '1.0.0' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(gh.url(api)), { authProvider: provider })), UnauthorizedError);
  assert.ok(browsed);
  const code = browsed.final.searchParams.get('code');
  assert.ok(code, `the client got a code: ${browsed.final.href}`);
  await new StreamableHTTPClientTransport(new URL(gh.url(api)), { authProvider: provider }).finishAuth(code);
  return { provider, browsed };
}

/** The SDK client on `api`, authorized by `username`, connected. */
async function signIn(api: string, username: string): Promise<{ client: Client; browsed: Browsed }> {
  const { provider, browsed } = await authorize(api, username);
  const client = new Client({ name: 'sign-in-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gh.url(api)), { authProvider: provider }));
  return { client, browsed };
}

async function whoami(client: Client, name = 'whoami'): Promise<string> {
  const result = await client.callTool({ name, arguments: {} });
  return (result.content as Array<{ text: string }>)[0]!.text;
}

const upstreamVisits = (visited: readonly string[]) => visited.filter((u) => u.startsWith(`${idp.issuer}/`) && new URL(u).pathname.endsWith('/auth')).length;

test('signing in for an API whose server wants the user\'s own token connects it on the way: the client\'s first session calls as that person', async () => {
  idp.loginAs = 'ada-upstream';
  const { client, browsed } = await signIn('notes', 'ada');
  try {
    assert.match(browsed.flow.consentPage, /you will first connect your account at <strong>notes<\/strong>/);
    assert.equal(browsed.flow.final.pathname, '/oauth/connect-upstream', 'after consent, the chain');
    assert.equal(upstreamVisits(browsed.visited), 1, `one upstream authorization: ${browsed.visited.join(' → ')}`);
    assert.equal(await whoami(client), 'ada-upstream');
    assert.deepEqual((await gh.gateway.credentialConnections().list(ids.get('ada'))).map((c) => c.server), ['notes']);
  } finally {
    await client.close();
  }
  // Already connected: the next authorization goes straight back to the client.
  const again = await signIn('notes', 'ada');
  try {
    assert.doesNotMatch(again.browsed.flow.consentPage, /connect your account/);
    assert.ok(again.browsed.flow.final.href.startsWith(REDIRECT), again.browsed.flow.final.href);
    assert.equal(await whoami(again.client), 'ada-upstream');
  } finally {
    await again.client.close();
  }
});

test('a federated API chains every per-user member before the code: both are connected, each call goes as the person', async () => {
  idp.loginAs = 'bob-upstream';
  const { client, browsed } = await signIn('both', 'bob');
  try {
    assert.match(browsed.flow.consentPage, /your accounts at <strong>notes<\/strong>, <strong>journal<\/strong>/);
    assert.equal(upstreamVisits(browsed.visited), 2, browsed.visited.join(' → '));
    assert.deepEqual((await gh.gateway.credentialConnections().list(ids.get('bob'))).map((c) => c.server).sort(), ['journal', 'notes']);
    assert.equal(await whoami(client, 'notes__whoami'), 'bob-upstream');
    assert.equal(await whoami(client, 'journal__whoami'), 'bob-upstream');
  } finally {
    await client.close();
  }
});

test('declined at the upstream, the chain goes on: the client gets its code, and the session it opens prompts for the connection', async () => {
  idp.loginAs = 'carol-upstream';
  idp.decline = true;
  let authorized: Awaited<ReturnType<typeof authorize>>;
  try {
    authorized = await authorize('notes', 'carol');
  } finally {
    idp.decline = false;
  }
  assert.equal(upstreamVisits(authorized.browsed.visited), 1);
  assert.equal((await gh.gateway.credentialConnections().list(ids.get('carol'))).length, 0, 'nothing connected');
  // A single server that wants the token for everything: its initialize is where the prompt comes.
  const client = new Client({ name: 'sign-in-test', version: '1.0.0' });
  await assert.rejects(
    client.connect(new StreamableHTTPClientTransport(new URL(gh.url('notes')), { authProvider: authorized.provider })),
    (error: unknown) => error instanceof McpError && error.code === -32042 && /\/-\/connect\/notes\?ticket=/.test(error.message),
  );
});

test('connectAtSignIn: false leaves the connection to the first call: no chain, the code comes at once', async () => {
  const provider = new TestOAuthClient(REDIRECT, async () => undefined);
  const first = new Client({ name: 'sign-in-test', version: '1.0.0' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(gh.url('later')), { authProvider: provider })), UnauthorizedError);
  const flow = await playUser(provider.authorizationUrls.at(-1)!, { username: 'dan', password: PASSWORD });
  assert.doesNotMatch(flow.consentPage, /connect your account/);
  assert.ok(flow.final.href.startsWith(REDIRECT), flow.final.href);
  assert.ok(flow.final.searchParams.get('code'));
});

test('the chain belongs to the browser that consented: elsewhere 403, unknown 400, and once finished it cannot be used again', async () => {
  idp.loginAs = 'dan-upstream';
  const provider = new TestOAuthClient(REDIRECT, async () => undefined);
  const first = new Client({ name: 'sign-in-test', version: '1.0.0' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(gh.url('notes')), { authProvider: provider })), UnauthorizedError);
  const flow = await playUser(provider.authorizationUrls.at(-1)!, { username: 'dan', password: PASSWORD });
  assert.equal(flow.final.pathname, '/oauth/connect-upstream');
  // Another browser (no cookie of this sign-in) gets nothing out of the link.
  const elsewhere = await fetch(flow.final, { redirect: 'manual' });
  assert.equal(elsewhere.status, 403);
  assert.match(await elsewhere.text(), /Wrong browser/);
  const unknown = await fetch(`${gh.origin}/oauth/connect-upstream?chain=nope`, { redirect: 'manual' });
  assert.equal(unknown.status, 400);
  await unknown.body?.cancel();
  // The browser that consented goes through, once.
  const { final } = await followToClient(flow.final, flow.jar);
  assert.ok(final.searchParams.get('code'));
  const jar = flow.jar;
  const replay = await fetch(flow.final, { redirect: 'manual', headers: { cookie: jar.header() } });
  assert.equal(replay.status, 400);
  await replay.body?.cancel();
});
