// What bridges the eras for one configured server: the adapter for 2026-07-28 clients when the
// server speaks 2025 (every stdio and HTTP+SSE server; a Streamable HTTP server when its
// `server/discover` probe says so), the adapter for 2025 clients when a Streamable HTTP server
// speaks only 2026-07-28, and the probe that tells.
import type { ModernClientBridge } from './modern-client.ts';
import type { EraProbe } from './era.ts';
import type { LegacyClientBridge } from './legacy-client.ts';
import type { ModernMemberForwarder } from '../upstream/federation/modern-forward.ts';

export interface ServerBridges {
  readonly modernClient: ModernClientBridge;
  /** Streamable HTTP servers only: stdio and HTTP+SSE servers always speak a 2025 revision. */
  readonly probe: EraProbe | undefined;
  /** Streamable HTTP servers only: the adapter for 2025 clients, used when the server speaks only 2026-07-28. */
  readonly legacyClient: LegacyClientBridge | undefined;
  /** Federated APIs only: 2026-07-28 clients' requests for items of 2026-07-28 members, forwarded rather than bridged. */
  readonly memberForward?: ModernMemberForwarder | undefined;
}

/** The adapter to use for a 2026-07-28 client of this server, or undefined when the server speaks 2026-07-28 itself. */
export async function modernClientBridge(bridges: ServerBridges): Promise<ModernClientBridge | undefined> {
  if (!bridges.probe) return bridges.modernClient;
  const modern = bridges.probe.speaksModern();
  return (typeof modern === 'boolean' ? modern : await modern) ? undefined : bridges.modernClient;
}

/** The adapter to use for a 2025 client's initialize, or undefined when the server serves 2025 clients itself. */
export async function legacyClientBridge(bridges: ServerBridges): Promise<LegacyClientBridge | undefined> {
  if (!bridges.probe || !bridges.legacyClient) return undefined;
  const serves = bridges.probe.servesLegacyClients();
  return (typeof serves === 'boolean' ? serves : await serves) ? undefined : bridges.legacyClient;
}
