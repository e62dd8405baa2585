// Tenants in the config: a list of ids (with a display name and an optional path prefix), and the
// `tenant` field that servers, APIs and agents carry. What names no tenant belongs to the built-in
// `default` tenant, so a config without tenants is exactly what it was before they existed.
import { z } from 'zod';
import { RateLimitBackendSchema } from '../policy/rate-limit/schema.ts';
import { egressEntryProblem } from '../upstream/egress-entries.ts';

/** The tenant of everything that names none. */
export const DEFAULT_TENANT = 'default';

export const TenantId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'expected a tenant id of lowercase letters, digits, "_" or "-" (max 32), starting with a letter or digit');

export const TenantField = TenantId.optional().meta({ description: 'Id of the tenant (under `tenants`) that owns this; default: the built-in `default` tenant.' });

export const TenantSchema = z
  .strictObject({
    id: TenantId.meta({ description: 'Id that servers, APIs and agents name in their `tenant` field (`default` is the built-in tenant of everything that names none).' }),
    name: z.string().min(1).max(100).optional().meta({ description: 'Display name.' }),
    pathPrefix: z
      .string()
      .regex(/^\/[A-Za-z0-9/_.~-]*[A-Za-z0-9_.~-]$/, 'expected an absolute path without a trailing slash, such as /acme')
      .optional()
      .meta({ description: 'Every API of this tenant must have a path under this prefix (e.g. /acme: /acme/weather).' }),
    quotas: z
      .strictObject({
        requestsPerDay: z.number().int().positive().optional().meta({ description: 'JSON-RPC requests to all of the tenant\'s APIs per calendar day (UTC); beyond it 429 `GH_QUOTA_EXCEEDED` with Retry-After until midnight UTC.' }),
        apis: z.number().int().min(0).optional().meta({ description: 'Most APIs the tenant may have (a config or draft with more is refused).' }),
        agents: z.number().int().min(0).optional().meta({ description: 'Most agents the tenant may have: declared in the config, and created through the management API (refused beyond it).' }),
        backend: RateLimitBackendSchema.default({ type: 'memory' }).meta({ description: 'Where requestsPerDay is counted: memory (one node) or Redis (shared by several nodes), as for the rateLimit policy.' }),
      })
      .optional()
      .meta({ description: 'Limits of the tenant as a whole.' }),
    egress: z
      .strictObject({
        allow: z
          .array(
            z.string().superRefine((entry, ctx) => {
              const problem = egressEntryProblem(entry);
              if (problem) ctx.addIssue({ code: 'custom', message: problem });
            }),
          )
          .default([])
          .meta({ description: 'Private destinations the tenant\'s servers may reach besides public addresses: host names (mcp.internal.example), patterns (*.corp.example), IP addresses and CIDR ranges (10.20.0.0/16).' }),
      })
      .optional()
      .meta({ description: 'Where the tenant\'s servers may connect. Without it, public addresses only: loopback, private, link-local (cloud metadata) and other special ranges are refused, checked at every connection (after DNS resolution). Set by the platform; a tenant\'s admin cannot change it.' }),
  })
  .meta({ title: 'A tenant: owns servers, APIs, agents and their keys, credentials and audit records' });

export type TenantData = z.output<typeof TenantSchema>;

/** The tenant of an object that may name none. */
export const tenantOf = (value: { tenant?: string | undefined } | undefined): string => value?.tenant ?? DEFAULT_TENANT;
