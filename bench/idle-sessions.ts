// Heap per idle session of Gatehouse in front of a Streamable HTTP upstream.
// Starts server-everything (child process) and Gatehouse in this process, opens N sessions
// (initialize + notifications/initialized, ~32 at a time), keeps only their id strings, and
// compares heapUsed after full GCs before and after.
// Run: node --expose-gc --import tsx bench/idle-sessions.ts [--sessions N] [--floor]
//   --floor  measures the in-process floor proxy instead (holds no session state: a sanity check
//            that the method reports ~0 bytes per session).
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEverything } from '../src/demo/everything.ts';
import { startFloorProxy } from './floor-proxy.ts';
import { openSessions } from './load-client.ts';
import { rssMiB } from './proc.ts';
import { startGateway } from '../src/gateway.ts';

const TARGET_BYTES = 2048;

interface Subject {
  port: number;
  close(): Promise<void>;
}

const { values } = parseArgs({
  options: { sessions: { type: 'string', default: '10000' }, floor: { type: 'boolean', default: false } },
});
const sessions = Number(values.sessions);
if (!Number.isInteger(sessions) || sessions < 1) throw new Error('--sessions must be a positive integer');
const runGc = globalThis.gc;
if (!runGc) throw new Error('run with node --expose-gc');

/** Full GCs with turns of the event loop between them (lets weak callbacks and finalizers run). */
async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    runGc!();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().heapUsed;
}

async function startSubject(upstreamMcp: string, dataDir: string): Promise<Subject> {
  if (values.floor) {
    const server = await startFloorProxy(new URL(upstreamMcp));
    const address = server.address();
    return {
      port: typeof address === 'object' && address ? address.port : 0,
      close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
    };
  }
  return startGateway({
    config: {
      listen: { host: '127.0.0.1', port: 0 },
      servers: { everything: { url: upstreamMcp } },
      apis: [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } }],
      log: { level: 'warn' }, // no startup lines in the middle of the report; nothing is logged per session
    },
    dataDir,
    env: { ...process.env, GATEHOUSE_SESSION_KEY: randomBytes(32).toString('hex') },
  });
}

const subjectName = values.floor ? 'floor proxy (sanity check)' : 'Gatehouse';
const upstream = await startEverything({ transport: 'streamableHttp' });
// Never leave the upstream behind, also when stopped by a signal (run.ts bounds this step's time).
process.once('exit', () => upstream.child.kill('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-idle-'));
let gateway: Subject | undefined;
try {
  gateway = await startSubject(`${upstream.origin}/mcp`, dataDir);
  const url = new URL(`http://127.0.0.1:${gateway.port}/mcp`);

  // Warm-up (not measured): first sessions pay for lazy initialisation, JIT and pools.
  const warmAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  await openSessions(url, warmAgent, Math.min(200, sessions), 32);
  warmAgent.destroy();

  const before = await heapAfterGc();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const t0 = performance.now();
  let ids: string[] | undefined = await openSessions(url, agent, sessions, 32);
  const openMs = performance.now() - t0;
  agent.destroy();
  await new Promise((r) => setTimeout(r, 200)); // let the server side see the sockets close
  const after = await heapAfterGc();
  ids = undefined; // drop what the client holds; the sessions stay open on the gateway
  const afterDrop = await heapAfterGc();

  const raw = (after - before) / sessions;
  const clientHeld = (after - afterDrop) / sessions;
  const corrected = (afterDrop - before) / sessions;
  console.log(`## Idle sessions: heap per open session of ${subjectName} (HTTP upstream)`);
  console.log(`sessions opened: ${sessions} in ${(openMs / 1000).toFixed(1)} s (${((sessions / openMs) * 1000).toFixed(0)}/s, 32 at a time)`);
  console.log(`heapUsed before: ${(before / 2 ** 20).toFixed(1)} MiB, after: ${(after / 2 ** 20).toFixed(1)} MiB`);
  console.log(`raw (after-before)/N: ${raw.toFixed(0)} B/session (includes the id strings the client keeps)`);
  console.log(`client-held id strings: ${clientHeld.toFixed(0)} B/session (measured by freeing them: subtracted below)`);
  console.log(
    `=> ${subjectName}: ${corrected.toFixed(0)} B per idle session ` +
      `(target < ${TARGET_BYTES}: ${corrected < TARGET_BYTES ? 'PASS' : 'FAIL'})`,
  );
  console.log(`upstream (server-everything, separate process) RSS: ${rssMiB(upstream.child.pid!)}: its per-session state, not ours`);
} finally {
  await gateway?.close();
  await upstream.close();
  rmSync(dataDir, { recursive: true, force: true });
}
