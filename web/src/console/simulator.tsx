// "What would this agent see?": pick an agent (and optionally the user behind it, with token
// claims, and one tool call with its arguments) and whether to simulate the draft or the deployed
// version; the server lists every tool, prompt and resource of
// the API's servers and decides each method with the real policy engine. One table per kind,
// one column per method, each cell allowed or denied with the rule that decided.
import { useState } from 'preact/hooks';
import type { Simulation, SimulatedItem, Verdict } from '../../../src/control/simulate-types.ts';
import { manage } from '../manage.ts';
import { Failure } from '../components/failure.tsx';
import { Notice } from '../components/bits.tsx';
import { TextField, Choice } from './fields.tsx';
import { JsonField, parseJsonObject } from './json-field.tsx';
import { useManaged } from './use-managed.ts';

const KINDS: Array<[SimulatedItem['kind'], string]> = [
  ['tool', 'Tools'],
  ['prompt', 'Prompts'],
  ['resource', 'Resources'],
  ['resourceTemplate', 'Resource templates'],
];

interface Form {
  agent: string;
  user: string;
  claims: string;
  tool: string;
  args: string;
  source: 'draft' | 'deployed';
}

/**
 * The request body: a stored agent or user by id, any other described as {id}. A list not loaded
 * yet (undefined): the id is sent as it is, so the server looks it up (and says 404 if there is none).
 */
function bodyOf(form: Form, agents: ReadonlySet<string> | undefined, users: ReadonlySet<string> | undefined): Record<string, unknown> | string {
  const claims = parseJsonObject(form.claims);
  if ('error' in claims) return `Claims: ${claims.error}`;
  const args = parseJsonObject(form.args);
  if ('error' in args) return `Arguments: ${args.error}`;
  const agent = form.agent.trim();
  const user = form.user.trim();
  const tool = form.tool.trim();
  if (args.value !== undefined && tool === '') return 'Arguments: choose the tool they are for.';
  return {
    agent: agents === undefined || agents.has(agent) ? agent : { id: agent },
    source: form.source,
    ...(user !== '' && { user: users === undefined || users.has(user) ? user : { id: user } }),
    ...(claims.value !== undefined && { claims: claims.value }),
    ...(tool !== '' && { tool, arguments: args.value ?? {} }),
  };
}

