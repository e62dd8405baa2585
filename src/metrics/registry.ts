// The Prometheus metrics of one gateway, in a registry of its own (several gateways can share a
// process). Request counts and latencies are recorded per exchange by the observer
// (observer.ts); gauges and totals kept elsewhere (sessions, rate limits, audit queue) are read
// from the gateway at scrape time, so they cost nothing between scrapes.
import { Counter, Gauge, Registry } from 'prom-client';
import { LightCounter, LightHistogram } from './light-metrics.ts';
import type { ConfigData } from '../config/schema.ts';
import type { RateLimitStats } from '../policy/rate-limit/rate-limit-policy.ts';
import { processRegistry } from './process.ts';

/** What the audit log reports about its queue (src/audit); absent when audit is off. */
export interface AuditCounters {
  readonly enqueued: number;
  readonly written: number;
  readonly dropped: number;
  readonly spilled: number;
  readonly failed: number;
  readonly queueDepth: number;
  /** Whether the sink is open (a Postgres sink unreachable at start is retried). */
  readonly sinkUp?: boolean;
}

/** Where scrape-time values come from: the running gateway. */
export interface MetricsSource {
  readonly config: ConfigData;
  sessionCounts(): Record<string, number>;
  readonly rateLimitStats: RateLimitStats;
  auditCounters(): AuditCounters | undefined;
  /** stderr of stdio children dropped over their budget, per server. */
  stderrDropped?(): Record<string, { readonly lines: number; readonly bytes: number }>;
  /** Client connections per listener (mcp, admin). */
  connectionStats?(): Record<string, { readonly open: number; readonly refused: number }>;
  /** Tool definition changes seen (src/policy/pinning/), per server. */
  toolDefinitionChanges?(): ReadonlyMap<string, number>;
  /** The deployed configuration version this node serves (managed mode), else undefined. */
  configVersion?(): number | undefined;
  /** Several nodes (src/cluster/): live nodes known and forwarding counts; undefined when off. */
  clusterStats?(): { readonly nodes: number; readonly forwarded: Readonly<Record<'ok' | 'ownerGone' | 'timeout' | 'broken', number>>; readonly refused: number } | undefined;
}

export interface MetricsLabels {
  readonly tool: boolean;
  readonly agent: boolean;
  /** The API's tenant (tenants[]); optional so that older callers need not name it. */
  readonly tenant?: boolean;
}

