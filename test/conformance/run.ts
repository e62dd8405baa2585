// Runs the official MCP conformance suite against each upstream the tests use, first directly, then
// through Gatehouse in each configuration, and compares scenario by scenario: every check that
// passes directly must pass through Gatehouse, unless docs/conformance-known-differences.yaml
// lists it with its reason. Also runs the suite's `authorization` command against the embedded
// authorization server. Exit code 0 when there is no unlisted difference.
//
//   node --import tsx test/conformance/run.ts [--install] [--write-docs] [--out <dir>] [--results <dir>]
//
// --install     installs Node 22 and the pinned suite into node_modules/.cache/gatehouse-conformance
// --write-docs  rewrites docs/conformance.md with the table of this run
// --out         keeps the suite's results in <dir> (else a temporary folder, removed when all is well)
// --results     runs nothing: compares (and with --write-docs, publishes) the results an earlier
//               run kept with --out, against the known differences as they are now
// --configs     runs only these configurations (comma-separated; `direct` always runs), e.g.
//               `--configs federated` on a busy machine; not with --write-docs
// --timeout     the suite's per-scenario timeout in ms (default 20000; more on a busy machine)
import http, { type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createUser } from '../../src/authserver/users.ts';
import { everythingStdioCommand, startEverything } from '../../src/demo/everything.ts';
import { conformanceStdioCommand, startConformanceServer } from './server-2026.ts';
import { findSuite, installSuite, readResults, REPO_ROOT, REVISIONS, runCli, tally, type Revision, type RunResult, type Suite } from './suite.ts';
import { browse, CookieJar, playUser, USER } from '../helpers/oauth-flow.ts';

const CONFIGS = ['direct', 'keyless', 'api-key', 'acl', 'stdio', 'federated'] as const;
type Config = (typeof CONFIGS)[number];
const UPSTREAMS = ['everything', 'sdk-2026'] as const;
type Upstream = (typeof UPSTREAMS)[number];
const UPSTREAM_TITLE: Record<Upstream, string> = {
  everything: 'server-everything (2025-11-25, Streamable HTTP)',
  'sdk-2026': 'SDK 2.x server (2026-07-28, also serves 2025 clients)',
};
const CONFIG_TITLE: Record<Config, string> = {
  direct: 'directly (no Gatehouse)',
  keyless: 'Gatehouse, keyless API',
  'api-key': 'Gatehouse, api-key API (key added by a header proxy)',
  acl: 'Gatehouse, allow-all ACL',
  stdio: 'Gatehouse, the same server over stdio',
  federated: 'Gatehouse, federated API (+ server-memory, prefix: conflicts)',
};
const KNOWN_FILE = path.join(REPO_ROOT, 'docs', 'conformance-known-differences.yaml');
const DOC_FILE = path.join(REPO_ROOT, 'docs', 'conformance.md');

interface KnownDifference {
  upstream: Upstream | '*';
  config: Config | '*';
  revision: Revision | '*';
  scenario: string;
  /** A check id, or '*' for every check of the scenario. */
  check: string;
  reason: string;
}
interface Difference {
  upstream: Upstream;
  config: Config;
  revision: Revision;
  scenario: string;
  check: string;
  through: string;
  message?: string;
}

function loadKnown(): KnownDifference[] {
  const doc = parseYaml(readFileSync(KNOWN_FILE, 'utf8')) as { differences?: Array<Partial<KnownDifference>> } | null;
  return (doc?.differences ?? []).map((d, i) => {
    if (!d.scenario || !d.reason) throw new Error(`${KNOWN_FILE}: differences[${i}] needs scenario and reason`);
    return { upstream: d.upstream ?? '*', config: d.config ?? '*', revision: d.revision ?? '*', scenario: d.scenario, check: d.check ?? '*', reason: d.reason } as KnownDifference;
  });
}

function listed(known: KnownDifference[], d: Difference): KnownDifference | undefined {
  const m = (pattern: string, value: string) => pattern === '*' || pattern === value;
  return known.find((k) => m(k.upstream, d.upstream) && m(k.config, d.config) && m(k.revision, d.revision) && m(k.scenario, d.scenario) && m(k.check, d.check));
}

/** Every check that passes directly must pass through Gatehouse. */
function compare(direct: RunResult, through: RunResult, where: Omit<Difference, 'scenario' | 'check' | 'through' | 'message'>): Difference[] {
  const out: Difference[] = [];
  for (const [scenario, checks] of direct) {
    for (const [check, verdict] of checks) {
      if (verdict.status !== 'SUCCESS') continue;
      const other = through.get(scenario)?.get(check);
      if (other?.status === 'SUCCESS') continue;
      out.push({ ...where, scenario, check, through: other?.status ?? 'MISSING', message: other?.message });
    }
  }
  return out;
}

