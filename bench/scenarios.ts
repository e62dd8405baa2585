// Scenarios and the measurement of one cell (one target x scenario x round).
import http from 'node:http';
import { closeSessions, openSessions, runLoad, type ErrorLog } from './load-client.ts';
import { cpuTicks } from './proc.ts';
import { latencySummary } from './stats.ts';
import type { Target } from './targets.ts';

export interface Scenario {
  readonly name: string;
  readonly method: string;
  readonly params: unknown;
  readonly sessions: number;
}

const ECHO = { method: 'tools/call', params: { name: 'echo', arguments: { message: 'hello' } } };
const LIST = { method: 'tools/list', params: {} };

export const SCENARIOS: readonly Scenario[] = [
  { name: 'tools/call echo, 1 session', ...ECHO, sessions: 1 },
  { name: 'tools/call echo, 32 sessions', ...ECHO, sessions: 32 },
  { name: 'tools/list, 1 session', ...LIST, sessions: 1 },
  { name: 'tools/list, 32 sessions', ...LIST, sessions: 32 },
];

export interface CellResult {
  requests: number;
  ok: number;
  elapsedMs: number;
  rps: number;
  p50: number;
  p99: number;
  /** CPU clock ticks used during the measured load. */
  proxyTicks: number;
  upstreamTicks: number;
  errors: ErrorLog;
}

/**
 * Opens fresh sessions (not measured), then reads the CPU counters, runs `requests` requests in a
 * closed loop, reads the counters again, and closes the sessions.
 */
export async function runCell(target: Target, scenario: Scenario, requests: number): Promise<CellResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  try {
    const sessions = await openSessions(target.url, agent, scenario.sessions);
    const proxy0 = cpuTicks(target.pid);
    const upstream0 = cpuTicks(target.upstreamPid);
    const load = await runLoad({ url: target.url, agent, sessions, total: requests, method: scenario.method, params: scenario.params });
    const proxyTicks = cpuTicks(target.pid) - proxy0;
    const upstreamTicks = cpuTicks(target.upstreamPid) - upstream0;
    await closeSessions(target.url, agent, sessions);
    const { p50, p99 } = latencySummary(load.latenciesMs);
    const ok = load.latenciesMs.length;
    return {
      requests,
      ok,
      elapsedMs: load.elapsedMs,
      rps: (ok / load.elapsedMs) * 1000,
      p50,
      p99,
      proxyTicks,
      upstreamTicks,
      errors: load.errors,
    };
  } finally {
    agent.destroy();
  }
}
