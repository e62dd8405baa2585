// Optimistic concurrency in the management API, end to end over HTTP on a managed-mode Gatehouse:
// every object has its own ETag, so operators (and tenants) editing different objects never
// refuse each other, while a change made with a stale ETag of the same object is refused (412,
// naming the object) and leaves it as it was. A tenant's deploy names its own pending changes,
// so another tenant's edits do not make it stale. On SQLite, and on Postgres (one node and two
// nodes on one database, one of them a process of the built CLI: run `npm run build` first) when
// GATEHOUSE_TEST_POSTGRES_URL is set.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { CLI, LOCAL_EGRESS, tempDir } from './helpers/gatehouse.ts';
import { postgresRequirement } from './helpers/requirements.ts';
import { SQLITE_STORE, postgresSchemaStore, type ManagedStore } from './helpers/managed-stores.ts';
import { ADMIN_TOKEN, startManaged, type ManagedGatehouse } from './helpers/managed.ts';

type Answer = { status: number; etag: string | null; body: Record<string, unknown> };
type Options = { body?: unknown; ifMatch?: string; ifNoneMatch?: string };

const UP = 'http://127.0.0.1:9/mcp';
/** Servers p0…p11 of the platform, changed all at once. */
const SERVERS = [...Array(12).keys()];
const postgres = postgresRequirement();

async function send(admin: string, token: string, method: string, path: string, options: Options = {}): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
  if (options.ifNoneMatch !== undefined) headers['if-none-match'] = options.ifNoneMatch;
  const response = await fetch(`${admin}/api/v1${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, etag: response.headers.get('etag'), body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A call that must answer `status`; the refusal's body is the assertion's message. */
async function expect(admin: string, token: string, method: string, path: string, options: Options, status: number): Promise<Answer> {
  const answer = await send(admin, token, method, path, options);
  assert.equal(answer.status, status, `${method} ${path}: ${JSON.stringify(answer.body)}`);
  return answer;
}

/**
 * A JSON request whose headers go now and whose body goes when `finish` is called; `received`
 * settles when Gatehouse has taken the request in and started on it (its 100 Continue).
 */
function heldRequest(url: string, method: string, headers: Record<string, string>): { received: Promise<void>; finish(body: string): Promise<{ status: number; text: string }> } {
  let held: http.ClientRequest | undefined;
  let continued: () => void = () => undefined;
  const received = new Promise<void>((resolve) => (continued = resolve));
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, 'content-type': 'application/json', 'transfer-encoding': 'chunked', expect: '100-continue' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('continue', () => continued());
    req.flushHeaders();
    held = req;
  });
  return {
    received,
    finish: (body) => {
      held!.end(body);
      return answer;
    },
  };
}

/** A managed node in a process of its own (the built CLI, `start --managed`) with these node settings. */
async function startNodeProcess(settings: Record<string, unknown>, sessionKey: string, env: Record<string, string>): Promise<{ admin: string; stop(): Promise<void> }> {
  const dir = tempDir('gatehouse-etag-node-');
  const file = join(dir, 'node.json');
  fs.writeFileSync(file, JSON.stringify(settings));
  const child = spawn(process.execPath, [CLI, 'start', '--managed', '--config', file], { cwd: dir, env: { ...process.env, ...env, GATEHOUSE_SESSION_KEY: sessionKey }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killed);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const admin = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'admin listening');
    if (admin) return { admin: `http://127.0.0.1:${String(admin.port)}`, stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`the second node did not start:\n${out.slice(-3000)}`);
}

const sqlite = SQLITE_STORE;
const postgresStore = postgresSchemaStore(() => postgres.url!, 'gatehouse_etag');

