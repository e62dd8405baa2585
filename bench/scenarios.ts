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
  /** Run only when `--scenarios` names it (not in the default run). */
  readonly onRequest?: boolean;
}

const ECHO = { method: 'tools/call', params: { name: 'echo', arguments: { message: 'hello' } } };
const LIST = { method: 'tools/list', params: {} };
/** An echo whose result is 100 KB (the message comes back): what content policies read per KB. */
const LARGE_ECHO = { method: 'tools/call', params: { name: 'echo', arguments: { message: 'lorem ipsum dolor sit amet '.repeat(3800).slice(0, 100 * 1024) } } };

export const SCENARIOS: readonly Scenario[] = [
  { name: 'tools/call echo, 1 session', ...ECHO, sessions: 1 },
  { name: 'tools/call echo, 32 sessions', ...ECHO, sessions: 32 },
  { name: 'tools/list, 1 session', ...LIST, sessions: 1 },
  { name: 'tools/list, 32 sessions', ...LIST, sessions: 32 },
  { name: 'large echo 100 KB, 1 session', ...LARGE_ECHO, sessions: 1, onRequest: true },
  { name: 'large echo 100 KB, 32 sessions', ...LARGE_ECHO, sessions: 32, onRequest: true },
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
 * Opens fresh sessions and sends one request on each (not measured), then reads the CPU counters, runs `requests` requests in a
 * closed loop, reads the counters again, and closes the sessions.
 */
export async function runCell(target: Target, scenario: Scenario, requests: number): Promise<CellResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  try {
    const sessions = await openSessions(target.url, agent, scenario.sessions, 32, target.era);
    // One request per session first, not measured: what a session sets up at its first request
    // (a federated session opens the member it routes to then, with initialize, its list and the
    // stored session row) is a cost per session, not per request; 62 requests per session would
    // otherwise carry it. Every target is primed alike.
    await runLoad({ url: target.url, agent, sessions, total: sessions.length, method: scenario.method, params: paramsFor(target, scenario), era: target.era });
    const proxy0 = cpuTicks(target.pid);
    const upstream0 = upstreamTicks(target);
    const load = await runLoad({ url: target.url, agent, sessions, total: requests, method: scenario.method, params: paramsFor(target, scenario), era: target.era });
    const proxyTicks = cpuTicks(target.pid) - proxy0;
    const upstreamCpu = upstreamTicks(target) - upstream0;
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
      upstreamTicks: upstreamCpu,
      errors: load.errors,
    };
  } finally {
    agent.destroy();
  }
}

/** A federated target names its tools with their server's prefix (`everything__echo`). */
function paramsFor(target: Target, scenario: Scenario): unknown {
  if (target.toolPrefix === undefined || scenario.method !== 'tools/call') return scenario.params;
  const params = scenario.params as { name: string; arguments: unknown };
  return { ...params, name: target.toolPrefix + params.name };
}

/** CPU ticks of every upstream process behind a target (a federated target has several). */
function upstreamTicks(target: Target): number {
  let ticks = 0;
  for (const pid of target.upstreamPids ?? [target.upstreamPid]) ticks += cpuTicks(pid);
  return ticks;
}
