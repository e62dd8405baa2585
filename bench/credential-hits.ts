// CPU per served credential: how much a credential source costs per request once its token is
// cached (10,000 warm-up calls, then `hits` timed ones), shared by the vault and token-exchange
// benches so that both put their source against a static credential measured the same way.
import type { CredentialContext, UpstreamCredentials } from '../src/upstream/upstream.ts';

export async function credentialHits(credentials: UpstreamCredentials, context: CredentialContext, hits: number): Promise<{ cpuNs: number; perSecond: number }> {
  for (let i = 0; i < 10_000; i++) await credentials.headers(context); // warm up (the first token fetched or read)
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < hits; i++) await credentials.headers(context);
  const wall = Number(process.hrtime.bigint() - started);
  const used = process.cpuUsage(cpu);
  return { cpuNs: ((used.user + used.system) * 1000) / hits, perSecond: Math.round(hits / (wall / 1e9)) };
}
