// Upstream credentials (managed mode): write-only. The list shows names and types, never a
// secret; setting one sends it once (a password field) and the answer does not echo it. A
// server uses one with `credential: {type: stored}` (its name by default). Setting or deleting
// names the version listed (its ETag; a new name must not exist yet), so a credential someone
// else set meanwhile is not overwritten.
import { useState } from 'preact/hooks';
import { manage } from '../manage.ts';
import { useManaged } from '../console/use-managed.ts';
import { Failure } from '../components/failure.tsx';
import { Panel } from '../components/bits.tsx';
import { TextField, Choice } from '../console/fields.tsx';
import { time } from '../format.ts';

interface Credential {
  name: string;
  type: string | null;
  updatedAt: number;
  problem: string | null;
  etag: string;
}

export function Credentials() {
  const list = useManaged<{ items: Credential[] }>('/credentials');
  const [form, setForm] = useState({ name: '', type: 'bearer' as 'bearer' | 'header', header: '', secret: '' });
  const [error, setError] = useState<Error | undefined>();
  const [status, setStatus] = useState('');

  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setStatus('');
    try {
      const body = form.type === 'bearer' ? { type: 'bearer', token: form.secret } : { type: 'header', name: form.header.trim(), value: form.secret };
      const listed = list.data?.items.find((c) => c.name === form.name.trim());
      await manage('PUT', `/credentials/${encodeURIComponent(form.name.trim())}`, listed ? { body, ifMatch: listed.etag } : { body, ifNoneMatch: '*' });
      setStatus(`Credential ${form.name.trim()} set.`);
      // The secret leaves the page once saved.
      setForm((f) => ({ ...f, secret: '' }));
      list.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const remove = async ({ name, etag }: Credential) => {
    if (!confirm(`Delete credential ${name}? Servers that use it are sent without it.`)) return;
    try {
      await manage('DELETE', `/credentials/${encodeURIComponent(name)}`, { ifMatch: etag });
      list.reload();
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <div class="screen" data-state={list.loading ? 'loading' : 'ready'}>
      <div class="toolbar">
        <h1>Credentials</h1>
      </div>
      <p class="muted small">Upstream credentials are stored sealed and are never shown again, here or in the API. A server uses one with <code>credential: {'{'} type: stored {'}'}</code>.</p>
      <div class="console-grid">
        <Panel title="Stored credentials" id="credentials">
          <Failure error={list.error} />
          {list.data?.items.length === 0 && <p class="empty">No credentials stored.</p>}
          {list.data && list.data.items.length > 0 && (
            <table class="table" aria-label="Stored credentials">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Set</th>
                  <th scope="col" />
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((c) => (
                  <tr key={c.name} data-credential={c.name}>
                    <th scope="row">{c.name}</th>
                    <td>{c.type ?? <span class="bad">{c.problem}</span>}</td>
                    <td class="nowrap">{time(c.updatedAt)}</td>
                    <td>
                      <button type="button" class="button danger" onClick={() => remove(c)} aria-label={`Delete credential ${c.name}`}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
        <form class="panel form" onSubmit={save} aria-label="Set a credential" autocomplete="off">
          <h2>Set a credential</h2>
          <TextField id="credential-name" label="Credential name" value={form.name} onInput={(name) => setForm((f) => ({ ...f, name }))} mono required hint="By default, the name of the server that uses it." />
          <Choice
            name="credential-type"
            legend="Type"
            value={form.type}
            onChange={(type) => setForm((f) => ({ ...f, type }))}
            options={[
              ['bearer', 'Bearer token'],
              ['header', 'Header'],
            ]}
          />
          {form.type === 'header' && <TextField id="credential-header" label="Header name" value={form.header} onInput={(header) => setForm((f) => ({ ...f, header }))} mono placeholder="x-api-key" />}
          <div class="field form-field">
            <label class="field-label" for="credential-secret">
              {form.type === 'bearer' ? 'Token' : 'Header value'}
            </label>
            <input id="credential-secret" type="password" autocomplete="new-password" value={form.secret} onInput={(e) => setForm((f) => ({ ...f, secret: (e.currentTarget as HTMLInputElement).value }))} required />
            <span class="hint">Write-only: it is never shown again.</span>
          </div>
          <Failure error={error} />
          <div class="form-actions">
            <button type="submit" class="button primary">
              Set credential
            </button>
            <span class="muted small" role="status">
              {status}
            </span>
          </div>
        </form>
      </div>
    </div>
  );
}
