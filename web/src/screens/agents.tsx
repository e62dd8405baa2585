// Agents and their API keys (managed mode; in the store, so changes apply at once, without a
// deployment). A new key is shown once, in the answer that makes it: the store keeps its digest.
import { useState } from 'preact/hooks';
import { manage } from '../manage.ts';
import { useManaged } from '../console/use-managed.ts';
import { Failure } from '../components/failure.tsx';
import { Notice, Panel } from '../components/bits.tsx';
import { TextField } from '../console/fields.tsx';
import { time } from '../format.ts';

interface Agent {
  id: string;
  name: string | null;
  labels: Record<string, string>;
  /** Null: the default tenant. */
  tenant?: string | null;
  disabled: boolean;
  createdAt: number;
}
interface Key {
  id: string;
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** `team=support` lines → labels. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (line.trim() === '') continue;
    if (at <= 0) throw new Error(`Labels: "${line.trim()}" is not key=value`);
    labels[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return labels;
}

export function Agents() {
  const agents = useManaged<{ items: Agent[] }>('/agents');
  // The tenant column only once some agent has a tenant: a deployment without tenants looks as before.
  const tenanted = agents.data?.items.some((a) => a.tenant !== undefined && a.tenant !== null) ?? false;
  const [form, setForm] = useState({ id: '', name: '', labels: '' });
  const [error, setError] = useState<Error | undefined>();
  const [open, setOpen] = useState<string | undefined>();

  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const body = { id: form.id.trim(), ...(form.name.trim() ? { name: form.name.trim() } : {}), labels: parseLabels(form.labels) };
      await manage('POST', '/agents', { body });
      setForm({ id: '', name: '', labels: '' });
      setOpen(body.id);
      agents.reload();
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <div class="screen" data-state={agents.loading ? 'loading' : 'ready'}>
      <div class="toolbar">
        <h1>Agents</h1>
      </div>
      <p class="muted small">Agents and keys live in the store: changes apply at once, on every node, without a deployment.</p>
      <div class="console-grid">
        <Panel title="Agents" id="agents">
          <Failure error={agents.error} />
          {agents.data?.items.length === 0 && <p class="empty">No agents yet.</p>}
          {agents.data && agents.data.items.length > 0 && (
            <table class="table" aria-label="Agents">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  {tenanted && <th scope="col">Tenant</th>}
                  <th scope="col">Labels</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {agents.data.items.map((a) => (
                  <tr key={a.id} data-agent={a.id} class={open === a.id ? 'selected' : undefined}>
                    <th scope="row">
                      <button type="button" class="link" onClick={() => setOpen(open === a.id ? undefined : a.id)} aria-expanded={open === a.id}>
                        {a.id}
                      </button>
                      {a.name && <span class="muted small"> {a.name}</span>}
                      {a.disabled && <span class="badge badge-error"> disabled</span>}
                    </th>
                    {tenanted && <td data-col="tenant">{a.tenant ?? 'default'}</td>}
                    <td class="mono">{Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', ')}</td>
                    <td class="nowrap">{time(a.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
        <form class="panel form" onSubmit={create} aria-label="New agent">
          <h2>New agent</h2>
          <TextField id="agent-id" label="Agent id" value={form.id} onInput={(id) => setForm((f) => ({ ...f, id }))} mono required />
          <TextField id="agent-name" label="Display name" value={form.name} onInput={(name) => setForm((f) => ({ ...f, name }))} />
          <div class="field form-field">
            <label class="field-label" for="agent-labels">
              Labels
            </label>
            <textarea id="agent-labels" rows={3} class="mono" value={form.labels} placeholder="team=support" onInput={(e) => setForm((f) => ({ ...f, labels: (e.currentTarget as HTMLTextAreaElement).value }))} />
            <span class="hint">One key=value a line; ACL conditions read them as agent.labels.</span>
          </div>
          <Failure error={error} />
          <div class="form-actions">
            <button type="submit" class="button primary">
              Create agent
            </button>
          </div>
        </form>
      </div>
      {open && <Keys key={open} agent={open} />}
    </div>
  );
}

function Keys({ agent }: { agent: string }) {
  const keys = useManaged<{ items: Key[] }>(`/agents/${encodeURIComponent(agent)}/keys`);
  const [fresh, setFresh] = useState<string | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const create = async () => {
    setError(undefined);
    try {
      const { body } = await manage<{ key: string }>('POST', `/agents/${encodeURIComponent(agent)}/keys`, { body: {} });
      setFresh(body.key);
      keys.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const revoke = async (id: string) => {
    if (!confirm(`Revoke key ${id}? Clients using it are refused at once.`)) return;
    try {
      await manage('DELETE', `/agents/${encodeURIComponent(agent)}/keys/${encodeURIComponent(id)}`);
      keys.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <Panel title={`Keys of ${agent}`} id="keys">
      {fresh && (
        <Notice>
          New key (shown this once; copy it now): <code data-new-key>{fresh}</code>
        </Notice>
      )}
      <Failure error={error ?? keys.error} />
      {keys.data && (
        <table class="table" aria-label={`Keys of ${agent}`}>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {keys.data.items.map((k) => (
              <tr key={k.id} data-key={k.id}>
                <th scope="row" class="mono">
                  {k.prefix}… <span class="muted small">({k.id})</span>
                </th>
                <td class="nowrap">{time(k.createdAt)}</td>
                <td class="nowrap">{k.lastUsedAt ? time(k.lastUsedAt) : '—'}</td>
                <td>
                  {k.revokedAt ? (
                    <span class="badge badge-error">revoked</span>
                  ) : (
                    <button type="button" class="button danger" onClick={() => revoke(k.id)} aria-label={`Revoke key ${k.id}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="form-actions">
        <button type="button" class="button primary" onClick={create}>
          New key
        </button>
      </div>
    </Panel>
  );
}