/** A tiny reverse proxy that adds `Authorization: Bearer <key>` (the suite cannot send headers). */
async function startHeaderProxy(target: string, key: string): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const headers: OutgoingHttpHeaders = { ...req.headers, authorization: `Bearer ${key}` };
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      res.flushHeaders();
      upRes.pipe(res);
    });
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `tasks` with at most `limit` at a time. */
async function pool<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

interface AuthorizationRun {
  result: RunResult;
  output: string;
}

/** The suite's `authorization` command against the embedded authorization server; a scripted person signs in. */
async function runAuthorization(suite: Suite, gateway: Gateway, mcpUrl: string, outDir: string): Promise<AuthorizationRun> {
  const origin = `http://127.0.0.1:${gateway.port}`;
  if (!(await gateway.store.getUserByName(USER.username))) await createUser(gateway.store, USER.username, USER.password);
  // A free port for the suite's callback server: bind, read, release.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const registration = await fetch(`${origin}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'conformance suite', redirect_uris: [`http://127.0.0.1:${port}/callback`], token_endpoint_auth_method: 'none' }),
  });
  const clientId = ((await registration.json()) as { client_id?: string }).client_id;
  if (!clientId) throw new Error(`client registration answered ${registration.status}`);

  let buffered = '';
  let played: Promise<void> | undefined;
  const run = await runCli(suite, ['authorization', '--url', origin, '--client-id', clientId, '--resource', mcpUrl, '--port', String(port), '-o', outDir], {
    timeoutMs: 60_000,
    onStdout: (chunk) => {
      buffered += chunk;
      const match = /^(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)$/m.exec(buffered);
      if (match && !played) {
        // The person at the browser: sign in, consent, and let the browser follow the redirect to the suite's callback.
        played = (async () => {
          const flow = await playUser(match[1]!);
          await browse(new CookieJar(), flow.final.href);
        })();
      }
    },
  });
  if (played) await played;
  return { result: readResults(outDir), output: run.output };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--install')) installSuite();
  const found = findSuite();
  if ('missing' in found) {
    process.stderr.write(`conformance: ${found.missing}\n`);
    return 2;
  }
  const suite = found;
  const configsIndex = argv.indexOf('--configs');
  const only = configsIndex >= 0 ? argv[configsIndex + 1]!.split(',') : undefined;
  const unknown = only?.filter((c) => !(CONFIGS as readonly string[]).includes(c));
  if (unknown?.length) throw new Error(`--configs: unknown configuration ${unknown.join(', ')} (known: ${CONFIGS.join(', ')})`);
  if (only && argv.includes('--write-docs')) throw new Error('--configs cannot be combined with --write-docs: the published table covers every configuration');
  const configs = CONFIGS.filter((c) => c === 'direct' || !only || only.includes(c));
  const timeoutIndex = argv.indexOf('--timeout');
  const scenarioTimeout = timeoutIndex >= 0 ? Number(argv[timeoutIndex + 1]) : 20_000;
  if (!Number.isInteger(scenarioTimeout) || scenarioTimeout <= 0) throw new Error('--timeout needs a number of milliseconds');
  const resultsIndex = argv.indexOf('--results');
  const outIndex = argv.indexOf('--out');
  const outRoot = resultsIndex >= 0 ? path.resolve(argv[resultsIndex + 1]!) : outIndex >= 0 ? path.resolve(argv[outIndex + 1]!) : mkdtempSync(path.join(tmpdir(), 'gatehouse-conformance-'));
  const keyOf = (u: Upstream, c: Config, r: Revision) => `${u}|${c}|${r}`;
  const { results, authorization, seconds } = resultsIndex >= 0 ? readRun(outRoot, keyOf, configs) : await runSuite(suite, outRoot, keyOf, configs, scenarioTimeout);
  let exitCode = 0;

  const known = loadKnown();
  const used = new Set<KnownDifference>();
  const unlisted: Difference[] = [];
  const listedDiffs: Array<Difference & { reason: string }> = [];
  for (const upstream of UPSTREAMS) {
    for (const revision of REVISIONS) {
      const direct = results.get(keyOf(upstream, 'direct', revision))!;
      for (const cfg of configs.filter((c) => c !== 'direct')) {
        for (const d of compare(direct, results.get(keyOf(upstream, cfg, revision))!, { upstream, config: cfg, revision })) {
          const entry = listed(known, d);
          if (entry) {
            used.add(entry);
            listedDiffs.push({ ...d, reason: entry.reason });
          } else unlisted.push(d);
        }
      }
    }
  }
  const authTally = authorization ? tally(authorization.result) : undefined;
  // A run of some configurations only (--configs) does not run the authorization command.
  const authFailed = !only && (!authorization || authTally!.failed > 0 || authTally!.passed === 0);

  for (const d of unlisted) {
    process.stdout.write(`conformance: DIFFERENCE ${d.upstream} ${d.config} ${d.revision} ${d.scenario} ${d.check}: passes directly, ${d.through} through Gatehouse${d.message ? ` (${d.message.slice(0, 200)})` : ''}\n`);
  }
  for (const k of known.filter((k) => !used.has(k) && (k.config === '*' || configs.includes(k.config)))) {
    process.stdout.write(`conformance: note: known difference no longer seen (remove it from docs/conformance-known-differences.yaml?): ${k.upstream} ${k.config} ${k.revision} ${k.scenario} ${k.check}\n`);
  }
  if (authFailed) process.stdout.write(`conformance: authorization: ${authTally ? `${authTally.passed} passed, ${authTally.failed} failed` : 'did not run'}\n${authorization?.output.slice(-3000) ?? ''}\n`);
  process.stdout.write(`conformance: ${listedDiffs.length} known differences, ${unlisted.length} unlisted; authorization ${authTally ? `${authTally.passed} passed, ${authTally.failed} failed` : 'not run'}; ${seconds}s; results in ${outRoot}\n`);
  if (unlisted.length > 0 || authFailed) exitCode = 1;

  if (argv.includes('--write-docs')) {
    writeFileSync(DOC_FILE, renderDoc({ suite, results, keyOf, listedDiffs, authorization, seconds }));
    process.stdout.write(`conformance: wrote ${path.relative(REPO_ROOT, DOC_FILE)}\n`);
  }
  if (outIndex < 0 && resultsIndex < 0 && exitCode === 0) rmSync(outRoot, { recursive: true, force: true });
  return exitCode;
}

