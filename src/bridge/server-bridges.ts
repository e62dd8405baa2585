// What bridges the eras for one configured server: the adapter for 2026-07-28 clients when the
// server speaks 2025 (every stdio and HTTP+SSE server; a Streamable HTTP server when its
// `server/discover` probe says so), and that probe.
import type { ModernClientBridge } from './modern-client.ts';
import type { EraProbe } from './era.ts';

export interface ServerBridges {
  readonly modernClient: ModernClientBridge;
  /** Streamable HTTP servers only: stdio and HTTP+SSE servers always speak a 2025 revision. */
  readonly probe: EraProbe | undefined;
}

/** The adapter to use for a 2026-07-28 client of this server, or undefined when the server speaks 2026-07-28 itself. */
export async function modernClientBridge(bridges: ServerBridges): Promise<ModernClientBridge | undefined> {
  if (!bridges.probe) return bridges.modernClient;
  const modern = bridges.probe.speaksModern();
  return (typeof modern === 'boolean' ? modern : await modern) ? undefined : bridges.modernClient;
}
