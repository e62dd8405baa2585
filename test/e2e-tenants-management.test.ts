// Tenants in the management API, end to end on a managed-mode Gatehouse in front of the real
// server-everything: a platform admin makes two tenants with their servers, APIs, agents, keys,
// credentials and tenant-scoped tokens; then every management endpoint is tried with Acme's token
// on Globex's objects (a table: each is answered as missing, 404, or a create naming Globex is
// refused, 400, and Globex's objects are unchanged), and the same endpoints on Acme's own objects
// work. MCP across tenants is checked with the SDK client after the deploy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_EGRESS, startEverything, type RunningEverything } from './helpers/gatehouse.ts';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { recordsWhen } from './helpers/audit-db.ts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

let everything: RunningEverything;
let gh: ManagedGatehouse;
/** Tokens: Acme's admin and owner, Globex's admin. */
const tokens: Record<'acmeAdmin' | 'acmeOwner' | 'globexAdmin' | 'acmeViewer', string> = { acmeAdmin: '', acmeOwner: '', globexAdmin: '', acmeViewer: '' };
const keys: Record<'alice' | 'gina', string> = { alice: '', gina: '' };
let globexTokenId = '';

type Answer = { status: number; etag: string | null; body: Record<string, unknown> };

/** A management API call with another token than the admin's. */
function as(token: string, method: string, path: string, options: { body?: unknown; ifMatch?: string } = {}): ReturnType<ManagedGatehouse['call']> {
  return gh.call(method, path, { ...options, token });
}

async function platform(method: string, path: string, options: { body?: unknown; ifMatch?: string } = {}, expected?: number): Promise<Answer> {
  const answer = await gh.call(method, path, options);
  if (expected !== undefined) assert.equal(answer.status, expected, `${method} ${path}: ${JSON.stringify(answer.body)}`);
  return answer;
}

before(async () => {
  everything = await startEverything();
  gh = await startManaged();
  await platform('POST', '/api/v1/tenants', { body: { id: 'acme', name: 'Acme', pathPrefix: '/acme', egress: LOCAL_EGRESS } }, 201);
  await platform('POST', '/api/v1/tenants', { body: { id: 'globex', name: 'Globex', egress: LOCAL_EGRESS } }, 201);
  for (const tenant of ['acme', 'globex']) {
    await platform('POST', '/api/v1/servers', { body: { name: `${tenant}-srv`, url: `${everything.origin}/mcp`, tenant } }, 201);
    await platform('POST', '/api/v1/apis', { body: { name: `${tenant}-api`, path: `/${tenant}/mcp`, server: `${tenant}-srv`, tenant, auth: { type: 'api-key' }, policies: [{ acl: { rules: [{ features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }] }] } }] } }, 201);
    await platform('PUT', `/api/v1/credentials/${tenant}.upstream`, { body: { type: 'bearer', token: `${tenant}-secret-token` } }, 200);
  }
  await platform('POST', '/api/v1/agents', { body: { id: 'alice', tenant: 'acme' } }, 201);
  await platform('POST', '/api/v1/agents', { body: { id: 'gina', tenant: 'globex', labels: { team: 'gx-ops' } } }, 201);
  keys.alice = String((await platform('POST', '/api/v1/agents/alice/keys', {}, 201)).body.key);
  keys.gina = String((await platform('POST', '/api/v1/agents/gina/keys', {}, 201)).body.key);
  await platform('POST', '/api/v1/deployments', { body: { comment: 'two tenants' } }, 201);
  await platform('POST', '/api/v1/users', { body: { username: 'gus', password: 'correct horse battery staple', tenant: 'globex' } }, 201);
  tokens.acmeAdmin = String((await platform('POST', '/api/v1/tokens', { body: { name: 'acme ci', role: 'admin', tenant: 'acme' } }, 201)).body.token);
  tokens.acmeOwner = String((await platform('POST', '/api/v1/tokens', { body: { name: 'acme owner', role: 'owner', tenant: 'acme' } }, 201)).body.token);
  tokens.acmeViewer = String((await platform('POST', '/api/v1/tokens', { body: { name: 'acme viewer', role: 'viewer', tenant: 'acme' } }, 201)).body.token);
  const globex = await platform('POST', '/api/v1/tokens', { body: { name: 'globex ci', role: 'admin', tenant: 'globex' } }, 201);
  tokens.globexAdmin = String(globex.body.token);
  globexTokenId = String(globex.body.id);
});

after(async () => {
  await gh?.close();
  await everything?.close();
});

test('a tenant token is refused a tenant that does not exist; a platform token lists every tenant, a tenant\'s only its own', async () => {
  assert.equal((await platform('POST', '/api/v1/tokens', { body: { name: 'x', role: 'admin', tenant: 'initech' } })).status, 400);
  assert.deepEqual(((await platform('GET', '/api/v1/tenants')).body.items as Array<{ id: string }>).map((t) => t.id), ['acme', 'globex']);
  assert.deepEqual(((await as(tokens.acmeAdmin, 'GET', '/api/v1/tenants')).body.items as Array<{ id: string }>).map((t) => t.id), ['acme']);
});

