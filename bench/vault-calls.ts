// Per-user upstream OAuth (auth: oauth-user) end to end: CPU of the Gatehouse process per
// `tools/call` with the user's vault token (cache hit) against a static bearer credential.
//   npm run build && node --import tsx bench/vault-calls.ts [--rounds 6] [--calls1 4000] [--calls32 8000] [--build DIR]
// One Gatehouse process (bin/gatehouse.js start, audit off; --build: another checkout's build)
// with two APIs in front of the same SDK-built upstream (test/helpers/upstream-idp.ts), which
// wants a token of its own authorization server (oidc-provider), checked against its JWKS:
// - A `static`: the server has `credential: { type: bearer }`, a token that server issued to the
//   account svc-up (taken from a first connect, so that the upstream does the same work for A and B);
// - B `user`: the server has `auth: { type: oauth-user }`; the user alice connected through the
//   real connect flow (the -32042 link, followed by a browser that signs in upstream as alice-up).
// Both APIs authenticate the agent the same way: an `oauth2` plan with an outside issuer, whose
// token names the user alice (the principal that carries a user). CPU of the Gatehouse process
// from /proc per call, closed-loop load at 1 and 32 sessions, A and B in paired rounds (A B, B A,
// ...), the median of each and B/A. The isolated measures (tokens per second from the cache, time
// to refresh) are bench/vault-tokens.ts.
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { startTestIssuer } from '../test/helpers/auth-issuer.ts';
import { followInBrowser, startIdpWithUpstream } from '../test/helpers/upstream-idp.ts';
import { fromBuild, gatehouseFiles, gatehouseNodeFlags, spawnNode, stopAll, stopChild } from './targets.ts';
import { closeSessions, openSessions, post, runLoad, useCredential } from './load-client.ts';
import { clkTck, cpuTicks, loadAverage, machineDescription } from './proc.ts';
import { median } from './stats.ts';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const ROUNDS = arg('rounds', 6);
const CALLS: Record<number, number> = { 1: arg('calls1', 4000), 32: arg('calls32', 8000) };
const BUILD = process.argv.includes('--build') ? process.argv[process.argv.indexOf('--build') + 1] : undefined;
const WARMUP = 1000;
const WHOAMI = { name: 'whoami', arguments: {} };

