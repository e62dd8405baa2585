// Builds an API's policy chain from its config, in list order. The order is the config's: put
// acl before rateLimit so refused calls spend no quota.
import type { Policy } from './policy.ts';
import type { Logger } from '../log.ts';
import type { ApiData } from '../config/schema.ts';
import { AclPolicy } from './acl/acl-policy.ts';
import { RateLimitPolicy, type RateLimitStats } from './rate-limit/rate-limit-policy.ts';
import type { CountersRegistry } from './rate-limit/registry.ts';

export interface PolicyDeps {
  readonly counters: CountersRegistry;
  /** Shared across reloads so counts (for metrics) survive them. */
  readonly rateLimitStats: RateLimitStats;
  readonly log: Logger;
}

export function compilePolicies(policies: ApiData['policies'], deps: PolicyDeps): Policy[] {
  return policies.map((entry): Policy => {
    if ('acl' in entry) return new AclPolicy(entry.acl);
    return new RateLimitPolicy(entry.rateLimit, deps.counters.get(entry.rateLimit.backend), deps.log, deps.rateLimitStats);
  });
}
