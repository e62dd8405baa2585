// Records each finished exchange in the gateway's metrics. Runs once per exchange, after the
// answer went out. The series an exchange lands in are looked up by API and method in nested maps
// (no key string made per exchange); with the optional tool or agent labels, by a joined key.
import type { Logger } from '../log.ts';
import type { ExchangeObserver } from '../http/listener.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import type { GatewayMetrics } from './registry.ts';
import type { CounterSeries, HistogramSeries } from './light-metrics.ts';
import { carriesRequest, isDenied, methodLabel, outcomeOf, soleMessage } from './exchange.ts';
import { isObject } from '../mcp/jsonrpc.ts';
import { claimantOf } from '../auth/refusal.ts';

/** Distinct values kept for the optional tool and agent labels; beyond, "other". */
const MAX_LABEL_VALUES = 200;

/** The series of one API and method. */
interface MethodSeries {
  /** Request counts by outcome (see slotOf), made on first use; used without tool and agent labels. */
  readonly counts: Array<CounterSeries | undefined>;
  readonly duration: HistogramSeries;
  readonly upstreamDuration: HistogramSeries;
}

// The decision and outcome of each count slot. A denial is always an error: it never reached the tool.
const DECISIONS = ['allowed', 'allowed', 'allowed', 'denied'] as const;
const OUTCOMES = ['ok', 'error', 'tool_error', 'error'] as const;
const ALLOWED_SLOT = { ok: 0, error: 1, tool_error: 2 } as const;
const DENIED_SLOT = 3;

export class MetricsObserver implements ExchangeObserver {
  private readonly byApi = new Map<string, Map<string, MethodSeries>>();
  private readonly tools = new BoundedValues(MAX_LABEL_VALUES);
  private readonly agents = new BoundedValues(MAX_LABEL_VALUES);
  private failedOnce = false;

  constructor(
    private readonly metrics: GatewayMetrics,
    /** The server behind an API in the config in force (for upstream error labels). */
    private readonly serverOf: (api: string) => string | undefined,
    private readonly log: Logger,
    /** The tenant of an API in the config in force (for the optional tenant label). */
    private readonly tenantOf: (api: string) => string | undefined = () => undefined,
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
    const slot = denied ? DENIED_SLOT : ALLOWED_SLOT[outcomeOf(record, status)];
    const series = this.seriesOf(api, method);
    const { tool: withTool, agent: withAgent, tenant: withTenant } = this.metrics.labels;
    if (!withTool && !withAgent && !withTenant) {
      (series.counts[slot] ??= this.metrics.requests.of(api, method, DECISIONS[slot]!, OUTCOMES[slot]!)).inc();
    } else {
      const values: string[] = [api, method, DECISIONS[slot]!, OUTCOMES[slot]!];
      // A name joins the label values only once a call of it succeeded: calls of made-up names
      // (refused, or unknown to the server, which some answer with a tool error) must not use up the allowance.
      if (withTool) {
        values.push(this.tools.of(toolOf(record), slot === ALLOWED_SLOT.ok));
        // The server of the tool: names from the config, so bounded by it.
        values.push(serverOf(record));
      }
      if (withAgent) values.push(this.agents.of(record.principal?.id ?? claimantOf(record.error)?.agent ?? 'unauthenticated', true));
      // Tenants come from the config: bounded by it, no allowance needed.
      if (withTenant) values.push(this.tenantOf(api) ?? 'unknown');
      this.metrics.requests.of(...values).inc();
    }

    // Latency is that of request/response exchanges: not how long a GET stream stayed open, a
    // DELETE took to stop a server, or a notification took to be accepted.
    if (carriesRequest(record)) {
      series.duration.observe((performance.now() - record.start) / 1000);
      const upstreamMs = record.upstreamMs;
      if (upstreamMs !== undefined) series.upstreamDuration.observe(upstreamMs / 1000);
    }

    const code = record.error?.code;
    if (code !== undefined && code.startsWith('GH_UPSTREAM_')) {
      this.metrics.upstreamErrors.inc({ server: record.targets?.[0]?.server ?? this.serverOf(api) ?? 'unknown', code });
    }
  }

  private seriesOf(api: string, method: string): MethodSeries {
    let methods = this.byApi.get(api);
    if (!methods) this.byApi.set(api, (methods = new Map()));
    let series = methods.get(method);
    if (!series) {
      series = { counts: [], duration: this.metrics.duration.of(api, method), upstreamDuration: this.metrics.upstreamDuration.of(api, method) };
      methods.set(method, series);
    }
    return series;
  }
}

/** The tool of a tools/call, else "" (the label is present on every series when on). */
function toolOf(record: ExchangeRecord): string {
  const message = soleMessage(record);
  if (!message || !('method' in message) || message.method !== 'tools/call' || !isObject(message.params)) return '';
  const name = message.params.name;
  return typeof name === 'string' ? name : '';
}

/**
 * The server that served the exchange: the API's, or a federated API's member the one message
 * was routed to; "" when there is none (a batch or a list on a federated API).
 */
function serverOf(record: ExchangeRecord): string {
  if (record.server !== undefined) return record.server;
  return record.messages.length === 1 ? (record.targets?.[0]?.server ?? '') : '';
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
