// Counter backends shared across config reloads (a reload must not reset limits or open a new
// Redis connection), closed when the gateway stops.
import type { Counters } from './counters.ts';
import { MemoryCounters } from './counters.ts';
import { RedisCounters } from './redis-counters.ts';
import type { BackendConfig } from './schema.ts';

export class CountersRegistry {
  private readonly byBackend = new Map<string, Counters>();

  get(backend: BackendConfig): Counters {
    const key = backend.type === 'memory' ? 'memory' : JSON.stringify([backend.url, backend.prefix, backend.timeout]);
    let counters = this.byBackend.get(key);
    if (!counters) {
      counters = backend.type === 'memory' ? new MemoryCounters() : new RedisCounters(backend.url, backend.prefix, backend.timeout);
      this.byBackend.set(key, counters);
    }
    return counters;
  }

  async close(): Promise<void> {
    const all = [...this.byBackend.values()];
    this.byBackend.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
