// What every ControlStore must do, as node:test tests; control-sqlite.test.ts and
// control-postgres.test.ts run it on a fresh store each.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ControlConflict, type ControlStore } from './control.ts';

const T0 = 1_700_000_000_000;
const change = (target: string) => ({ action: 'update', target, patch: [{ op: 'add' as const, path: `/${target}`, value: 1 }] });

export function controlStoreContract(name: string, open: () => Promise<ControlStore>): void {
  describe(`control store contract: ${name}`, () => {
    test('draft: first write at revision 0, then each write needs the current revision; stale writes are refused', async () => {
      const store = await open();
      try {
        assert.equal(await store.getDraft(), undefined);
        assert.equal(await store.latestVersion(), undefined);
        const first = await store.saveDraft({ servers: { a: { url: 'http://a' } }, apis: [] }, 0, 'admin', T0, change('a'));
        assert.equal(first.revision, 1);
        assert.equal(first.updatedBy, 'admin');
        assert.equal(first.updatedAt, T0);
        await assert.rejects(store.saveDraft({ servers: {} }, 0, 'other', T0 + 1, change('b')), (e: unknown) => e instanceof ControlConflict && e.reason === 'stale');
        const second = await store.saveDraft({ z: 1, a: 2, servers: {} }, 1, 'other', T0 + 2, change('c'));
        assert.equal(second.revision, 2);
        assert.deepEqual(Object.keys((await store.getDraft())!.document), ['z', 'a', 'servers'], 'key order is kept');
        const changes = await store.listChanges(10);
        assert.deepEqual(changes.map((c) => c.target), ['c', 'a'], 'newest first; the refused write left no record');
        assert.deepEqual(changes[0]!.patch, [{ op: 'add', path: '/c', value: 1 }]);
      } finally {
        await store.close();
      }
    });

    test('deploy numbers versions from 1; rollback makes a new version with the old document and resets the draft', async () => {
      const store = await open();
      try {
        await assert.rejects(store.deploy({ actor: 'a', at: T0, change: { action: 'deploy', target: 'draft', patch: [] } }), (e: unknown) => e instanceof ControlConflict && e.reason === 'empty');
        await store.saveDraft({ n: 1 }, 0, 'a', T0, change('n'));
        const v1 = await store.deploy({ actor: 'a', at: T0 + 1, comment: 'first', change: { action: 'deploy', target: 'draft', patch: [] } });
        assert.equal(v1.version, 1);
        assert.equal(v1.comment, 'first');
        await store.saveDraft({ n: 2 }, 1, 'a', T0 + 2, change('n'));
        await assert.rejects(store.deploy({ actor: 'a', at: T0, expectedRevision: 1, change: { action: 'deploy', target: 'draft', patch: [] } }), (e: unknown) => e instanceof ControlConflict && e.reason === 'stale');
        const v2 = await store.deploy({ actor: 'b', at: T0 + 3, expectedRevision: 2, change: { action: 'deploy', target: 'draft', patch: [] } });
        assert.deepEqual(v2.document, { n: 2 });
        await assert.rejects(store.deploy({ actor: 'b', at: T0, rollbackTo: 9, change: { action: 'rollback', target: 'versions/9', patch: [] } }), (e: unknown) => e instanceof ControlConflict && e.reason === 'missing');
        const v3 = await store.deploy({ actor: 'b', at: T0 + 4, rollbackTo: 1, change: { action: 'rollback', target: 'versions/1', patch: [] } });
        assert.equal(v3.version, 3);
        assert.equal(v3.rolledBackFrom, 1);
        assert.deepEqual(v3.document, { n: 1 });
        assert.deepEqual((await store.getDraft())!.document, { n: 1 }, 'the draft is the rolled-back document');
        assert.equal((await store.getDraft())!.revision, 3);
        assert.equal(await store.latestVersion(), 3);
        assert.deepEqual((await store.listVersions()).map((v) => v.version), [3, 2, 1]);
        assert.equal((await store.getVersion(2))!.createdBy, 'b');
        assert.equal(await store.getVersion(7), undefined);
        const changes = await store.listChanges(2);
        assert.deepEqual(changes.map((c) => [c.action, c.version]), [['rollback', 3], ['deploy', 2]]);
      } finally {
        await store.close();
      }
    });

    test('concurrent deploys get distinct consecutive versions', async () => {
      const store = await open();
      try {
        await store.saveDraft({ n: 1 }, 0, 'a', T0, change('n'));
        const made = await Promise.all([1, 2, 3, 4].map((i) => store.deploy({ actor: `a${i}`, at: T0 + i, change: { action: 'deploy', target: 'draft', patch: [] } })));
        assert.deepEqual(made.map((v) => v.version).sort(), [1, 2, 3, 4]);
      } finally {
        await store.close();
      }
    });

    test('admin tokens: created, read back, listed newest first, revoked once', async () => {
      const store = await open();
      try {
        const base = { digest: 'd'.repeat(64), createdBy: 'admin-token', expiresAt: undefined, revokedAt: undefined };
        await store.createAdminToken({ ...base, id: 'tok-a', name: 'ci', role: 'viewer', createdAt: T0 });
        await store.createAdminToken({ ...base, id: 'tok-b', name: 'deployer', role: 'admin', createdAt: T0 + 1, expiresAt: T0 + 1000 });
        assert.deepEqual(await store.getAdminToken('tok-a'), { ...base, id: 'tok-a', name: 'ci', role: 'viewer', createdAt: T0 });
        assert.equal((await store.getAdminToken('tok-b'))!.expiresAt, T0 + 1000);
        assert.equal(await store.getAdminToken('nope'), undefined);
        assert.deepEqual((await store.listAdminTokens()).map((t) => t.id), ['tok-b', 'tok-a']);
        assert.equal(await store.revokeAdminToken('tok-a', T0 + 5), true);
        assert.equal(await store.revokeAdminToken('tok-a', T0 + 6), false, 'already revoked');
        assert.equal(await store.revokeAdminToken('nope', T0 + 6), false);
        assert.equal((await store.getAdminToken('tok-a'))!.revokedAt, T0 + 5);
      } finally {
        await store.close();
      }
    });

    test('admin tokens scoped to a tenant keep their tenant; platform tokens have none', async () => {
      const store = await open();
      try {
        const base = { digest: 'c'.repeat(64), createdBy: 'admin-token', expiresAt: undefined, revokedAt: undefined };
        await store.createAdminToken({ ...base, id: 'tok-t', name: 'acme ci', role: 'admin', createdAt: T0, tenant: 'acme' });
        await store.createAdminToken({ ...base, id: 'tok-p', name: 'platform', role: 'owner', createdAt: T0 + 1 });
        assert.equal((await store.getAdminToken('tok-t'))!.tenant, 'acme');
        assert.equal('tenant' in (await store.getAdminToken('tok-p'))!, false);
        assert.deepEqual((await store.listAdminTokens()).map((t) => t.tenant ?? null), [null, 'acme']);
      } finally {
        await store.close();
      }
    });

    test('admin users: created once, read back, changed only from what was read, removed with the change recorded', async () => {
      const store = await open();
      try {
        const ann = { username: 'ann', userId: 'u-ann', role: 'viewer' as const, createdAt: T0, createdBy: 'admin-token', updatedAt: T0, updatedBy: 'admin-token' };
        assert.equal(await store.createAdminUser(ann, { action: 'create admin', target: 'admins/ann', patch: [] }), true);
        assert.equal(await store.createAdminUser({ ...ann, role: 'owner' }, { action: 'create admin', target: 'admins/ann', patch: [] }), false, 'taken');
        await store.createAdminUser({ ...ann, username: 'bob', userId: 'u-bob', role: 'admin', tenant: 'acme' }, { action: 'create admin', target: 'admins/bob', patch: [] });
        assert.deepEqual(await store.getAdminUser('ann'), ann);
        assert.equal((await store.getAdminUser('bob'))!.tenant, 'acme');
        assert.equal(await store.getAdminUser('nope'), undefined);
        assert.deepEqual((await store.listAdminUsers()).map((u) => u.username), ['ann', 'bob']);
        // A stale expectation (another node changed it) changes nothing.
        assert.equal(await store.updateAdminUser('ann', { role: 'owner', tenant: undefined }, { role: 'admin', tenant: undefined, at: T0 + 1, actor: 'x' }, { action: 'update admin', target: 'admins/ann', patch: [] }), false);
        assert.equal(await store.updateAdminUser('ann', { role: 'viewer', tenant: undefined }, { role: 'admin', tenant: 'acme', at: T0 + 2, actor: 'user:root' }, { action: 'update admin', target: 'admins/ann', patch: [] }), true);
        assert.deepEqual(await store.getAdminUser('ann'), { ...ann, role: 'admin', tenant: 'acme', updatedAt: T0 + 2, updatedBy: 'user:root' });
        assert.equal(await store.deleteAdminUser('ann', { role: 'viewer', tenant: undefined }, 'x', T0 + 3, { action: 'delete admin', target: 'admins/ann', patch: [] }), false, 'stale');
        assert.equal(await store.deleteAdminUser('ann', { role: 'admin', tenant: 'acme' }, 'x', T0 + 3, { action: 'delete admin', target: 'admins/ann', patch: [] }), true);
        assert.equal(await store.deleteAdminUser('ann', undefined, 'x', T0 + 4, { action: 'delete admin', target: 'admins/ann', patch: [] }), false, 'gone');
        assert.equal(await store.deleteAdminUser('bob', undefined, 'x', T0 + 5, { action: 'delete admin', target: 'admins/bob', patch: [] }), true);
        assert.deepEqual((await store.listChanges(10)).map((c) => `${c.action} ${c.target}`), ['delete admin admins/bob', 'delete admin admins/ann', 'update admin admins/ann', 'create admin admins/bob', 'create admin admins/ann']);
      } finally {
        await store.close();
      }
    });
  });
}
