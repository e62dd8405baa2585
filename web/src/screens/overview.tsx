// Overview: traffic of one API or all, over a time range. Totals first (what a person checks at a
// glance), then the time series, then what was used and what was refused, and who did what.
import { useMemo } from 'preact/hooks';
import type { Meta, OverviewView } from '../api.ts';
import { follow, href, navigate, type Place } from '../router.ts';
import { useApi } from '../use-api.ts';
import { count, ms, percent } from '../format.ts';
import { Notice, Panel, Select } from '../components/bits.tsx';
import { TimeChart, type SeriesSpec } from '../components/chart.tsx';
import { Ranking } from '../components/ranking.tsx';
import { Matrix } from '../components/matrix.tsx';

const RANGES: Array<[string, string]> = [
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
];

// Stable functions: a new one per render would rebuild the charts.
const formatCount = (v: number) => count(Math.round(v));
const formatRate = (v: number) => `${Math.round(v)}%`;

const COLORS = { requests: '#3b74c4', errors: '#d6453d', toolErrors: '#c2410c', denied: '#e0a100', p50: '#3b74c4', p90: '#8a5cc2', p99: '#d6453d' };

export function Overview({ place, meta }: { place: Place; meta: Meta | undefined }) {
  const range = place.query.get('range') ?? '1h';
  const api = place.query.get('api') ?? '';
  const server = place.query.get('server') ?? '';
  const { data, error, loading } = useApi<OverviewView>(href('/api/overview', { range, api, server }), range === '7d' ? 60_000 : 10_000);
  const set = (key: string, value: string) => navigate(href('/', { range, api, server, [key]: value }), { replace: true });

  return (
    <div class="screen" data-state={loading ? 'loading' : 'ready'}>
      <div class="toolbar" role="group" aria-label="Overview settings">
        <h1>Overview</h1>
        <Select id="overview-api" label="API" value={api} options={[['', 'All APIs'], ...(meta?.apis ?? []).map((a): [string, string] => [a.name, `${a.name} (${a.path})`])]} onChange={(v) => set('api', v)} />
        <Select id="overview-server" label="Server" value={server} options={[['', 'All servers'], ...(meta?.servers ?? []).map((s): [string, string] => [s, s])]} onChange={(v) => set('server', v)} />
        <Select id="overview-range" label="Time range" value={range} options={RANGES} onChange={(v) => set('range', v)} />
        <span class="toolbar-status" aria-live="polite">
          {loading ? 'Loading…' : data ? `Updated ${new Date().toLocaleTimeString()}` : ''}
        </span>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {data && <OverviewBody data={data} api={api} server={server} range={range} />}
    </div>
  );
}

function OverviewBody({ data, api, server, range }: { data: OverviewView; api: string; server: string; range: string }) {
  const { totals } = data;
  const charts = useMemo(() => chartData(data), [data]);
  const logs = (extra: Record<string, string>) => href('/logs', { api, server, since: range, ...extra });
  return (
    <>
      <div class="stats" role="list" aria-label="Totals">
        <Stat name="requests" label="Requests" value={count(totals.requests)} link={logs({})} />
        <Stat name="errors" label="Errors" value={count(totals.errors)} note={`${percent(totals.errors, totals.requests)} error rate`} bad={totals.errors > 0} link={logs({ status: 'error' })} />
        <Stat name="tool-errors" label="Tool errors" value={count(totals.toolErrors)} note="results marked isError" bad={totals.toolErrors > 0} link={logs({ status: 'tool_error' })} />
        <Stat name="denied" label="Denied" value={count(totals.denied)} note={percent(totals.denied, totals.requests)} bad={totals.denied > 0} link={logs({ decision: 'denied' })} />
        <Stat name="p50" label="Latency p50" value={ms(totals.p50)} note={latencyNote(totals.exchanges)} />
        <Stat name="p90" label="Latency p90" value={ms(totals.p90)} />
        <Stat name="p99" label="Latency p99" value={ms(totals.p99)} />
      </div>
      {totals.requests === 0 && <Notice>No exchanges recorded {api ? `on ${api} ` : ''}in this range.</Notice>}
      <div class="grid">
        <Panel title="Requests over time" id="requests-chart" wide>
          <TimeChart x={charts.x} step={charts.step} series={charts.requests} format={formatCount} integer summary={`${totals.requests} requests, ${totals.errors} errors, ${totals.toolErrors} tool errors, ${totals.denied} denied`} />
        </Panel>
        <Panel title="Error rate" id="error-rate-chart">
          <TimeChart x={charts.x} step={charts.step} series={charts.errorRate} format={formatRate} summary={`${percent(totals.errors, totals.requests)} of requests failed, ${percent(totals.toolErrors, totals.requests)} were tool errors`} />
        </Panel>
        <Panel title="Latency" id="latency-chart">
          <TimeChart x={charts.x} step={charts.step} series={charts.latency} format={ms} summary={`p50 ${ms(totals.p50)}, p90 ${ms(totals.p90)}, p99 ${ms(totals.p99)} over ${count(totals.exchanges)} request/response exchanges`} />
        </Panel>
        <Panel title="Methods" id="methods">
          <Ranking kind="methods" label="Requests per method" rows={data.methods.map((m) => ({ name: m.method, count: m.count }))} empty="No requests." />
        </Panel>
        <Panel title="Top tools" id="top-tools">
          <Ranking kind="tools" label="Most called tools" rows={data.topTools} empty="No tool calls." />
        </Panel>
        <Panel title="Top resources" id="top-resources">
          <Ranking kind="resources" label="Most read resources" rows={data.topResources} empty="No resource reads." />
        </Panel>
        <Panel title="Top prompts" id="top-prompts">
          <Ranking kind="prompts" label="Most used prompts" rows={data.topPrompts} empty="No prompts fetched." />
        </Panel>
        <Panel title="Denied calls" id="denied">
          <DeniedTable rows={data.denied} logs={logs} />
        </Panel>
        <Panel title="Agents × tools" id="matrix">
          <Matrix cells={data.matrix} />
        </Panel>
      </div>
    </>
  );
}

