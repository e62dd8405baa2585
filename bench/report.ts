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
  /** CPU microseconds per request: median over rounds. */
  proxyCpuUs: number;
  upstreamCpuUs: number;
  /** Per-round CPU µs/request of the proxy, to show the spread. */
  proxyCpuUsRounds: number[];
}

export function summarize(target: string, scenario: Scenario, cells: readonly CellResult[]): Summary {
  const usPerTick = 1e6 / clkTck();
  const requests = cells.reduce((s, c) => s + c.requests, 0);
  const proxyRounds = cells.map((c) => (c.proxyTicks * usPerTick) / c.requests);
  return {
    target,
    scenario: scenario.name,
    rounds: cells.length,
    requests,
    errors: cells.reduce((s, c) => s + c.errors.total, 0),
    rps: median(cells.map((c) => c.rps)),
    p50: median(cells.map((c) => c.p50)),
    p99: median(cells.map((c) => c.p99)),
    proxyCpuUs: median(proxyRounds),
    upstreamCpuUs: median(cells.map((c) => (c.upstreamTicks * usPerTick) / c.requests)),
    proxyCpuUsRounds: proxyRounds,
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
  // What a real deployment costs against the floor: the default config (audit on) and the full chain.
  pair('gatehouse+audit/floor', by('gatehouse+audit'), floor);
  pair('gatehouse+full-chain/floor', by('gatehouse+full-chain'), floor);
  // Federation's cost: three servers behind one API against one server, both through the full chain.
  pair('gatehouse+federated/gatehouse+full-chain', by('gatehouse+federated'), by('gatehouse+full-chain'));
  // Managed mode's cost: the same full chain deployed to the store and served by start --managed.
  pair('gatehouse+managed/gatehouse+full-chain', by('gatehouse+managed'), by('gatehouse+full-chain'));
  // Era bridging's cost: a 2026-07-28 client bridged onto the 2025 server against a 2025 client forwarded to it.
  pair('gatehouse+bridged/gatehouse', by('gatehouse+bridged'), gate);
  if (gate && direct) lines.push(`gatehouse/direct: throughput ${ratio(gate.rps, direct.rps)}, p50 ${ratio(gate.p50, direct.p50)}`);
  // The audit log's cost: the same Gatehouse with the audit log on, against it off.
  for (const name of ['gatehouse+api-key', 'gatehouse+jwt', 'gatehouse+audit', 'gatehouse+audit-payloads']) pair(`${name}/gatehouse`, by(name), gate);
  for (const name of ['mcp-proxy', 'mcp-proxy-stdio']) {
    pair(`${name}/floor`, by(name), floor);
    pair(`${name}/gatehouse`, by(name), gate);
  }
  // A/B of two builds (--baseline): each target against the same target of the other build.
  for (const row of rows) if (row.target.endsWith('@baseline')) pair(`${row.target.slice(0, -'@baseline'.length)} this build/baseline`, by(row.target.slice(0, -'@baseline'.length)), row);
  if (floor && gate && Number.isFinite(floor.proxyCpuUs) && Number.isFinite(gate.proxyCpuUs)) {
    lines.push(`gatehouse CPU above the floor: ${fmt(gate.proxyCpuUs - floor.proxyCpuUs)} us/req`);
  }
  return lines;
}
