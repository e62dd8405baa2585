// Process metrics (CPU, memory, event loop, GC: prom-client's default metrics) belong to the
// process, not to one gateway: one registry, created on first use and shared by every gateway of
// the process (tests start several), so its observers are set up once.
import { Registry, collectDefaultMetrics } from 'prom-client';

let shared: Registry | undefined;

export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    // The event loop delay is sampled every 100 ms, not prom-client's 10: each sample wakes the
    // loop, and 100 wake-ups a second were an idle gateway's main CPU cost. A scrape every 15 s
    // still sees 150 samples.
    collectDefaultMetrics({ register: shared, eventLoopMonitoringPrecision: 100 });
  }
  return shared;
}
