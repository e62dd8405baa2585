// Rate limits and quotas of one API: the `rateLimit` policy of its chain as rows (a limit: what
// it is per, how many requests per period, the burst, which methods or tools count; a quota: how
// many per UTC day or month). Saved into the draft after the ACL, so refused calls spend nothing.
// An API with several rateLimit policies gets one editor per policy.
// The counters' backend (memory, or Redis for several nodes) is kept as the document has it.
import { useEffect, useState } from 'preact/hooks';
import { manage, draftChanged } from '../manage.ts';
import { Failure } from '../components/failure.tsx';
import { Notice } from '../components/bits.tsx';

const KEY_PARTS = ['api', 'agent', 'user', 'tool', 'server', 'method'] as const;
type KeyPart = (typeof KEY_PARTS)[number];

interface Row {
  kind: 'limit' | 'quota';
  name: string;
  key: KeyPart[];
  /** limit: requests per `per`; quota: requests per `period`. */
  amount: string;
  per: string;
  burst: string;
  period: 'day' | 'month';
  methods: string;
  tools: string;
  /** Fields the form does not edit (match.servers), kept. */
  kept: Record<string, unknown>;
}
type Entry = Record<string, unknown> & { name?: string; key?: KeyPart[]; match?: { methods?: string[]; tools?: string[]; servers?: string[] } };
interface RateLimitPolicy {
  rateLimit: { backend?: { type: string }; limits?: Entry[]; quotas?: Entry[] };
}

const list = (text: string) => text.split(',').map((s) => s.trim()).filter((s) => s !== '');
const blank = (kind: Row['kind']): Row => ({ kind, name: '', key: ['agent'], amount: '', per: '1m', burst: '', period: 'day', methods: '', tools: '', kept: {} });

function rowOf(kind: Row['kind'], e: Entry): Row {
  const { methods, tools, ...otherMatch } = e.match ?? {};
  return {
    ...blank(kind),
    name: e.name ?? '',
    key: e.key ?? ['agent'],
    amount: String(kind === 'limit' ? (e.rate ?? '') : (e.limit ?? '')),
    per: String(e.per ?? '1m'),
    burst: e.burst === undefined ? '' : String(e.burst),
    period: (e.period as Row['period'] | undefined) ?? 'day',
    methods: (methods ?? []).join(', '),
    tools: (tools ?? []).join(', '),
    kept: Object.keys(otherMatch).length > 0 ? { match: otherMatch } : {},
  };
}

function entryOf(row: Row): Entry {
  const match: Record<string, unknown> = { ...((row.kept.match as Record<string, unknown> | undefined) ?? {}) };
  if (list(row.methods).length > 0) match.methods = list(row.methods);
  if (list(row.tools).length > 0) match.tools = list(row.tools);
  const number = (text: string) => (/^\s*\d+\s*$/.test(text) ? Number(text) : text);
  const common = { ...(row.name.trim() ? { name: row.name.trim() } : {}), key: row.key, ...(Object.keys(match).length > 0 ? { match } : {}) };
  if (row.kind === 'quota') return { ...common, limit: number(row.amount), period: row.period };
  return { ...common, rate: number(row.amount), per: number(row.per), ...(row.burst.trim() ? { burst: number(row.burst) } : {}) };
}

interface SavedPolicy {
  index: number;
  etag: string;
  policy: RateLimitPolicy;
}

/**
 * Every rateLimit policy of the chain, one editor each (an API may have several, say one per team
 * of limits); with none, one empty editor whose save adds the policy.
 */
export function RateLimits({ api }: { api: string }) {
  const base = `/apis/${encodeURIComponent(api)}/policies`;
  const [saved, setSaved] = useState<SavedPolicy[] | undefined>();
  const [adding, setAdding] = useState(false);
  const [generation, setGeneration] = useState(0);
  const [error, setError] = useState<Error | undefined>();
  const [status, setStatus] = useState('');

  const load = async () => {
    const { body } = await manage<{ items: Array<{ index: number; policy: Record<string, unknown>; etag: string }> }>('GET', base);
    setSaved(body.items.flatMap((i) => ('rateLimit' in i.policy ? [{ index: i.index, etag: i.etag, policy: i.policy as unknown as RateLimitPolicy }] : [])));
    setGeneration((g) => g + 1);
  };
  useEffect(() => {
    load().catch((e: Error) => setError(e));
  }, [api]);
  const done = (message: string) => {
    setAdding(false);
    setStatus(message);
    load().catch((e: Error) => setError(e));
  };

  if (!saved) return error ? <Failure error={error} /> : <p class="muted">Loading…</p>;
  const count = Math.max(1, saved.length + (adding ? 1 : 0));
  return (
    <section class="panel studio" aria-labelledby="limits-title" data-rate-limit-policies={String(saved.length)}>
      <h2 id="limits-title">Rate limits and quotas</h2>
      {saved.length > 1 && <p class="muted small">Each policy counts on its own; a request must be within the limits of every one of them.</p>}
      {saved.map((p, n) => (
        <LimitsEditor key={`${p.index}-${p.etag}`} base={base} ordinal={n + 1} count={count} place={p} onSaved={done} />
      ))}
      {(saved.length === 0 || adding) && <LimitsEditor key={`new-${generation}`} base={base} ordinal={saved.length + 1} count={count} place={undefined} onSaved={done} />}
      <Failure error={error} />
      <div class="form-actions">
        {saved.length > 0 && !adding && (
          <button type="button" class="button" onClick={() => {
              setStatus('');
              setAdding(true);
            }}>
            Add another rate-limit policy
          </button>
        )}
        <span class="muted small" role="status" data-limits-status>
          {status}
        </span>
      </div>
    </section>
  );
}