/** Seconds: from a fast cached answer to a long tool run. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const AUDIT_RESULTS = ['enqueued', 'written', 'dropped', 'spilled', 'failed'] as const;

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: LightCounter;
  readonly duration: LightHistogram;
  readonly upstreamDuration: LightHistogram;
  readonly upstreamErrors: Counter;
  private source: MetricsSource | undefined;

  constructor(readonly labels: MetricsLabels) {
    // Now, not at the first scrape: prom-client counts process CPU from when its metrics are set
    // up, so a registry made by the first scrape reported (close to) no CPU at all.
    processRegistry();
    const registers = [this.registry];
    const labelNames = ['api', 'method', 'decision', 'outcome'];
    // With the tool, the server it belongs to (a federated API's member): a tool name alone is ambiguous across servers.
    if (labels.tool) labelNames.push('tool', 'server');
    if (labels.agent) labelNames.push('agent');
    if (labels.tenant) labelNames.push('tenant');
    this.requests = new LightCounter(
      'gatehouse_requests_total',
      'MCP exchanges (one HTTP request to an API) by API, JSON-RPC method, decision (allowed/denied) and outcome (ok, error, or tool_error for a tool result marked isError).',
      labelNames,
      this.registry,
    );
    this.duration = new LightHistogram(
      'gatehouse_request_duration_seconds',
      'Time from receiving a request to the end of its answer; exchanges that carry a JSON-RPC request only (no GET streams, DELETEs or notifications).',
      ['api', 'method'],
      BUCKETS,
      this.registry,
    );
    this.upstreamDuration = new LightHistogram(
      'gatehouse_upstream_duration_seconds',
      'Time spent on the upstream: from sending the request to the end of its answer; exchanges that carry a JSON-RPC request only.',
      ['api', 'method'],
      BUCKETS,
      this.registry,
    );
    this.upstreamErrors = new Counter({
      name: 'gatehouse_upstream_errors_total',
      help: 'Answers of 5xx because of an upstream (unreachable, timed out, bad or too large answer, process exited), by server and Gatehouse error code.',
      labelNames: ['server', 'code'],
      registers,
    });
    const metrics = this;
    new Gauge({
      name: 'gatehouse_sessions_active',
      help: 'Live client sessions per server (tracked HTTP upstream sessions, stdio children, bridged SSE sessions).',
      labelNames: ['server', 'transport'],
      registers,
      collect() {
        this.reset();
        const source = metrics.source;
        if (!source) return;
        const servers = source.config.servers;
        for (const [server, count] of Object.entries(source.sessionCounts())) {
          const definition = servers[server];
          const transport = !definition ? 'unknown' : 'url' in definition ? 'http' : 'command' in definition ? 'stdio' : 'sse';
          this.set({ server, transport }, count);
        }
      },
    });
    new Gauge({
      name: 'gatehouse_config_version',
      help: 'The deployed configuration version this node serves (managed mode; absent when it runs from a file or nothing is deployed yet). Nodes of a cluster that disagree are still catching up.',
      registers,
      collect() {
        this.reset();
        const version = metrics.source?.configVersion?.();
        if (version !== undefined) this.set(version);
      },
    });
    new Gauge({
      name: 'gatehouse_cluster_nodes',
      help: 'Live nodes of the cluster this node knows, itself included (absent when cluster is off).',
      registers,
      collect() {
        this.reset();
        const stats = metrics.source?.clusterStats?.();
        if (stats) this.set(stats.nodes);
      },
    });
    new Counter({
      name: 'gatehouse_cluster_forwarded_total',
      help: 'Requests for sessions another node owns, forwarded to it, by outcome: ok (the owner answered), owner_gone (not registered or unreachable: 404), timeout (no answer head in time), broken (the connection broke before the answer, or could not be made for another reason such as TLS: 502, the session kept).',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        const stats = metrics.source?.clusterStats?.();
        if (!stats) return;
        this.inc({ outcome: 'ok' }, stats.forwarded.ok);
        this.inc({ outcome: 'owner_gone' }, stats.forwarded.ownerGone);
        this.inc({ outcome: 'timeout' }, stats.forwarded.timeout);
        this.inc({ outcome: 'broken' }, stats.forwarded.broken);
      },
    });
    new Counter({
      name: 'gatehouse_cluster_forward_refused_total',
      help: 'Requests with a forwarding header that did not verify (bad signature, outside the 30 s window, replayed), refused with GH_FORWARD_REFUSED.',
      registers,
      collect() {
        this.reset();
        const stats = metrics.source?.clusterStats?.();
        if (stats) this.inc(stats.refused);
      },
    });
    new Gauge({
      name: 'gatehouse_stdio_children',
      help: 'Running child processes of stdio servers (one per client session).',
      labelNames: ['server'],
      registers,
      collect() {
        this.reset();
        const source = metrics.source;
        if (!source) return;
        const servers = source.config.servers;
        for (const [server, count] of Object.entries(source.sessionCounts())) {
          const definition = servers[server];
          if (definition && 'command' in definition) this.set({ server }, count);
        }
      },
    });
    new Counter({
      name: 'gatehouse_rate_limit_rejections_total',
      help: 'Requests refused by a rateLimit policy (429).',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.source?.rateLimitStats.rejected ?? 0);
      },
    });
    new Counter({
      name: 'gatehouse_rate_limit_backend_errors_total',
      help: 'Times a rateLimit policy could not reach its counter store (then allowed or refused per its onError).',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.source?.rateLimitStats.backendErrors ?? 0);
      },
    });
    new Counter({
      name: 'gatehouse_tool_definition_changes_total',
      help: 'Tool definitions that changed since they were recorded (pinning policy), per server; counted by the node that recorded the change.',
      labelNames: ['server'],
      registers,
      collect() {
        this.reset();
        for (const [server, count] of metrics.source?.toolDefinitionChanges?.() ?? []) this.inc({ server }, count);
      },
    });
    for (const unit of ['lines', 'bytes'] as const) {
      new Counter({
        name: `gatehouse_stdio_stderr_dropped_${unit}_total`,
        help: `stderr ${unit} of stdio children not logged because a child wrote more than its budget (servers.<name>.stderr), per server.`,
        labelNames: ['server'],
        registers,
        collect() {
          this.reset();
          for (const [server, dropped] of Object.entries(metrics.source?.stderrDropped?.() ?? {})) this.inc({ server }, dropped[unit]);
        },
      });
    }
    new Gauge({
      name: 'gatehouse_client_connections',
      help: 'Client connections open now, per listener (mcp, admin).',
      labelNames: ['listener'],
      registers,
      collect() {
        this.reset();
        for (const [listener, stats] of Object.entries(metrics.source?.connectionStats?.() ?? {})) this.set({ listener }, stats.open);
      },
    });
    new Counter({
      name: 'gatehouse_client_connections_refused_total',
      help: 'Client connections refused at the listener\'s connection cap (limits.maxConnections, admin.maxConnections) while every open connection was busy.',
      labelNames: ['listener'],
      registers,
      collect() {
        this.reset();
        for (const [listener, stats] of Object.entries(metrics.source?.connectionStats?.() ?? {})) this.inc({ listener }, stats.refused);
      },
    });
    new Gauge({
      name: 'gatehouse_audit_queue_depth',
      help: 'Audit records waiting to be written.',
      registers,
      collect() {
        this.reset();
        const audit = metrics.source?.auditCounters();
        if (audit) this.set(audit.queueDepth);
      },
    });
    new Gauge({
      name: 'gatehouse_audit_sink_up',
      help: 'Whether the audit sink is open (1) or unreachable and being retried (0); records are held in the queue (and the spill file) meanwhile.',
      registers,
      collect() {
        this.reset();
        const audit = metrics.source?.auditCounters();
        if (audit) this.set(audit.sinkUp === false ? 0 : 1);
      },
    });
    new Counter({
      name: 'gatehouse_audit_records_total',
      help: 'Audit records by what became of them: enqueued, written, dropped (queue full), spilled (to the overflow file), failed (the sink refused them).',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        const audit = metrics.source?.auditCounters();
        if (audit) for (const result of AUDIT_RESULTS) this.inc({ result }, audit[result]);
      },
    });
  }

  /** Connects scrape-time gauges to the running gateway. */
  bind(source: MetricsSource): void {
    this.source = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition: process metrics, then this gateway's. */
  async text(): Promise<string> {
    const [process, own] = await Promise.all([processRegistry().metrics(), this.registry.metrics()]);
    return process + own;
  }
}
