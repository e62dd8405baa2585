// Logs: audit records newest first, filtered by the form (kept in the query string), paged with
// the API's cursor, optionally tailed live. A record opens in a side panel (/logs/<id>): Enter or
// a click on a row; Escape closes it and puts the focus back on the row.
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, type Live, type Meta, type Page, type RecordRow } from '../api.ts';
import { href, navigate, type Place } from '../router.ts';
import { ms, time } from '../format.ts';
import { DecisionBadge, Notice, Select, StatusBadge } from '../components/bits.tsx';
import { SafetyBadges } from '../components/safety-marks.tsx';
import { RecordPanel } from './record.tsx';

export const FILTER_KEYS = ['tenant', 'api', 'server', 'agent', 'user', 'method', 'tool', 'status', 'decision', 'since'] as const;
type Filters = Record<(typeof FILTER_KEYS)[number], string>;

const LIVE_EVERY_MS = 2000;
const METHODS = ['initialize', 'ping', 'tools/list', 'tools/call', 'resources/list', 'resources/read', 'resources/templates/list', 'resources/subscribe', 'prompts/list', 'prompts/get', 'completion/complete', 'logging/setLevel', 'notifications/initialized', 'GET', 'DELETE'];

function filtersOf(query: URLSearchParams): Filters {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, query.get(k) ?? ''])) as Filters;
}