test('every management endpoint on another tenant\'s objects: answered as missing (404) or refused (400), never 403, and nothing changes', async () => {
  // Real ETags of Globex's objects, so that tenancy is the only reason for a refusal.
  const etag = async (path: string) => (await platform('GET', path, {}, 200)).etag ?? '"none"';
  const server = await etag('/api/v1/servers/globex-srv');
  const api = await etag('/api/v1/apis/globex-api');
  const policy = await etag('/api/v1/apis/globex-api/policies/0');
  const agent = await etag('/api/v1/agents/gina');
  const tenant = await etag('/api/v1/tenants/globex');
  const gus = await etag('/api/v1/users/gus');
  const draft = (await platform('GET', '/api/v1/draft', {}, 200)).etag!;
  const ginaKey = ((await platform('GET', '/api/v1/agents/gina/keys', {}, 200)).body.items as Array<{ id: string }>)[0]!.id;
  const before = (await platform('GET', '/api/v1/draft', {}, 200)).body.document;

  const table: Array<[string, string, { body?: unknown; ifMatch?: string }, number]> = [
    ['GET', '/api/v1/servers/globex-srv', {}, 404],
    ['PUT', '/api/v1/servers/globex-srv', { body: { url: 'http://127.0.0.1:9/mcp' }, ifMatch: server }, 404],
    ['DELETE', '/api/v1/servers/globex-srv', { ifMatch: server }, 404],
    // The tools a foreign server listed (tool pinning) are missing too.
    ['GET', '/api/v1/servers/globex-srv/tools', {}, 404],
    ['GET', '/api/v1/servers/globex-srv/tools/echo/diff', {}, 404],
    ['POST', '/api/v1/servers/globex-srv/tools/echo/approve', { body: { hash: '0'.repeat(64) } }, 404],
    ['POST', '/api/v1/servers', { body: { name: 'sneaky', url: 'http://127.0.0.1:9/mcp', tenant: 'globex' } }, 400],
    ['GET', '/api/v1/apis/globex-api', {}, 404],
    ['PUT', '/api/v1/apis/globex-api', { body: { path: '/globex/mcp', server: 'globex-srv' }, ifMatch: api }, 404],
    ['DELETE', '/api/v1/apis/globex-api', { ifMatch: api }, 404],
    ['POST', '/api/v1/apis', { body: { name: 'sneaky', path: '/globex/x', server: 'globex-srv', tenant: 'globex' } }, 400],
    ['POST', '/api/v1/apis', { body: { name: 'sneaky', path: '/acme/x', server: 'globex-srv' } }, 400],
    ['GET', '/api/v1/apis/globex-api/policies', {}, 404],
    ['POST', '/api/v1/apis/globex-api/policies', { body: { acl: { rules: [] } } }, 404],
    ['GET', '/api/v1/apis/globex-api/policies/0', {}, 404],
    ['PUT', '/api/v1/apis/globex-api/policies/0', { body: { acl: { rules: [] } }, ifMatch: policy }, 404],
    ['DELETE', '/api/v1/apis/globex-api/policies/0', { ifMatch: policy }, 404],
    ['POST', '/api/v1/apis/globex-api/simulate', { body: { agent: 'gina' } }, 404],
    ['GET', '/api/v1/agents/gina', {}, 404],
    ['PUT', '/api/v1/agents/gina', { body: { labels: {}, disabled: true }, ifMatch: agent }, 404],
    ['GET', '/api/v1/agents/gina/keys', {}, 404],
    ['POST', '/api/v1/agents/gina/keys', { body: {} }, 404],
    ['DELETE', `/api/v1/agents/gina/keys/${ginaKey}`, {}, 404],
    ['POST', '/api/v1/agents', { body: { id: 'sneaky', tenant: 'globex' } }, 400],
    ['POST', '/api/v1/agents/alice/keys', { body: { api: 'globex-api' } }, 400],
    ['PUT', '/api/v1/credentials/globex.upstream', { body: { type: 'bearer', token: 'overwritten' } }, 400],
    ['DELETE', '/api/v1/credentials/globex.upstream', {}, 404],
    ['GET', '/api/v1/tenants/globex', {}, 404],
    ['PUT', '/api/v1/tenants/globex', { body: { name: 'Mine' }, ifMatch: tenant }, 404],
    ['DELETE', '/api/v1/tenants/globex', { ifMatch: tenant }, 404],
    ['POST', '/api/v1/tenants', { body: { id: 'initech' } }, 404],
    ['GET', '/api/v1/draft', {}, 404],
    ['PUT', '/api/v1/draft', { body: { servers: {}, apis: [] }, ifMatch: draft }, 404],
    ['PATCH', '/api/v1/draft', { body: [{ op: 'remove', path: '/apis/1' }], ifMatch: draft }, 404],
    ['POST', '/api/v1/deployments/1/rollback', { ifMatch: draft }, 404],
    // Users of the authorization server: Globex's are missing ones; a create naming Globex is refused.
    ['GET', '/api/v1/users/gus', {}, 404],
    ['PUT', '/api/v1/users/gus', { body: { disabled: true }, ifMatch: gus }, 404],
    ['PUT', '/api/v1/users/gus', { body: { tenant: 'acme' }, ifMatch: gus }, 404],
    ['DELETE', '/api/v1/users/gus', { ifMatch: gus }, 404],
    ['POST', '/api/v1/users', { body: { username: 'sneaky', password: 'correct horse battery staple', tenant: 'globex' } }, 400],
    ['POST', '/api/v1/users', { body: { username: 'sneaky', password: 'correct horse battery staple', tenant: null } }, 400],
    ['DELETE', `/api/v1/tokens/${globexTokenId}`, {}, 404],
    ['POST', '/api/v1/tokens', { body: { name: 'sneaky', role: 'admin', tenant: 'globex' } }, 400],
  ];
  for (const [method, path, options, expected] of table) {
    // Token calls need an owner; everything else Acme's admin.
    const token = path.startsWith('/api/v1/tokens') ? tokens.acmeOwner : tokens.acmeAdmin;
    const answer = await as(token, method, path, options);
    assert.equal(answer.status, expected, `${method} ${path}: ${JSON.stringify(answer.body)}`);
    assert.doesNotMatch(JSON.stringify(answer.body), /globex-secret-token|Globex/, `${method} ${path} tells nothing of Globex`);
  }
  // The refusals of reads use the same words as for something that does not exist.
  for (const [foreign, missing] of [['/api/v1/servers/globex-srv', '/api/v1/servers/nowhere'], ['/api/v1/apis/globex-api', '/api/v1/apis/nowhere'], ['/api/v1/agents/gina/keys', '/api/v1/agents/nowhere/keys'], ['/api/v1/users/gus', '/api/v1/users/nowhere']] as const) {
    const a = await as(tokens.acmeAdmin, 'GET', foreign);
    const b = await as(tokens.acmeAdmin, 'GET', missing);
    assert.equal(a.status, b.status);
    assert.equal(String(a.body.error).replace(/"[^"]*"/, '"?"'), String(b.body.error).replace(/"[^"]*"/, '"?"'), `${foreign} reads as ${missing}`);
  }
  assert.deepEqual((await as(tokens.acmeAdmin, 'GET', '/api/v1/agents/gina')).body, { error: 'agent "gina" not found' });
  // Nothing of Globex changed.
  assert.deepEqual((await platform('GET', '/api/v1/draft', {}, 200)).body.document, before);
  assert.equal((await platform('GET', '/api/v1/agents/gina', {}, 200)).body.disabled, false);
  assert.deepEqual((({ disabled, tenant }) => ({ disabled, tenant }))((await platform('GET', '/api/v1/users/gus', {}, 200)).body), { disabled: false, tenant: 'globex' });
  assert.equal((await platform('GET', '/api/v1/users/sneaky')).status, 404, 'no user was created');
  const ginaKeys = (await platform('GET', '/api/v1/agents/gina/keys', {}, 200)).body.items as Array<{ revokedAt: unknown }>;
  assert.equal(ginaKeys.length, 1);
  assert.equal(ginaKeys[0]!.revokedAt, null);
  assert.ok(((await platform('GET', '/api/v1/credentials', {}, 200)).body.items as Array<{ name: string }>).some((c) => c.name === 'globex.upstream'));
  assert.equal(((await platform('GET', '/api/v1/tokens', {}, 200)).body.items as Array<{ id: string; revokedAt: unknown }>).find((t) => t.id === globexTokenId)!.revokedAt, null);
});

