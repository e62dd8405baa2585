// Admin users managed through the API (/api/v1/admins), end to end over HTTP on a managed-mode
// Gatehouse: an owner makes a user of the embedded authorization server an admin user, the user
// signs in to the admin listener with its password and gets exactly its role's rights; a change of
// the role applies at the user's next request, and a removal ends it (401). A tenant's owner
// manages its tenant's entries only. Entries of the node file's admin.users are listed read-only.
// Bad input is a 400 naming the field. Every change is in the change history and the audit log.
// On SQLite, and on Postgres (with a second node on the same database: the role changes there
// too at the next request) when GATEHOUSE_TEST_POSTGRES_URL is set.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_EGRESS } from './helpers/gatehouse.ts';
import { postgresRequirement } from './helpers/requirements.ts';
import { SQLITE_STORE, postgresSchemaStore, type ManagedStore } from './helpers/managed-stores.ts';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';
import { recordsWhen } from './helpers/audit-db.ts';

type Answer = { status: number; etag: string | null; body: Record<string, unknown> };
type Options = { body?: unknown; ifMatch?: string };

const UP = 'http://127.0.0.1:9/mcp';
const PASSWORD = 'a long enough password 0123';
const postgres = postgresRequirement();

/** One call to the admin listener as `auth`: a bearer token, or a session cookie (`cookie:` …). */
async function send(admin: string, auth: string, method: string, path: string, options: Options = {}): Promise<Answer> {
  const headers: Record<string, string> = auth.startsWith('cookie:') ? { cookie: auth.slice('cookie:'.length) } : { authorization: `Bearer ${auth}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
  const response = await fetch(`${admin}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, etag: response.headers.get('etag'), body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

async function expect(admin: string, auth: string, method: string, path: string, options: Options, status: number): Promise<Answer> {
  const answer = await send(admin, auth, method, path, options);
  assert.equal(answer.status, status, `${method} ${path}: ${JSON.stringify(answer.body)}`);
  return answer;
}

/** Signs a user in on the admin listener's form, as a browser does; the session cookie ("cookie:…"). */
async function signIn(admin: string, username: string, password = PASSWORD): Promise<string> {
  const response = await fetch(`${admin}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password }).toString(), redirect: 'manual' });
  assert.equal(response.status, 303, `${username} signs in: ${await response.text()}`);
  return `cookie:${response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')}`;
}

const sqlite = SQLITE_STORE;
const postgresStore = postgresSchemaStore(() => postgres.url!, 'gatehouse_admins');

/** The node file's admin users: a platform owner, and a viewer. */
const FILE_ADMINS = { port: 0, token: ADMIN_TOKEN, users: ['root', { user: 'fiona', role: 'viewer' }] };

function suite(name: string, store: ManagedStore, skip: string | false): void {
  describe(`admin users in the store (${name})`, { skip }, () => {
    let gh: ManagedGatehouse;
    let node: Record<string, unknown> = {};
    let cleanup: () => Promise<void> = async () => undefined;
    const token = { acmeOwner: '' };
    const platform = (method: string, path: string, options: Options = {}, status = 200) => expect(gh.admin, ADMIN_TOKEN, method, `/api/v1${path}`, options, status);

    before(async () => {
      if (name === 'postgres') postgres.check();
      ({ node, cleanup } = await store.open());
      gh = await startManaged({ node: { ...node, admin: FILE_ADMINS } });
      for (const id of ['acme', 'globex']) await platform('POST', '/tenants', { body: { id, name: id, egress: LOCAL_EGRESS } }, 201);
      for (const tenant of ['acme', 'globex']) await platform('POST', '/servers', { body: { name: `${tenant}-srv`, url: UP, tenant } }, 201);
      await platform('POST', '/deployments', { body: { comment: 'tenants' } }, 201);
      for (const [username, tenant] of [['vera', undefined], ['root', undefined], ['fiona', undefined], ['anna', 'acme'], ['gus', 'globex']] as const) {
        await platform('POST', '/users', { body: { username, password: PASSWORD, ...(tenant && { tenant }) } }, 201);
      }
      token.acmeOwner = String((await platform('POST', '/tokens', { body: { name: 'acme owner', role: 'owner', tenant: 'acme' } }, 201)).body.token);
    });

    after(async () => {
      await gh?.close();
      await cleanup();
    });

    test('a user of the authorization server made a viewer signs in with its password and reads, but changes nothing (403)', async () => {
      // Not an admin user yet: the sign-in is refused.
      const refused = await fetch(`${gh.admin}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: 'vera', password: PASSWORD }).toString(), redirect: 'manual' });
      assert.equal(refused.status, 401);
      const made = await platform('POST', '/admins', { body: { username: 'vera', role: 'viewer' } }, 201);
      assert.deepEqual({ ...made.body, createdAt: typeof made.body.createdAt, updatedAt: typeof made.body.updatedAt }, { username: 'vera', role: 'viewer', tenant: null, source: 'store', user: 'active', createdAt: 'number', createdBy: 'admin-token', updatedAt: 'number', updatedBy: 'admin-token' });
      assert.ok(made.etag);
      assert.equal((await platform('GET', '/admins/vera')).etag, made.etag);
      const vera = await signIn(gh.admin, 'vera');
      const meta = await expect(gh.admin, vera, 'GET', '/api/meta', {}, 200);
      assert.deepEqual(meta.body.you, { name: 'vera', role: 'viewer', tenant: null });
      assert.deepEqual(((await expect(gh.admin, vera, 'GET', '/api/v1/servers', {}, 200)).body.items as Array<{ name: string }>).map((s) => s.name).sort(), ['acme-srv', 'globex-srv']);
      const denied = await expect(gh.admin, vera, 'POST', '/api/v1/servers', { body: { name: 'by-vera', url: UP } }, 403);
      assert.match(String(denied.body.error), /role viewer may only read/);
      await expect(gh.admin, vera, 'GET', '/api/v1/admins', {}, 403);
    });

    test('made an admin, the same session changes a server at its next request, but manages neither API tokens nor admin users', async () => {
      const vera = await signIn(gh.admin, 'vera');
      const read = await platform('GET', '/admins/vera');
      await platform('PUT', '/admins/vera', { body: { role: 'admin' } }, 428);
      await platform('PUT', '/admins/vera', { body: { role: 'admin' }, ifMatch: '"stale"' }, 412);
      const changed = await platform('PUT', '/admins/vera', { body: { role: 'admin' }, ifMatch: read.etag! }, 200);
      assert.equal(changed.body.role, 'admin');
      assert.notEqual(changed.etag, read.etag);
      // The ETag read before the change is stale now.
      const stale = await platform('PUT', '/admins/vera', { body: { role: 'owner' }, ifMatch: read.etag! }, 412);
      assert.equal(stale.body.etag, changed.etag);
      assert.equal((await platform('GET', '/admins/vera')).body.role, 'admin');

      const server = await expect(gh.admin, vera, 'POST', '/api/v1/servers', { body: { name: 'by-vera', url: UP } }, 201);
      await expect(gh.admin, vera, 'PUT', '/api/v1/servers/by-vera', { body: { url: 'http://127.0.0.1:10/mcp' }, ifMatch: server.etag! }, 200);
      assert.match(String((await expect(gh.admin, vera, 'GET', '/api/v1/tokens', {}, 403)).body.error), /API tokens are managed by owners/);
      await expect(gh.admin, vera, 'POST', '/api/v1/tokens', { body: { name: 'x', role: 'owner' } }, 403);
      assert.match(String((await expect(gh.admin, vera, 'POST', '/api/v1/admins', { body: { username: 'vera', role: 'owner' } }, 403)).body.error), /admin users are managed by owners/);
      const changes = (await platform('GET', '/changes?limit=50')).body.items as Array<{ actor: string; action: string; target: string }>;
      const server_ = changes.find((c) => c.target === 'servers/by-vera' && c.action === 'create server');
      assert.equal(server_?.actor, 'user:vera', 'the change names the admin user');
    });

    test('removed, the admin user\'s next request is refused (401), and so is a new sign-in', async () => {
      const vera = await signIn(gh.admin, 'vera');
      await expect(gh.admin, vera, 'GET', '/api/v1/servers', {}, 200);
      const read = await platform('GET', '/admins/vera');
      await platform('DELETE', '/admins/vera', { ifMatch: '"stale"' }, 412);
      await platform('DELETE', '/admins/vera', { ifMatch: read.etag! }, 204);
      await platform('DELETE', '/admins/vera', {}, 404);
      await expect(gh.admin, vera, 'GET', '/api/v1/servers', {}, 401);
      await expect(gh.admin, vera, 'GET', '/api/meta', {}, 401);
      const again = await fetch(`${gh.admin}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: 'vera', password: PASSWORD }).toString(), redirect: 'manual' });
      assert.equal(again.status, 401);
    });

    test('every change is in the change history and the audit log, by who made it', async () => {
      const changes = (await platform('GET', '/changes?limit=100')).body.items as Array<{ actor: string; action: string; target: string; patch: unknown[] }>;
      const mine = changes.filter((c) => c.target === 'admins/vera').map((c) => [c.action, c.actor]);
      assert.deepEqual(mine, [
        ['delete admin', 'admin-token'],
        ['update admin', 'admin-token'],
        ['create admin', 'admin-token'],
      ]);
      assert.deepEqual(changes.find((c) => c.action === 'update admin' && c.target === 'admins/vera')!.patch, [{ op: 'replace', path: '/admins/vera/role', value: 'admin' }]);
      const records = await recordsWhen(gh.gateway, {}, (events) => ['create admin', 'update admin', 'delete admin'].every((action) => events.some((e) => e.method === action && e.target === 'admins/vera')));
      for (const action of ['create admin', 'update admin', 'delete admin']) {
        const record = records.find((e) => e.method === action && e.target === 'admins/vera');
        assert.ok(record, `${action} is in the audit log`);
        assert.equal(record.api, '(control plane)');
        assert.equal(record.agent, 'admin-token');
      }
    });

    test('a tenant\'s owner manages its tenant\'s entries only: another tenant\'s is 404, naming another tenant 400', async () => {
      await platform('POST', '/admins', { body: { username: 'gus', role: 'admin', tenant: 'globex' } }, 201);
      const acme = token.acmeOwner;
      await expect(gh.admin, acme, 'GET', '/api/v1/admins/gus', {}, 404);
      const gus = await platform('GET', '/admins/gus');
      await expect(gh.admin, acme, 'PUT', '/api/v1/admins/gus', { body: { role: 'viewer' }, ifMatch: gus.etag! }, 404);
      await expect(gh.admin, acme, 'DELETE', '/api/v1/admins/gus', {}, 404);
      // The platform's entries (the node file's root, with no tenant) are not its either.
      await expect(gh.admin, acme, 'GET', '/api/v1/admins/root', {}, 404);
      const other = await expect(gh.admin, acme, 'POST', '/api/v1/admins', { body: { username: 'anna', role: 'admin', tenant: 'globex' } }, 400);
      assert.match(String(other.body.error), /tenant: expected "acme"/);
      // Another tenant's user is an unknown one to it.
      const foreign = await expect(gh.admin, acme, 'POST', '/api/v1/admins', { body: { username: 'gus', role: 'viewer' } }, 400);
      assert.match(String(foreign.body.error), /no user "gus" of the authorization server in tenant "acme"/);
      const anna = await expect(gh.admin, acme, 'POST', '/api/v1/admins', { body: { username: 'anna', role: 'admin' } }, 201);
      assert.equal(anna.body.tenant, 'acme', 'its own tenant, implied');
      assert.deepEqual(((await expect(gh.admin, acme, 'GET', '/api/v1/admins', {}, 200)).body.items as Array<{ username: string }>).map((a) => a.username), ['anna']);
      await expect(gh.admin, acme, 'PUT', '/api/v1/admins/anna', { body: { tenant: 'globex' }, ifMatch: anna.etag! }, 400);
      // Anna signs in confined to acme.
      const session = await signIn(gh.admin, 'anna');
      assert.deepEqual(((await expect(gh.admin, session, 'GET', '/api/v1/servers', {}, 200)).body.items as Array<{ name: string }>).map((s) => s.name), ['acme-srv']);
      await expect(gh.admin, session, 'GET', '/api/v1/servers/globex-srv', {}, 404);
      // The platform moves her to the whole platform: at her next request she sees every server.
      await platform('PUT', '/admins/anna', { body: { tenant: null }, ifMatch: (await platform('GET', '/admins/anna')).etag! }, 200);
      assert.deepEqual(((await expect(gh.admin, session, 'GET', '/api/v1/servers', {}, 200)).body.items as Array<{ name: string }>).map((s) => s.name).sort(), ['acme-srv', 'by-vera', 'globex-srv']);
      await expect(gh.admin, acme, 'GET', '/api/v1/admins/anna', {}, 404);
      // The history shows a tenant its own tenant's entries only.
      const seen = (await expect(gh.admin, acme, 'GET', '/api/v1/changes?limit=100', {}, 200)).body.items as Array<{ target: string }>;
      assert.ok(!seen.some((c) => c.target === 'admins/gus'), 'nothing of globex\'s admin');
    });

    test('the node file\'s admin users are listed read-only: PUT and DELETE are 409, a new entry of that name 409', async () => {
      const items = (await platform('GET', '/admins')).body.items as Array<{ username: string; role: string; source: string; tenant: string | null }>;
      assert.deepEqual(
        items.filter((a) => a.source === 'node').map((a) => [a.username, a.role, a.tenant]),
        [
          ['root', 'owner', null],
          ['fiona', 'viewer', null],
        ],
      );
      const fiona = await platform('GET', '/admins/fiona');
      assert.equal(fiona.body.source, 'node');
      const put = await platform('PUT', '/admins/fiona', { body: { role: 'owner' }, ifMatch: fiona.etag! }, 409);
      assert.match(String(put.body.error), /listed in the node file \(admin\.users\) and is read-only here/);
      await platform('DELETE', '/admins/root', {}, 409);
      assert.match(String((await platform('POST', '/admins', { body: { username: 'fiona', role: 'owner' } }, 409)).body.error), /node file/);
      // She still signs in with the file's role.
      const session = await signIn(gh.admin, 'fiona');
      assert.deepEqual((await expect(gh.admin, session, 'GET', '/api/meta', {}, 200)).body.you, { name: 'fiona', role: 'viewer', tenant: null });
    });

    test('bad input is a 400 that names the field and says what is expected', async () => {
      const unknown = await platform('POST', '/admins', { body: { username: 'nobody', role: 'viewer' } }, 400);
      assert.match(String(unknown.body.error), /username: no user "nobody" of the authorization server; create the user first/);
      assert.deepEqual((unknown.body.problems as Array<{ field: string }>).map((p) => p.field), ['username']);
      const role = await platform('POST', '/admins', { body: { username: 'gus', role: 'superuser' } }, 400);
      assert.match(String(role.body.error), /role: expected one of owner, admin, viewer \(not "superuser"\)/);
      await platform('POST', '/admins', { body: { username: 'vera' } }, 400);
      const tenant = await platform('POST', '/admins', { body: { username: 'vera', role: 'viewer', tenant: 'initech' } }, 400);
      assert.match(String(tenant.body.error), /tenant: .*no tenant "initech"/);
      const extra = await platform('POST', '/admins', { body: { username: 'vera', role: 'viewer', password: 'x' } }, 400);
      assert.match(String(extra.body.error), /password: unknown field/);
      assert.match(String((await platform('POST', '/admins', { body: { username: 'gus', role: 'owner' } }, 409)).body.error), /exists already/);
      const gus = await platform('GET', '/admins/gus');
      await platform('PUT', '/admins/gus', { body: { role: 'king' }, ifMatch: gus.etag! }, 400);
      await platform('PUT', '/admins/gus', { body: {}, ifMatch: gus.etag! }, 400);
      await platform('PUT', '/admins/gus', { body: { username: 'other', role: 'viewer' }, ifMatch: gus.etag! }, 400);
      await platform('GET', '/admins/nobody', {}, 404);
      assert.equal((await platform('GET', '/admins/gus')).body.role, 'admin', 'refusals changed nothing');
    });

    test('a disabled user\'s session is refused while disabled; a user deleted and made again under the same name is not an admin any more', async () => {
      await platform('POST', '/users', { body: { username: 'dora', password: PASSWORD } }, 201);
      assert.equal((await platform('POST', '/admins', { body: { username: 'dora', role: 'owner' } }, 201)).body.user, 'active');
      const session = await signIn(gh.admin, 'dora');
      const standing = async () => (await platform('GET', '/admins/dora')).body.user;
      // Disabled at the authorization server: her session is refused until she is enabled again.
      await platform('PUT', '/users/dora', { body: { disabled: true }, ifMatch: (await platform('GET', '/users/dora')).etag! }, 200);
      await expect(gh.admin, session, 'GET', '/api/v1/servers', {}, 401);
      assert.equal(await standing(), 'disabled', 'the entry says why it grants nothing');
      await platform('PUT', '/users/dora', { body: { disabled: false }, ifMatch: (await platform('GET', '/users/dora')).etag! }, 200);
      await expect(gh.admin, session, 'GET', '/api/v1/servers', {}, 200);
      await platform('DELETE', '/users/dora', {}, 204);
      await expect(gh.admin, session, 'GET', '/api/v1/servers', {}, 401);
      await platform('POST', '/users', { body: { username: 'dora', password: PASSWORD } }, 201);
      const again = await fetch(`${gh.admin}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: 'dora', password: PASSWORD }).toString(), redirect: 'manual' });
      assert.equal(again.status, 401);
      // The entry stays (an owner decides), and says its user is not the one it was made for.
      assert.equal(await standing(), 'missing');
      const listed = (await platform('GET', '/admins')).body.items as Array<{ username: string; user: string }>;
      assert.equal(listed.find((a) => a.username === 'dora')?.user, 'missing');
    });

    if (store.shared) {
      test('on a second node sharing the store, the role changes at the admin user\'s next request there too', async () => {
        const other = await startManaged({ node: { ...node, admin: FILE_ADMINS } });
        try {
          await platform('POST', '/admins', { body: { username: 'vera', role: 'viewer' } }, 201);
          const session = await signIn(other.admin, 'vera');
          await expect(other.admin, session, 'POST', '/api/v1/servers', { body: { name: 'by-vera-2', url: UP } }, 403);
          await platform('PUT', '/admins/vera', { body: { role: 'admin' }, ifMatch: (await platform('GET', '/admins/vera')).etag! }, 200);
          await expect(other.admin, session, 'POST', '/api/v1/servers', { body: { name: 'by-vera-2', url: UP } }, 201);
          await platform('DELETE', '/admins/vera', {}, 204);
          await expect(other.admin, session, 'GET', '/api/v1/servers', {}, 401);
        } finally {
          await other.close();
        }
      });
    }
  });
}

suite('sqlite', sqlite, false);
suite('postgres', postgresStore, postgres.skip);
