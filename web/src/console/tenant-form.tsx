// The form of one tenant (new, or the one being edited): id, display name, path prefix, the
// quotas and the private destinations its servers may reach (egress). Fields the form does not show (the quota counters' backend, …) are kept as they are.
import { useState } from 'preact/hooks';
import { manage, draftChanged } from '../manage.ts';
import { Failure } from '../components/failure.tsx';
import { TextField } from './fields.tsx';

export interface TenantEntry {
  id: string;
  name?: string;
  pathPrefix?: string;
  quotas?: { requestsPerDay?: number; apis?: number; agents?: number } & Record<string, unknown>;
  egress?: { allow?: string[] };
  etag?: string;
  [field: string]: unknown;
}

const QUOTAS = [
  ['requestsPerDay', 'Requests per day', 'All of its APIs together, per UTC day; beyond it clients get 429.'],
  ['apis', 'APIs at most', 'A draft with more of its APIs is refused.'],
  ['agents', 'Agents at most', 'An agent beyond it is refused.'],
] as const;
type QuotaName = (typeof QUOTAS)[number][0];
type Form = { id: string; name: string; pathPrefix: string; egress: string } & Record<QuotaName, string>;

const formOf = (t: TenantEntry | undefined): Form => ({
  id: t?.id ?? '',
  name: t?.name ?? '',
  pathPrefix: t?.pathPrefix ?? '',
  egress: (t?.egress?.allow ?? []).join(', '),
  requestsPerDay: String(t?.quotas?.requestsPerDay ?? ''),
  apis: String(t?.quotas?.apis ?? ''),
  agents: String(t?.quotas?.agents ?? ''),
});

/** The entry to send: the loaded one with the form's fields over it (an empty field: left out). */
function entryOf(form: Form, loaded: TenantEntry | undefined): Record<string, unknown> {
  const { etag: _etag, name: _name, pathPrefix: _prefix, quotas: loadedQuotas, egress: _egress, ...kept } = loaded ?? { id: form.id.trim() };
  const entry: Record<string, unknown> = { ...kept, id: form.id.trim() };
  if (form.name.trim() !== '') entry.name = form.name.trim();
  if (form.pathPrefix.trim() !== '') entry.pathPrefix = form.pathPrefix.trim();
  const quotas: Record<string, unknown> = { ...loadedQuotas };
  for (const [field] of QUOTAS) {
    delete quotas[field];
    // What is not a number is sent as typed: the server says what it expects, in `gatehouse check`'s words.
    const typed = form[field].trim();
    if (typed !== '') quotas[field] = Number.isNaN(Number(typed)) ? typed : Number(typed);
  }
  if (Object.keys(quotas).length > 0) entry.quotas = quotas;
  const allow = form.egress.split(/[\s,]+/).filter((item) => item !== '');
  if (allow.length > 0) entry.egress = { allow };
  return entry;
}

export function TenantForm({ loaded, onDone }: { loaded: TenantEntry | undefined; onDone(message: string): void }) {
  const [form, setForm] = useState<Form>(() => formOf(loaded));
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const set = (field: keyof Form) => (value: string) => setForm((f) => ({ ...f, [field]: value }));

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const entry = entryOf(form, loaded);
      if (loaded) await manage('PUT', `/tenants/${encodeURIComponent(loaded.id)}`, { body: entry, ifMatch: loaded.etag });
      else await manage('POST', '/tenants', { body: entry });
      draftChanged();
      onDone(`Tenant ${String(entry.id)} saved to the draft.`);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel form" onSubmit={save} aria-label={loaded ? `Tenant ${loaded.id}` : 'New tenant'} autocomplete="off">
      <h2>{loaded ? `Tenant ${loaded.id}` : 'New tenant'}</h2>
      <Failure error={error} />
      <TextField id="tenant-id" label="Tenant id" value={form.id} onInput={set('id')} disabled={loaded !== undefined} required mono hint="Lowercase letters, digits, _ or -; what servers, APIs and agents name in their tenant field." />
      <TextField id="tenant-name" label="Display name" value={form.name} onInput={set('name')} />
      <TextField id="tenant-prefix" label="Path prefix" value={form.pathPrefix} onInput={set('pathPrefix')} mono placeholder="/acme" hint="Every API of the tenant must have a path under it." />
      {QUOTAS.map(([field, label, hint]) => (
        <TextField key={field} id={`tenant-${field}`} label={label} value={form[field]} onInput={set(field)} mono hint={`${hint} Empty: no limit.`} />
      ))}
      <TextField id="tenant-egress" label="Private destinations" value={form.egress} onInput={set('egress')} mono placeholder="10.20.0.0/16, mcp.corp.example" hint="Its servers reach public addresses; list here, separated by commas, the host names (*.suffix), IP addresses and CIDR ranges inside your network they may reach too. Empty: public addresses only." />
      <div class="form-actions">
        <button type="submit" class="button primary" disabled={busy}>
          {loaded ? 'Save tenant' : 'Create tenant'}
        </button>
        {loaded && (
          <button type="button" class="button" onClick={() => onDone('')}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
