// Builds an API's policy chain from its config, in list order. The order is the config's: put
// acl before rateLimit so refused calls spend no quota.
import type { Policy } from './policy.ts';
import type { Logger } from '../log.ts';
import type { ApiData } from '../config/schema.ts';
import { AclPolicy } from './acl/acl-policy.ts';
import { RateLimitPolicy, type RateLimitStats } from './rate-limit/rate-limit-policy.ts';
import type { CountersRegistry } from './rate-limit/registry.ts';
import { PinningPolicy } from './pinning/pinning-policy.ts';
import type { PinningRegistry } from './pinning/registry.ts';

export interface PolicyDeps {
  readonly counters: CountersRegistry;
  /** Shared across reloads so counts (for metrics) survive them. */
  readonly rateLimitStats: RateLimitStats;
  readonly log: Logger;
  /** Pinned tool definitions, one per gateway (it reads and writes the store). */
  readonly pinning: PinningRegistry;
}

export function compilePolicies(policies: ApiData['policies'], deps: PolicyDeps): Policy[] {
  return policies.map((entry): Policy => {
    if ('acl' in entry) return new AclPolicy(entry.acl);
    if ('pinning' in entry) return new PinningPolicy(entry.pinning, deps.pinning, deps.log);
    return new RateLimitPolicy(entry.rateLimit, deps.counters.get(entry.rateLimit.backend), deps.log, deps.rateLimitStats);
  });
}