export function Simulator({ api, platform }: { api: string; platform: boolean }) {
  const agents = useManaged<{ items: Array<{ id: string; name?: string | null }> }>('/agents');
  // Users of the embedded authorization server are the platform's: a tenant's identity types one (described).
  const users = useManaged<{ items: Array<{ id: string; username: string }> }>(platform ? '/users' : undefined);
  const [form, setForm] = useState<Form>({ agent: '', user: '', claims: '', tool: '', args: '', source: 'draft' });
  const [result, setResult] = useState<Simulation | undefined>();
  const [error, setError] = useState<Error | string | undefined>();
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Form>) => setForm((f) => ({ ...f, ...patch }));
  const agentIds = agents.data === undefined ? undefined : new Set(agents.data.items.map((a) => a.id));
  const userNames = platform && users.data === undefined ? undefined : new Set(users.data?.items.flatMap((u) => [u.id, u.username]) ?? []);
  const body = bodyOf(form, agentIds, userNames);
  const tools = result?.items.filter((i) => i.kind === 'tool').map((i) => i.name) ?? [];

  const run = async (event: Event) => {
    event.preventDefault();
    if (typeof body === 'string') return setError(body);
    setBusy(true);
    setError(undefined);
    try {
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
        <TextField id="sim-agent" label="Agent" value={form.agent} onInput={(agent) => set({ agent })} required mono list="sim-agents" hint="An agent id: one in the store brings its name and labels; any other is simulated with none." />
        <datalist id="sim-agents">
          {agents.data?.items.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name ?? ''}
            </option>
          ))}
        </datalist>
        <TextField id="sim-user" label="User (optional)" value={form.user} onInput={(user) => set({ user })} mono list="sim-users" hint="The person behind the agent: a user of the authorization server (id or username), or any user id." />
        <datalist id="sim-users">
          {users.data?.items.map((u) => (
            <option key={u.id} value={u.username}>
              {u.id}
            </option>
          ))}
        </datalist>
        <JsonField id="sim-claims" label="Token claims (optional)" value={form.claims} onInput={(claims) => set({ claims })} placeholder='{"groups": ["ops"]}' hint="For claims.… conditions, over the user's sub and preferred_username." />
        <TextField id="sim-tool" label="Tool call (optional)" value={form.tool} onInput={(tool) => set({ tool })} mono list="sim-tools" hint="A tool, named as agents see it, whose tools/call is decided with the arguments below." />
        <datalist id="sim-tools">
          {tools.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        <JsonField id="sim-arguments" label="Arguments" value={form.args} onInput={(args) => set({ args })} placeholder='{"message": "hello"}' hint="The call's arguments as a JSON object, for mcp.arguments conditions and argument checks." />
        <Choice
          name="sim-source"
          legend="Configuration"
          value={form.source}
          onChange={(source) => set({ source })}
          options={[
            ['draft', 'Draft (not deployed yet)'],
            ['deployed', 'Deployed version'],
          ]}
        />
        <button type="submit" class="button primary" disabled={busy || form.agent.trim() === '' || typeof body === 'string'}>
          {busy ? 'Asking the servers…' : 'Simulate'}
        </button>
        {typeof body === 'string' && form.agent.trim() !== '' && (
          <span class="bad small" data-form-problem>
            {body}
          </span>
        )}
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
        {Object.keys(result.agent.labels).length > 0 && <> (labels {Object.entries(result.agent.labels).map(([k, v]) => `${k}=${v}`).join(', ')})</>}
        {result.agent.known ? '' : ' (described here, not from the store)'}
        {result.user && (
          <>
            {' '}
            for user <code>{result.user.id}</code>
            {result.user.name !== null && result.user.name !== result.user.id && <> ({result.user.name})</>}
            {!result.user.known && ' (not a user of the authorization server)'}
          </>
        )}
        , with {result.source === 'draft' ? 'the draft' : `deployed version ${result.version}`}: may use <strong>{visible}</strong> of the {result.items.length} items of the servers.
      </p>
      {Object.keys(result.claims).length > 0 && (
        <p class="small">
          Token claims: <code data-claims>{JSON.stringify(result.claims)}</code>
        </p>
      )}
      {result.call && (
        <p class="simulated-call" data-call-allowed={String(result.call.verdict.allowed)}>
          <code>tools/call</code> of <code>{result.call.tool}</code> with <code>{JSON.stringify(result.call.arguments)}</code>:{' '}
          <span class={`badge badge-${result.call.verdict.allowed ? 'allowed' : 'denied'}`}>{result.call.verdict.allowed ? 'allowed' : 'denied'}</span>
          <span class="small muted"> {verdictText(result.call.verdict)}</span>
        </p>
      )}
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
                <tr key={item.name} data-item={item.name} data-called={result.call?.tool === item.name && kind === 'tool' ? 'true' : undefined}>
                  <th scope="row" class="mono">
                    {item.name}
                    {(item.original !== item.name || result.servers.length > 1) && <span class="muted small"> ({item.server}: {item.original})</span>}
                  </th>
                  {item.methods.map((m) => (
                    <td key={m.method} data-method={m.method} data-allowed={String(m.allowed)}>
                      <span class={`badge badge-${m.allowed ? 'allowed' : 'denied'}`}>{m.allowed ? 'allowed' : 'denied'}</span>
                      <span class="small muted"> {verdictText(m)}</span>
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

/** "by <rule>", and why when it was not simply a rule's verdict (argument checks, failed conditions). */
function verdictText(v: Verdict): string {
  return [v.rule ? `by ${v.rule}` : '', v.reason ?? ''].filter((x) => x !== '').join(': ');
}