/** What the percentiles describe: calls and their answers, not how long streams stayed open. */
function latencyNote(exchanges: number): string {
  return `${count(exchanges)} request/response exchange${exchanges === 1 ? '' : 's'}`;
}

function Stat({ name, label, value, note, bad, link }: { name: string; label: string; value: string; note?: string; bad?: boolean; link?: string }) {
  const body = (
    <>
      <span class="stat-label">{label}</span>
      <span class="stat-value" data-value>
        {value}
      </span>
      {note && <span class="stat-note">{note}</span>}
    </>
  );
  return (
    <div role="listitem" class={`stat${bad ? ' stat-bad' : ''}`} data-stat={name}>
      {link ? (
        <a href={link} class="stat-link" onClick={follow} aria-label={`${label}: ${value}. Show these in the logs`}>
          {body}
        </a>
      ) : (
        body
      )}
    </div>
  );
}

function DeniedTable({ rows, logs }: { rows: OverviewView['denied']; logs: (extra: Record<string, string>) => string }) {
  if (rows.length === 0) return <p class="empty">Nothing was denied in this range.</p>;
  return (
    <table class="table" aria-label="Denied calls by agent, method, target and rule">
      <thead>
        <tr>
          <th scope="col">Agent</th>
          <th scope="col">Method</th>
          <th scope="col">Target</th>
          <th scope="col">Rule</th>
          <th scope="col" class="num">
            Count
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const link = logs({ decision: 'denied', agent: r.agent, method: r.method, tool: r.target ?? '' });
          return (
            <tr key={`${r.agent}|${r.method}|${r.target}|${r.rule}`} data-denied-row>
              <td>{r.agent}</td>
              <td>
                <code>{r.method}</code>
              </td>
              <td>
                <a href={link} onClick={follow}>
                  {r.target ?? '—'}
                </a>
              </td>
              <td>{r.rule ?? '—'}</td>
              <td class="num" data-col="count">
                {count(r.count)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Every bucket of the range, with zeros (counts) or gaps (latencies) where nothing happened. */
function chartData(data: OverviewView): { x: number[]; step: number; requests: SeriesSpec[]; errorRate: SeriesSpec[]; latency: SeriesSpec[] } {
  const bucket = data.bucketMs;
  // Points are merged per bucket in case a reader returns finer ones: counts add up, and a
  // bucket's percentile is the highest of its parts (an upper bound, never an understatement).
  const byT = new Map<number, OverviewView['series'][number]>();
  for (const p of data.series) {
    const t = Math.floor(p.t / bucket) * bucket;
    const q = byT.get(t);
    byT.set(
      t,
      q
        ? {
            t,
            requests: q.requests + p.requests,
            exchanges: q.exchanges + p.exchanges,
            errors: q.errors + p.errors,
            toolErrors: q.toolErrors + p.toolErrors,
            denied: q.denied + p.denied,
            p50: Math.max(q.p50, p.p50),
            p90: Math.max(q.p90, p.p90),
            p99: Math.max(q.p99, p.p99),
          }
        : { ...p, t },
    );
  }
  const x: number[] = [];
  const req: number[] = [];
  const err: number[] = [];
  const tool: number[] = [];
  const den: number[] = [];
  const rate: Array<number | null> = [];
  const toolRate: Array<number | null> = [];
  const p50: Array<number | null> = [];
  const p90: Array<number | null> = [];
  const p99: Array<number | null> = [];
  for (let t = data.since; t < data.until; t += bucket) {
    const p = byT.get(t);
    x.push(t / 1000);
    req.push(p?.requests ?? 0);
    err.push(p?.errors ?? 0);
    tool.push(p?.toolErrors ?? 0);
    den.push(p?.denied ?? 0);
    rate.push(p && p.requests > 0 ? (100 * p.errors) / p.requests : null);
    toolRate.push(p && p.requests > 0 ? (100 * p.toolErrors) / p.requests : null);
    // A bucket with only streams or notifications has no latency: a gap, not a zero.
    p50.push(p && p.exchanges > 0 ? p.p50 : null);
    p90.push(p && p.exchanges > 0 ? p.p90 : null);
    p99.push(p && p.exchanges > 0 ? p.p99 : null);
  }
  return {
    x,
    step: bucket / 1000,
    // Errors, tool errors and denials are drawn over the requests bar they are part of.
    requests: [
      { label: 'Requests', color: COLORS.requests, kind: 'bars', values: req },
      { label: 'Errors', color: COLORS.errors, kind: 'bars', values: err },
      { label: 'Tool errors', color: COLORS.toolErrors, kind: 'bars', values: tool },
      { label: 'Denied', color: COLORS.denied, kind: 'bars', values: den },
    ],
    errorRate: [
      { label: 'Error rate', color: COLORS.errors, kind: 'line', values: rate },
      { label: 'Tool error rate', color: COLORS.toolErrors, kind: 'line', values: toolRate },
    ],
    latency: [
      { label: 'p50', color: COLORS.p50, kind: 'line', values: p50 },
      { label: 'p90', color: COLORS.p90, kind: 'line', values: p90 },
      { label: 'p99', color: COLORS.p99, kind: 'line', values: p99 },
    ],
  };
}
