// Config of metrics (`metrics:`) and tracing (`tracing:`). Both are read at start; a reload that
// changes them is logged and takes effect on restart (label sets and exporters are fixed then).
import { z } from 'zod';

const HttpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'expected an absolute http:// or https:// URL');

const LABELS_DEFAULT = { tool: false, agent: false, tenant: false };

export const MetricsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Count requests, latencies, sessions and refusals, served in Prometheus format at /metrics on the admin listener.' }),
    public: z.boolean().default(false).meta({ description: 'Serve /metrics without admin authentication (for a scraper that cannot send a token). The admin listener still binds admin.host.' }),
    labels: z
      .strictObject({
        tool: z.boolean().default(false).meta({ description: 'Add `tool` (the tool of tools/call) and `server` (the server that served the exchange: the API\'s, or a federated API\'s member) labels to request counts. At most 200 distinct tool names are kept; the rest count as "other". Server names come from the config.' }),
        agent: z.boolean().default(false).meta({ description: 'Add an `agent` label (the agent id) to request counts. At most 200 distinct agents are kept; the rest count as "other".' }),
        tenant: z.boolean().default(false).meta({ description: 'Add a `tenant` label (the tenant of the API, `default` for APIs of none) to request counts. Values come from the config, so bounded by it.' }),
      })
      .default(LABELS_DEFAULT)
      .meta({ description: 'Optional labels of gatehouse_requests_total. Off by default: each multiplies the number of series.' }),
  })
  .default({ enabled: true, public: false, labels: LABELS_DEFAULT })
  .meta({ description: 'Prometheus metrics. Changes take effect on restart (except `public`).' });

export const TracingSchema = z
  .strictObject({
    enabled: z.boolean().default(false).meta({ description: 'Export one OpenTelemetry span per exchange over OTLP/HTTP (JSON), and send Gatehouse\'s trace context to HTTP upstreams.' }),
    endpoint: HttpUrl.default('http://127.0.0.1:4318/v1/traces').meta({ description: 'OTLP/HTTP traces endpoint of a collector, e.g. http://127.0.0.1:4318/v1/traces' }),
    headers: z.record(z.string(), z.string()).default({}).meta({ description: 'Headers sent to the collector (e.g. an API key). Values may use ${env:NAME}; they are never logged.' }),
    serviceName: z.string().min(1).default('gatehouse').meta({ description: 'service.name of the exported spans.' }),
    sampleRatio: z.number().min(0).max(1).default(1).meta({ description: 'Share of new traces recorded (0 to 1). A request that carries a traceparent follows its caller\'s sampling decision.' }),
  })
  .default({ enabled: false, endpoint: 'http://127.0.0.1:4318/v1/traces', headers: {}, serviceName: 'gatehouse', sampleRatio: 1 })
  .meta({ description: 'OpenTelemetry tracing (off by default). Changes take effect on restart.' });

export type MetricsConfig = z.output<typeof MetricsSchema>;
export type TracingConfig = z.output<typeof TracingSchema>;
