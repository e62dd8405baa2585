// OpenTelemetry tracing: one SERVER span per exchange with MCP attributes, exported over
// OTLP/HTTP (JSON) in batches. The span continues the client's W3C trace context (traceparent)
// and its own context is what HTTP upstreams receive (record.traceparent, read by the
// Streamable HTTP connector). The OpenTelemetry packages are imported only when tracing is on,
// so a gateway without tracing loads none of them.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Context, Span, SpanContext, Tracer } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../log.ts';
import type { ExchangeObserver } from '../http/listener.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import { isObject } from '../mcp/jsonrpc.ts';
import type { TracingConfig } from './schema.ts';
import { claimantOf } from '../auth/refusal.ts';
import { errorCodeOf, isDenied, isFailure, methodLabel, soleMessage } from './exchange.ts';
import { clientAddressOf } from '../http/forwarded-from.ts';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** How often a failing collector is reported in the log. */
const EXPORT_WARN_EVERY_MS = 60_000;

export interface Tracing {
  readonly observer: ExchangeObserver;
  /** Exports what is pending and stops. */
  close(): Promise<void>;
}

export async function startTracing(config: TracingConfig, log: Logger): Promise<Tracing> {
  const [api, sdk, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const exporter = new ReportingExporter(new OTLPTraceExporter({ url: config.endpoint, headers: { ...config.headers } }), log);
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': VERSION }),
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new sdk.BatchSpanProcessor(exporter)],
  });
  // Not registered as the global provider: Gatehouse may be embedded in a process that has its own.
  const tracer = provider.getTracer('gatehouse', VERSION);
  const spans = new WeakMap<ExchangeRecord, Span>();
  const tools = {
    tracer,
    root: api.ROOT_CONTEXT,
    setSpanContext: (ctx: Context, sc: SpanContext) => api.trace.setSpanContext(ctx, sc),
    kind: api.SpanKind.SERVER,
    error: api.SpanStatusCode.ERROR,
  };
  // The endpoint without user info or query: those may carry a collector's credentials.
  const shown = new URL(config.endpoint);
  log.info({ endpoint: `${shown.origin}${shown.pathname}`, serviceName: config.serviceName, sampleRatio: config.sampleRatio }, 'tracing: exporting spans over OTLP/HTTP');
  return {
    observer: {
      captureBytes: () => 0,
      begin: (record) => begin(tools, spans, record),
      complete: (record, status) => {
        const span = spans.get(record);
        if (!span) return;
        try {
          finish(span, record, status, tools.error);
        } catch (error) {
          log.warn({ err: error }, 'tracing: could not finish a span');
        }
      },
      // The owner's span (a child of this one) holds the exchange; this one is the hop.
      forwarded: (record, status) => {
        const span = spans.get(record);
        if (!span) return;
        span.updateName('forward');
        span.setAttributes({ 'gatehouse.forwarded_to': record.forwardedTo ?? '', 'http.request.method': record.req.method ?? 'POST', 'http.response.status_code': status, ...(record.api && { 'gatehouse.api': record.api }) });
        span.end();
      },
    },
    close: () => provider.shutdown(),
  };
}

interface Tools {
  tracer: Tracer;
  root: Context;
  setSpanContext(ctx: Context, sc: SpanContext): Context;
  kind: number;
  error: number;
}

function begin(tools: Tools, spans: WeakMap<ExchangeRecord, Span>, record: ExchangeRecord): void {
  const incoming = parseTraceparent(record.req.headers.traceparent);
  const parent = incoming ? tools.setSpanContext(tools.root, incoming) : tools.root;
  const span = tools.tracer.startSpan('mcp', { kind: tools.kind }, parent);
  spans.set(record, span);
  record.traceparent = formatTraceparent(span.spanContext());
}

function finish(span: Span, record: ExchangeRecord, status: number, errorStatus: number): void {
  const method = methodLabel(record);
  const message = soleMessage(record);
  const params = message && 'method' in message && isObject(message.params) ? message.params : undefined;
  const denied = isDenied(record);
  const attributes: Record<string, string | number | boolean> = {
    'mcp.method.name': message && 'method' in message ? message.method : method,
    'http.request.method': record.req.method ?? 'POST',
    'http.response.status_code': status,
    'gatehouse.decision': denied ? 'denied' : 'allowed',
  };
  let name = method;
  if (record.api) attributes['gatehouse.api'] = record.api;
  const agent = record.principal?.id ?? claimantOf(record.error)?.agent;
  if (agent !== undefined) attributes['gatehouse.agent.id'] = agent;
  const address = clientAddressOf(record.req);
  if (address) attributes['client.address'] = address;
  const version = record.req.headers['mcp-protocol-version'];
  if (typeof version === 'string') attributes['mcp.protocol.version'] = version;
  // The session id is a bearer-like token: only a short digest of it leaves Gatehouse.
  if (record.sessionId) attributes['mcp.session.id'] = createHash('sha256').update(record.sessionId).digest('hex').slice(0, 16);
  if (message && 'id' in message && message.id !== null && message.id !== undefined) {
    attributes['rpc.jsonrpc.request_id'] = String(message.id);
    attributes['jsonrpc.request.id'] = String(message.id);
  }
  if (params && method === 'tools/call' && typeof params.name === 'string') {
    attributes['mcp.tool.name'] = params.name;
    attributes['gen_ai.tool.name'] = params.name;
    attributes['gen_ai.operation.name'] = 'execute_tool';
    name = `${method} ${params.name}`;
  } else if (params && method === 'prompts/get' && typeof params.name === 'string') {
    attributes['gen_ai.prompt.name'] = params.name;
    name = `${method} ${params.name}`;
  } else if (params && method.startsWith('resources/') && typeof params.uri === 'string') {
    attributes['mcp.resource.uri'] = params.uri;
  }
  const code = errorCodeOf(record, status);
  if (code !== undefined) {
    attributes['rpc.jsonrpc.error_code'] = code;
    attributes['rpc.response.status_code'] = String(code);
  }
  if (denied || isFailure(record, status)) {
    attributes['error.type'] = record.error?.code ?? (denied ? 'denied' : code !== undefined ? String(code) : status >= 400 ? String(status) : 'tool_error');
    span.setStatus({ code: errorStatus, message: record.error?.message });
  }
  span.updateName(name);
  span.setAttributes(attributes);
  span.end();
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** A W3C traceparent header as a remote span context; undefined when absent or malformed. */
export function parseTraceparent(value: string | string[] | undefined): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  // Version ff is invalid; version 00 has exactly four fields; all-zero ids are invalid.
  if (version === 'ff' || (version === '00' && rest !== undefined) || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & 1, isRemote: true };
}

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 1) === 1 ? '01' : '00'}`;
}

/** Passes spans on to the OTLP exporter and says in the log (at most once a minute) when the collector refuses or cannot be reached. */
class ReportingExporter implements SpanExporter {
  private lastWarning = 0;
  constructor(
    private readonly inner: SpanExporter,
    private readonly log: Logger,
  ) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.inner.export(spans, (result) => {
      if (result.error && Date.now() - this.lastWarning > EXPORT_WARN_EVERY_MS) {
        this.lastWarning = Date.now();
        this.log.warn({ err: result.error.message, spans: spans.length }, 'tracing: could not export spans to the collector');
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
