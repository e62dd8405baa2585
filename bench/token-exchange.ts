// Token exchange (auth: token-exchange): what an exchanged token costs on the request path.
//   npm run build && node --import tsx bench/token-exchange.ts [--rounds 5] [--calls 4000]
// A real authorization server (oidc-provider with the RFC 8693 grant, test/helpers/enterprise-idp.ts)
// and server-everything as the upstream. Two figures:
// - per tools/call, end to end: one Gatehouse process (bin/gatehouse.js start, audit off) with two
//   APIs in front of the same server-everything, both with the same jwt plan (the user's token,
//   verified against the provider's JWKS): one whose server has a static bearer credential, one
//   whose server exchanges the user's token (cached after the first call). CPU of the Gatehouse
//   process per call, from /proc, sequential calls on one session, the two in alternating order;
// - the credential source alone, in this process: CPU per `headers()` on a cache hit against the
//   static credential's (1,000,000 calls each), and the time of one exchange (a cache miss: actor
//   JWT signed, token endpoint on loopback), median and worst of 10.
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { GATEHOUSE_AUDIENCE, startEnterpriseIdp } from '../test/helpers/enterprise-idp.ts';
import { TokenExchangeCredentials } from '../src/credentials/token-exchange/token-exchange.ts';
import { staticCredentials } from '../src/credentials/static-credentials.ts';
import { withSubjectToken } from '../src/auth/subject-token.ts';
import type { Principal } from '../src/auth/principal.ts';
import type { CredentialContext } from '../src/upstream/upstream.ts';
import { credentialHits } from './credential-hits.ts';
import { gatehouseFiles, spawnNode, startUpstream, stopAll } from './targets.ts';
import { openSession, runLoad, useCredential } from './load-client.ts';
import { clkTck, cpuTicks, loadAverage, machineDescription } from './proc.ts';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const ROUNDS = arg('rounds', 5);
const CALLS = arg('calls', 4000);
const HITS = 1_000_000;
const EXCHANGES = 10;

