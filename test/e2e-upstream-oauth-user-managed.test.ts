// Per-user upstream OAuth through the management API (managed mode): a server with
// auth: oauth-user deployed through /api/v1, connections listed and revoked through
// /api/v1/connections (upstream revocation seen by the real authorization server), and a user of
// the embedded authorization server disabled through /api/v1/users losing their connections.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { startTestIssuer, type TestIssuer } from './helpers/auth-issuer.ts';
import { CookieJar, browse, hiddenField } from './helpers/oauth-flow.ts';
import { followInBrowser, type UpstreamIdp, type UserUpstream, startIdpWithUpstream } from './helpers/upstream-idp.ts';

let agents: TestIssuer;
let idp: UpstreamIdp;
let upstream: UserUpstream;
let gh: ManagedGatehouse;

before(async () => {
  agents = await startTestIssuer();
  ({ idp, upstream } = await startIdpWithUpstream());
  gh = await startManaged();
  assert.equal((await gh.call('POST', '/api/v1/servers', { body: { name: 'notes', url: upstream.url, auth: { type: 'oauth-user' } } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/apis', { body: { name: 'notes', path: '/mcp', server: 'notes', auth: { type: 'oauth2', issuer: agents.issuer } } })).status, 201);
  // An API on the embedded authorization server too: its users get the /-/connections page.
  assert.equal((await gh.call('POST', '/api/v1/apis', { body: { name: 'embedded', path: '/embedded', server: 'notes', auth: { type: 'oauth2' } } })).status, 201);
  assert.equal((await gh.call('POST', '/api/v1/deployments', { body: { comment: 'per-user server' } })).status, 201);
});

after(async () => {
  await gh?.close();
  await upstream?.close();
  await idp?.close();
  await agents?.close();
});

/** Connects `user`'s upstream account `account` through a fresh connect link (in `jar`'s browser: a user of the embedded authorization server must be signed in there). */
async function connect(user: string, account: string, jar = new CookieJar()): Promise<void> {
  const ticket = await gh.gateway.credentialConnections().tickets.issue(gh.gateway.baseUrl(), user, 'notes', 60_000, undefined);
  idp.loginAs = account;
  const page = await followInBrowser(ticket.url, jar);
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Connected/);
}

/** A browser signed in on /-/connections as `username`. */
async function signedIn(username: string, password: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const form = await browse(jar, `${gh.gateway.baseUrl()}/-/connections`);
  const answer = await browse(jar, `${gh.gateway.baseUrl()}/-/connections`, { csrf: hiddenField(form.text, 'csrf'), action: 'signin', username, password });
  assert.equal(answer.status, 303, answer.text);
  return jar;
}

test('GET /api/v1/connections lists without tokens; DELETE revokes (upstream too); a second DELETE is 404', async () => {
  await connect('alice', 'alice-up');
  await connect('bob', 'bob-up');
  const listed = await gh.call('GET', '/api/v1/connections');
  assert.equal(listed.status, 200);
  const items = listed.body.items as Array<{ user: string; server: string; expiresAt: number | null }>;
  assert.deepEqual(items.map((c) => `${c.user}/${c.server}`), ['alice/notes', 'bob/notes']);
  assert.ok(items.every((c) => typeof c.expiresAt === 'number'));
  const onlyBob = await gh.call('GET', '/api/v1/connections?user=bob');
  assert.deepEqual((onlyBob.body.items as Array<{ user: string }>).map((c) => c.user), ['bob']);
  const revocations = idp.counts.revocations;
  const revoked = await gh.call('DELETE', '/api/v1/connections/alice/notes');
  assert.equal(revoked.status, 200);
  assert.deepEqual(revoked.body, { user: 'alice', server: 'notes', revokedUpstream: true });
  assert.ok(idp.counts.revocations > revocations, 'the upstream authorization server saw the revocation');
  assert.equal((await gh.call('DELETE', '/api/v1/connections/alice/notes')).status, 404);
  assert.equal((await gh.call('POST', '/api/v1/connections')).status, 405);
});

test('disabling a user through /api/v1/users ends their upstream connections', async () => {
  const created = await gh.call('POST', '/api/v1/users', { body: { username: 'carol', password: 'a long enough password 123' } });
  assert.equal(created.status, 201);
  const id = created.body.id as string;
  await connect(id, 'carol-up', await signedIn('carol', 'a long enough password 123'));
  assert.equal(((await gh.call('GET', `/api/v1/connections?user=${id}`)).body.items as unknown[]).length, 1);
  const revocations = idp.counts.revocations;
  const disabled = await gh.call('PUT', '/api/v1/users/carol', { body: { disabled: true }, ifMatch: created.etag! });
  assert.equal(disabled.status, 200);
  assert.deepEqual((await gh.call('GET', `/api/v1/connections?user=${id}`)).body.items, []);
  assert.ok(idp.counts.revocations > revocations);
});

test('/-/connections: a user signs in with their Gatehouse password, sees their connections and revokes one; forms without the CSRF token are refused', async () => {
  const created = await gh.call('POST', '/api/v1/users', { body: { username: 'dave', password: 'another long password 456' } });
  assert.equal(created.status, 201);
  await connect(created.body.id as string, 'dave-up', await signedIn('dave', 'another long password 456'));
  await connect('someone-else', 'else-up');
  const page = `${gh.gateway.baseUrl()}/-/connections`;
  const jar = new CookieJar();
  const browse = async (form?: Record<string, string>) => {
    const headers: Record<string, string> = { accept: 'text/html', origin: gh.gateway.baseUrl() };
    if (jar.cookies.size > 0) headers.cookie = jar.header();
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(page, { method: form ? 'POST' : 'GET', headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
    jar.take(response);
    return { status: response.status, text: await response.text() };
  };
  const start = await browse();
  assert.equal(start.status, 200);
  assert.match(start.text, /Sign in with your Gatehouse account/);
  const csrf = /name="csrf" value="([^"]+)"/.exec(start.text)![1]!;
  assert.equal((await browse({ action: 'signin', username: 'dave', password: 'another long password 456' })).status, 403, 'no CSRF token');
  assert.equal((await browse({ csrf, action: 'signin', username: 'dave', password: 'wrong password here' })).status, 401);
  assert.equal((await browse({ csrf, action: 'signin', username: 'dave', password: 'another long password 456' })).status, 303);
  const list = await browse();
  assert.match(list.text, /<td>notes<\/td>/);
  assert.ok(!list.text.includes('someone-else'), 'only the signed-in user\'s connections');
  assert.equal((await browse({ action: 'revoke', server: 'notes' })).status, 403, 'no CSRF token');
  const revocations = idp.counts.revocations;
  assert.equal((await browse({ csrf, action: 'revoke', server: 'notes' })).status, 303);
  assert.match((await browse()).text, /No server is connected to your account/);
  assert.ok(idp.counts.revocations > revocations);
  assert.equal(((await gh.call('GET', '/api/v1/connections?user=someone-else')).body.items as unknown[]).length, 1, 'another user\'s connection stays');
});

test('a connect link of a user of the embedded authorization server connects only in that user\'s signed-in browser (anyone holding the link used to connect their own upstream account to the user)', async () => {
  const erin = await gh.call('POST', '/api/v1/users', { body: { username: 'erin', password: 'erin long password 789' } });
  assert.equal((await gh.call('POST', '/api/v1/users', { body: { username: 'mallory', password: 'mallory long password 0' } })).status, 201);
  const id = erin.body.id as string;
  const ticket = await gh.gateway.credentialConnections().tickets.issue(gh.gateway.baseUrl(), id, 'notes', 60_000, undefined);
  const connectPath = new URL(ticket.url).pathname + new URL(ticket.url).search;
  // Someone else's browser, signed in as mallory: refused, and the link is not used up.
  const refused = await browse(await signedIn('mallory', 'mallory long password 0'), ticket.url);
  assert.equal(refused.status, 403);
  assert.match(refused.text, /issued to another Gatehouse user/);
  // A browser nobody signed in to: sent to sign in first, then back to the link.
  const jar = new CookieJar();
  const first = await browse(jar, ticket.url);
  assert.equal(first.status, 303);
  assert.equal(first.location, `/-/connections?next=${encodeURIComponent(connectPath)}`);
  const page = await browse(jar, `${gh.gateway.baseUrl()}${first.location!}`);
  assert.match(page.text, /Sign in as the user your agent acts for/);
  const back = await browse(jar, `${gh.gateway.baseUrl()}/-/connections`, { csrf: hiddenField(page.text, 'csrf'), action: 'signin', username: 'erin', password: 'erin long password 789', next: hiddenField(page.text, 'next') });
  assert.equal(back.status, 303);
  assert.equal(back.location, connectPath, 'back to the link');
  // Only a connect link of this Gatehouse is a place to go back to.
  const outside = await browse(new CookieJar(), `${gh.gateway.baseUrl()}/-/connections?next=${encodeURIComponent('https://evil.example/')}`);
  assert.doesNotMatch(outside.text, /evil\.example/);
  idp.loginAs = 'erin-up';
  const done = await followInBrowser(`${gh.gateway.baseUrl()}${back.location!}`, jar);
  assert.equal(done.status, 200, done.text);
  assert.match(done.text, /Connected/);
  const listed = await gh.call('GET', `/api/v1/connections?user=${id}`);
  assert.equal((listed.body.items as unknown[]).length, 1);
});
