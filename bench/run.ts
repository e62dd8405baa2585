// Gatehouse benchmark: the same closed-loop MCP load against server-everything directly, behind a
// bare reverse proxy (the floor), behind Gatehouse and behind mcp-proxy, targets interleaved.
// Run: npm run bench [-- --quick | --help]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BASELINE_SUFFIX, parseConfig, USAGE, type BenchConfig, type BenchTarget, type TargetName } from './config.ts';
import { clkTck, loadAverage, machineDescription, rssMiB } from './proc.ts';
import { ratioLines, scenarioTable, summarize, type Summary } from './report.ts';
import { runCell, SCENARIOS, type CellResult } from './scenarios.ts';
import * as targets from './targets.ts';
import { readAuditRecords } from './audit-records.ts';
import { fmt } from './stats.ts';
import { useLegacyRevision } from './load-client.ts';
import type { Target } from './targets.ts';

let config: BenchConfig;
try {
  config = parseConfig(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
  process.exit(2);
}
if (config.help) {
  console.log(USAGE);
  process.exit(0);
}

const log = (line = '') => console.log(line);
const requestsFor = (sessions: number) => (sessions === 1 ? config.requests1 : config.requests32);
const scenarios = config.scenarios.length === 0 ? SCENARIOS.filter((s) => !s.onRequest) : SCENARIOS.filter((s) => config.scenarios.some((part) => s.name.includes(part)));
if (scenarios.length === 0) {
  console.error(`no scenario matches --scenarios ${config.scenarios.join(',')} (scenarios: ${SCENARIOS.map((s) => s.name).join('; ')})`);
  process.exit(2);
}
// Warm-up runs the 32-session scenarios (the 1-session ones when only those were chosen).
const warmups = scenarios.some((s) => s.sessions > 1) ? scenarios.filter((s) => s.sessions > 1) : scenarios;

async function startTarget(name: BenchTarget): Promise<Target> {
  if (!name.endsWith(BASELINE_SUFFIX)) return startBuiltTarget(name as TargetName);
  const target = await targets.fromBuild(config.baseline!, () => startBuiltTarget(name.slice(0, -BASELINE_SUFFIX.length) as TargetName));
  return { ...target, name: `${target.name}${BASELINE_SUFFIX}` };
}

function startBuiltTarget(name: TargetName): Promise<Target> {
  switch (name) {
    case 'direct':
      return targets.direct();
    case 'floor':
      return targets.floor();
    case 'gatehouse':
      return targets.gatehouse();
    case 'gatehouse+api-key':
      return targets.gatehouse('off', 'api-key');
    case 'gatehouse+jwt':
      return targets.gatehouse('off', 'jwt');
    case 'gatehouse+audit':
      return targets.gatehouse('metadata');
    case 'gatehouse+full-chain':
      return targets.gatehouse('metadata', 'full-chain');
    case 'gatehouse+federated':
      return targets.federated();
    case 'gatehouse+safety':
      return targets.gatehouse('metadata', 'full-chain', '2025', false, true);
    case 'gatehouse+managed':
      return targets.gatehouse('metadata', 'full-chain', '2025', true);
    case 'gatehouse+bridged':
      return targets.gatehouse('off', 'keyless', '2026-07-28');
    case 'gatehouse+audit-payloads':
      return targets.gatehouse('payloads');
    case 'mcp-proxy':
      return targets.mcpProxy();
    case 'mcp-proxy-stdio':
      return targets.mcpProxyStdio();
  }
}

/** Runs the idle-session heap step in its own process (it needs --expose-gc). */
function runIdleStep(sessions: number): Promise<string | undefined> {
  const limitMs = 240_000;
  return new Promise((resolve) => {
    const child = targets.track(
      spawn(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', path.join(targets.ROOT, 'bench', 'idle-sessions.ts'), '--sessions', String(sessions)],
        { cwd: targets.ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
      ),
    );
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve(`stopped after ${limitMs / 1000} s`);
      else resolve(code === 0 ? undefined : `exit ${code ?? signal}`);
    });
  });
}

