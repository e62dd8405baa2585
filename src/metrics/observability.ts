// Metrics and tracing of one gateway, set up from the config at start: the exchange observer they
// share (none when both are off, so that no ExchangeRecord is made for them), and the metrics
// registry the admin listener serves.
import type { Logger } from '../log.ts';
import type { ConfigData } from '../config/schema.ts';
import type { ExchangeObserver } from '../http/listener.ts';
import { combineObservers } from '../observe/composite.ts';
import { GatewayMetrics, type MetricsSource } from './registry.ts';
import { MetricsObserver } from './observer.ts';
import type { Tracing } from './tracing.ts';

export class Observability {
  private constructor(
    readonly metrics: GatewayMetrics | undefined,
    private readonly tracing: Tracing | undefined,
    readonly observer: ExchangeObserver | undefined,
    private readonly started: ConfigData,
    private readonly log: Logger,
  ) {}

  static async start(config: ConfigData, log: Logger, serverOf: (api: string) => string | undefined, tenantOf?: (api: string) => string | undefined): Promise<Observability> {
    const metrics = config.metrics.enabled ? new GatewayMetrics(config.metrics.labels) : undefined;
    const tracing = config.tracing.enabled ? await (await import('./tracing.ts')).startTracing(config.tracing, log) : undefined;
    const observer = combineObservers(metrics && new MetricsObserver(metrics, serverOf, log, tenantOf), tracing?.observer);
    return new Observability(metrics, tracing, observer, config, log);
  }

  /** Connects scrape-time gauges (sessions, rate limits, audit queue) to the running gateway. */
  bind(source: MetricsSource): void {
    this.metrics?.bind(source);
  }

  /** Label sets and exporters are fixed at start: say so when a reload changes them. */
  reload(config: ConfigData): void {
    const before = this.started;
    const changed =
      before.metrics.enabled !== config.metrics.enabled ||
      JSON.stringify(before.metrics.labels) !== JSON.stringify(config.metrics.labels) ||
      JSON.stringify(before.tracing) !== JSON.stringify(config.tracing);
    if (changed) this.log.warn('metrics and tracing settings take effect on restart; keeping the current ones');
  }

  close(): Promise<void> {
    return this.tracing?.close() ?? Promise.resolve();
  }
}