function suite(name: string, store: ManagedStore, skip: string | false): void {
  describe(`per-object ETags (${name})`, { skip }, () => {
    let gh: ManagedGatehouse;
    let cleanup: () => Promise<void> = async () => undefined;
    let node: Record<string, unknown> = {};
    const key = randomBytes(32).toString('hex');
    /** A second platform operator (an admin API token), and each tenant's admin. */
    const token = { operator: '', acme: '', globex: '' };
    const platform = (method: string, path: string, options: Options = {}, status?: number) => (status === undefined ? send(gh.admin, ADMIN_TOKEN, method, path, options) : expect(gh.admin, ADMIN_TOKEN, method, path, options, status));
    const as = (who: keyof typeof token, method: string, path: string, options: Options = {}, status?: number) => (status === undefined ? send(gh.admin, token[who], method, path, options) : expect(gh.admin, token[who], method, path, options, status));

    before(async () => {
      if (name === 'postgres') postgres.check();
      ({ node, cleanup } = await store.open());
      gh = await startManaged({ node, key });
      await platform('POST', '/tenants', { body: { id: 'acme', name: 'Acme', egress: LOCAL_EGRESS } }, 201);
      await platform('POST', '/tenants', { body: { id: 'globex', name: 'Globex', egress: LOCAL_EGRESS } }, 201);
      for (const tenant of ['acme', 'globex']) {
        await platform('POST', '/servers', { body: { name: `${tenant}-srv`, url: UP, tenant } }, 201);
        await platform('POST', '/apis', { body: { name: `${tenant}-api`, path: `/${tenant}`, server: `${tenant}-srv`, tenant, policies: [{ acl: { rules: [] } }, { rateLimit: { limits: [{ name: 'all', key: ['agent'], rate: 100, per: '1m' }] } }] } }, 201);
      }
      for (let i = 0; i < 12; i++) await platform('POST', '/servers', { body: { name: `p${i}`, url: UP } }, 201);
      await platform('POST', '/deployments', { body: { comment: 'start' } }, 201);
      token.operator = String((await platform('POST', '/tokens', { body: { name: 'second operator', role: 'admin' } }, 201)).body.token);
      token.acme = String((await platform('POST', '/tokens', { body: { name: 'acme', role: 'admin', tenant: 'acme' } }, 201)).body.token);
      token.globex = String((await platform('POST', '/tokens', { body: { name: 'globex', role: 'admin', tenant: 'globex' } }, 201)).body.token);
    });

    after(async () => {
      await gh?.close();
      await cleanup();
    });

    test('two operators who read different objects both save: the server\'s change does not make the API\'s ETag stale, nor the other way round', async () => {
      const server = await platform('GET', '/servers/p0', {}, 200);
      const api = await as('operator', 'GET', '/apis/acme-api', {}, 200);
      const policy = await as('operator', 'GET', '/apis/acme-api/policies/1', {}, 200);
      const tenant = await as('operator', 'GET', '/tenants/globex', {}, 200);
      await platform('PUT', '/servers/p0', { body: { url: 'http://127.0.0.1:10/mcp' }, ifMatch: server.etag! }, 200);
      await as('operator', 'PUT', '/apis/acme-api', { body: { ...api.body, allowedOrigins: ['https://edited-by-the-second-operator.example'] }, ifMatch: api.etag! }, 200);
      await platform('PUT', '/apis/acme-api/policies/1', { body: { rateLimit: { limits: [{ name: 'all', key: ['agent'], rate: 50, per: '1m' }] } }, ifMatch: policy.etag! }, 200);
      await as('operator', 'PUT', '/tenants/globex', { body: { ...tenant.body, name: 'Globex Corp' }, ifMatch: tenant.etag! }, 200);
      assert.equal((await platform('GET', '/servers/p0', {}, 200)).body.url, 'http://127.0.0.1:10/mcp');
      assert.deepEqual((await platform('GET', '/apis/acme-api', {}, 200)).body.allowedOrigins, ['https://edited-by-the-second-operator.example']);
      assert.equal((await platform('GET', '/tenants/globex', {}, 200)).body.name, 'Globex Corp');
    });

    test('twelve changes of different objects sent at once by two operators all land (none is refused because another change wrote the draft first)', async () => {
      const read = await Promise.all(SERVERS.map((i) => platform('GET', `/servers/p${i}`, {}, 200)));
      const answers = await Promise.all(read.map((r, i) => (i % 2 === 0 ? platform : (m: string, p: string, o: Options) => as('operator', m, p, o))('PUT', `/servers/p${i}`, { body: { url: `http://127.0.0.1:${20 + i}/mcp` }, ifMatch: r.etag! })));
      assert.deepEqual(answers.map((a) => a.status), SERVERS.map(() => 200), JSON.stringify(answers.map((a) => a.body)));
      for (const i of SERVERS) assert.equal((await platform('GET', `/servers/p${i}`, {}, 200)).body.url, `http://127.0.0.1:${20 + i}/mcp`);
    });

    test('the same object with a stale ETag: 412 naming the object and its current ETag, and the object is as the first change left it (server, API, policy, tenant, agent, user, credential)', async () => {
      await platform('POST', '/agents', { body: { id: 'bot' } }, 201);
      await platform('POST', '/users', { body: { username: 'ann', password: 'a long enough password 123' } }, 201);
      await platform('PUT', '/credentials/p1', { body: { type: 'bearer', token: 'first-secret' } }, 200);
      const cases: Array<[path: string, first: (body: Record<string, unknown>) => unknown, second: (body: Record<string, unknown>) => unknown, field: string]> = [
        ['/servers/p1', () => ({ url: 'http://127.0.0.1:31/mcp' }), () => ({ url: 'http://127.0.0.1:32/mcp' }), 'url'],
        ['/apis/globex-api', (b) => ({ ...b, allowedOrigins: ['https://first.example'] }), (b) => ({ ...b, allowedOrigins: ['https://second.example'] }), 'allowedOrigins'],
        ['/tenants/acme', (b) => ({ ...b, name: 'Acme first' }), (b) => ({ ...b, name: 'Acme second' }), 'name'],
        ['/agents/bot', (b) => ({ ...b, labels: { team: 'first' } }), (b) => ({ ...b, labels: { team: 'second' } }), 'labels'],
        ['/users/ann', () => ({ disabled: true }), () => ({ disabled: false }), 'disabled'],
      ];
      for (const [path, first, second, field] of cases) {
        const read = await platform('GET', path, {}, 200);
        assert.ok(read.etag, `${path} has an ETag`);
        const saved = await as('operator', 'PUT', path, { body: first(read.body), ifMatch: read.etag }, 200);
        const stale = await platform('PUT', path, { body: second(read.body), ifMatch: read.etag }, 412);
        assert.equal(stale.body.object, `/api/v1${path}`, 'the refusal names the object');
        assert.equal(stale.body.etag, saved.etag, 'and carries its current ETag');
        assert.equal(stale.etag, saved.etag);
        assert.match(String(stale.body.error), /^Precondition Failed: .* changed since you read it/);
        const now = await platform('GET', path, {}, 200);
        assert.deepEqual(now.body[field], (first(read.body) as Record<string, unknown>)[field], `${path}: the first change stands`);
        assert.equal(now.etag, saved.etag);
      }
      // A policy is addressed by its position: a stale ETag of it is refused the same way.
      const policy = await platform('GET', '/apis/globex-api/policies/1', {}, 200);
      await as('operator', 'PUT', '/apis/globex-api/policies/1', { body: { rateLimit: { limits: [{ name: 'all', key: ['agent'], rate: 7, per: '1m' }] } }, ifMatch: policy.etag! }, 200);
      const stalePolicy = await platform('DELETE', '/apis/globex-api/policies/1', { ifMatch: policy.etag! }, 412);
      assert.equal(stalePolicy.body.object, '/api/v1/apis/globex-api/policies/1');
      assert.equal(((await platform('GET', '/apis/globex-api/policies/1', {}, 200)).body.policy as { rateLimit: { limits: Array<{ rate: number }> } }).rateLimit.limits[0]!.rate, 7);
      // Credentials: write-only, but versioned; If-Match optional, If-None-Match: * creates only.
      const credential = await platform('GET', '/credentials/p1', {}, 200);
      assert.equal(credential.body.type, 'bearer');
      assert.ok(!JSON.stringify(credential.body).includes('first-secret'));
      const reset = await as('operator', 'PUT', '/credentials/p1', { body: { type: 'bearer', token: 'second-secret' }, ifMatch: credential.etag! }, 200);
      assert.notEqual(reset.etag, credential.etag, 'setting it again is a new version');
      const staleCredential = await platform('PUT', '/credentials/p1', { body: { type: 'header', name: 'x-key', value: 'third' }, ifMatch: credential.etag! }, 412);
      assert.equal(staleCredential.body.object, '/api/v1/credentials/p1');
      await platform('DELETE', '/credentials/p1', { ifMatch: credential.etag! }, 412);
      await platform('PUT', '/credentials/p1', { body: { type: 'bearer', token: 'x' }, ifNoneMatch: '*' }, 412);
      const kept = await platform('GET', '/credentials/p1', {}, 200);
      assert.equal(kept.etag, reset.etag, 'the credential is the second operator\'s, untouched');
      assert.equal(kept.body.type, 'bearer');
      await platform('PUT', '/credentials/p2', { body: { type: 'bearer', token: 'new' }, ifNoneMatch: '*' }, 200);
      await platform('DELETE', '/credentials/p1', { ifMatch: kept.etag! }, 204);
      // Without If-Match, what today's clients rely on stays: credentials are set blindly, the
      // rest refuses (428).
      await platform('PUT', '/credentials/p2', { body: { type: 'bearer', token: 'blind' } }, 200);
      await platform('PUT', '/servers/p1', { body: { url: UP } }, 428);
    });

    test('a change of an agent whose body arrives after another change of it saved is refused (regression: the ETag was checked before the body was read, so both saved and the later one silently overwrote the first)', async () => {
      await platform('POST', '/agents', { body: { id: 'racer' } }, 201);
      const read = await platform('GET', '/agents/racer', {}, 200);
      // The first change sends its headers now and its body only after the second has saved.
      const first = heldRequest(`${gh.admin}/api/v1/agents/racer`, 'PUT', { authorization: `Bearer ${ADMIN_TOKEN}`, 'if-match': read.etag! });
      await first.received;
      const second = await as('operator', 'PUT', '/agents/racer', { body: { labels: { team: 'second' } }, ifMatch: read.etag! }, 200);
      const late = await first.finish(JSON.stringify({ labels: { team: 'first' } }));
      assert.equal(late.status, 412, late.text);
      assert.equal((JSON.parse(late.text) as { object: string }).object, '/api/v1/agents/racer');
      const now = await platform('GET', '/agents/racer', {}, 200);
      assert.deepEqual(now.body.labels, { team: 'second' }, 'the change that saved stands');
      assert.equal(now.etag, second.etag);
    });

    test('tenant B deploys what it reviewed though tenant A changed the draft since (regression: any change of the draft made a tenant\'s deploy 412); B\'s own change since its review is refused', async () => {
      const server = await as('globex', 'GET', '/servers/globex-srv', {}, 200);
      await as('globex', 'PUT', '/servers/globex-srv', { body: { url: 'http://127.0.0.1:41/mcp' }, ifMatch: server.etag! }, 200);
      const reviewed = await as('globex', 'GET', '/draft/diff', {}, 200);
      assert.match(String(reviewed.etag), /^"pending-/);
      assert.match(String(reviewed.body.text), /127\.0\.0\.1:41/);
      // Acme and the platform change the draft meanwhile.
      await as('acme', 'POST', '/servers', { body: { name: 'acme-wip', url: UP } }, 201);
      const p2 = await platform('GET', '/servers/p2', {}, 200);
      await platform('PUT', '/servers/p2', { body: { url: 'http://127.0.0.1:42/mcp' }, ifMatch: p2.etag! }, 200);
      assert.equal((await as('globex', 'GET', '/draft/diff', {}, 200)).etag, reviewed.etag, 'Globex\'s pending changes are as it read them');
      const deployed = await as('globex', 'POST', '/deployments', { body: { comment: 'globex' }, ifMatch: reviewed.etag! }, 201);
      const live = (await platform('GET', `/deployments/${String(deployed.body.version)}`, {}, 200)).body.document as { servers: Record<string, { url: string }> };
      assert.equal(live.servers['globex-srv']!.url, 'http://127.0.0.1:41/mcp', 'Globex\'s change is live');
      assert.equal(live.servers['acme-wip'], undefined, 'Acme\'s pending change is not');
      assert.notEqual(live.servers.p2!.url, 'http://127.0.0.1:42/mcp', 'nor the platform\'s');

      // A change of Globex's own objects after its review: that review no longer deploys.
      const again = await as('globex', 'GET', '/draft/diff', {}, 200);
      const api = await as('globex', 'GET', '/apis/globex-api', {}, 200);
      await as('globex', 'PUT', '/apis/globex-api', { body: { ...api.body, allowedOrigins: ['https://reviewed.example'] }, ifMatch: api.etag! }, 200);
      const reviewedApi = await as('globex', 'GET', '/draft/diff', {}, 200);
      const colleague = await as('globex', 'GET', '/apis/globex-api', {}, 200);
      await as('globex', 'PUT', '/apis/globex-api', { body: { ...colleague.body, allowedOrigins: ['https://changed-after-the-review.example'] }, ifMatch: colleague.etag! }, 200);
      const versions = ((await platform('GET', '/deployments', {}, 200)).body.items as unknown[]).length;
      const stale = await as('globex', 'POST', '/deployments', { body: {}, ifMatch: reviewedApi.etag! }, 412);
      assert.equal(stale.body.object, '/api/v1/draft/diff');
      assert.match(String(stale.body.error), /tenant "globex"'s pending changes changed since you read them/);
      assert.notEqual(stale.etag, reviewedApi.etag);
      assert.equal(((await platform('GET', '/deployments', {}, 200)).body.items as unknown[]).length, versions, 'nothing was deployed');
      assert.notEqual(again.etag, reviewedApi.etag);
      // Read again, it deploys; then Acme's deploy is not stale for Globex's.
      const fresh = await as('globex', 'GET', '/draft/diff', {}, 200);
      const acmeReview = await as('acme', 'GET', '/draft/diff', {}, 200);
      await as('globex', 'POST', '/deployments', { body: {}, ifMatch: fresh.etag! }, 201);
      await as('acme', 'POST', '/deployments', { body: {}, ifMatch: acmeReview.etag! }, 201);
    });

    test('the platform deploys the whole draft: its ETag is the draft\'s, stale after any change, anyone\'s', async () => {
      const reviewed = await platform('GET', '/draft/diff', {}, 200);
      assert.match(String(reviewed.etag), /^"draft-\d+"$/);
      assert.equal(reviewed.etag, (await platform('GET', '/draft', {}, 200)).etag);
      const server = await as('acme', 'GET', '/servers/acme-srv', {}, 200);
      await as('acme', 'PUT', '/servers/acme-srv', { body: { url: 'http://127.0.0.1:51/mcp' }, ifMatch: server.etag! }, 200);
      const stale = await platform('POST', '/deployments', { body: {}, ifMatch: reviewed.etag! }, 412);
      assert.equal(stale.body.object, '/api/v1/draft');
      const fresh = await platform('GET', '/draft/diff', {}, 200);
      await platform('POST', '/deployments', { body: {}, ifMatch: fresh.etag! }, 201);
    });

    if (store.shared) {
      test('two nodes on one database: operators on each, editing different objects at once, all save; the same object\'s stale ETag is refused across nodes', async () => {
        const other = await startManaged({ node, key, dataDir: tempDir('gatehouse-etag-b-') });
        try {
          const read = await Promise.all(SERVERS.map((i) => platform('GET', `/servers/p${i}`, {}, 200)));
          const answers = await Promise.all(read.map((r, i) => send(i % 2 === 0 ? gh.admin : other.admin, ADMIN_TOKEN, 'PUT', `/servers/p${i}`, { body: { url: `http://127.0.0.1:${60 + i}/mcp` }, ifMatch: r.etag! })));
          assert.deepEqual(answers.map((a) => a.status), SERVERS.map(() => 200), JSON.stringify(answers.map((a) => a.body)));
          for (const i of SERVERS) assert.equal((await send(other.admin, ADMIN_TOKEN, 'GET', `/servers/p${i}`)).body.url, `http://127.0.0.1:${60 + i}/mcp`);
          const server = await platform('GET', '/servers/p3', {}, 200);
          await expect(other.admin, ADMIN_TOKEN, 'PUT', '/servers/p3', { body: { url: 'http://127.0.0.1:70/mcp' }, ifMatch: server.etag! }, 200);
          await platform('PUT', '/servers/p3', { body: { url: 'http://127.0.0.1:71/mcp' }, ifMatch: server.etag! }, 412);
          assert.equal((await platform('GET', '/servers/p3', {}, 200)).body.url, 'http://127.0.0.1:70/mcp');
        } finally {
          await other.close();
        }
      });

      test('two nodes change the same agent, user and credential in the same instant with the same If-Match: one saves, the other gets 412 with the winner\'s ETag, and the object is the winner\'s (regression: both passed the check, and the slower silently overwrote the faster)', async () => {
        await platform('POST', '/agents', { body: { id: 'raced' } }, 201);
        await platform('POST', '/users', { body: { username: 'raced', password: 'a long enough password 123' } }, 201);
        await platform('PUT', '/credentials/raced', { body: { type: 'bearer', token: 'start' } }, 200);
        // The other node is a process of its own (the built CLI): two nodes in this process would
        // share the per-node write queue, which hides the race. It shares the credentials key, as
        // a cluster's nodes must, so each opens what the other sealed.
        const other = await startNodeProcess({ ...node, listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0, token: ADMIN_TOKEN } }, key, { GATEHOUSE_CREDENTIALS_KEY: fs.readFileSync(join(gh.dataDir, 'credentials.key'), 'utf8').trim() });
        try {
          const nodes = [gh.admin, other.admin];
          /** Per object: each node's change (both differ from the object as read, and from each other), and what shows whose landed. */
          const cases: Array<[path: string, change: (node: number, round: number, read: Record<string, unknown>) => unknown, shown: (body: Record<string, unknown>) => unknown]> = [
            ['/agents/raced', (n, r) => ({ labels: { writer: `node ${n}, round ${r}` } }), (b) => b.labels],
            // One node flips `disabled`, the other moves the user: either way the other's change is lost unless refused.
            ['/users/raced', (n, _r, read) => (n === 0 ? { disabled: !read.disabled } : { tenant: read.tenant === 'acme' ? null : 'acme' }), (b) => ({ disabled: b.disabled, tenant: b.tenant })],
            // A credential is write-only: its ETag (a digest of the sealed secret) shows whose it is.
            ['/credentials/raced', (n, r) => ({ type: 'bearer', token: `node ${n}, round ${r}` }), (b) => b.type],
          ];
          for (const [object, change, shown] of cases) {
            // Several rounds: without a compare-and-set in the store both would usually save.
            for (let round = 0; round < 4; round++) {
              const read = await platform('GET', object, {}, 200);
              const answers = await Promise.all(nodes.map((admin, n) => send(admin, ADMIN_TOKEN, 'PUT', object, { body: change(n, round, read.body), ifMatch: read.etag! })));
              const statuses = answers.map((a) => a.status);
              assert.deepEqual([...statuses].sort(), [200, 412], `${object}, round ${round}: ${JSON.stringify(answers.map((a) => a.body))}`);
              const winner = answers[statuses.indexOf(200)]!;
              const loser = answers[statuses.indexOf(412)]!;
              assert.equal(loser.body.object, `/api/v1${object}`, 'the refusal names the object');
              assert.equal(loser.body.etag, winner.etag, 'and carries its current ETag: the winner\'s');
              assert.equal(loser.etag, winner.etag);
              assert.match(String(loser.body.error), /^Precondition Failed: .* changed since you read it/);
              for (const admin of nodes) {
                const now = await send(admin, ADMIN_TOKEN, 'GET', object);
                assert.equal(now.etag, winner.etag, `${object}: the winner's change stands, on both nodes`);
                assert.deepEqual(shown(now.body), shown(winner.body));
              }
            }
          }
          const credential = await send(other.admin, ADMIN_TOKEN, 'GET', '/credentials/raced');
          assert.equal(credential.body.problem, null, 'the credential opens on either node');
        } finally {
          await other.stop();
        }
      });
    }
  });
}

suite('sqlite', sqlite, false);
suite('postgres', postgresStore, postgres.skip);
