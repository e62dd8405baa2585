// Create or edit one server of the draft: a name and either a Streamable HTTP URL or a stdio
// command with its arguments. Fields the form does not show (headers, timeouts, credential, …)
// are kept as they are on save.
import { useEffect, useState } from 'preact/hooks';
import { manage, draftChanged } from '../manage.ts';
import { follow, navigate } from '../router.ts';
import { Failure } from '../components/failure.tsx';
import { TextField, Choice } from './fields.tsx';
import { tenantName, transportOf, type ServerEntry } from './model.ts';
import { TenantSelect, useTenantChoice, withTenant } from './tenant-choice.tsx';

type Transport = 'http' | 'stdio' | 'sse';

export function ServerForm({ name }: { name: string | undefined }) {
  const editing = name !== undefined;
  const [loaded, setLoaded] = useState<{ entry: ServerEntry; etag: string | undefined } | undefined>();
  const [form, setForm] = useState({ name: '', transport: 'http' as Transport, url: '', command: '', args: '', tenant: '' });
  const tenants = useTenantChoice();
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!editing) return;
    manage<ServerEntry>('GET', `/servers/${encodeURIComponent(name)}`).then(
      ({ body, etag }) => {
        setLoaded({ entry: body, etag });
        const transport = transportOf(body);
        setForm({ name: body.name, transport, url: String(body.url ?? body.sse ?? ''), command: String(body.command ?? ''), args: Array.isArray(body.args) ? body.args.join('\n') : '', tenant: tenantName(body.tenant) ?? '' });
      },
      (e: Error) => setError(e),
    );
  }, [name]);

  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));

  const definition = (): Record<string, unknown> => {
    const { name: _n, etag: _e, url: _u, sse: _s, command: _c, args: _a, ...loadedFields } = loaded?.entry ?? ({ name: '' } as ServerEntry);
    // Without the picker (a tenant's admin, or no tenants) the tenant stays as it is.
    const kept = tenants ? withTenant(loadedFields, form.tenant) : loadedFields;
    if (form.transport === 'stdio') {
      // stdio has no headers or credential: drop what only an HTTP server takes.
      const { headers: _h, credential: _cr, listCache: _l, ...rest } = kept;
      return { ...rest, command: form.command.trim(), args: form.args.split('\n').map((a) => a.trim()).filter((a) => a !== '') };
    }
    const { env: _env, cwd: _cwd, maxChildren: _m, idleTimeout: _i, stderr: _st, ...rest } = kept;
    return { ...rest, [form.transport === 'sse' ? 'sse' : 'url']: form.url.trim() };
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (editing) await manage('PUT', `/servers/${encodeURIComponent(name)}`, { body: definition(), ifMatch: loaded?.etag });
      else await manage('POST', '/servers', { body: { name: form.name.trim(), ...definition() } });
      draftChanged();
      navigate('/servers');
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!editing || !confirm(`Remove server "${name}" from the draft?`)) return;
    setError(undefined);
    try {
      await manage('DELETE', `/servers/${encodeURIComponent(name)}`, { ifMatch: loaded?.etag });
      draftChanged();
      navigate('/servers');
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <form class="panel form" onSubmit={save} aria-label={editing ? `Edit server ${name}` : 'New server'}>
      <h2>{editing ? `Server ${name}` : 'New server'}</h2>
      <TextField id="server-name" label="Name" value={form.name} onInput={(v) => set({ name: v })} disabled={editing} required hint="Letters, digits, _ . - ; APIs refer to the server by it." />
      {tenants && <TenantSelect id="server-tenant" options={tenants} value={form.tenant} onChange={(tenant) => set({ tenant })} />}
      <Choice
        name="server-transport"
        legend="Transport"
        value={form.transport}
        onChange={(transport) => set({ transport })}
        options={[['http', 'Streamable HTTP'], ['stdio', 'stdio (a command)'], ...(form.transport === 'sse' ? ([['sse', 'HTTP+SSE (2024-11-05)']] as Array<[Transport, string]>) : [])]}
      />
      {form.transport === 'stdio' ? (
        <>
          <TextField id="server-command" label="Command" value={form.command} onInput={(v) => set({ command: v })} mono placeholder="npx" hint="Started once per client session." />
          <div class="field form-field">
            <label class="field-label" for="server-args">
              Arguments
            </label>
            <textarea id="server-args" class="mono" rows={3} value={form.args} onInput={(e) => set({ args: (e.currentTarget as HTMLTextAreaElement).value })} aria-describedby="server-args-hint" />
            <span class="hint" id="server-args-hint">
              One per line.
            </span>
          </div>
        </>
      ) : (
        <TextField id="server-url" label={form.transport === 'sse' ? 'SSE URL' : 'URL'} value={form.url} onInput={(v) => set({ url: v })} mono placeholder="http://127.0.0.1:3001/mcp" hint="The MCP server's endpoint." />
      )}
      <Failure error={error} />
      <div class="form-actions">
        <button type="submit" class="button primary" disabled={busy}>
          {editing ? 'Save to draft' : 'Create server'}
        </button>
        <a class="button" href="/servers" onClick={follow}>
          Cancel
        </a>
        {editing && (
          <button type="button" class="button danger" onClick={remove}>
            Remove
          </button>
        )}
      </div>
    </form>
  );
}
