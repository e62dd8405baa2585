// Starts and stops the benchmark targets, each in its own process so its CPU can be read from
// /proc. Every process started here is registered and killed by stopAll() (also on exit).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEverything, everythingStdioCommand, type RunningEverything } from '../src/demo/everything.ts';
import { childPids } from './proc.ts';
import { heapFlagsFor } from '../src/cli/heap-tuning.ts';
import { SignJWT } from 'jose';
import http from 'node:http';
import { closeSessions, openSessions, runLoad, useCredential, type Era } from './load-client.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = path.join(ROOT, 'bench');
const START_TIMEOUT_MS = 30_000;

export interface Target {
  readonly name: string;
  /** MCP endpoint the load client talks to. */
  readonly url: URL;
  /** Process whose CPU counts as this target's (the proxy; for `direct`, the upstream). */
  readonly pid: number;
  /** The MCP server process behind it (a federated target: the first of them). */
  readonly upstreamPid: number;
  /** Every MCP server process behind it, when there are several (upstream CPU is their sum). */
  readonly upstreamPids?: readonly number[];
  /** The revision the load client speaks to it: 2025 (sessions) unless it says 2026-07-28. */
  readonly era?: Era;
  /** Prefix of tool names in calls (a federated API: `everything__`). */
  readonly toolPrefix?: string;
  /** One line on how it is set up. */
  readonly setup: string;
  /** Gatehouse with its audit log on: the SQLite file, read after the target stopped. */
  readonly auditFile?: string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];

/** Registers a child process so that stopAll() and process exit stop it. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after 3 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops every process started by this module and removes temp files. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map(stopChild));
  for (const cleanup of cleanups.splice(0)) cleanup();
}

process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0)) cleanup();
});
// Turn signals into a normal exit so the 'exit' handler above kills the children.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** A free TCP port on 127.0.0.1 (tiny race between closing and reuse; fine on a bench box). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connection to the port succeeds; rejects if the child exits or on timeout. */
async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`exited with ${child.exitCode ?? child.signalCode} before listening; its output: ${output().slice(-1500) || '(none)'}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not listening on ${port} after ${START_TIMEOUT_MS} ms; its output: ${output().slice(-1500) || '(none)'}`);
}

/**
 * Spawns a node process in the repo root and waits for its port. Keeps the tail of its stdout and
 * stderr (Gatehouse logs JSON lines on stdout, errors included) for the message if it fails.
 */
/** The built CLI, a free port and a throwaway folder (removed at the end) for one Gatehouse target's files. */
/** The checkout whose build the Gatehouse targets run (this one, or --baseline's while one of its targets starts). */
let buildRoot = ROOT;

/** Starts a target with another checkout's build (bench A/B of two builds in the same rounds). */
export async function fromBuild<T>(root: string, start: () => Promise<T>): Promise<T> {
  if (!existsSync(path.join(root, 'dist'))) throw new Error(`--baseline ${root} has no dist/: run npm run build there first`);
  buildRoot = root;
  try {
    return await start();
  } finally {
    buildRoot = ROOT;
  }
}

export async function gatehouseFiles(): Promise<{ bin: string; port: number; dir: string; config: string }> {
  const bin = path.join(buildRoot, 'bin', 'gatehouse.js');
  if (!existsSync(bin)) throw new Error('bin/gatehouse.js does not exist');
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { bin, port, dir, config: path.join(dir, 'gatehouse.yaml') };
}

/** Runs a gatehouse command to its end (bench setup); throws with its output when it fails. */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const bin = path.join(buildRoot, 'bin', 'gatehouse.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`gatehouse ${args.join(' ')} exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
}

/**
 * Node flags for a Gatehouse target. First the young generation `gatehouse start` gives itself on
 * Node 22.15+ (src/cli/heap-tuning.ts): given here too, so that every Node the bench runs on
 * measures Gatehouse as it serves there (a value in BENCH_NODE_FLAGS wins: `--max-semi-space-size=16`
 * measures V8's default). Then, to see where its CPU per request goes:
 * BENCH_CPU_PROF_DIR, a V8 CPU profile written there when it stops (open it in Chrome DevTools);
 * BENCH_NODE_FLAGS, more flags (`--trace-gc-nvp`, say), with the process's output then written
 * to a file in BENCH_OUTPUT_DIR (default: the OS's temporary folder).
 */
