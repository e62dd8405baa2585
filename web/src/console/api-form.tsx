// Create or edit one API of the draft in the seed's steps: a name, the entrypoint path, an MCP
// proxy of one server or a federated selection of servers, and the plan (keyless or api-key).
// What the form does not show (policies, namespace, a virtual server's tools, …) is kept on save.
import { useEffect, useState } from 'preact/hooks';
import { manage, draftChanged } from '../manage.ts';
import { follow, navigate } from '../router.ts';
import { Failure } from '../components/failure.tsx';
import { TextField, Choice } from './fields.tsx';
import { useManaged } from './use-managed.ts';
import { planOf, tenantName, type ApiEntry, type ServerEntry } from './model.ts';
import { TenantSelect, inTenant, useTenantChoice, withTenant } from './tenant-choice.tsx';

type Kind = 'single' | 'federated' | 'virtual';
type Plan = ReturnType<typeof planOf>;

const kindOf = (api: ApiEntry): Kind => (typeof api.server === 'string' ? 'single' : Array.isArray(api.servers) ? 'federated' : 'virtual');

export function ApiForm({ name, onLoaded }: { name: string | undefined; onLoaded?: (api: ApiEntry) => void }) {
  const editing = name !== undefined;
  const servers = useManaged<{ items: ServerEntry[] }>('/servers');
  const [loaded, setLoaded] = useState<{ entry: ApiEntry; etag: string | undefined } | undefined>();
  const [form, setForm] = useState({ name: '', path: '/', kind: 'single' as Kind, server: '', servers: [] as string[], plan: 'keyless' as Plan, tenant: '' });
  const tenants = useTenantChoice();
  const [error, setError] = useState<Error | undefined>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!editing) return;
    manage<ApiEntry>('GET', `/apis/${encodeURIComponent(name)}`).then(
      ({ body, etag }) => {
        setLoaded({ entry: body, etag });
        setForm({ name: body.name, path: body.path, kind: kindOf(body), server: body.server ?? '', servers: body.servers ?? [], plan: planOf(body.auth), tenant: tenantName(body.tenant) ?? '' });
        onLoaded?.(body);
      },
      (e: Error) => setError(e),
    );
  }, [name]);

  // A new API proxies the first server unless one is chosen.
  // An API uses servers of its own tenant only: with the picker, those of the chosen tenant.
  const names = servers.data?.items.filter((s) => !tenants || inTenant(s.tenant, form.tenant)).map((s) => s.name) ?? [];
  useEffect(() => {
    if (!editing && !names.includes(form.server)) setForm((f) => ({ ...f, server: names[0] ?? '' }));
  }, [names.join('\n')]);

  const set = (patch: Partial<typeof form>) => {
    setSaved(false);
    setForm((f) => ({ ...f, ...patch }));
  };

  const entry = (): Record<string, unknown> => {
    const { etag: _e, server: _s, servers: _ss, auth, ...kept } = loaded?.entry ?? ({} as ApiEntry);
    const next: Record<string, unknown> = { ...(tenants ? withTenant(kept, form.tenant) : kept), name: form.name.trim(), path: form.path.trim() };
    if (form.kind === 'single') next.server = form.server;
    else if (form.kind === 'federated') next.servers = form.servers;
    if (form.plan === 'other') next.auth = auth;
    else next.auth = form.plan === 'api-key' && planOf(auth) === 'api-key' ? auth : { type: form.plan };
    return next;
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (editing) {
        const answer = await manage<ApiEntry>('PUT', `/apis/${encodeURIComponent(name)}`, { body: entry(), ifMatch: loaded?.etag });
        setLoaded({ entry: answer.body, etag: answer.etag });
        onLoaded?.(answer.body);
        setSaved(true);
      } else {
        await manage('POST', '/apis', { body: entry() });
        navigate(`/apis/${encodeURIComponent(form.name.trim())}`);
      }
      draftChanged();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!editing || !confirm(`Remove API "${name}" from the draft?`)) return;
    try {
      await manage('DELETE', `/apis/${encodeURIComponent(name)}`, { ifMatch: loaded?.etag });
      draftChanged();
      navigate('/apis');
    } catch (e) {
      setError(e as Error);
    }
  };

  const toggleServer = (server: string, on: boolean) => set({ servers: on ? [...form.servers, server] : form.servers.filter((s) => s !== server) });

  return (
    <form class="panel form" onSubmit={save} aria-label={editing ? `Edit API ${name}` : 'New API'}>
      <h2>{editing ? 'Settings' : 'New API'}</h2>
      <TextField id="api-name" label="Name" value={form.name} onInput={(v) => set({ name: v })} disabled={editing} required hint="Shown in logs and metrics." />
      <TextField id="api-path" label="Path" value={form.path} onInput={(v) => set({ path: v })} mono required hint="Where clients connect, e.g. /weather." />
      {tenants && <TenantSelect id="api-tenant" options={tenants} value={form.tenant} onChange={(tenant) => set({ tenant })} />}
      <Choice
        name="api-kind"
        legend="Entrypoint"
        value={form.kind}
        onChange={(kind) => set({ kind })}
        options={[['single', 'MCP proxy of one server'], ['federated', 'Federated: several servers as one'], ...(form.kind === 'virtual' ? ([['virtual', 'Virtual server (kept as it is)']] as Array<[Kind, string]>) : [])]}
      />
      {form.kind === 'single' && (
        <div class="field form-field">
          <label class="field-label" for="api-server">
            Server
          </label>
          <select id="api-server" value={form.server} onChange={(e) => set({ server: (e.currentTarget as HTMLSelectElement).value })}>
            {!servers.data && <option value="">Loading servers…</option>}
            {servers.data && names.length === 0 && <option value="">No servers yet: create one first</option>}
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
      )}
      {form.kind === 'federated' && (
        <fieldset class="choice">
          <legend class="field-label">Servers</legend>
          {names.map((n) => (
            <label key={n} class="choice-option">
              <input type="checkbox" checked={form.servers.includes(n)} onChange={(e) => toggleServer(n, (e.currentTarget as HTMLInputElement).checked)} />
              {n}
            </label>
          ))}
        </fieldset>
      )}
      <Choice
        name="api-plan"
        legend="Plan"
        value={form.plan}
        onChange={(plan) => set({ plan })}
        options={[['keyless', 'Keyless (anyone who reaches it)'], ['api-key', 'API key (each agent its own key)'], ...(form.plan === 'other' ? ([['other', 'Other (kept as it is)']] as Array<[Plan, string]>) : [])]}
      />
      <Failure error={error} />
      <div class="form-actions">
        <button type="submit" class="button primary" disabled={busy}>
          {editing ? 'Save to draft' : 'Create API'}
        </button>
        {!editing && (
          <a class="button" href="/apis" onClick={follow}>
            Cancel
          </a>
        )}
        {editing && (
          <button type="button" class="button danger" onClick={remove}>
            Remove
          </button>
        )}
        <span class="muted small" aria-live="polite">
          {saved ? 'Saved to the draft.' : ''}
        </span>
      </div>
    </form>
  );
}
