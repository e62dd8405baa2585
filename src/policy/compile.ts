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
import { TaintPolicy } from './taint/taint-policy.ts';
import type { TaintBook } from './taint/book.ts';
import { ApprovalPolicy } from './approval/approval-policy.ts';
import type { ApprovalBook } from './approval/book.ts';
import type { TrustedAnnotations } from './annotations/trusted.ts';
import { GuardrailsPolicy } from './guardrails/guardrails-policy.ts';

export interface PolicyDeps {
  readonly counters: CountersRegistry;
  /** Shared across reloads so counts (for metrics) survive them. */
  readonly rateLimitStats: RateLimitStats;
  readonly log: Logger;
  /** Pinned tool definitions, one per gateway (it reads and writes the store). */
  readonly pinning: PinningRegistry;
  /** Tainted sessions (the store's), one per gateway. */
  readonly taint: TaintBook;
  /** Tool calls held for approval, one book per gateway (the admin listener decides them). */
  readonly approvals: ApprovalBook;
}

/** What compiling one config adds: the operator's tool annotations. */
export interface ConfigPolicyDeps extends PolicyDeps {
  readonly annotations: TrustedAnnotations;
}

export function compilePolicies(policies: ApiData['policies'], deps: ConfigPolicyDeps): Policy[] {
  return policies.map((entry): Policy => {
    if ('acl' in entry) return new AclPolicy(entry.acl, deps.annotations);
    if ('taint' in entry) return new TaintPolicy(entry.taint, deps.annotations, deps.taint, deps.approvals);
    if ('approval' in entry) return new ApprovalPolicy(entry.approval, deps.annotations, deps.approvals, deps.log);
    if ('guardrails' in entry) return new GuardrailsPolicy(entry.guardrails);
    if ('pinning' in entry) return new PinningPolicy(entry.pinning, deps.pinning, deps.log);
    return new RateLimitPolicy(entry.rateLimit, deps.counters.get(entry.rateLimit.backend), deps.log, deps.rateLimitStats);
  });
}