export function gatehouseNodeFlags(): string[] {
  const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF_DIR] : [];
  const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== '');
  const heap = heapFlagsFor({ argv: ['node', 'gatehouse.js', 'start'], execArgv: extra, nodeOptions: process.env.NODE_OPTIONS }) ?? [];
  return [...heap, ...profile, ...extra];
}

export async function spawnNode(args: string[], port: number, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const child = track(
    spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let output = '';
  const copy = process.env.BENCH_NODE_FLAGS ? createWriteStream(path.join(process.env.BENCH_OUTPUT_DIR ?? os.tmpdir(), `bench-${child.pid}.log`)) : undefined;
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      output = (output + chunk).slice(-4096);
      copy?.write(chunk);
    });
  }
  child.once('exit', () => copy?.end());
  try {
    await waitForPort(port, child, () => output);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return child;
}

/** A fresh server-everything over Streamable HTTP: each target gets its own, so that state one
 * target leaves in its upstream (sessions, event stores) cannot slow down another. */
export async function startUpstream(): Promise<RunningEverything> {
  const upstream = await startEverything({ transport: 'streamableHttp' });
  track(upstream.child);
  return upstream;
}

export async function direct(): Promise<Target> {
  const upstream = await startUpstream();
  return {
    name: 'direct',
    url: new URL('/mcp', upstream.origin),
    pid: upstream.child.pid!,
    upstreamPid: upstream.child.pid!,
    setup: 'server-everything over Streamable HTTP, no proxy (CPU column = the upstream itself)',
    stop: () => upstream.close(),
  };
}

export async function floor(): Promise<Target> {
  const upstream = await startUpstream();
  const port = await freePort();
  const child = await spawnNode(
    ['--import', 'tsx', path.join(BENCH, 'floor-proxy.ts'), '--upstream', upstream.origin, '--port', String(port)],
    port,
  );
  return {
    name: 'floor',
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    pid: child.pid!,
    upstreamPid: upstream.child.pid!,
    setup: 'bare node:http streaming reverse proxy (bench/floor-proxy.ts), keep-alive upstream Agent',
    stop: async () => {
      await stopChild(child);
      await upstream.close();
    },
  };
}

/**
 * Gatehouse with its audit log off (the proxy alone, as `gatehouse`), on with metadata only (the
 * default config), or on with payloads (request params and responses, redacted, capped at 8kb).
 */
// The authentication variants: the same Gatehouse with an api-key or a jwt plan, so the CPU cost
// of authenticating every request shows against the keyless figure in the same run.
const BENCH_API_KEY = `gh_bench_${randomBytes(16).toString('hex')}`;
const BENCH_JWT_SECRET = randomBytes(32).toString('hex');
const AUTH_CONFIG = {
  keyless: '{ type: keyless }',
  'api-key': '{ type: api-key }',
  jwt: `{ type: jwt, issuer: "https://bench.invalid", audience: gatehouse-bench, secret: "${BENCH_JWT_SECRET}" }`,
} as const;

