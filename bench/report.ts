// Aggregates cells over rounds and prints the result tables and ratios.
import { clkTck } from './proc.ts';
import type { CellResult, Scenario } from './scenarios.ts';
import { fmt, median, ratio, table } from './stats.ts';

export interface Summary {
  target: string;
  scenario: string;
  rounds: number;
  requests: number;
  errors: number;
  /** Medians over rounds. */
  rps: number;
  p50: number;
  p99: number;
  /** CPU microseconds per request, pooled over all rounds (sum of ticks / sum of requests). */
  proxyCpuUs: number;
  upstreamCpuUs: number;
  /** Per-round CPU µs/request of the proxy, to show the spread. */
  proxyCpuUsRounds: number[];
}

export function summarize(target: string, scenario: Scenario, cells: readonly CellResult[]): Summary {
  const usPerTick = 1e6 / clkTck();
  const requests = cells.reduce((s, c) => s + c.requests, 0);
  const perReq = (ticks: number) => (requests > 0 ? (ticks * usPerTick) / requests : Number.NaN);
  return {
    target,
    scenario: scenario.name,
    rounds: cells.length,
    requests,
    errors: cells.reduce((s, c) => s + c.errors.total, 0),
    rps: median(cells.map((c) => c.rps)),
    p50: median(cells.map((c) => c.p50)),
    p99: median(cells.map((c) => c.p99)),
    proxyCpuUs: perReq(cells.reduce((s, c) => s + c.proxyTicks, 0)),
    upstreamCpuUs: perReq(cells.reduce((s, c) => s + c.upstreamTicks, 0)),
    proxyCpuUsRounds: cells.map((c) => (c.proxyTicks * usPerTick) / c.requests),
  };
}

export function scenarioTable(rows: readonly Summary[]): string {
  return table(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'proxy CPU us/req', '(per round)', 'upstream CPU us/req', 'errors'],
    rows.map((r) => [
      r.target,
      fmt(r.rps),
      fmt(r.p50, 2),
      fmt(r.p99, 2),
      r.target === 'direct' ? `(${fmt(r.proxyCpuUs)})` : fmt(r.proxyCpuUs),
      r.proxyCpuUsRounds.map((v) => fmt(v)).join('/'),
      fmt(r.upstreamCpuUs),
      `${r.errors}/${r.requests}`,
    ]),
  );
}

/** Ratio lines for one scenario: gatehouse vs floor and direct, mcp-proxy vs floor and gatehouse. */
export function ratioLines(rows: readonly Summary[]): string[] {
  const by = (name: string) => rows.find((r) => r.target === name);
  const direct = by('direct');
  const floor = by('floor');
  const gate = by('gatehouse');
  const lines: string[] = [];
  const pair = (label: string, a: Summary | undefined, b: Summary | undefined) => {
    if (!a || !b) return;
    lines.push(
      `${label}: CPU/req ${ratio(a.proxyCpuUs, b.proxyCpuUs)}, throughput ${ratio(a.rps, b.rps)}, p50 ${ratio(a.p50, b.p50)}`,
    );
  };
  pair('gatehouse/floor', gate, floor);
  if (gate && direct) lines.push(`gatehouse/direct: throughput ${ratio(gate.rps, direct.rps)}, p50 ${ratio(gate.p50, direct.p50)}`);
  for (const name of ['mcp-proxy', 'mcp-proxy-stdio']) {
    pair(`${name}/floor`, by(name), floor);
    pair(`${name}/gatehouse`, by(name), gate);
  }
  if (floor && gate && Number.isFinite(floor.proxyCpuUs) && Number.isFinite(gate.proxyCpuUs)) {
    lines.push(`gatehouse CPU above the floor: ${fmt(gate.proxyCpuUs - floor.proxyCpuUs)} us/req`);
  }
  return lines;
}