/** One rateLimit policy: saved with a PUT and its ETag; a new one is added at the end of the chain (after the ACLs); saved with no rows, it is removed. */
function LimitsEditor({ base, ordinal, count, place, onSaved }: { base: string; ordinal: number; count: number; place: SavedPolicy | undefined; onSaved(message: string): void }) {
  const policy = place?.policy;
  const [rows, setRows] = useState<Row[]>(() => [...(policy?.rateLimit.limits ?? []).map((e) => rowOf('limit', e)), ...(policy?.rateLimit.quotas ?? []).map((e) => rowOf('quota', e))]);
  const [error, setError] = useState<Error | string | undefined>();
  const title = count > 1 ? `Rate-limit policy ${ordinal}` : 'Rate-limit policy';
  const prefix = `limit-${ordinal}`;

  const edit = (i: number, patch: Partial<Row>) => setRows((all) => all.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  const save = async () => {
    setError(undefined);
    try {
      if (rows.length === 0) {
        if (place) await manage('DELETE', `${base}/${place.index}`, { ifMatch: place.etag });
      } else {
        const rateLimit = { ...(policy?.rateLimit ?? {}), limits: rows.filter((r) => r.kind === 'limit').map(entryOf), quotas: rows.filter((r) => r.kind === 'quota').map(entryOf) };
        if (!place) await manage('POST', base, { body: { rateLimit } });
        else await manage('PUT', `${base}/${place.index}`, { body: { rateLimit }, ifMatch: place.etag });
      }
      if (rows.length === 0 && !place) return onSaved('Nothing saved: a policy needs a limit or a quota.');
      draftChanged();
      onSaved(rows.length === 0 ? `${title} removed from the draft.` : 'Saved to the draft. Deploy to make it live.');
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <section class="chain-policy" aria-label={title} data-limits-editor={ordinal}>
      {count > 1 && (
        <h3>
          {title}
          <span class="muted small"> {place ? `(policy ${place.index + 1} of the chain)` : '(new, not saved yet)'}</span>
        </h3>
      )}
      {policy?.rateLimit.backend?.type === 'redis' && <Notice>Counters live in Redis (shared by every node); the backend is kept as the document sets it.</Notice>}
      {rows.length === 0 && <p class="empty">{place ? 'No limits: saving removes this policy.' : 'No limits: requests are not counted.'}</p>}
      <ol class="rules">
        {rows.map((row, i) => (
          <li key={i} class="rule" data-limit={i} aria-label={`${row.kind === 'limit' ? 'Limit' : 'Quota'} ${i + 1}`}>
            <div class="rule-head">
              <strong class="rule-title">{row.kind === 'limit' ? 'Limit' : 'Quota'}</strong>
              <Field id={`${prefix}-${i}-name`} label="Name" value={row.name} onInput={(name) => edit(i, { name })} />
              <Field id={`${prefix}-${i}-amount`} label={row.kind === 'limit' ? 'Requests' : 'Requests per period'} value={row.amount} onInput={(amount) => edit(i, { amount })} />
              {row.kind === 'limit' ? (
                <>
                  <Field id={`${prefix}-${i}-per`} label="Per" value={row.per} onInput={(per) => edit(i, { per })} placeholder="1m" />
                  <Field id={`${prefix}-${i}-burst`} label="Burst" value={row.burst} onInput={(burst) => edit(i, { burst })} placeholder="= requests" />
                </>
              ) : (
                <div class="field">
                  <label class="field-label" for={`${prefix}-${i}-period`}>
                    Period
                  </label>
                  <select id={`${prefix}-${i}-period`} value={row.period} onChange={(e) => edit(i, { period: (e.currentTarget as HTMLSelectElement).value as Row['period'] })}>
                    <option value="day">Day (UTC)</option>
                    <option value="month">Month (UTC)</option>
                  </select>
                </div>
              )}
              <div class="rule-actions">
                <button type="button" class="button danger" onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label={`Remove ${row.kind} ${i + 1}`}>
                  Remove
                </button>
              </div>
            </div>
            <fieldset class="choice">
              <legend class="field-label">Counted per</legend>
              {KEY_PARTS.map((part) => (
                <label key={part} class="choice-option">
                  <input type="checkbox" checked={row.key.includes(part)} onChange={(e) => edit(i, { key: (e.currentTarget as HTMLInputElement).checked ? [...row.key, part] : row.key.filter((k) => k !== part) })} />
                  {part}
                </label>
              ))}
            </fieldset>
            <div class="feature-pattern">
              <Field id={`${prefix}-${i}-methods`} label="Only these methods" value={row.methods} onInput={(methods) => edit(i, { methods })} placeholder="tools/call (all when empty)" />
              <Field id={`${prefix}-${i}-tools`} label="Only these tools" value={row.tools} onInput={(tools) => edit(i, { tools })} placeholder="comma-separated" />
            </div>
          </li>
        ))}
      </ol>
      <Failure error={error} />
      <div class="form-actions">
        <button type="button" class="button" onClick={() => setRows([...rows, blank('limit')])}>
          Add limit
        </button>
        <button type="button" class="button" onClick={() => setRows([...rows, blank('quota')])}>
          Add quota
        </button>
        <button type="button" class="button primary" onClick={save}>
          Save limits to draft
        </button>
      </div>
    </section>
  );
}

function Field(props: { id: string; label: string; value: string; onInput(value: string): void; placeholder?: string }) {
  return (
    <div class="field">
      <label class="field-label" for={props.id}>
        {props.label}
      </label>
      <input id={props.id} type="text" value={props.value} placeholder={props.placeholder} onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)} />
    </div>
  );
}