interface SuiteRun {
  results: Map<string, RunResult>;
  authorization: AuthorizationRun | undefined;
  seconds: number;
}

/** Runs the suite against each upstream directly and through Gatehouse in each configuration. */
async function runSuite(suite: Suite, outRoot: string, keyOf: (u: Upstream, c: Config, r: Revision) => string, configs: readonly Config[], scenarioTimeout: number): Promise<SuiteRun> {
  const started = Date.now();
  const everything = await startEverything();
  const sdk = await startConformanceServer();
  const everythingStdio = everythingStdioCommand();
  const sdkStdio = conformanceStdioCommand();
  const memoryFile = path.join(outRoot, 'memory.jsonl');
  const key = randomBytes(24).toString('hex');
  const apis: NonNullable<ConfigInput['apis']> = [];
  const allowAll = {
    acl: {
      rules: [
        {
          name: 'everything',
          features: [
            { type: 'tools' as const, methods: ['tools/list', 'tools/call'], pattern: { type: 'any' as const } },
            { type: 'resources' as const, methods: ['resources/list', 'resources/read', 'resources/templates/list', 'resources/subscribe'], pattern: { type: 'any' as const } },
            { type: 'prompts' as const, methods: ['prompts/list', 'prompts/get'], pattern: { type: 'any' as const } },
          ],
        },
      ],
    },
  };
  for (const upstream of UPSTREAMS) {
    apis.push(
      { name: `${upstream}-keyless`, path: `/${upstream}/keyless`, server: upstream, auth: { type: 'keyless' } },
      { name: `${upstream}-api-key`, path: `/${upstream}/api-key`, server: upstream, auth: { type: 'api-key' } },
      { name: `${upstream}-acl`, path: `/${upstream}/acl`, server: upstream, auth: { type: 'keyless' }, policies: [allowAll] },
      { name: `${upstream}-stdio`, path: `/${upstream}/stdio`, server: `${upstream}-stdio`, auth: { type: 'keyless' } },
      { name: `${upstream}-federated`, path: `/${upstream}/federated`, servers: [upstream, 'memory'], namespace: { prefix: 'conflicts' }, auth: { type: 'keyless' } },
    );
  }
  apis.push({ name: 'oauth', path: '/oauth-mcp', server: 'everything', auth: { type: 'oauth2' } });
  const config: ConfigInput = {
    listen: { host: '127.0.0.1', port: 0 },
    servers: {
      everything: { url: `${everything.origin}/mcp` },
      'everything-stdio': { command: everythingStdio.command, args: everythingStdio.args },
      'sdk-2026': { url: sdk.url },
      'sdk-2026-stdio': { command: sdkStdio.command, args: sdkStdio.args, cwd: REPO_ROOT },
      memory: { command: process.execPath, args: [path.join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js')], env: { MEMORY_FILE_PATH: memoryFile } },
    },
    agents: [{ id: 'conformance', apiKeys: [{ value: key }] }],
    apis,
  } as ConfigInput;
  const gateway = await startGateway({
    config,
    logger: pino({ level: 'silent' }),
    env: { ...process.env, GATEHOUSE_SESSION_KEY: randomBytes(32).toString('hex') },
    dataDir: path.join(outRoot, 'data'),
  });
  const proxies = await Promise.all(UPSTREAMS.map((u) => startHeaderProxy(gateway.url(`${u}-api-key`), key)));

  const urlOf = (upstream: Upstream, cfg: Config): string => {
    if (cfg === 'direct') return upstream === 'everything' ? `${everything.origin}/mcp` : sdk.url;
    if (cfg === 'api-key') return proxies[UPSTREAMS.indexOf(upstream)]!.url;
    return gateway.url(`${upstream}-${cfg}`);
  };

  const results = new Map<string, RunResult>();
  const tasks: Array<{ slow: boolean; run: () => Promise<void> }> = [];
  for (const upstream of UPSTREAMS) {
    for (const cfg of configs) {
      for (const revision of REVISIONS) {
        // 2026-07-28 through stdio and federated APIs (refused until era bridging lands) waits out
        // the suite's per-scenario timeouts: started first, so the others run beside them.
        const slow = revision === '2026-07-28' && (cfg === 'stdio' || cfg === 'federated');
        tasks.push({ slow, run: async () => {
          const dir = path.join(outRoot, upstream, cfg, revision);
          const run = await runCli(suite, ['server', '--url', urlOf(upstream, cfg), '--requirements', revision, '--timeout', String(scenarioTimeout), '-o', dir], { timeoutMs: 540_000 });
          const result = readResults(dir);
          if (result.size === 0) throw new Error(`conformance server against ${upstream} ${cfg} ${revision} wrote no results:\n${run.output.slice(-3000)}`);
          results.set(keyOf(upstream, cfg, revision), result);
          const t = tally(result);
          process.stdout.write(`conformance: ${upstream} ${cfg} ${revision}: ${t.passed} passed, ${t.failed} failed\n`);
        } });
      }
    }
  }
  let authorization: AuthorizationRun | undefined;
  try {
    await pool(8, [...tasks.filter((t) => t.slow), ...tasks.filter((t) => !t.slow)].map((t) => t.run));
    if (configs.length === CONFIGS.length) authorization = await runAuthorization(suite, gateway, gateway.url('oauth'), path.join(outRoot, 'authorization'));
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    await gateway.close();
    await sdk.close();
    await everything.close();
  }

  const seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(path.join(outRoot, 'run.json'), JSON.stringify({ seconds }));
  return { results, authorization, seconds };
}

/** The results an earlier run kept (`--out`), read back. */
function readRun(outRoot: string, keyOf: (u: Upstream, c: Config, r: Revision) => string, configs: readonly Config[]): SuiteRun {
  const results = new Map<string, RunResult>();
  for (const upstream of UPSTREAMS) {
    for (const cfg of configs) {
      for (const revision of REVISIONS) {
        const result = readResults(path.join(outRoot, upstream, cfg, revision));
        if (result.size === 0) throw new Error(`${outRoot} has no results for ${upstream} ${cfg} ${revision}`);
        results.set(keyOf(upstream, cfg, revision), result);
      }
    }
  }
  const auth = readResults(path.join(outRoot, 'authorization'));
  const runFile = path.join(outRoot, 'run.json');
  const seconds = existsSync(runFile) ? (JSON.parse(readFileSync(runFile, 'utf8')) as { seconds: number }).seconds : 0;
  return { results, authorization: auth.size > 0 ? { result: auth, output: '' } : undefined, seconds };
}

function renderDoc(input: {
  suite: Suite;
  results: Map<string, RunResult>;
  keyOf: (u: Upstream, c: Config, r: Revision) => string;
  listedDiffs: Array<Difference & { reason: string }>;
  authorization: AuthorizationRun | undefined;
  seconds: number;
}): string {
  const date = new Date().toISOString().slice(0, 10);
  const lines: string[] = [];
  lines.push('# Conformance');
  lines.push('');
  lines.push('Gatehouse is tested with the official MCP conformance suite');
  lines.push(`([\`@modelcontextprotocol/conformance\`](https://www.npmjs.com/package/@modelcontextprotocol/conformance) **${input.suite.version}**),`);
  lines.push('run with `--requirements <revision>`: exactly the server scenarios each specification revision');
  lines.push('requires, frozen at its release, each at its own wire (the initialize handshake for 2025-11-25,');
  lines.push('stateless `_meta` requests for 2026-07-28), plus the scenarios the suite runs without scoring');
  lines.push('(extensions such as tasks, pending ones).');
  lines.push('The tasks extension\'s scenarios mostly need fixture tools (`slow_compute`, `failing_job`, …)');
  lines.push('that neither upstream has; through Gatehouse, server-everything (a 2025 server whose tasks');
  lines.push('Gatehouse bridges, [protocol eras](protocol-eras.md#tasks-across-the-eras)) passes those that');
  lines.push('need none: the extension advertised, the tasks methods refused without it (-32021), no');
  lines.push('`tasks/result` or `tasks/list`, a 2025-style `task` param ignored, an unknown task id -32602.');
  lines.push('');
  lines.push('Each upstream is tested directly, then through Gatehouse in each configuration. **The rule: every');
  lines.push('check that passes directly passes through Gatehouse**, compared scenario by scenario and check');
  lines.push('by check; a difference fails CI unless it is listed, with its reason, in');
  lines.push('[conformance-known-differences.yaml](conformance-known-differences.yaml) (listed below).');
  lines.push('Checks that fail directly are the upstream\'s own gaps, not Gatehouse\'s.');
  lines.push('');
  lines.push(`Last run: ${date}, ${input.seconds}s (\`node --import tsx test/conformance/run.ts --write-docs\`; CI runs it through \`npm test\`).`);
  lines.push('On a busy machine, `--timeout <ms>` gives each scenario longer than its default 20 s, and');
  lines.push('`--configs <list>` runs only some configurations (compared, not published); `--results <dir>`');
  lines.push('compares and publishes a run kept with `--out <dir>` again, against the known differences as they are.');
  lines.push('');
  lines.push('Checks passed / failed (warnings not counted):');
  lines.push('');
  for (const upstream of UPSTREAMS) {
    lines.push(`### ${UPSTREAM_TITLE[upstream]}`);
    lines.push('');
    lines.push(`| configuration | ${REVISIONS.join(' | ')} |`);
    lines.push(`|---|${REVISIONS.map(() => '---').join('|')}|`);
    for (const cfg of CONFIGS) {
      const cells = REVISIONS.map((r) => {
        const result = input.results.get(input.keyOf(upstream, cfg, r));
        if (!result) return 'not run';
        const t = tally(result);
        return `${t.passed} / ${t.failed}`;
      });
      lines.push(`| ${CONFIG_TITLE[cfg]} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  lines.push('## Known differences');
  lines.push('');
  if (input.listedDiffs.length === 0) lines.push('None: every check that passes directly passes through Gatehouse.');
  else {
    lines.push('Checks that pass directly but not through Gatehouse in this run, and why:');
    lines.push('');
    lines.push('| upstream | configuration | revision | scenario | check | through Gatehouse | reason |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const d of input.listedDiffs) lines.push(`| ${d.upstream} | ${d.config} | ${d.revision} | ${d.scenario} | ${d.check} | ${d.through} | ${d.reason.replace(/\n/g, ' ')} |`);
  }
  lines.push('');
  lines.push('## Authorization server');
  lines.push('');
  lines.push('The suite\'s `authorization` command against the embedded authorization server (issuer = the');
  lines.push('listener\'s URL; a client registered dynamically with the suite\'s callback; a scripted person signs');
  lines.push('in and consents):');
  lines.push('');
  if (!input.authorization) lines.push('Not run.');
  else {
    lines.push('| scenario | check | result |');
    lines.push('|---|---|---|');
    for (const [scenario, checks] of input.authorization.result) {
      for (const [check, verdict] of checks) lines.push(`| ${scenario} | ${check} | ${verdict.status}${verdict.message ? `: ${verdict.message.replace(/\|/g, '\\|').slice(0, 160)}` : ''} |`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`conformance: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
