// Process metrics (CPU, memory, event loop, GC: prom-client's default metrics) belong to the
// process, not to one gateway: one registry, created on first use and shared by every gateway of
// the process (tests start several), so its observers are set up once.
import { Registry, collectDefaultMetrics } from 'prom-client';

let shared: Registry | undefined;

export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
