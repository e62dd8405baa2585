// Time from a deploy to the change being live on every node of a cluster (issue 14's figure):
// three managed gateways on one Postgres schema, each a separate process (`gatehouse start
// --managed`), the polling fallback at its default (1 s). A deploy is made through node 1's
// management API; the clock runs from the deploy's request until each other node's admin
// /-/health names the new version (asked every 2 ms). Prints median and p99 over the deploys.
// Run: npm run build && node --import tsx bench/deploy-propagation.ts [--deploys 20]
//      (GATEHOUSE_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'bin', 'gatehouse.js');
const URL_ = process.env.GATEHOUSE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
const at = process.argv.indexOf('--deploys');
const DEPLOYS = at >= 0 ? Number(process.argv[at + 1]) : 20;

interface Node {
  readonly child: ChildProcess;
  readonly admin: string;
}

async function startNode(schema: string, key: string, i: number): Promise<Node> {
  const dir = mkdtempSync(path.join(tmpdir(), `gatehouse-cluster-${i}-`));
  const file = path.join(dir, 'node.yaml');
  writeFileSync(file, JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0, token: TOKEN }, store: { type: 'postgres', url: URL_, schema } }));
  // Each node its own data directory (its working directory), as on its own machine.
  const child = spawn(process.execPath, [CLI, 'start', '--managed', '--config', file], { cwd: dir, env: { ...process.env, GATEHOUSE_SESSION_KEY: key }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  for (let waited = 0; waited < 30_000; waited += 50) {
    const line = out.split('\n').find((l) => l.includes('"admin listening"'));
    if (line) return { child, admin: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`node ${i} did not start:\n${out.slice(-2000)}`);
}

async function call(node: Node, method: string, route: string, body?: unknown, ifMatch?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  if (ifMatch) headers['if-match'] = ifMatch;
  const response = await fetch(`${node.admin}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

async function servedVersion(node: Node): Promise<number | null> {
  return ((await (await fetch(`${node.admin}/-/health`)).json()) as { configVersion: number | null }).configVersion;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const schema = `gatehouse_bench_${randomBytes(5).toString('hex')}`;
  const key = randomBytes(32).toString('hex');
  const nodes: Node[] = [];
  try {
    for (let i = 1; i <= 3; i++) nodes.push(await startNode(schema, key, i));
    const [first, ...others] = nodes as [Node, ...Node[]];
    await call(first, 'POST', '/api/v1/servers', { name: 'upstream', url: 'http://127.0.0.1:9/mcp' });
    const times: number[] = [];
    for (let n = 1; n <= DEPLOYS; n++) {
      await call(first, 'POST', '/api/v1/apis', { name: `api${n}`, path: `/api${n}`, server: 'upstream' });
      const started = performance.now();
      const deployed = (await call(first, 'POST', '/api/v1/deployments', {})).version as number;
      const pending = new Set(others);
      while (pending.size > 0) {
        if (performance.now() - started > 10_000) throw new Error(`version ${deployed} not live on every node within 10 s`);
        for (const node of [...pending]) if ((await servedVersion(node)) === deployed) pending.delete(node);
        if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      times.push(performance.now() - started);
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(`deploy → live on 3 nodes (Postgres LISTEN/NOTIFY, 1 s polling fallback), ${DEPLOYS} deploys:`);
    console.log(`  median ${quantile(sorted, 0.5).toFixed(1)} ms, p99 ${quantile(sorted, 0.99).toFixed(1)} ms, min ${sorted[0]!.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);
  } finally {
    for (const node of nodes) node.child.kill('SIGTERM');
    const client = new pg.Client({ connectionString: URL_ });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

await main();
