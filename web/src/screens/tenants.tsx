// Tenants (managed mode, platform admins): the tenants of the draft with their path prefix and
// quotas, a form for a new one or the one being edited, and deleting one. The API refuses to
// delete a tenant that still owns servers, APIs or agents; its words are shown as they are.
// A tenant's admin has no use for the screen (the API shows it its own entry only).
import { useState } from 'preact/hooks';
import { isPlatform, type Meta } from '../api.ts';
import { manage, draftChanged } from '../manage.ts';
import { useManaged } from '../console/use-managed.ts';
import { Failure } from '../components/failure.tsx';
import { Notice, Panel } from '../components/bits.tsx';
import { DraftBar } from '../console/draft-bar.tsx';
import { TenantForm, type TenantEntry } from '../console/tenant-form.tsx';

const quotaText = (t: TenantEntry): string => {
  const q = t.quotas ?? {};
  const parts = [q.requestsPerDay !== undefined && `${q.requestsPerDay} requests/day`, q.apis !== undefined && `${q.apis} APIs`, q.agents !== undefined && `${q.agents} agents`].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'none';
};

export function Tenants({ meta }: { meta: Meta | undefined }) {
  if (meta === undefined) return <div class="screen" data-state="loading" />;
  if (!isPlatform(meta)) {
    return (
      <div class="screen" data-state="ready">
        <h1>Tenants</h1>
        <Notice>Tenants are managed by the platform's admins; you work within tenant {meta.you?.tenant}.</Notice>
      </div>
    );
  }
  return <TenantList />;
}

function TenantList() {
  const list = useManaged<{ items: TenantEntry[] }>('/tenants');
  const [editing, setEditing] = useState<TenantEntry | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [status, setStatus] = useState('');
  // Counts saves, so that the form starts empty again after one.
  const [saves, setSaves] = useState(0);

  const done = (message: string) => {
    setEditing(undefined);
    setSaves((n) => n + 1);
    setStatus(message);
    list.reload();
  };
  const remove = async (tenant: TenantEntry) => {
    if (!confirm(`Delete tenant ${tenant.id}? Only a tenant that owns no servers, APIs or agents can be deleted.`)) return;
    setError(undefined);
    setStatus('');
    try {
      await manage('DELETE', `/tenants/${encodeURIComponent(tenant.id)}`, { ifMatch: tenant.etag });
      draftChanged();
      done(`Tenant ${tenant.id} deleted from the draft.`);
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <div class="screen" data-state={list.loading ? 'loading' : 'ready'}>
      <div class="toolbar">
        <h1>Tenants</h1>
      </div>
      <DraftBar />
      <p class="muted small">A tenant owns servers, APIs, agents and credentials; its admins see only those. Changes wait in the draft until deployed.</p>
      {status && (
        <p class="notice" role="status" data-tenants-status>
          {status}
        </p>
      )}
      <div class="console-grid">
        <Panel title="Tenants" id="tenants">
          <Failure error={error ?? list.error} />
          {list.data?.items.length === 0 && <p class="empty">No tenants yet: everything belongs to the built-in default tenant.</p>}
          {list.data && list.data.items.length > 0 && (
            <table class="table" aria-label="Tenants">
              <thead>
                <tr>
                  <th scope="col">Id</th>
                  <th scope="col">Name</th>
                  <th scope="col">Path prefix</th>
                  <th scope="col">Quotas</th>
                  <th scope="col">Private destinations</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((t) => (
                  <tr key={t.id} data-tenant={t.id}>
                    <th scope="row" class="mono">
                      {t.id}
                    </th>
                    <td>{t.name ?? ''}</td>
                    <td class="mono">{t.pathPrefix ?? ''}</td>
                    <td>{quotaText(t)}</td>
                    <td class="mono">{t.egress?.allow?.join(', ') || 'none'}</td>
                    <td class="form-actions">
                      <button type="button" class="button" onClick={() => {
                          setStatus('');
                          setEditing(t);
                        }} aria-label={`Edit tenant ${t.id}`}>
                        Edit
                      </button>
                      <button type="button" class="button" onClick={() => remove(t)} aria-label={`Delete tenant ${t.id}`}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
        <TenantForm key={`${editing?.id ?? '(new)'} ${saves}`} loaded={editing} onDone={done} />
      </div>
    </div>
  );
}
