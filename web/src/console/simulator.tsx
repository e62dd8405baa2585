// "What would this agent see?": pick an agent (and optionally the user behind it) and whether to
// simulate the draft or the deployed version; the server lists every tool, prompt and resource of
// the API's servers and decides each method with the real policy engine. One table per kind,
// one column per method, each cell allowed or denied with the rule that decided.
import { useState } from 'preact/hooks';
import type { Simulation, SimulatedItem } from '../../../src/control/simulate-types.ts';
import { manage } from '../manage.ts';
import { Failure } from '../components/failure.tsx';
import { Notice } from '../components/bits.tsx';
import { TextField, Choice } from './fields.tsx';
import { useManaged } from './use-managed.ts';

const KINDS: Array<[SimulatedItem['kind'], string]> = [
  ['tool', 'Tools'],
  ['prompt', 'Prompts'],
  ['resource', 'Resources'],
  ['resourceTemplate', 'Resource templates'],
];

export function Simulator({ api }: { api: string }) {
  const agents = useManaged<{ items: Array<{ id: string; name?: string | null }> }>('/agents');
  const [form, setForm] = useState({ agent: '', user: '', source: 'draft' as 'draft' | 'deployed' });
  const [result, setResult] = useState<Simulation | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);

  const run = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body = { agent: form.agent.trim(), source: form.source, ...(form.user.trim() ? { user: form.user.trim() } : {}) };
      setResult((await manage<Simulation>('POST', `/apis/${encodeURIComponent(api)}/simulate`, { body })).body);
    } catch (e) {
      setResult(undefined);
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel studio" aria-labelledby="simulator-title" data-simulator={busy ? 'running' : result ? 'done' : 'idle'}>
      <h2 id="simulator-title">What would this agent see?</h2>
      <form class="simulator-form" onSubmit={run} aria-label="Simulate an agent">
        <TextField id="sim-agent" label="Agent" value={form.agent} onInput={(agent) => setForm((f) => ({ ...f, agent }))} required mono list="sim-agents" hint="An agent id; its labels come from the store." />
        <datalist id="sim-agents">
          {agents.data?.items.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name ?? ''}
            </option>
          ))}
        </datalist>
        <TextField id="sim-user" label="User (optional)" value={form.user} onInput={(user) => setForm((f) => ({ ...f, user }))} mono hint="The person behind the agent (user.id)." />
        <Choice
          name="sim-source"
          legend="Configuration"
          value={form.source}
          onChange={(source) => setForm((f) => ({ ...f, source }))}
          options={[
            ['draft', 'Draft (not deployed yet)'],
            ['deployed', 'Deployed version'],
          ]}
        />
        <button type="submit" class="button primary" disabled={busy || form.agent.trim() === ''}>
          {busy ? 'Asking the servers…' : 'Simulate'}
        </button>
      </form>
      <Failure error={error} />
      {result && <SimulationView result={result} />}
    </section>
  );
}

function SimulationView({ result }: { result: Simulation }) {
  const visible = result.items.filter((i) => i.methods.some((m) => m.allowed)).length;
  return (
    <div class="simulation" data-visible={visible}>
      <p>
        Agent <code>{result.agent.id}</code>
        {result.agent.known ? Object.keys(result.agent.labels).length > 0 && <> (labels {Object.entries(result.agent.labels).map(([k, v]) => `${k}=${v}`).join(', ')})</> : ' (not in the store: no name or labels)'}
        {result.user && (
          <>
            {' '}
            for user <code>{result.user.id}</code>
          </>
        )}
        , with {result.source === 'draft' ? 'the draft' : `deployed version ${result.version}`}: may use <strong>{visible}</strong> of the {result.items.length} items of the servers.
      </p>
      {result.notes.map((n) => (
        <p key={n} class="muted small">
          {n}
        </p>
      ))}
      {result.servers
        .filter((s) => s.error)
        .map((s) => (
          <Notice key={s.server} kind="error">
            Server {s.server} could not be listed: {s.error}
          </Notice>
        ))}
      {KINDS.map(([kind, label]) => {
        const items = result.items.filter((i) => i.kind === kind);
        if (items.length === 0) return null;
        const methods = items[0]!.methods.map((m) => m.method);
        return (
          <table key={kind} class="table simulation-table" aria-label={label} data-kind={kind}>
            <thead>
              <tr>
                <th scope="col">{label}</th>
                {methods.map((m) => (
                  <th key={m} scope="col" class="mono">
                    {m}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.name} data-item={item.name}>
                  <th scope="row" class="mono">
                    {item.name}
                    {(item.original !== item.name || result.servers.length > 1) && <span class="muted small"> ({item.server}: {item.original})</span>}
                  </th>
                  {item.methods.map((m) => (
                    <td key={m.method} data-method={m.method} data-allowed={String(m.allowed)}>
                      <span class={`badge badge-${m.allowed ? 'allowed' : 'denied'}`}>{m.allowed ? 'allowed' : 'denied'}</span>
                      <span class="small muted"> {m.rule ? `by ${m.rule}` : (m.reason ?? '')}</span>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        );
      })}
    </div>
  );
}
