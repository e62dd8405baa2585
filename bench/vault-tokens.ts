// Per-user upstream OAuth (auth: oauth-user): what the token vault costs on the request path.
//   node --import tsx bench/vault-tokens.ts
// A real authorization server (oidc-provider) and an SDK-built upstream, a Gatehouse in this
// process with one per-user server; one user connects through the real connect flow. Then:
// - cache hit: CPU per `headers()` of the per-user source (the token of the caller, from memory)
//   against the static bearer credential's, and tokens per second served from cache;
// - time to refresh: a call that finds the token expired waits for one refresh (token endpoint
//   on loopback, sealed write to SQLite); the median and worst of REFRESHES runs.
// The whole `tools/call` through a Gatehouse process, vault token against static: bench/vault-calls.ts.
import type { IncomingMessage } from 'node:http';
import { startTestGateway, tempDir } from '../test/helpers/gatehouse.ts';
import { followInBrowser, startUpstreamIdp, startUserUpstream } from '../test/helpers/upstream-idp.ts';
import { staticCredentials } from '../src/credentials/static-credentials.ts';
import type { Principal } from '../src/auth/principal.ts';
import { credentialHits } from './credential-hits.ts';

const HITS = 1_000_000;
const REFRESHES = 10;

let upstreamUrl = '';
const idp = await startUpstreamIdp(() => upstreamUrl);
const upstream = await startUserUpstream(() => idp.issuer);
upstreamUrl = upstream.url;
const gh = await startTestGateway(
  {
    log: { level: 'warn' },
    servers: { notes: { url: upstream.url, auth: { type: 'oauth-user' } } },
    apis: [{ name: 'notes', path: '/mcp', server: 'notes', auth: { type: 'keyless' } }],
  },
  { dataDir: tempDir() },
);
try {
  const connections = gh.gateway.credentialConnections();
  const source = connections.forServer('notes', upstream.url, { type: 'oauth-user', anonymous: 'refuse', refreshBefore: 60_000, connectTtl: 600_000, connectAtSignIn: false });
  idp.loginAs = 'alice-up';
  const ticket = await connections.tickets.issue(gh.origin, 'alice', 'notes', 60_000, undefined);
  const page = await followInBrowser(ticket.url);
  if (page.status !== 200) throw new Error(`connect failed: ${page.status}`);

  const principal: Principal = { kind: 'user', id: 'alice', key: 'bench', plan: 'oauth2', user: { id: 'alice' } };
  const req = { headers: { host: new URL(gh.origin).host }, socket: {} } as unknown as IncomingMessage; // only its Host is read
  const context = { principal, req, method: 'tools/call' };
  const fixed = staticCredentials({ type: 'bearer', token: 'static-token-for-the-bench' });

  const vault = await credentialHits(source, context, HITS);
  const plain = await credentialHits(fixed, context, HITS);

  idp.accessTokenTtl = 1;
  const times: number[] = [];
  for (let i = 0; i < REFRESHES; i++) {
    await connections.revoke('alice', 'notes');
    const again = await connections.tickets.issue(gh.origin, 'alice', 'notes', 60_000, undefined);
    await followInBrowser(again.url);
    await source.headers(context);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the 1 s token expires
    const started = process.hrtime.bigint();
    await source.headers(context);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({
    node: process.version,
    cacheHit: { vaultCpuNsPerCall: Math.round(vault.cpuNs), staticCpuNsPerCall: Math.round(plain.cpuNs), vaultTokensPerSecond: vault.perSecond, staticPerSecond: plain.perSecond },
    refresh: { runs: times.length, medianMs: Number(times[Math.floor(times.length / 2)]!.toFixed(1)), maxMs: Number(times.at(-1)!.toFixed(1)), refreshGrants: idp.counts.refreshGrants },
  }, null, 2));
} finally {
  await gh.close();
  await upstream.close();
  await idp.close();
}