function benchJwt(): Promise<string> {
  return new SignJWT({ scope: 'mcp' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://bench.invalid')
    .setAudience('gatehouse-bench')
    .setSubject('bench-agent')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(BENCH_JWT_SECRET));
}

/**
 * The chain a real deployment runs: an ACL of 50 rules, each with a CEL condition, over glob,
 * regex and any patterns (one deny rule), then a rate limit that is never reached. The rule
 * that lets the bench agent call `echo` and list tools comes late, so every request walks the
 * list; deny overrides allow, so each decision checks every rule's patterns anyway.
 */
export function fullChainPolicies(): string[] {
  const rules: string[] = [];
  for (let i = 0; i < 48; i++) {
    const team = `team-${i % 12}`;
    switch (i % 4) {
      case 0:
        rules.push(`{ name: r${i}, features: [{ type: tools, methods: [tools/list, tools/call], pattern: { type: glob, value: "${team}_*" } }], condition: 'agent.labels.team == "${team}"' }`);
        break;
      case 1:
        rules.push(`{ name: r${i}, features: [{ type: tools, methods: [tools/call], pattern: { type: regex, value: "proj${i}_(read|list)_[a-z]+" } }], condition: 'agent.labels.team == "${team}" && mcp.method == "tools/call"' }`);
        break;
      case 2:
        rules.push(`{ name: r${i}, features: [{ type: resources, methods: [resources/read, resources/list], pattern: { type: glob, value: "file:///srv/${team}/**" } }], condition: 'agent.id.startsWith("${team}-")' }`);
        break;
      default:
        rules.push(`{ name: r${i}, features: [{ type: prompts, methods: [prompts/list, prompts/get], pattern: { type: any } }], condition: '"${team}" in agent.labels && agent.labels["${team}"] == "yes"' }`);
    }
  }
  rules.push(`{ name: no-destructive, effect: deny, features: [{ type: tools, methods: [tools/call], pattern: { type: glob, value: "*delete*" } }], condition: 'agent.labels.team != "admin"' }`);
  rules.push(`{ name: bench-tools, features: [{ type: tools, methods: [tools/list, tools/call], pattern: { type: any } }], condition: 'agent.labels.team == "bench" && agent.id == "bench-agent"' }`);
  return [
    '    policies:',
    '      - acl:',
    '          rules:',
    ...rules.map((rule) => `            - ${rule}`),
    '      - rateLimit:',
    '          limits:',
    '            - { name: per-agent, key: [agent], rate: 1000000, per: 1s }',
  ];
}

/**
 * The safety policies of issue 16 behind the full chain (`gatehouse+safety`): pinning, taint and
 * guardrails at their defaults, echo marked as returning untrusted output (so every call taints
 * its session and is checked as such) — what they cost against the same chain without them.
 */
async function listOnce(url: URL): Promise<void> {
  const agent = new http.Agent({ keepAlive: true });
  const sessions = await openSessions(url, agent, 1, 1);
  await runLoad({ url, agent, sessions, total: 1, method: 'tools/list', params: {} });
  await closeSessions(url, agent, sessions);
  agent.destroy();
}

const SAFETY_POLICIES = ['      - pinning: { mode: enforce }', '      - taint: {}', '      - guardrails: {}', 'toolAnnotations:', '  everything:', '    echo: { untrustedOutput: true }'];

/**
 * `era: '2026-07-28'` is `gatehouse+bridged`: the very config of `gatehouse`, loaded by a
 * 2026-07-28 client. server-everything speaks 2025 (its `server/discover` probe fails), so
 * Gatehouse bridges: one pooled upstream session per agent and declaration (src/bridge/).
 */
export async function gatehouse(audit: 'off' | 'metadata' | 'payloads' = 'off', auth: 'keyless' | 'api-key' | 'jwt' | 'full-chain' = 'keyless', era: Era = '2025', managed = false, safety = false): Promise<Target> {
  const upstream = await startUpstream();
  const { bin, port, dir, config } = await gatehouseFiles();
  const listen = `listen: { host: 127.0.0.1, port: ${port} }`;
  const auditLine = audit === 'off' ? 'audit: { enabled: false }' : audit === 'payloads' ? 'audit: { payloads: true }' : '';
  writeFileSync(
    config,
    [
      // Managed: the same servers, APIs, policies and agents as a document deployed to the store;
      // listen and audit are the node's own settings (node.yaml below).
      ...(managed ? [] : [listen]),
      'servers:',
      '  everything:',
      `    url: ${upstream.origin}/mcp`,
      'apis:',
      '  - name: everything',
      '    path: /mcp',
      '    server: everything',
      `    auth: ${AUTH_CONFIG[auth === 'full-chain' ? 'api-key' : auth]}`,
      ...(auth === 'full-chain' ? fullChainPolicies() : []),
      ...(safety ? SAFETY_POLICIES : []),
      ...(auth === 'api-key' || auth === 'full-chain' ? ['agents:', '  - id: bench-agent', '    labels: { team: bench }', '    apiKeys:', `      - value: "${BENCH_API_KEY}"`] : []),
      ...(managed ? [] : [auditLine]),
      '',
    ].join('\n'),
  );
  const env = { GATEHOUSE_SESSION_KEY: randomBytes(32).toString('hex'), GATEHOUSE_DATA_DIR: path.join(dir, 'data') };
  const node = path.join(dir, 'node.yaml');
  if (managed) {
    // The document is deployed to the store first (version 1), as `gatehouse apply` does.
    writeFileSync(node, [listen, 'admin: { enabled: false }', auditLine, ''].join('\n'));
    await runCli(['apply', '-f', config, '--config', node], env);
  }
  const child = await spawnNode([...gatehouseNodeFlags(), bin, 'start', ...(managed ? ['--managed', '--config', node] : ['--config', config])], port, env);
  const endpoint = new URL(`http://127.0.0.1:${port}/mcp`);
  if (auth === 'api-key' || auth === 'full-chain') useCredential(endpoint, `Bearer ${BENCH_API_KEY}`);
  if (auth === 'jwt') useCredential(endpoint, `Bearer ${await benchJwt()}`);
  // Pinning under enforce shows (and lets through) only tools it has seen listed: one list first.
  if (safety) await listOnce(endpoint);
  const bridged = era !== '2025';
  return {
    name: bridged ? 'gatehouse+bridged' : managed ? 'gatehouse+managed' : safety ? 'gatehouse+safety' : auth === 'full-chain' ? 'gatehouse+full-chain' : auth !== 'keyless' ? `gatehouse+${auth}` : audit === 'off' ? 'gatehouse' : audit === 'metadata' ? 'gatehouse+audit' : 'gatehouse+audit-payloads',
    ...(bridged && { era }),
    ...(audit !== 'off' && { auditFile: path.join(dir, 'data', 'audit.db') }),
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    pid: child.pid!,
    upstreamPid: upstream.child.pid!,
    setup:
      (safety ? 'the chain of gatehouse+full-chain plus tool pinning (enforce), session taint (echo marked untrustedOutput: every call taints) and guardrails with their default detectors; ' : '') +
      (auth === 'full-chain'
        ? 'Gatehouse (bin/gatehouse.js start), api-key API, ACL of 50 rules with CEL conditions (glob/regex/any patterns, one deny) and a rate limit never reached, HTTP upstream; '
        : `Gatehouse (bin/gatehouse.js start), ${auth} API, empty policy chain, HTTP upstream; `) +
      (bridged ? 'load client speaking 2026-07-28 (no session, _meta on every request), bridged to the 2025 upstream; ' : '') +
      (managed ? 'managed mode (start --managed: the same document deployed to the store, the control plane polling it); ' : '') +
      (audit === 'off' ? 'audit log off' : audit === 'metadata' ? 'audit log on (the default: metadata only, SQLite)' : 'audit log on with payloads (SQLite)'),
    stop: async () => {
      await stopChild(child);
      await upstream.close();
    },
  };
}

/**
 * A federated API of three servers behind one endpoint, with the full chain of
 * `gatehouse+full-chain` (api-key, 50-rule ACL, rate limit, metadata audit): the figure to put
 * against that single-server target. The three members are server-everything processes over
 * Streamable HTTP, so that both targets reach their servers through the same transport and the
 * ratio is federation's own cost (routing, renaming, merged lists), not a difference of
 * transports; stdio members would also start two child processes per client session.
 */
export async function federated(): Promise<Target> {
  const members = ['everything', 'everything2', 'everything3'];
  const upstreams: RunningEverything[] = [];
  for (let i = 0; i < members.length; i++) upstreams.push(await startUpstream());
  const { bin, port, dir, config } = await gatehouseFiles();
  writeFileSync(
    config,
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      'servers:',
      ...members.flatMap((name, i) => [`  ${name}:`, `    url: ${upstreams[i]!.origin}/mcp`]),
      'apis:',
      '  - name: workspace',
      '    path: /mcp',
      `    servers: [${members.join(', ')}]`,
      '    namespace: { prefix: always, separator: "__" }',
      `    auth: ${AUTH_CONFIG['api-key']}`,
      ...fullChainPolicies(),
      'agents:',
      '  - id: bench-agent',
      '    labels: { team: bench }',
      '    apiKeys:',
      `      - value: "${BENCH_API_KEY}"`,
      '',
    ].join('\n'),
  );
  const env = { GATEHOUSE_SESSION_KEY: randomBytes(32).toString('hex'), GATEHOUSE_DATA_DIR: path.join(dir, 'data') };
  const child = await spawnNode([...gatehouseNodeFlags(), bin, 'start', '--config', config], port, env);
  const endpoint = new URL(`http://127.0.0.1:${port}/mcp`);
  useCredential(endpoint, `Bearer ${BENCH_API_KEY}`);
  return {
    name: 'gatehouse+federated',
    auditFile: path.join(dir, 'data', 'audit.db'),
    url: endpoint,
    pid: child.pid!,
    upstreamPid: upstreams[0]!.child.pid!,
    upstreamPids: upstreams.map((u) => u.child.pid!),
    toolPrefix: 'everything__',
    setup:
      'Gatehouse, federated API of 3 server-everything processes over Streamable HTTP (prefix always: calls everything__echo, ' +
      'lists merge 3 tool lists), with the chain of gatehouse+full-chain (api-key, 50-rule ACL, rate limit, metadata audit)',
    stop: async () => {
      await stopChild(child);
      await Promise.all(upstreams.map((u) => u.close()));
    },
  };
}

