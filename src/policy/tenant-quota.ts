// A tenant's requests per day (`tenants[].quotas.requestsPerDay`): one counter per tenant and UTC
// day, shared by all of the tenant's APIs (and, with a Redis backend, all nodes). Put first in
// each of the tenant's APIs' chains by the compiler, so that every JSON-RPC request counts,
// whatever the API's own policies then decide. Beyond the quota: 429 GH_QUOTA_EXCEEDED with
// Retry-After until midnight UTC, and the request never reaches the upstream.
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isRequest, type JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { ALLOW, type Policy, type PolicyContext, type RequestDecision } from './policy.ts';
import type { Counters, LimitOutcome } from './rate-limit/counters.ts';
import { windowEnd } from './rate-limit/rate-limit-policy.ts';

export class TenantQuotaPolicy implements Policy {
  readonly name = 'tenant-quota';
  private lastErrorLog = 0;

  constructor(
    private readonly tenant: string,
    private readonly limit: number,
    private readonly counters: Counters,
    private readonly failClosed: boolean,
    private readonly log: Logger,
  ) {}

  async onRequest(ctx: PolicyContext, message: JsonRpcMessage): Promise<RequestDecision> {
    if (!isRequest(message)) return ALLOW;
    const end = windowEnd('day', new Date());
    const day = new Date(end - 1).toISOString().slice(0, 10);
    let outcome: LimitOutcome;
    try {
      outcome = await this.counters.count(`tenant|${this.tenant}|${day}`, this.limit, end);
    } catch (error) {
      const now = Date.now();
      if (now - this.lastErrorLog > 10_000) {
        this.lastErrorLog = now;
        this.log.warn({ err: (error as Error).message, tenant: this.tenant }, 'tenant quota: counter store unavailable');
      }
      if (!this.failClosed) return ALLOW;
      return { action: 'deny', error: new GatehouseError('GH_RATE_LIMIT_UNAVAILABLE', `The quota of tenant "${this.tenant}" cannot be checked: its counter store is unreachable`) };
    }
    if (outcome.allowed) return ALLOW;
    const retry = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
    const text = `Quota of tenant "${this.tenant}" exhausted (${this.limit} requests per day, UTC)`;
    ctx.trace.push({ policy: this.name, method: message.method, name: undefined, allowed: false, reason: text });
    return {
      action: 'deny',
      error: new GatehouseError('GH_QUOTA_EXCEEDED', `${text}; retry in ${retry} s`, {
        'retry-after': String(retry),
        'ratelimit-limit': String(this.limit),
        'ratelimit-remaining': '0',
        'ratelimit-reset': String(Math.max(0, Math.ceil(outcome.resetMs / 1000))),
      }),
    };
  }
}
