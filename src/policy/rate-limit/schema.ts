// Config schema of the rate-limit policy: token-bucket limits (GCRA) and daily/monthly quotas,
// keyed by any of api, agent, user, tool, server and method, counted in memory or in Redis.
import { z } from 'zod';
import { Duration } from '../../config/units.ts';

const KeyPart = z.enum(['api', 'agent', 'user', 'tool', 'server', 'method']);

const Match = z
  .strictObject({
    methods: z.array(z.string()).min(1).optional().meta({ description: 'Only these methods count (default: every request).' }),
    tools: z
      .array(z.string())
      .min(1)
      .optional()
      .meta({ description: 'Only tools/call of these tools counts: the name the agent uses, or on a federated API or virtual server also the tool\'s name on its server (with `servers: [memory]`, `create_entities` is create_entities of memory whatever the API calls it).' }),
    servers: z
      .array(z.string())
      .min(1)
      .optional()
      .meta({ description: 'Only requests served by these servers count: the API\'s server, or on a federated API or virtual server the member a tool call, prompt or resource read goes to (requests that name no item, such as lists, match no server).' }),
  })
  .meta({ description: 'Which requests the limit counts.' });

export const LimitSchema = z.strictObject({
  name: z.string().optional().meta({ description: 'Named in the 429 error and metrics (default: limits[N]).' }),
  key: z.array(KeyPart).min(1).default(['agent']).meta({ description: 'What the limit is per: a combination of api, agent, user, tool, server, method (server: the server a request goes to, a federated API\'s member).' }),
  match: Match.optional(),
  rate: z.number().int().positive().meta({ description: 'Requests allowed per period.' }),
  per: Duration.meta({ description: 'The period, e.g. 1s, 1m, 1h.' }),
  burst: z.number().int().positive().optional().meta({ description: 'Requests allowed at once (default: rate).' }),
});

export const QuotaSchema = z.strictObject({
  name: z.string().optional(),
  key: z.array(KeyPart).min(1).default(['agent']),
  match: Match.optional(),
  limit: z.number().int().positive(),
  period: z.enum(['day', 'month']).meta({ description: 'Calendar day or month in UTC.' }),
});

export const RateLimitBackendSchema = z
  .union([
    z.strictObject({ type: z.literal('memory') }),
    z.strictObject({
      type: z.literal('redis'),
      url: z.string().meta({ description: 'redis:// URL (use ${env:NAME} for a password).' }),
      prefix: z.string().default('gatehouse:rl:'),
      onError: z.enum(['allow', 'deny']).default('allow').meta({ description: 'Redis unreachable: allow the request (fail open) or refuse it with 503 (fail closed). Logged and counted either way.' }),
      timeout: Duration.default(200).meta({ description: 'Longest wait for Redis per request.' }),
    }),
  ])
  .meta({ description: 'Where counters live: memory (one node) or Redis (shared by several nodes).' });

export const RateLimitPolicySchema = z
  .strictObject({
    rateLimit: z
      .strictObject({
        backend: RateLimitBackendSchema.default({ type: 'memory' }),
        limits: z.array(LimitSchema).default([]),
        quotas: z.array(QuotaSchema).default([]),
      })
      .refine((v) => v.limits.length + v.quotas.length > 0, 'expected at least one entry under limits or quotas'),
  })
  .meta({ title: 'Rate limit policy' });

export type RateLimitConfig = z.output<typeof RateLimitPolicySchema>['rateLimit'];
export type LimitConfig = z.output<typeof LimitSchema>;
export type QuotaConfig = z.output<typeof QuotaSchema>;
export type BackendConfig = z.output<typeof RateLimitBackendSchema>;