export async function mcpProxy(): Promise<Target> {
  const upstream = await startUpstream();
  const port = await freePort();
  const child = await spawnNode(
    // --no-warnings: fetch adds an abort listener per request to the SDK v2 HTTP client transport's
    // one long-lived signal (freed only by GC); past 1500 Node prints a MaxListenersExceededWarning
    // per request, which would charge mcp-proxy about a third more CPU for a side issue (README).
    ['--no-warnings', '--import', 'tsx', path.join(BENCH, 'mcp-proxy-http.ts'), '--upstream', `${upstream.origin}/mcp`, '--port', String(port)],
    port,
  );
  return {
    name: 'mcp-proxy',
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    pid: child.pid!,
    upstreamPid: upstream.child.pid!,
    setup:
      'mcp-proxy library composed as its CLI does, upstream over Streamable HTTP (bench/mcp-proxy-http.ts); ' +
      'all downstream sessions share ONE upstream session; run with --no-warnings',
    stop: async () => {
      await stopChild(child);
      await upstream.close();
    },
  };
}

export async function mcpProxyStdio(): Promise<Target> {
  const port = await freePort();
  const bin = path.join(ROOT, 'node_modules', 'mcp-proxy', 'dist', 'bin', 'mcp-proxy.mjs');
  const stdio = everythingStdioCommand();
  const child = await spawnNode(
    [bin, '--host', '127.0.0.1', '--port', String(port), '--server', 'stream', '--', stdio.command, ...stdio.args],
    port,
  );
  const upstreamPid = childPids(child.pid!)[0];
  if (upstreamPid === undefined) {
    await stopChild(child);
    throw new Error('mcp-proxy CLI started but its stdio server process was not found');
  }
  return {
    name: 'mcp-proxy-stdio',
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    pid: child.pid!,
    upstreamPid,
    setup:
      'mcp-proxy CLI as shipped, spawning server-everything over stdio (its own upstream process); ' +
      'NOT apples-to-apples: no upstream HTTP hop, one shared upstream session',
    stop: () => stopChild(child),
  };
}