export function Logs({ place, meta }: { place: Place; meta: Meta | undefined }) {
  const applied = filtersOf(place.query);
  const key = href('', applied);
  const openId = place.path.startsWith('/logs/') ? decodeURIComponent(place.path.slice('/logs/'.length)) : undefined;
  const [records, setRecords] = useState<RecordRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const [live, setLive] = useState(false);
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const table = useRef<HTMLTableSectionElement>(null);

  // First page whenever the filters change.
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(undefined);
    getJson<Page>(href('/api/logs', { ...applied, limit: '50' }), controller.signal).then(
      (page) => {
        setRecords(page.records);
        setNext(page.next);
        setFresh(new Set());
        setLoading(false);
      },
      (e: Error) => {
        if (controller.signal.aborted) return;
        setError(e.message);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [key]);

  // Live tail: ask for what is newer than the newest row shown.
  const newest = records[0]?.id;
  useEffect(() => {
    if (!live || loading) return;
    let stopped = false;
    let timer = 0;
    const poll = async () => {
      try {
        const got = await getJson<Live>(href('/api/live', { ...applied, after: newest ?? '' }));
        if (stopped) return;
        setError(undefined);
        if (got.records.length > 0) {
          setRecords((rows) => {
            const seen = new Set(rows.map((r) => r.id));
            return [...got.records.filter((r) => !seen.has(r.id)), ...rows];
          });
          setFresh(new Set(got.records.map((r) => r.id)));
          return; // the new newest id restarts this effect
        }
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
      if (!stopped) timer = window.setTimeout(poll, LIVE_EVERY_MS);
    };
    timer = window.setTimeout(poll, newest === undefined ? 0 : LIVE_EVERY_MS);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [live, loading, newest, key]);

  const older = async () => {
    if (!next) return;
    try {
      const page = await getJson<Page>(href('/api/logs', { ...applied, limit: '50', before: next }));
      setRecords((rows) => [...rows, ...page.records]);
      setNext(page.next);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const open = (id: string) => navigate(href(`/logs/${encodeURIComponent(id)}`, applied));
  const close = () => {
    navigate(href('/logs', applied));
    // Back to the row the panel was opened from.
    requestAnimationFrame(() => table.current?.querySelector<HTMLElement>(`tr[data-id="${CSS.escape(openId ?? '')}"]`)?.focus());
  };

  return (
    <div class={`screen logs${openId ? ' with-panel' : ''}`} data-state={loading ? 'loading' : 'ready'}>
      <div class="toolbar">
        <h1>Logs</h1>
        <label class="toggle">
          <input type="checkbox" checked={live} onChange={(e) => setLive((e.currentTarget as HTMLInputElement).checked)} />
          <span>Live tail</span>
        </label>
        <span class="toolbar-status" aria-live="polite" data-testid="log-count">
          {loading ? 'Loading…' : `${records.length}${next ? '+' : ''} record${records.length === 1 ? '' : 's'}${live ? ' · live' : ''}`}
        </span>
      </div>
      <FilterForm applied={applied} meta={meta} records={records} />
      {error && <Notice kind="error">{error}</Notice>}
      <div class="logs-body">
        <div class="logs-list">
          <table class="table logs-table" aria-label="Audit records, newest first">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">API</th>
                <th scope="col">Agent</th>
                <th scope="col" class="col-user">User</th>
                <th scope="col">Method</th>
                <th scope="col">Server</th>
                <th scope="col">Target</th>
                <th scope="col">Decision</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Duration
                </th>
              </tr>
            </thead>
            <tbody ref={table} onKeyDown={(e) => moveFocus(e)}>
              {records.map((r) => (
                <tr
                  key={r.id}
                  data-id={r.id}
                  tabIndex={0}
                  class={`row${r.id === openId ? ' selected' : ''}${fresh.has(r.id) ? ' fresh' : ''}`}
                  aria-selected={r.id === openId}
                  aria-label={`${time(r.time)} ${r.method}${r.target ? ` ${r.target}` : ''} by ${r.agent}: ${r.decision}, status ${r.status}${r.safety?.taint ? `, session taint: ${r.safety.taint}` : ''}${r.safety && r.safety.guardrails.length > 0 ? ', guardrail findings' : ''}. Press Enter for details.`}
                  onClick={() => open(r.id)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') {
                      e.preventDefault();
                      open(r.id);
                    }
                  }}
                >
                  <td class="mono nowrap">{time(r.time)}</td>
                  <td data-col="api">{r.api}</td>
                  <td data-col="agent">{r.agent}</td>
                  <td data-col="user">{r.user ?? ''}</td>
                  <td data-col="method">
                    <code>{r.method}</code>
                  </td>
                  <td data-col="server">{r.server ?? ''}</td>
                  <td data-col="target" class="ellipsis" title={r.originalTarget !== undefined && r.originalTarget !== r.target ? `${r.target ?? ''} (on ${r.server ?? 'its server'}: ${r.originalTarget})` : r.target}>
                    {r.target ?? ''}
                  </td>
                  <td data-col="decision">
                    <DecisionBadge decision={r.decision} />
                    <SafetyBadges safety={r.safety} />
                  </td>
                  <td data-col="status">
                    <StatusBadge status={r.status} errorCode={r.errorCode} toolError={r.toolError} />
                  </td>
                  <td class="num nowrap">{ms(r.durationMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {!loading && records.length === 0 && <p class="empty">No records match these filters.</p>}
          {next && (
            <button type="button" class="button more" onClick={older}>
              Load older records
            </button>
          )}
        </div>
        {openId && <RecordPanel id={openId} onClose={close} />}
      </div>
    </div>
  );
}

/** Up and down arrows move between rows, Home and End jump to the ends. */
function moveFocus(e: KeyboardEvent): void {
  const row = (e.target as HTMLElement).closest('tr');
  if (!row) return;
  const target = e.key === 'ArrowDown' ? row.nextElementSibling : e.key === 'ArrowUp' ? row.previousElementSibling : e.key === 'Home' ? row.parentElement?.firstElementChild : e.key === 'End' ? row.parentElement?.lastElementChild : undefined;
  if (target instanceof HTMLElement) {
    e.preventDefault();
    target.focus();
  }
}

function FilterForm({ applied, meta, records }: { applied: Filters; meta: Meta | undefined; records: RecordRow[] }) {
  const [draft, setDraft] = useState<Filters>(applied);
  const appliedKey = href('', applied);
  useEffect(() => setDraft(applied), [appliedKey]);
  const apply = (filters: Filters) => navigate(href('/logs', filters));
  const text = (name: keyof Filters, label: string, list?: string[]) => (
    <div class="field">
      <label class="field-label" for={`filter-${name}`}>
        {label}
      </label>
      <input
        id={`filter-${name}`}
        name={name}
        type="search"
        value={draft[name]}
        list={list ? `filter-${name}-list` : undefined}
        autoComplete="off"
        onInput={(e) => setDraft({ ...draft, [name]: (e.currentTarget as HTMLInputElement).value })}
      />
      {list && (
        <datalist id={`filter-${name}-list`}>
          {list.map((v) => (
            <option key={v} value={v} />
          ))}
        </datalist>
      )}
    </div>
  );
  const seen = (pick: (r: RecordRow) => string | undefined) => [...new Set(records.map(pick).filter((v): v is string => !!v))].sort().slice(0, 50);
  const choose = (name: keyof Filters) => (value: string) => {
    const next = { ...draft, [name]: value };
    setDraft(next);
    apply(next);
  };
  return (
    <form
      class="filters"
      aria-label="Filter the records"
      onSubmit={(e) => {
        e.preventDefault();
        apply(draft);
      }}
    >
      {(meta?.tenants?.length ?? 0) > 0 && (
        <Select id="filter-tenant" label="Tenant" value={draft.tenant} options={[['', 'All'], ...(meta?.tenants ?? []).map((t): [string, string] => [t, t])]} onChange={choose('tenant')} />
      )}
      <Select id="filter-api" label="API" value={draft.api} options={[['', 'All'], ...(meta?.apis ?? []).map((a): [string, string] => [a.name, a.name])]} onChange={choose('api')} />
      <Select id="filter-server" label="Server" value={draft.server} options={[['', 'All'], ...(meta?.servers ?? []).map((s): [string, string] => [s, s])]} onChange={choose('server')} />
      {text('agent', 'Agent', seen((r) => r.agent))}
      {text('user', 'User', seen((r) => r.user))}
      {text('method', 'Method', METHODS)}
      {text('tool', 'Tool / target', seen((r) => r.target))}
      <Select id="filter-status" label="Status" value={draft.status} options={[['', 'Any'], ['ok', 'OK'], ['error', 'Error'], ['tool_error', 'Tool error']]} onChange={choose('status')} />
      <Select id="filter-decision" label="Decision" value={draft.decision} options={[['', 'Any'], ['allowed', 'Allowed'], ['denied', 'Denied'], ['error', 'Error']]} onChange={choose('decision')} />
      <Select
        id="filter-since"
        label="Time"
        value={draft.since}
        options={[['', 'Any time'], ['15m', 'Last 15 minutes'], ['1h', 'Last hour'], ['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ...(draft.since && !['15m', '1h', '24h', '7d'].includes(draft.since) ? [[draft.since, `Since ${draft.since}`] as [string, string]] : [])]}
        onChange={choose('since')}
      />
      <div class="filter-actions">
        <button type="submit" class="button primary">
          Apply
        </button>
        <button
          type="button"
          class="button"
          onClick={() => apply(Object.fromEntries(FILTER_KEYS.map((k) => [k, ''])) as Filters)}
        >
          Clear
        </button>
      </div>
    </form>
  );
}
