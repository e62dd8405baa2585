// The rate-limit policy: every request that a limit matches takes a token from its bucket (and
// counts against its quota); over the limit it is refused with 429, Retry-After and RateLimit-*
// headers, and never reaches the upstream.
import { GatehouseError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { isObject, isRequest, type JsonRpcMessage, type JsonRpcRequest } from '../../mcp/jsonrpc.ts';
import { itemOf } from '../../mcp/classify.ts';
import type { Policy, PolicyContext, RequestDecision } from '../policy.ts';
import { ALLOW } from '../policy.ts';
import type { Counters, LimitOutcome } from './counters.ts';
import type { LimitConfig, QuotaConfig, RateLimitConfig } from './schema.ts';

type KeyPart = LimitConfig['key'][number];

interface Matcher {
  readonly methods: ReadonlySet<string> | undefined;
  readonly tools: ReadonlySet<string> | undefined;
  readonly servers: ReadonlySet<string> | undefined;
}

export interface RateLimitStats {
  rejected: number;
  backendErrors: number;
}

export class RateLimitPolicy implements Policy {
  readonly name = 'rate-limit';
  private readonly limits: Array<{ label: string; config: LimitConfig; match: Matcher; interval: number; burst: number }>;
  private readonly quotas: Array<{ label: string; config: QuotaConfig; match: Matcher }>;
  private lastErrorLog = 0;

  constructor(
    private readonly config: RateLimitConfig,
    private readonly counters: Counters,
    private readonly log: Logger,
    readonly stats: RateLimitStats = { rejected: 0, backendErrors: 0 },
  ) {
    this.limits = config.limits.map((limit, i) => ({
      label: limit.name ?? `limits[${i}]`,
      config: limit,
      match: matcher(limit.match),
      interval: limit.per / limit.rate,
      burst: limit.burst ?? limit.rate,
    }));
    this.quotas = config.quotas.map((quota, i) => ({ label: quota.name ?? `quotas[${i}]`, config: quota, match: matcher(quota.match) }));
  }

  async onRequest(ctx: PolicyContext, message: JsonRpcMessage): Promise<RequestDecision> {
    if (!isRequest(message)) return ALLOW;
    for (const limit of this.limits) {
      if (!matches(limit.match, ctx, message)) continue;
      const outcome = await this.check(() => this.counters.take(`${ctx.api}|${limit.label}|${keyOf(limit.config.key, ctx, message)}`, limit.interval, limit.burst));
      if (outcome === 'error') return this.backendDown(limit.label);
      if (!outcome.allowed) {
        return this.refuse(ctx, message, 'GH_RATE_LIMITED', `Rate limit "${limit.label}" exceeded (${limit.config.rate} per ${seconds(limit.config.per)})`, limit.config.rate, outcome);
      }
    }
    for (const quota of this.quotas) {
      if (!matches(quota.match, ctx, message)) continue;
      const end = windowEnd(quota.config.period, new Date());
      const window = quota.config.period === 'day' ? new Date(end - 1).toISOString().slice(0, 10) : new Date(end - 1).toISOString().slice(0, 7);
      const outcome = await this.check(() => this.counters.count(`${ctx.api}|${quota.label}|${window}|${keyOf(quota.config.key, ctx, message)}`, quota.config.limit, end));
      if (outcome === 'error') return this.backendDown(quota.label);
      if (!outcome.allowed) {
        return this.refuse(ctx, message, 'GH_QUOTA_EXCEEDED', `Quota "${quota.label}" exhausted (${quota.config.limit} per ${quota.config.period})`, quota.config.limit, outcome);
      }
    }
    return ALLOW;
  }

  private async check(run: () => Promise<LimitOutcome>): Promise<LimitOutcome | 'error'> {
    try {
      return await run();
    } catch (error) {
      this.stats.backendErrors++;
      const now = Date.now();
      if (now - this.lastErrorLog > 10_000) {
        this.lastErrorLog = now;
        this.log.warn({ err: (error as Error).message, onError: this.config.backend.type === 'redis' ? this.config.backend.onError : 'allow' }, 'rate-limit backend unavailable');
      }
      return 'error';
    }
  }

  private backendDown(label: string): RequestDecision {
    if (this.config.backend.type === 'redis' && this.config.backend.onError === 'deny') {
      return { action: 'deny', error: new GatehouseError('GH_RATE_LIMIT_UNAVAILABLE', `Rate limit "${label}" cannot be checked: its counter store is unreachable`) };
    }
    return ALLOW;
  }

  private refuse(ctx: PolicyContext, message: JsonRpcRequest, code: 'GH_RATE_LIMITED' | 'GH_QUOTA_EXCEEDED', text: string, limit: number, outcome: LimitOutcome): RequestDecision {
    this.stats.rejected++;
    const retry = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
    ctx.trace.push({ policy: this.name, method: message.method, name: toolOf(message), allowed: false, reason: text });
    return {
      action: 'deny',
      error: new GatehouseError(code, `${text}; retry in ${retry} s`, {
        'retry-after': String(retry),
        'ratelimit-limit': String(limit),
        'ratelimit-remaining': String(outcome.remaining),
        'ratelimit-reset': String(Math.max(0, Math.ceil(outcome.resetMs / 1000))),
      }),
    };
  }
}

function matcher(match: LimitConfig['match']): Matcher {
  return {
    methods: match?.methods ? new Set(match.methods) : undefined,
    tools: match?.tools ? new Set(match.tools) : undefined,
    servers: match?.servers ? new Set(match.servers) : undefined,
  };
}

/**
 * Where a request goes: the API's server, or on a federated API or virtual server the member
 * (and the name there) of the tool, prompt or resource it names, as routing places it.
 */
function targetOf(ctx: PolicyContext, message: JsonRpcRequest): { readonly server: string; readonly original: string } | undefined {
  if (!ctx.targetOf) return ctx.server === '' ? undefined : { server: ctx.server, original: toolOf(message) ?? '' };
  const item = itemOf(message);
  return item ? ctx.targetOf(item.kind, item.name) : undefined;
}

function toolOf(message: JsonRpcRequest): string | undefined {
  return message.method === 'tools/call' && isObject(message.params) && typeof message.params.name === 'string' ? message.params.name : undefined;
}

function matches(match: Matcher, ctx: PolicyContext, message: JsonRpcRequest): boolean {
  if (match.methods && !match.methods.has(message.method)) return false;
  if (!match.tools && !match.servers) return true;
  const target = targetOf(ctx, message);
  if (match.servers && (target === undefined || !match.servers.has(target.server))) return false;
  if (match.tools) {
    const tool = toolOf(message);
    if (tool === undefined) return false;
    // A federated API: the name the agent uses, or the tool's own name on its server.
    if (!match.tools.has(tool) && !(ctx.targetOf && target !== undefined && match.tools.has(target.original))) return false;
  }
  return true;
}

function keyOf(parts: readonly KeyPart[], ctx: PolicyContext, message: JsonRpcRequest): string {
  return parts
    .map((part) => {
      switch (part) {
        case 'api':
          return ctx.api;
        case 'agent':
          return ctx.principal.key;
        case 'user':
          return ctx.principal.user?.id ?? ctx.principal.key;
        case 'tool':
          return toolOf(message) ?? '-';
        case 'server':
          return targetOf(ctx, message)?.server || '-';
        case 'method':
          return message.method;
      }
    })
    .join('|');
}

/** End of the current UTC day or month, in ms. */
export function windowEnd(period: 'day' | 'month', now: Date): number {
  return period === 'day'
    ? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)
    : Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