/** The upstream account a Bearer header's JWT names (`sub`). */
function accountOf(header: string): string {
  const payload = header.replace(/^Bearer /, '').split('.')[1];
  return payload ? String((JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub) : '?';
}

const loadBefore = loadAverage();
const agents = await startTestIssuer();
const { idp, upstream } = await startIdpWithUpstream();
try {
  const { bin, port, dir, config } = BUILD ? await fromBuild(path.resolve(BUILD), gatehouseFiles) : await gatehouseFiles();
  const oauth2 = `{ type: oauth2, issuer: "${agents.issuer}" }`;
  const writeConfig = (staticToken?: string) =>
    writeFileSync(
      config,
      [
        `listen: { host: 127.0.0.1, port: ${port} }`,
        'audit: { enabled: false }',
        'servers:',
        ...(staticToken ? ['  static:', `    url: ${upstream.url}`, `    credential: { type: bearer, token: "${staticToken}" }`] : []),
        '  user:',
        `    url: ${upstream.url}`,
        '    auth: { type: oauth-user }',
        'apis:',
        ...(staticToken ? [`  - { name: static, path: /static, server: static, auth: ${oauth2} }`] : []),
        `  - { name: user, path: /user, server: user, auth: ${oauth2} }`,
        '',
      ].join('\n'),
    );
  const env = { GATEHOUSE_SESSION_KEY: randomBytes(32).toString('hex'), GATEHOUSE_DATA_DIR: path.join(dir, 'data') };
  const start = () => spawnNode([...gatehouseNodeFlags(), bin, 'start', '--config', config], port, env);
  const urlOf = (api: string) => new URL(`http://127.0.0.1:${port}/${api}`);
  const agentToken = async (user: string, api: string) => `Bearer ${await agents.sign({ sub: user, aud: urlOf(api).href, scope: 'mcp' })}`;

  // First start, B alone: svc and alice connect. A user's first initialize is answered with the
  // connect link (-32042); the browser follows it, signs in upstream and consents.
  writeConfig();
  let child = await start();
  const setup = new http.Agent({ keepAlive: true });
  for (const [user, account] of [['svc', 'svc-up'], ['alice', 'alice-up']] as const) {
    const init = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { elicitation: { url: {} } }, clientInfo: { name: 'vault-calls', version: '1' } } });
    const prompt = await post(urlOf('user'), setup, { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: await agentToken(user, 'user') }, init, 0);
    const link = (prompt.message as { error?: { data?: { elicitations?: Array<{ url: string }> } } } | undefined)?.error?.data?.elicitations?.[0]?.url;
    if (link === undefined) throw new Error(`no connect link for ${user}: HTTP ${prompt.status} ${JSON.stringify(prompt.message).slice(0, 300)}`);
    idp.loginAs = account;
    const page = await followInBrowser(link);
    if (page.status !== 200 || !/Connected/.test(page.text)) throw new Error(`connect of ${user} failed: HTTP ${page.status} ${page.text.slice(0, 300)}`);
  }
  // svc's upstream token, as the upstream received it, becomes A's static credential.
  useCredential(urlOf('user'), await agentToken('svc', 'user'));
  upstream.authorizations.splice(0);
  const probe = await runLoad({ url: urlOf('user'), agent: setup, sessions: await openSessions(urlOf('user'), setup, 1), total: 1, method: 'tools/call', params: WHOAMI });
  if (probe.errors.total > 0) throw new Error(`svc's call failed: ${[...probe.errors.samples.values()].join('; ')}`);
  const staticToken = upstream.authorizations.find((header) => accountOf(header) === 'svc-up')?.replace(/^Bearer /, '');
  if (staticToken === undefined) throw new Error('the upstream saw no token of svc-up');
  setup.destroy();

  // Second start, A and B: alice's connection comes from the store (sealed in SQLite).
  await stopChild(child); // the temp folder stays: the restarted process reads its store
  writeConfig(staticToken);
  child = await start();
  const pid = child.pid!;
  const targets = [
    { name: 'static' as const, url: urlOf('static'), account: 'svc-up' },
    { name: 'user' as const, url: urlOf('user'), account: 'alice-up' },
  ];
  for (const target of targets) useCredential(target.url, await agentToken('alice', target.name));
  const tokenGrants = idp.counts.codeGrants + idp.counts.refreshGrants;

  type PerTarget = { static: number[]; user: number[] };
  const results: Array<{ sessions: number; calls: number; us: PerTarget; perSecond: PerTarget }> = [];
  for (const sessions of [1, 32]) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: sessions });
    const open = new Map<string, string[]>();
    for (const target of targets) open.set(target.name, await openSessions(target.url, agent, sessions));
    /** µs of Gatehouse CPU per call over `total` calls; checks every call reached the upstream with the target's token. */
    const run = async (target: (typeof targets)[number], total: number) => {
      upstream.authorizations.splice(0);
      const start = cpuTicks(pid);
      const result = await runLoad({ url: target.url, agent, sessions: open.get(target.name)!, total, method: 'tools/call', params: WHOAMI });
      const ticks = cpuTicks(pid) - start;
      if (result.errors.total > 0) throw new Error(`${target.name}: ${[...result.errors.samples.values()].join('; ')}`);
      const accounts = new Set(upstream.authorizations.map(accountOf));
      if (accounts.size !== 1 || !accounts.has(target.account)) throw new Error(`${target.name}: the upstream saw the accounts ${[...accounts].join(', ')}`);
      return { us: ((ticks / clkTck()) * 1e6) / total, perSecond: total / (result.elapsedMs / 1000) };
    };
    for (const target of targets) await run(target, WARMUP);
    const cell = { sessions, calls: CALLS[sessions]!, us: { static: [], user: [] } as PerTarget, perSecond: { static: [], user: [] } as PerTarget };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse(); // A B, B A, A B, ...
      for (const target of order) {
        const measured = await run(target, cell.calls);
        cell.us[target.name].push(measured.us);
        cell.perSecond[target.name].push(measured.perSecond);
      }
      process.stdout.write(`${sessions} session(s), round ${round + 1}/${ROUNDS}: static ${cell.us.static.at(-1)!.toFixed(0)} us, user ${cell.us.user.at(-1)!.toFixed(0)} us\n`);
    }
    results.push(cell);
    for (const target of targets) await closeSessions(target.url, agent, open.get(target.name)!);
    agent.destroy();
  }

  const tickUs = 1e6 / clkTck();
  console.log();
  for (const line of machineDescription()) console.log(line);
  console.log(`load before: ${loadBefore}`);
  console.log(`load after:  ${loadAverage()}`);
  console.log(`Gatehouse's Node flags: ${gatehouseNodeFlags().join(' ') || '(none)'}`);
  console.log(`Gatehouse build: ${BUILD ? path.resolve(BUILD) : 'this checkout'}`);
  console.log(`token grants at the upstream's authorization server during the load: ${idp.counts.codeGrants + idp.counts.refreshGrants - tokenGrants} (0: every call a cache hit)`);
  for (const cell of results) {
    const a = median(cell.us.static);
    const b = median(cell.us.user);
    const pairs = cell.us.user.map((v, i) => v / cell.us.static[i]!);
    console.log();
    console.log(`## ${cell.sessions} session(s), ${cell.calls} tools/call per round, ${ROUNDS} rounds (CPU in ticks of ${tickUs / 1000} ms: +-${(tickUs / cell.calls).toFixed(1)} us/call per round)`);
    console.log(`A static bearer, us/call:    ${cell.us.static.map((v) => v.toFixed(0)).join(' ')}   median ${a.toFixed(0)}`);
    console.log(`B oauth-user vault, us/call: ${cell.us.user.map((v) => v.toFixed(0)).join(' ')}   median ${b.toFixed(0)}`);
    console.log(`B/A per round:               ${pairs.map((v) => v.toFixed(3)).join(' ')}   median ${median(pairs).toFixed(3)}`);
    console.log(`B/A of the medians:          ${(b / a).toFixed(3)}`);
    console.log(`calls/s, median:             A ${median(cell.perSecond.static).toFixed(0)}, B ${median(cell.perSecond.user).toFixed(0)}`);
  }
} finally {
  await stopAll();
  await upstream.close();
  await idp.close();
  await agents.close();
}