test('users of the authorization server: a tenant\'s admin lists, creates, changes and deletes its own; a platform admin sees all and moves them', async () => {
  const password = 'correct horse battery staple';
  const created = await as(tokens.acmeAdmin, 'POST', '/api/v1/users', { body: { username: 'ada-acme', password } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.tenant, 'acme', 'a create by a tenant identity lands in its tenant');
  assert.equal(created.body.passwordHash, undefined);
  assert.equal((await as(tokens.acmeAdmin, 'POST', '/api/v1/users', { body: { username: 'ada-too', password, tenant: 'acme' } })).status, 201, 'naming its own tenant is fine');
  assert.equal((await as(tokens.acmeAdmin, 'POST', '/api/v1/users', { body: { username: 'gus', password } })).status, 409, 'user names are unique across tenants');
  const listed = (await as(tokens.acmeAdmin, 'GET', '/api/v1/users')).body.items as Array<{ username: string; tenant: string; etag: string }>;
  assert.deepEqual(listed.map((u) => [u.username, u.tenant]), [['ada-acme', 'acme'], ['ada-too', 'acme']]);
  assert.deepEqual(((await as(tokens.globexAdmin, 'GET', '/api/v1/users')).body.items as Array<{ username: string }>).map((u) => u.username), ['gus']);
  const all = (await platform('GET', '/api/v1/users', {}, 200)).body.items as Array<{ username: string; tenant: string | null }>;
  assert.deepEqual(new Set(all.map((u) => `${u.username}:${u.tenant}`)), new Set(['gus:globex', 'ada-acme:acme', 'ada-too:acme']));
  assert.equal((await as(tokens.acmeViewer, 'POST', '/api/v1/users', { body: { username: 'viewer-made', password } })).status, 403, 'a viewer reads only');

  // Changes carry the ETag read; a stale one is 412, and the list's ETag is the object's.
  const read = await as(tokens.acmeAdmin, 'GET', '/api/v1/users/ada-acme');
  assert.equal(read.etag, listed[0]!.etag);
  assert.equal((await as(tokens.acmeAdmin, 'PUT', '/api/v1/users/ada-acme', { body: { disabled: true } })).status, 428);
  const disabled = await as(tokens.acmeAdmin, 'PUT', '/api/v1/users/ada-acme', { body: { disabled: true }, ifMatch: read.etag! });
  assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
  assert.equal(disabled.body.disabled, true);
  assert.notEqual(disabled.etag, read.etag);
  assert.equal((await as(tokens.acmeAdmin, 'PUT', '/api/v1/users/ada-acme', { body: { disabled: false }, ifMatch: read.etag! })).status, 412);
  // A tenant's admin cannot move its user out (400), a platform admin can (and back).
  assert.equal((await as(tokens.acmeAdmin, 'PUT', '/api/v1/users/ada-acme', { body: { tenant: 'globex' }, ifMatch: disabled.etag! })).status, 400);
  assert.equal((await platform('PUT', '/api/v1/users/ada-too', { body: { tenant: 'initech' }, ifMatch: (await platform('GET', '/api/v1/users/ada-too')).etag! })).status, 400, 'an undeclared tenant is refused');
  const moved = await platform('PUT', '/api/v1/users/ada-too', { body: { tenant: 'globex' }, ifMatch: (await platform('GET', '/api/v1/users/ada-too')).etag! }, 200);
  assert.equal(moved.body.tenant, 'globex');
  assert.equal((await as(tokens.acmeAdmin, 'GET', '/api/v1/users/ada-too')).status, 404, 'gone from acme\'s view');
  assert.equal((await as(tokens.globexAdmin, 'GET', '/api/v1/users/ada-too')).status, 200);
  const home = await platform('PUT', '/api/v1/users/ada-too', { body: { tenant: null }, ifMatch: moved.etag! }, 200);
  assert.equal(home.body.tenant, null, 'null is the default tenant');

  // Delete: a stale ETag is 412; then gone.
  assert.equal((await as(tokens.acmeAdmin, 'DELETE', '/api/v1/users/ada-acme', { ifMatch: read.etag! })).status, 412);
  assert.equal((await as(tokens.acmeAdmin, 'DELETE', '/api/v1/users/ada-acme', { ifMatch: disabled.etag! })).status, 204);
  assert.equal((await platform('GET', '/api/v1/users/ada-acme')).status, 404);
  await platform('DELETE', '/api/v1/users/ada-too', {}, 204);
  // The change history records them, for the tenant as for the platform.
});

test('lists, versions, diffs and the change history show a tenant its own objects only; a platform token sees all', async () => {
  const names = (answer: Answer, key = 'name') => (answer.body.items as Array<Record<string, unknown>>).map((i) => i[key]);
  assert.deepEqual(names(await as(tokens.acmeAdmin, 'GET', '/api/v1/servers')), ['acme-srv']);
  assert.deepEqual(names(await as(tokens.acmeAdmin, 'GET', '/api/v1/apis')), ['acme-api']);
  assert.deepEqual(names(await as(tokens.acmeAdmin, 'GET', '/api/v1/agents'), 'id'), ['alice']);
  assert.deepEqual(names(await as(tokens.acmeAdmin, 'GET', '/api/v1/credentials')), ['acme.upstream']);
  assert.deepEqual(names(await as(tokens.globexAdmin, 'GET', '/api/v1/servers')), ['globex-srv']);
  assert.deepEqual(new Set(names(await platform('GET', '/api/v1/servers', {}, 200))), new Set(['acme-srv', 'globex-srv']));
  assert.deepEqual(new Set(names(await as(tokens.acmeOwner, 'GET', '/api/v1/tokens'))), new Set(['acme ci', 'acme owner', 'acme viewer']));
  const version = await as(tokens.acmeAdmin, 'GET', '/api/v1/deployments/1');
  assert.equal(version.status, 200);
  assert.doesNotMatch(JSON.stringify(version.body.document), /globex/);
  assert.match(JSON.stringify(version.body.document), /acme-api/);
  const diff = await as(tokens.acmeAdmin, 'GET', '/api/v1/deployments/1/diff');
  assert.equal(diff.status, 200);
  assert.match(String(diff.body.text), /acme-srv/);
  assert.doesNotMatch(String(diff.body.text), /globex/);
  // Simulating another tenant's agent on its own API: the agent is missing, as one that does not exist.
  const simulated = await as(tokens.acmeAdmin, 'POST', '/api/v1/apis/acme-api/simulate', { body: { agent: 'gina' } });
  assert.equal(simulated.status, 404, JSON.stringify(simulated.body));
  assert.match(String(simulated.body.error), /^agent "gina" not found/);
  assert.doesNotMatch(JSON.stringify(simulated.body), /gx-ops|globex/);
  assert.equal(((await platform('POST', '/api/v1/apis/acme-api/simulate', { body: { agent: 'gina' } }, 200)).body.agent as { known: boolean }).known, true);
  const changes = await as(tokens.acmeAdmin, 'GET', '/api/v1/changes');
  assert.equal(changes.status, 200);
  const targets = (changes.body.items as Array<{ target: string }>).map((c) => c.target);
  assert.ok(targets.includes('servers/acme-srv') && targets.includes('apis/acme-api'), targets.join(', '));
  assert.ok(targets.every((t) => !t.includes('globex') && t !== 'draft'), targets.join(', '));
});

test('a tenant\'s admin changes its own objects and deploys; new objects land in its tenant; a viewer only reads', async () => {
  const made = await as(tokens.acmeAdmin, 'POST', '/api/v1/servers', { body: { name: 'acme-two', url: `${everything.origin}/mcp` } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal(made.body.tenant, 'acme', 'created in the token\'s tenant');
  // Nothing that reaches beyond the tenant: a program on the gateway's host, the gateway's environment.
  const stdio = await as(tokens.acmeAdmin, 'POST', '/api/v1/servers', { body: { name: 'acme-shell', command: 'sh', args: ['-c', 'id'] } });
  assert.equal(stdio.status, 400);
  assert.match(String(stdio.body.error), /a tenant's admin may not define stdio servers/);
  const env = await as(tokens.acmeAdmin, 'POST', '/api/v1/servers', { body: { name: 'acme-leak', url: `${everything.origin}/mcp`, headers: { 'x-leak': '${env:GATEHOUSE_SESSION_KEY}' } } });
  assert.equal(env.status, 400);
  assert.deepEqual(env.body.problems, [{ field: 'headers.x-leak', message: '${env:…} is not allowed for a tenant' }]);
  const envPolicy = await as(tokens.acmeAdmin, 'POST', '/api/v1/apis/acme-api/policies', { body: { rateLimit: { backend: { type: 'redis', url: '${env:REDIS_URL}' }, limits: [] } } });
  assert.equal(envPolicy.status, 400);
  assert.equal((await platform('POST', '/api/v1/servers', { body: { name: 'platform-stdio', command: 'true', tenant: 'acme' } })).status, 201, 'a platform admin may');
  assert.equal((await platform('DELETE', '/api/v1/servers/platform-stdio', { ifMatch: (await platform('GET', '/api/v1/servers/platform-stdio', {}, 200)).etag! })).status, 204);
  const api = await as(tokens.acmeAdmin, 'POST', '/api/v1/apis', { body: { name: 'acme-two', path: '/acme/two', server: 'acme-two', auth: { type: 'api-key' } } });
  assert.equal(api.status, 201, JSON.stringify(api.body));
  const outside = await as(tokens.acmeAdmin, 'POST', '/api/v1/apis', { body: { name: 'acme-three', path: '/three', server: 'acme-two', auth: { type: 'api-key' } } });
  assert.equal(outside.status, 400);
  assert.match(JSON.stringify(outside.body), /expected a path under \\"\/acme\\"/);
  const agent = await as(tokens.acmeAdmin, 'POST', '/api/v1/agents', { body: { id: 'arnold' } });
  assert.equal(agent.status, 201);
  assert.equal(agent.body.tenant, 'acme');
  const key = await as(tokens.acmeAdmin, 'POST', '/api/v1/agents/arnold/keys', { body: { api: 'acme-two' } });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  assert.equal((await as(tokens.acmeAdmin, 'PUT', '/api/v1/credentials/acme.two', { body: { type: 'bearer', token: 'acme-two-secret' } })).status, 200);
  assert.equal((await as(tokens.acmeAdmin, 'PUT', '/api/v1/credentials/two', { body: { type: 'bearer', token: 'x' } })).status, 400, 'a tenant\'s credential is named <tenant>.<name>');
  const deployed = await as(tokens.acmeAdmin, 'POST', '/api/v1/deployments', { body: { comment: 'acme two' } });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  assert.deepEqual((deployed.body.apis as Array<{ name: string }>).map((a) => a.name).sort(), ['acme-api', 'acme-two']);
  const { client, close } = await keyed('/acme/two', String(key.body.key));
  try {
    assert.ok((await client.listTools()).tools.length > 0);
  } finally {
    await close();
  }
  assert.equal((await as(tokens.acmeViewer, 'GET', '/api/v1/servers')).status, 200);
  assert.equal((await as(tokens.acmeViewer, 'DELETE', '/api/v1/servers/acme-two', { ifMatch: '"x"' })).status, 403);
  // The config changes of a tenant's admin are audit records of its tenant.
  const records = await recordsWhen(gh.gateway, { tenant: 'acme' }, (events) => events.some((e) => e.method === 'create server' && e.target === 'servers/acme-two'));
  assert.ok(records.some((e) => e.method === 'create server' && e.target === 'servers/acme-two'));
  // A platform admin's change of a tenant's object is a record of that tenant too.
  assert.ok(records.some((e) => e.method === 'create server' && e.target === 'servers/platform-stdio' && e.agent === 'admin-token'));
  assert.ok(!records.some((e) => e.target === 'servers/globex-srv'));
});

async function keyed(path: string, key: string): Promise<{ client: Client; close(): Promise<void> }> {
  const client = new Client({ name: 'tenant-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(gh.mcpUrl(path)), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  await client.connect(transport);
  return { client, close: async () => (await transport.terminateSession().catch(() => undefined), await client.close()) };
}

test('MCP across tenants in managed mode: each agent reaches its own tenant\'s API only, with the SDK client', async () => {
  const own = await keyed('/acme/mcp', keys.alice);
  try {
    const result = await own.client.callTool({ name: 'echo', arguments: { message: 'acme' } });
    assert.equal((result.content as Array<{ text: string }>)[0]?.text, 'Echo: acme');
  } finally {
    await own.close();
  }
  await assert.rejects(keyed('/globex/mcp', keys.alice), /401|Unauthorized/);
  await assert.rejects(keyed('/acme/mcp', keys.gina), /401|Unauthorized/);
  const gina = await keyed('/globex/mcp', keys.gina);
  await gina.close();
});

test('the dashboard API shows a tenant\'s admin its tenant\'s records only, and no metrics', async () => {
  const logs = await as(tokens.acmeAdmin, 'GET', '/api/logs?tenant=globex');
  assert.equal(logs.status, 200);
  const records = logs.body.records as Array<{ tenant: string }>;
  assert.ok(records.length > 0);
  assert.ok(records.every((r) => r.tenant === 'acme'), 'the tenant filter is forced to its own');
  const meta = await as(tokens.acmeAdmin, 'GET', '/api/meta');
  assert.deepEqual((meta.body.apis as Array<{ name: string }>).map((a) => a.name).sort(), ['acme-api', 'acme-two']);
  assert.deepEqual(meta.body.tenants, ['acme'], 'the console\'s tenant filter offers its own tenant only');
  assert.deepEqual((await platform('GET', '/api/meta', {}, 200)).body.tenants, ['acme', 'globex']);
  assert.equal((await as(tokens.acmeAdmin, 'GET', '/metrics')).status, 404);
  assert.equal((await platform('GET', '/api/logs?tenant=globex', {}, 200)).status, 200);
});

test('admin users: `{ user, role, tenant }` signs in scoped to its tenant; a plain name stays a platform owner', async (t) => {
  const managed = await startManaged({ node: { admin: { port: 0, token: ADMIN_TOKEN, users: ['root', { user: 'ann', role: 'admin', tenant: 'acme' }] } } });
  t.after(() => managed.close());
  const { createUser } = await import('../src/authserver/users.ts');
  await createUser(managed.gateway.store, 'root', 'root-password-0123456789');
  await createUser(managed.gateway.store, 'ann', 'ann-password-0123456789');
  await managed.call('POST', '/api/v1/tenants', { body: { id: 'acme', egress: LOCAL_EGRESS } });
  await managed.call('POST', '/api/v1/tenants', { body: { id: 'globex', egress: LOCAL_EGRESS } });
  assert.equal((await managed.call('POST', '/api/v1/servers', { body: { name: 'acme-srv', url: 'http://127.0.0.1:9/mcp', tenant: 'acme' } })).status, 201);
  assert.equal((await managed.call('POST', '/api/v1/servers', { body: { name: 'globex-srv', url: 'http://127.0.0.1:9/mcp', tenant: 'globex' } })).status, 201);
  const signIn = async (username: string, password: string): Promise<string> => {
    const response = await fetch(`${managed.admin}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password }).toString(), redirect: 'manual' });
    assert.equal(response.status, 303, `${username} signs in`);
    return response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  };
  const servers = async (cookie: string) => {
    const response = await fetch(`${managed.admin}/api/v1/servers`, { headers: { cookie } });
    return ((await response.json()) as { items: Array<{ name: string }> }).items.map((s) => s.name).sort();
  };
  const ann = await signIn('ann', 'ann-password-0123456789');
  assert.deepEqual(await servers(ann), ['acme-srv']);
  assert.equal((await fetch(`${managed.admin}/api/v1/servers/globex-srv`, { headers: { cookie: ann } })).status, 404);
  assert.equal((await fetch(`${managed.admin}/api/v1/tokens`, { headers: { cookie: ann } })).status, 403, 'role admin: no tokens');
  assert.deepEqual(await servers(await signIn('root', 'root-password-0123456789')), ['acme-srv', 'globex-srv']);
});

test('a tenant\'s agents quota: an agent beyond it is refused with 409 naming the quota', async () => {
  await platform('POST', '/api/v1/tenants', { body: { id: 'initech', quotas: { agents: 1 }, egress: LOCAL_EGRESS } }, 201);
  await platform('POST', '/api/v1/agents', { body: { id: 'milton', tenant: 'initech' } }, 201);
  const beyond = await platform('POST', '/api/v1/agents', { body: { id: 'peter', tenant: 'initech' } });
  assert.equal(beyond.status, 409);
  assert.equal(beyond.body.error, 'tenant "initech" has 1 agents, its quota (tenants[].quotas.agents: 1); raise the quota to add more');
  assert.equal((await platform('GET', '/api/v1/agents/peter')).status, 404);
});

test('a tenant\'s deploy makes only its own objects live: another tenant\'s pending change stays pending until that tenant deploys (a deploy used to publish the whole draft)', async () => {
  const globexPending = await as(tokens.globexAdmin, 'POST', '/api/v1/apis', { body: { name: 'globex-wip', path: '/globex/wip', server: 'globex-srv', auth: { type: 'api-key' } } });
  assert.equal(globexPending.status, 201, JSON.stringify(globexPending.body));
  const acmeChange = await as(tokens.acmeAdmin, 'POST', '/api/v1/apis', { body: { name: 'acme-four', path: '/acme/four', server: 'acme-srv', auth: { type: 'api-key' } } });
  assert.equal(acmeChange.status, 201, JSON.stringify(acmeChange.body));
  const deployed = await as(tokens.acmeAdmin, 'POST', '/api/v1/deployments', { body: { comment: 'acme four only' } });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  const version = await platform('GET', `/api/v1/deployments/${String(deployed.body.version)}`, {}, 200);
  const live = ((version.body.document as { apis: Array<{ name: string }> }).apis).map((a) => a.name);
  assert.ok(live.includes('acme-four'), 'Acme\'s change is live');
  assert.ok(!live.includes('globex-wip'), 'Globex\'s pending change is not');
  // Still pending for Globex, whose diff shows it; nothing is pending for Acme.
  const globexDiff = await as(tokens.globexAdmin, 'GET', '/api/v1/draft/diff');
  assert.match(JSON.stringify(globexDiff.body), /globex-wip/);
  const again = await as(tokens.acmeAdmin, 'POST', '/api/v1/deployments', { body: {} });
  assert.equal(again.status, 409);
  assert.match(String(again.body.error), /nothing to deploy for tenant "acme"/);
  const globexDeploy = await as(tokens.globexAdmin, 'POST', '/api/v1/deployments', { body: { comment: 'globex wip' } });
  assert.equal(globexDeploy.status, 201, JSON.stringify(globexDeploy.body));
  const latest = await platform('GET', `/api/v1/deployments/${String(globexDeploy.body.version)}`, {}, 200);
  const names = ((latest.body.document as { apis: Array<{ name: string }> }).apis).map((a) => a.name);
  assert.ok(names.includes('globex-wip') && names.includes('acme-four'), 'both live now');
});

test('a tenant\'s admin reads the ETag of its pending changes with its diff and deploys what it reviewed (the console read it from the platform-only /draft, 404, and could not deploy); another tenant\'s edit leaves it valid, its own makes it 412', async () => {
  assert.equal((await as(tokens.acmeAdmin, 'GET', '/api/v1/draft')).status, 404, 'the whole draft stays the platform\'s');
  assert.equal((await as(tokens.acmeAdmin, 'POST', '/api/v1/apis', { body: { name: 'acme-five', path: '/acme/five', server: 'acme-srv', auth: { type: 'api-key' } } })).status, 201);
  const reviewed = await as(tokens.acmeAdmin, 'GET', '/api/v1/draft/diff');
  assert.equal(reviewed.status, 200);
  assert.match(String(reviewed.etag), /^"pending-/, 'the ETag of what Acme\'s deploy would publish, not the draft\'s');
  assert.match(String(reviewed.body.text), /acme-five/);
  // Another tenant's edit after the review does not touch what Acme deploys.
  assert.equal((await as(tokens.globexAdmin, 'POST', '/api/v1/servers', { body: { name: 'globex-five', url: `${everything.origin}/mcp` } })).status, 201);
  assert.equal((await as(tokens.acmeAdmin, 'GET', '/api/v1/draft/diff')).etag, reviewed.etag);
  // An edit of Acme's own objects after the review does: that ETag no longer deploys.
  assert.equal((await as(tokens.acmeAdmin, 'POST', '/api/v1/servers', { body: { name: 'acme-five-srv', url: `${everything.origin}/mcp` } })).status, 201);
  const stale = await as(tokens.acmeAdmin, 'POST', '/api/v1/deployments', { body: {}, ifMatch: reviewed.etag! });
  assert.equal(stale.status, 412, JSON.stringify(stale.body));
  const again = await as(tokens.acmeAdmin, 'GET', '/api/v1/draft/diff');
  assert.doesNotMatch(again.body.text as string, /globex-five/, 'the diff is acme\'s only');
  assert.match(again.body.text as string, /acme-five-srv/);
  const deployed = await as(tokens.acmeAdmin, 'POST', '/api/v1/deployments', { body: { comment: 'acme five' }, ifMatch: again.etag! });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  assert.ok((deployed.body.apis as Array<{ name: string }>).some((a) => a.name === 'acme-five'));
});

test('a tenant\'s pending diff is what its deploy would publish: the platform\'s undeployed change of its tenant entry is not in it (it was counted, and Deploy then answered "nothing to deploy")', async () => {
  const acme = await platform('GET', '/api/v1/tenants/acme', {}, 200);
  await platform('PUT', '/api/v1/tenants/acme', { body: { ...acme.body, name: 'Acme Inc' }, ifMatch: acme.etag! }, 200);
  assert.match(String((await platform('GET', '/api/v1/draft/diff', {}, 200)).body.text), /Acme Inc/, 'pending for the platform');
  const mine = await as(tokens.acmeAdmin, 'GET', '/api/v1/draft/diff');
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.body.patch, [], `nothing acme's deploy would publish: ${String(mine.body.text)}`);
  assert.equal((await as(tokens.acmeAdmin, 'POST', '/api/v1/deployments', { body: {} })).status, 409);
  // Acme's own change is pending, and deploying it leaves the tenant entry to the platform.
  const api = await as(tokens.acmeAdmin, 'GET', '/api/v1/apis/acme-five');
  assert.equal((await as(tokens.acmeAdmin, 'PUT', '/api/v1/apis/acme-five', { body: { ...api.body, path: '/acme/five-b' }, ifMatch: api.etag! })).status, 200);
  const pending = await as(tokens.acmeAdmin, 'GET', '/api/v1/draft/diff');
  assert.match(String(pending.body.text), /five-b/);
  assert.doesNotMatch(String(pending.body.text), /Acme Inc/);
  const deployed = await as(tokens.acmeAdmin, 'POST', '/api/v1/deployments', { body: {}, ifMatch: pending.etag! });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  assert.deepEqual((await as(tokens.acmeAdmin, 'GET', '/api/v1/draft/diff')).body.patch, []);
});

test('a tenant\'s deploy before its tenant is deployed says so (409) instead of a configuration error about a missing tenant', async () => {
  await platform('POST', '/api/v1/tenants', { body: { id: 'umbrella', pathPrefix: '/umbrella', egress: LOCAL_EGRESS } }, 201);
  const token = String((await platform('POST', '/api/v1/tokens', { body: { name: 'umbrella ci', role: 'admin', tenant: 'umbrella' } }, 201)).body.token);
  assert.equal((await as(token, 'POST', '/api/v1/servers', { body: { name: 'umbrella-srv', url: `${everything.origin}/mcp` } })).status, 201);
  const early = await as(token, 'POST', '/api/v1/deployments', { body: {} });
  assert.equal(early.status, 409);
  assert.equal(early.body.error, 'tenant "umbrella" is not deployed yet: a platform admin deploys it first (it is in the draft only)');
  await platform('POST', '/api/v1/deployments', { body: { comment: 'umbrella' } }, 201);
  const api = await as(token, 'POST', '/api/v1/apis', { body: { name: 'umbrella-api', path: '/umbrella/mcp', server: 'umbrella-srv' } });
  assert.equal(api.status, 201, JSON.stringify(api.body));
  assert.equal((await as(token, 'POST', '/api/v1/deployments', { body: {} })).status, 201);
});
