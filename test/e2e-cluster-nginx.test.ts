// Three managed Gatehouse nodes (child processes of the built CLI) on one Postgres schema and one
// Redis, behind a real nginx from the distribution's packages balancing round-robin, with no
// session affinity. Through the balancer, with the official SDK client:
//   - a deployment made through node 1's management API is seen on every API within 2 s;
//   - stdio sessions keep working although their requests land on any node (forwarded to the
//     node that holds the child);
//   - a rate limit on Redis holds across the nodes;
//   - a node killed (SIGKILL) mid-run loses its own stdio sessions (404: the client starts a new
//     one) and no other: HTTP sessions and the other nodes' stdio sessions go on.
// nginx runs unprivileged (as nobody when the test runs as root) with its prefix, pid file, logs
// and temp folders in a temporary folder. Skipped with one line when nginx, Postgres or Redis is
// missing, unless GATEHOUSE_REQUIRE_NGINX / _POSTGRES / _REDIS=1.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI, startEverything, tempDir } from './helpers/gatehouse.ts';
import { nginxRequirement, postgresRequirement, redisRequirement } from './helpers/requirements.ts';
import { freePort } from './helpers/lifecycle-procs.ts';
import { everythingEntry } from '../src/demo/everything.ts';
import { SessionSealer } from '../src/session/seal.ts';

const nginx = nginxRequirement();
const postgres = postgresRequirement();
const redis = redisRequirement();
const TOKEN = `cluster-nginx-admin-${randomBytes(8).toString('hex')}`;
const ALL_TOOLS = { acl: { rules: [{ name: 'all tools', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'any' } }] }] } };
const HIDE_SUM = { name: 'no sums', effect: 'deny', features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: { type: 'literal', value: 'get-sum' } }] };

const cleanups: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
});

interface Node {
  readonly child: ChildProcess;
  readonly id: string;
  readonly port: number;
  readonly admin: string;
  output(): string;
}

async function startNode(dir: string, settings: Record<string, unknown>, key: string): Promise<Node> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'node.json');
  writeFileSync(file, JSON.stringify(settings));
  const child = spawn(process.execPath, [CLI, 'start', '--managed', '--config', file], { cwd: dir, env: { ...process.env, GATEHOUSE_SESSION_KEY: key }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const listening = lines.find((l) => l.msg === 'gatehouse listening');
    const admin = lines.find((l) => l.msg === 'admin listening');
    if (listening && admin) return { child, id: listening.node as string, port: listening.port as number, admin: `http://127.0.0.1:${admin.port as number}`, output: () => out };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`a node did not start:\n${out.slice(-3000)}`);
}

async function call(node: Node, method: string, route: string, body?: unknown, ifMatch?: string): Promise<{ etag: string | null; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  if (ifMatch) headers['if-match'] = ifMatch;
  const response = await fetch(`${node.admin}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return { etag: response.headers.get('etag'), body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** nginx in the foreground (daemon off), unprivileged, everything under `dir`. */
async function startNginx(binary: string, dir: string, port: number, nodes: readonly Node[]): Promise<ChildProcess> {
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, sub), { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream gatehouse {
    # Round-robin, no session affinity: forwarding between the nodes does the rest.
${nodes.map((n) => `    server 127.0.0.1:${n.port} max_fails=1 fail_timeout=10s;`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gatehouse;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout;
    }
  }
}
`,
  );
  // Unprivileged: as the test's own user, or as nobody when the test runs as root.
  const root = process.getuid?.() === 0;
  if (root) for (const entry of [dir, ...readdirSync(dir).map((e) => path.join(dir, e))]) chownSync(entry, 65534, 65534);
  const child = spawn(binary, ['-p', dir, '-c', conf, '-e', `${dir}/error.log`], { stdio: ['ignore', 'pipe', 'pipe'], ...(root ? { uid: 65534, gid: 65534 } : {}) });
  cleanups.push(() => void child.kill('SIGTERM'));
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let log = '';
  try {
    log = readFileSync(`${dir}/error.log`, 'utf8');
  } catch {
    // no log yet
  }
  throw new Error(`nginx did not start: ${out}\n${log}`);
}

