// Records each finished exchange in the gateway's metrics. Runs once per exchange, after the
// answer went out; the label children are cached by their values so that the usual exchange does
// one string key and a map lookup per metric instead of prom-client's label-object hashing
// (the latency histograms do the same on their own: histogram.ts).
import type { Counter } from 'prom-client';
import type { Logger } from '../log.ts';
import type { ExchangeObserver } from '../http/listener.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import type { GatewayMetrics } from './registry.ts';
import { isDenied, isFailure, methodLabel, soleMessage } from './exchange.ts';
import { isObject } from '../mcp/jsonrpc.ts';

/** Distinct values kept for the optional tool and agent labels; beyond, "other". */
const MAX_LABEL_VALUES = 200;

type CounterChild = ReturnType<Counter['labels']>;

export class MetricsObserver implements ExchangeObserver {
  private readonly counts = new Map<string, CounterChild>();
  private readonly tools = new BoundedValues(MAX_LABEL_VALUES);
  private readonly agents = new BoundedValues(MAX_LABEL_VALUES);
  private failedOnce = false;

  constructor(
    private readonly metrics: GatewayMetrics,
    /** The server behind an API in the config in force (for upstream error labels). */
    private readonly serverOf: (api: string) => string | undefined,
    private readonly log: Logger,
  ) {}

  captureBytes(): number {
    return 0;
  }

  complete(record: ExchangeRecord, status: number): void {
    // Called from a socket 'close' listener: a throw here would take the process down.
    try {
      this.record(record, status);
    } catch (error) {
      if (!this.failedOnce) this.log.error({ err: error }, 'metrics: could not record an exchange');
      this.failedOnce = true;
    }
  }

  private record(record: ExchangeRecord, status: number): void {
    const api = record.api ?? 'unknown';
    const method = methodLabel(record);
    const denied = isDenied(record);
    const failed = denied || isFailure(record, status);
    let key = `${api}\n${method}\n${denied ? 'd' : 'a'}${failed ? 'e' : 'o'}`;
    const { tool: withTool, agent: withAgent } = this.metrics.labels;
    let tool = '';
    let agent = '';
    if (withTool) {
      // A name joins the label values only once a call of it succeeded: calls of made-up names
      // (refused or unknown to the server) must not use up the allowance.
      tool = this.tools.of(toolOf(record), !failed);
      key += `\n${tool}`;
    }
    if (withAgent) {
      agent = this.agents.of(record.principal?.id ?? 'unauthenticated', true);
      key += `\n${agent}`;
    }
    let count = this.counts.get(key);
    if (!count) {
      const labels: Record<string, string> = { api, method, decision: denied ? 'denied' : 'allowed', outcome: failed ? 'error' : 'ok' };
      if (withTool) labels.tool = tool;
      if (withAgent) labels.agent = agent;
      count = this.metrics.requests.labels(labels);
      this.counts.set(key, count);
    }
    count.inc();

    // A standalone GET stream lasts as long as the client keeps it: not a latency.
    if (method !== 'GET') {
      this.metrics.duration.of(api, method).observe((performance.now() - record.start) / 1000);
      const upstreamMs = record.upstreamMs;
      if (upstreamMs !== undefined) this.metrics.upstreamDuration.of(api, method).observe(upstreamMs / 1000);
    }

    const code = record.error?.code;
    if (code !== undefined && code.startsWith('GH_UPSTREAM_')) {
      this.metrics.upstreamErrors.inc({ server: this.serverOf(api) ?? 'unknown', code });
    }
  }
}

/** The tool of a tools/call, else "" (the label is present on every series when on). */
function toolOf(record: ExchangeRecord): string {
  const message = soleMessage(record);
  if (!message || !('method' in message) || message.method !== 'tools/call' || !isObject(message.params)) return '';
  const name = message.params.name;
  return typeof name === 'string' ? name : '';
}

/** Label values taken from input (tool names, agent ids), capped so that no client can grow the series without bound. */
class BoundedValues {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  of(value: string, admit: boolean): string {
    if (value === '' || this.seen.has(value)) return value;
    if (!admit || this.seen.size >= this.max) return 'other';
    this.seen.add(value);
    return value;
  }
}
