// The cost of bridging the eras: Gatehouse's CPU per tools/call when a 2026-07-28 client calls a
// 2025 server (bridged: src/bridge/) against a 2025-06-18 client calling it (forwarded), one
// client at a time, rounds interleaved. Run: npm run build && node --import tsx bench/era-bridge.ts
// [--requests N] [--rounds R]. Target (issue 13): bridged ≤ 1.2× forwarded.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { closeSessions, openSessions, post, resultProblem, runLoad } from './load-client.ts';
import { clkTck, cpuTicks } from './proc.ts';
import { gatehouse, stopAll, type Target } from './targets.ts';

const MODERN = '2026-07-28';
const ECHO = { name: 'echo', arguments: { message: 'hello' } };

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

interface Cell {
  readonly ok: number;
  readonly ticks: number;
  readonly ms: number;
}

async function forwarded(target: Target, agent: http.Agent, requests: number): Promise<Cell> {
  const sessions = await openSessions(target.url, agent, 1);
  const t0 = cpuTicks(target.pid);
  const load = await runLoad({ url: target.url, agent, sessions, total: requests, method: 'tools/call', params: ECHO });
  const ticks = cpuTicks(target.pid) - t0;
  await closeSessions(target.url, agent, sessions);
  if (load.errors.total > 0) throw new Error(`forwarded: ${load.errors.describe().join('; ')}`);
  return { ok: load.latenciesMs.length, ticks, ms: load.elapsedMs };
}

async function bridged(target: Target, agent: http.Agent, requests: number): Promise<Cell> {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
  const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'gatehouse-bench', version: '0.1.0' } };
  const params = JSON.stringify({ ...ECHO, _meta: meta });
  // The bridged session is opened by the first request (not measured), as a client's first call opens it.
  const first = await post(target.url, agent, headers, `{"jsonrpc":"2.0","id":0,"method":"tools/call","params":${params}}`, 0);
  const problem = resultProblem(first, 0);
  if (problem) throw new Error(`bridged warm-up: ${problem}`);
  const t0 = cpuTicks(target.pid);
  const start = performance.now();
  let ok = 0;
  for (let id = 1; id <= requests; id++) {
    const reply = await post(target.url, agent, headers, `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${params}}`, id);
    const failed = resultProblem(reply, id);
    if (failed) throw new Error(`bridged: ${failed}`);
    ok++;
  }
  return { ok, ticks: cpuTicks(target.pid) - t0, ms: performance.now() - start };
}

async function main(): Promise<void> {
  const requests = flag('--requests', 3000);
  const rounds = flag('--rounds', 5);
  const target = await gatehouse();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const perCall = (cell: Cell) => ((cell.ticks / clkTck()) * 1e6) / cell.ok; // µs of CPU per call
  try {
    await forwarded(target, agent, 500);
    await bridged(target, agent, 500);
    const rows: Array<{ round: number; forwarded: number; bridged: number; fRps: number; bRps: number }> = [];
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 0 ? (['bridged', 'forwarded'] as const) : (['forwarded', 'bridged'] as const);
      const cells: Record<string, Cell> = {};
      for (const kind of order) cells[kind] = kind === 'forwarded' ? await forwarded(target, agent, requests) : await bridged(target, agent, requests);
      rows.push({ round, forwarded: perCall(cells.forwarded!), bridged: perCall(cells.bridged!), fRps: (cells.forwarded!.ok / cells.forwarded!.ms) * 1000, bRps: (cells.bridged!.ok / cells.bridged!.ms) * 1000 });
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    console.log(`Gatehouse CPU per tools/call echo, one client, server-everything over Streamable HTTP (2025), ${requests} calls per cell, ${rounds} rounds`);
    console.log('| round | forwarded (2025-06-18 client) µs | bridged (2026-07-28 client) µs | ratio | forwarded req/s | bridged req/s |');
    console.log('| - | - | - | - | - | - |');
    for (const r of rows) console.log(`| ${r.round} | ${r.forwarded.toFixed(0)} | ${r.bridged.toFixed(0)} | ${(r.bridged / r.forwarded).toFixed(2)} | ${r.fRps.toFixed(0)} | ${r.bRps.toFixed(0)} |`);
    const f = median(rows.map((r) => r.forwarded));
    const b = median(rows.map((r) => r.bridged));
    console.log(`median: forwarded ${f.toFixed(0)} µs, bridged ${b.toFixed(0)} µs, ratio ${(b / f).toFixed(2)} (target ≤ 1.20)`);
  } finally {
    agent.destroy();
    await target.stop();
    await stopAll();
  }
}

await main();