async function sdkClient(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'cluster-nginx-test', version: '1.0.0' });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, transport };
}

const toolNames = async (client: Client) => (await client.listTools()).tools.map((t) => t.name);

if (nginx.binary === undefined || postgres.url === undefined || redis.url === undefined) {
  test('three nodes behind nginx', { skip: nginx.skip || postgres.skip || redis.skip }, () => {
    nginx.check();
    postgres.check();
    redis.check();
  });
} else {
  const nginxBinary = nginx.binary;
  const pgUrl = postgres.url;
  const redisUrl = redis.url;
  test('three nodes behind nginx round-robin: deploys everywhere within 2 s, stdio sessions work, a shared rate limit holds, a killed node loses only its own stdio sessions', { timeout: 180_000 }, async () => {
    const schema = `gatehouse_nginx_${randomBytes(5).toString('hex')}`;
    cleanups.push(async () => {
      const db = new pg.Client({ connectionString: pgUrl });
      await db.connect();
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.end();
    });
    const everything = await startEverything();
    cleanups.push(() => everything.close());
    const key = randomBytes(32).toString('hex');
    const sealer = new SessionSealer(Buffer.from(key, 'hex'));
    const dir = tempDir('gatehouse-nginx-');
    const settings = {
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      store: { type: 'postgres', url: pgUrl, schema },
      cluster: { heartbeatInterval: 200, nodeTimeout: 1500 },
    };
    const nodes: Node[] = [];
    for (let i = 1; i <= 3; i++) nodes.push(await startNode(path.join(dir, `node${i}`), settings, key));
    const [first] = nodes as [Node, ...Node[]];
    const health = async (node: Node) => (await (await fetch(`${node.admin}/-/health`)).json()) as { configVersion: number | null; cluster?: { node: string; nodes: number } };
    // Every node registered, and each knows the three (admin /-/health).
    const registered = Date.now() + 10_000;
    for (const node of nodes) {
      while ((await health(node)).cluster?.nodes !== 3) {
        assert.ok(Date.now() < registered, 'every node sees three live nodes');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal((await health(node)).cluster?.node, node.id);
    }
    const port = await freePort();
    await startNginx(nginxBinary, tempDir('gatehouse-nginx-proxy-'), port, nodes);
    const balancer = `http://127.0.0.1:${port}`;

    // Servers and APIs through node 1's management API, then a deploy.
    const prefix = `gatehouse:test-nginx:${randomBytes(4).toString('hex')}:`;
    await call(first, 'POST', '/api/v1/servers', { name: 'stdio', command: process.execPath, args: [everythingEntry(), 'stdio'] });
    await call(first, 'POST', '/api/v1/servers', { name: 'http', url: `${everything.origin}/mcp` });
    await call(first, 'POST', '/api/v1/apis', { name: 'stdio', path: '/stdio', server: 'stdio', auth: { type: 'keyless' }, policies: [ALL_TOOLS] });
    const limit = { rateLimit: { backend: { type: 'redis', url: redisUrl, prefix }, limits: [{ name: 'echoes', key: ['api'], match: { tools: ['echo'] }, rate: 3, per: '1h' }] } };
    await call(first, 'POST', '/api/v1/apis', { name: 'http', path: '/http', server: 'http', auth: { type: 'keyless' }, policies: [ALL_TOOLS, limit] });
    const v1 = (await call(first, 'POST', '/api/v1/deployments', {})).body.version as number;
    const deadline1 = Date.now() + 10_000;
    for (const node of nodes) {
      while ((await health(node)).configVersion !== v1) {
        assert.ok(Date.now() < deadline1, `version ${v1} live on every node`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    // stdio sessions through the balancer until each node holds one.
    const ownerOf = (sessionId: string) => sealer.unseal(sessionId)?.node;
    const stdioByNode = new Map<string, { client: Client; transport: StreamableHTTPClientTransport }>();
    for (let attempt = 0; attempt < 12 && stdioByNode.size < 3; attempt++) {
      const opened = await sdkClient(`${balancer}/stdio`);
      const owner = ownerOf(opened.transport.sessionId!)!;
      if (stdioByNode.has(owner)) await opened.client.close();
      else stdioByNode.set(owner, opened);
      // A client's opening takes as many requests as there are nodes: one more request moves
      // the next initialize to the next node.
      await (await fetch(`${balancer}/-/health`)).text();
    }
    assert.equal(stdioByNode.size, 3, 'a stdio session on each node');
    // Each works whatever node its requests land on (nginx sends them round-robin).
    for (const [owner, { client }] of stdioByNode) {
      for (let i = 0; i < 4; i++) {
        assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: `${owner} ${i}` } })).content, [{ type: 'text', text: `Echo: ${owner} ${i}` }]);
      }
    }

    // A rate limit on Redis holds across the nodes the HTTP session's requests land on.
    const http = await sdkClient(`${balancer}/http`);
    for (let i = 0; i < 3; i++) assert.deepEqual((await http.client.callTool({ name: 'echo', arguments: { message: `limited ${i}` } })).content, [{ type: 'text', text: `Echo: limited ${i}` }]);
    await assert.rejects(http.client.callTool({ name: 'echo', arguments: { message: 'one too many' } }), /rate limit|429|Too Many/i);

    // A deploy through node 1 (hide get-sum on both APIs) is seen through the balancer on every
    // API within 2 s: three HTTP list requests in a row (three nodes) and every stdio session.
    for (const api of ['stdio', 'http']) {
      const policy = await call(first, 'GET', `/api/v1/apis/${api}/policies/0`);
      await call(first, 'PUT', `/api/v1/apis/${api}/policies/0`, { acl: { rules: [...ALL_TOOLS.acl.rules, HIDE_SUM] } }, policy.etag!);
    }
    await call(first, 'POST', '/api/v1/deployments', {});
    const deployed = Date.now();
    const seen = async (): Promise<boolean> => {
      for (let i = 0; i < 3; i++) if ((await toolNames(http.client)).includes('get-sum')) return false;
      for (const { client } of stdioByNode.values()) if ((await toolNames(client)).includes('get-sum')) return false;
      return true;
    };
    while (!(await seen())) {
      assert.ok(Date.now() - deployed < 2_000, 'the deploy is seen on every API through the balancer within 2 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Kill a node other than node 1 mid-run.
    const victim = nodes[2]!;
    victim.child.kill('SIGKILL');
    await new Promise((resolve) => victim.child.once('exit', resolve));
    // Its own stdio session is gone: 404, and the client starts a new one through the balancer.
    const lost = stdioByNode.get(victim.id)!;
    await assert.rejects(lost.client.callTool({ name: 'echo', arguments: { message: 'lost' } }), /404|Session not found/);
    const renewed = await sdkClient(`${balancer}/stdio`);
    assert.deepEqual((await renewed.client.callTool({ name: 'echo', arguments: { message: 'renewed' } })).content, [{ type: 'text', text: 'Echo: renewed' }]);
    // Every other session goes on: the other nodes' stdio sessions and the HTTP session.
    for (const [owner, { client }] of stdioByNode) {
      if (owner === victim.id) continue;
      for (let i = 0; i < 3; i++) assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: `after ${i}` } })).content, [{ type: 'text', text: `Echo: after ${i}` }]);
    }
    for (let i = 0; i < 3; i++) assert.ok((await toolNames(http.client)).includes('echo'), 'the HTTP session goes on');
    // The killed node missed its heartbeats: the others drop it from the registry.
    const dropped = Date.now() + 10_000;
    for (const node of nodes.slice(0, 2)) {
      while ((await health(node)).cluster?.nodes !== 2) {
        assert.ok(Date.now() < dropped, 'the killed node is dropped after cluster.nodeTimeout');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  });
}