const CLIENT = { id: 'gatehouse', secret: randomBytes(16).toString('hex') };
const ACTOR_ISSUER = 'urn:gatehouse:bench';
const actorKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ACTOR_PEM = actorKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const before = loadAverage();
const upstream = await startUpstream();
const upstreamUrl = `${upstream.origin}/mcp`;
const idp = await startEnterpriseIdp({ client: CLIENT, actorKey: () => actorKeys.publicKey, actorIssuer: ACTOR_ISSUER, resource: () => upstreamUrl });
try {
  // --- end to end -------------------------------------------------------------------------------
  const { bin, port, dir, config } = await gatehouseFiles();
  const jwt = `{ type: jwt, issuer: "${idp.issuer}", audience: "${GATEHOUSE_AUDIENCE}", jwksUrl: "${idp.jwksUrl}" }`;
  writeFileSync(
    config,
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      'audit: { enabled: false }',
      'servers:',
      '  static:',
      `    url: ${upstreamUrl}`,
      '    credential: { type: bearer, token: static-token-for-the-bench }',
      '  exchanged:',
      `    url: ${upstreamUrl}`,
      '    auth:',
      '      type: token-exchange',
      `      tokenUrl: ${idp.tokenUrl}`,
      `      client: { id: ${CLIENT.id}, secret: ${CLIENT.secret} }`,
      `      actor: { type: jwt, issuer: "${ACTOR_ISSUER}", privateKey: "\${env:BENCH_ACTOR_KEY}" }`,
      'apis:',
      `  - { name: static, path: /static, server: static, auth: ${jwt} }`,
      `  - { name: exchanged, path: /exchanged, server: exchanged, auth: ${jwt} }`,
      '',
    ].join('\n'),
  );
  const env = { GATEHOUSE_SESSION_KEY: randomBytes(32).toString('hex'), GATEHOUSE_DATA_DIR: path.join(dir, 'data'), BENCH_ACTOR_KEY: ACTOR_PEM };
  const child = await spawnNode([bin, 'start', '--config', config], port, env);
  const userToken = await idp.userToken('alice');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const targets = ['static', 'exchanged'].map((name) => {
    const url = new URL(`http://127.0.0.1:${port}/${name}`);
    useCredential(url, `Bearer ${userToken}`);
    return { name, url };
  });
  const sessions = new Map<string, string>();
  for (const target of targets) sessions.set(target.name, await openSession(target.url, agent));
  const params = { name: 'echo', arguments: { message: 'bench' } };
  const run = async (target: (typeof targets)[number], total: number) => {
    const start = cpuTicks(child.pid!);
    const result = await runLoad({ url: target.url, agent, sessions: [sessions.get(target.name)!], total, method: 'tools/call', params });
    const ticks = cpuTicks(child.pid!) - start;
    if (result.errors.total > 0) throw new Error(`${target.name}: ${[...result.errors.samples.values()].join("; ")}`);
    return (ticks / clkTck()) * 1e6 / total; // µs per call
  };
  for (const target of targets) await run(target, 1000); // warm up (and the one exchange)
  const perCall: Record<string, number[]> = { static: [], exchanged: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) perCall[target.name]!.push(await run(target, CALLS));
  }
  const exchangesDuringLoad = idp.exchanges.get('alice') ?? 0;

  // --- the source alone ---------------------------------------------------------------------------
  const log = pino({ level: 'silent' });
  const source = new TokenExchangeCredentials('exchanged', upstreamUrl, {
    type: 'token-exchange',
    tokenUrl: idp.tokenUrl,
    client: CLIENT,
    subjectTokenType: 'access_token',
    actor: { type: 'jwt', issuer: ACTOR_ISSUER, privateKey: ACTOR_PEM, lifetime: 300_000 },
    refreshBefore: 30_000,
    timeout: 10_000,
    anonymous: 'refuse',
    maxCachedTokens: 10_000,
  }, log);
  const req = {} as IncomingMessage; // not read by this source
  const contextFor = async (user: string): Promise<CredentialContext> => {
    const principal = withSubjectToken({ kind: 'agent', id: user, key: `bench:${user}`, plan: 'jwt', claims: { iss: idp.issuer, sub: user, client_id: 'agent-app' } } satisfies Principal, await idp.userToken(user));
    return { principal, req, method: 'tools/call' };
  };
  const context = await contextFor('bob');
  const fixed = staticCredentials({ type: 'bearer', token: 'static-token-for-the-bench' });
  const exchangedHit = await credentialHits(source, context, HITS);
  const staticHit = await credentialHits(fixed, context, HITS);
  const times: number[] = [];
  for (let i = 0; i < EXCHANGES; i++) {
    const miss = await contextFor(`user-${i}`);
    const started = process.hrtime.bigint();
    await source.headers(miss);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);

  const staticUs = median(perCall.static!);
  const exchangedUs = median(perCall.exchanged!);
  console.log(JSON.stringify({
    machine: machineDescription(),
    loadBefore: before,
    loadAfter: loadAverage(),
    perToolsCall: {
      rounds: ROUNDS,
      callsPerRound: CALLS,
      staticUs: perCall.static!.map((v) => Math.round(v)),
      exchangedUs: perCall.exchanged!.map((v) => Math.round(v)),
      medianStaticUs: Math.round(staticUs),
      medianExchangedUs: Math.round(exchangedUs),
      ratio: Number((exchangedUs / staticUs).toFixed(3)),
      exchangesAtTheProvider: exchangesDuringLoad,
    },
    source: {
      exchangedCpuNsPerHit: Math.round(exchangedHit.cpuNs),
      staticCpuNsPerCall: Math.round(staticHit.cpuNs),
      exchangedHitsPerSecond: exchangedHit.perSecond,
      staticPerSecond: staticHit.perSecond,
      exchangeMs: { runs: times.length, median: Number(times[Math.floor(times.length / 2)]!.toFixed(1)), max: Number(times.at(-1)!.toFixed(1)) },
    },
  }, null, 2));
  agent.destroy();
} finally {
  await idp.close();
  await stopAll();
}