async function main(): Promise<number> {
  useLegacyRevision(config.legacyRevision);
  log('# Gatehouse benchmark');
  for (const line of machineDescription()) log(line);
  log(
    `settings: rounds=${config.rounds} requests/cell: ${config.requests32} at 32 sessions, ${config.requests1} at 1 session; ` +
      `warm-up ${config.warmup}/target/scenario${config.quick ? ' (--quick)' : ''}; 2025 load client speaks ${config.legacyRevision}`,
  );
  log(`Gatehouse's Node flags: ${targets.gatehouseNodeFlags().join(' ') || '(none)'}`);
  log();

  const running: Target[] = [];
  const unavailable: string[] = [];
  for (const name of config.targets) {
    try {
      running.push(await startTarget(name));
    } catch (err) {
      unavailable.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  log('## Targets');
  for (const t of running) log(`- ${t.name} (pid ${t.pid}, upstream pid ${t.upstreamPid}): ${t.setup}`);
  for (const u of unavailable) log(`- UNAVAILABLE ${u}`);
  log();

  const cells = new Map<string, CellResult[]>();
  const errorLines: string[] = [];
  const key = (t: string, s: string) => `${t}\u0000${s}`;
  /** Successful requests per target, warm-up included: what its audit log must hold. */
  const answered = new Map<string, number>();
  const record = (target: Target, scenarioName: string, cell: CellResult) => {
    answered.set(target.name, (answered.get(target.name) ?? 0) + cell.ok);
    const list = cells.get(key(target.name, scenarioName)) ?? [];
    list.push(cell);
    cells.set(key(target.name, scenarioName), list);
    for (const line of cell.errors.describe()) errorLines.push(`${target.name} / ${scenarioName}: ${line}`);
  };

  const t0 = Date.now();
  process.stdout.write('warm-up');
  for (const target of running) {
    for (const scenario of warmups) {
      try {
        answered.set(target.name, (answered.get(target.name) ?? 0) + (await runCell(target, scenario, config.warmup)).ok);
      } catch (err) {
        errorLines.push(`${target.name} / warm-up: ${err instanceof Error ? err.message : String(err)}`);
      }
      process.stdout.write('.');
    }
  }
  log(` ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  for (let round = 0; round < config.rounds; round++) {
    process.stdout.write(`round ${round + 1}/${config.rounds} `);
    for (const [si, scenario] of scenarios.entries()) {
      // Rotate the target order each round and scenario so no target always runs first or last.
      const shift = running.length > 0 ? (round + si) % running.length : 0;
      const order = [...running.slice(shift), ...running.slice(0, shift)];
      for (const target of order) {
        try {
          record(target, scenario.name, await runCell(target, scenario, requestsFor(scenario.sessions)));
        } catch (err) {
          errorLines.push(`${target.name} / ${scenario.name}: cell failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        process.stdout.write('.');
      }
    }
    log(` ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  log();

  log(`## Results (every figure: median of ${config.rounds} round(s); us = microseconds)`);
  log('proxy CPU = CPU time (user+sys, /proc) of the proxy process per request; for direct, the upstream itself in parentheses.');
  const tickUs = 1e6 / clkTck();
  log(
    `CPU is counted in ticks of ${tickUs / 1000} ms: +-${(tickUs / config.requests32).toFixed(0)} us/request per round at ` +
      `${config.requests32} requests, +-${(tickUs / config.requests1).toFixed(0)} at ${config.requests1}.`,
  );
  const summaries: Summary[] = [];
  for (const scenario of scenarios) {
    const rows = running
      .map((t) => cells.get(key(t.name, scenario.name)))
      .map((list, i) => (list && list.length > 0 ? summarize(running[i]!.name, scenario, list) : undefined))
      .filter((r): r is Summary => r !== undefined);
    summaries.push(...rows);
    log();
    log(`### ${scenario.name} (${requestsFor(scenario.sessions)} requests/round)`);
    log(scenarioTable(rows));
    for (const line of ratioLines(rows)) log(`  ${line}`);
  }
  log();
  log('## Fairness notes');
  log('- Each target has its own server-everything process (Streamable HTTP; stdio for mcp-proxy-stdio), same traffic.');
  log('- mcp-proxy multiplexes every downstream session onto ONE upstream session (its design); Gatehouse and the floor');
  log('  keep one upstream session per client session, so the upstream does per-session work for them that it skips for mcp-proxy.');
  log('- mcp-proxy runs with its defaults (event store on, 2026-07-28 leg on, CORS on); the floor does no MCP work at all.');
  log('- gatehouse+bridged is the config of gatehouse loaded by a 2026-07-28 client (no sessions): its concurrent');
  log('  requests share one bridged upstream session (one agent, one declaration), where gatehouse has one per client session.');
  log('- mcp-proxy-stdio is the mcp-proxy CLI as shipped (stdio upstream only): no upstream HTTP hop, so not apples-to-apples.');
  log('- The load client, the proxy and the upstream share 2 cores: req/s and latency move with machine noise;');
  log('  CPU time per request of the proxy process is the stable figure to compare.');
  log();
  log(`## Errors (${errorLines.length === 0 ? 'none' : errorLines.length + ' kinds'})`);
  for (const line of errorLines) log(`- ${line}`);
  log(`load phase: ${((Date.now() - t0) / 1000).toFixed(1)} s; at its end ${loadAverage()}`);
  log(`RSS after the load: ${running.map((t) => `${t.name} ${rssMiB(t.pid)} (its upstream ${rssMiB(t.upstreamPid)})`).join(', ')}`);

  const resultsDir = path.join(targets.ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    path.join(resultsDir, 'latest.json'),
    JSON.stringify({ date: new Date().toISOString(), machine: machineDescription(), config, unavailable, summaries, errors: errorLines }, null, 2),
  );

  for (const t of running) await t.stop();
  const audited = running.filter((t) => t.auditFile !== undefined);
  if (audited.length > 0) {
    log();
    log('## Audit log (read after each gatehouse+audit target stopped with SIGTERM)');
    for (const t of audited) {
      const a = readAuditRecords(t.auditFile!);
      const sent = answered.get(t.name) ?? 0;
      log(
        `- ${t.name}: ${a.total} records (sessions included); ${a.answered} for the ${sent} successful bench requests: ` +
          `${Math.max(0, sent - a.answered)} lost; written at ${fmt(a.meanPerSecond)} records/s on average, ${a.peakPerSecond} in the busiest second`,
      );
    }
  }
  await targets.stopAll();

  // A requested target that could not start makes the run fail (after printing what it could).
  let status = unavailable.length > 0 ? 1 : 0;
  if (!config.skipIdle) {
    log();
    const failure = await runIdleStep(config.idleSessions);
    if (failure) {
      log(`idle-session step failed (${failure})`);
      status = 1;
    }
  }
  return status;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  console.error('benchmark failed:', err);
} finally {
  await targets.stopAll();
}
process.exit(exitCode);
