// Config of the admin listener (`admin:`): a second HTTP listener for /metrics, health and the
// dashboard, behind its own authentication. Read at start; changes take effect on restart.
import { z } from 'zod';
import { USERNAME_PATTERN } from '../authserver/passwords.ts';
import { TlsSchema } from '../http/tls-schema.ts';
import { TenantId } from '../config/tenant-schema.ts';

const AdminUsername = z.string().regex(USERNAME_PATTERN, 'expected a username of the authorization server (letters, digits, "_", ".", "@" or "-")');

/** A few browsers and a metrics scraper: apart from the MCP listener's cap, so that neither starves the other. */
export const ADMIN_DEFAULT_MAX_CONNECTIONS = 100;

/**
 * The admin port when admin.port is not set: the one after the MCP listener's (8081 beside the
 * default 8080), so that moving one (listen.port, `--port`) moves both; a free one when the MCP
 * port is 0 (or the last port).
 */
export function defaultAdminPort(listenPort: number): number {
  return listenPort === 0 || listenPort >= 65535 ? 0 : listenPort + 1;
}

export const AdminSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Start the admin listener.' }),
    host: z.string().default('127.0.0.1').meta({ description: 'Address of the admin listener. Keep it on loopback unless it serves TLS (admin.tls) or a TLS reverse proxy sits in front (then set admin.allowedHosts).' }),
    port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .meta({ description: `TCP port; 0 picks a free one. Default: the port after listen.port (8081 beside the default 8080), or 0 when listen.port is 0. When the default port is taken Gatehouse starts without the admin listener and says so; a port set here must be free.` }),
    token: z
      .string()
      .min(16, 'expected an admin token of at least 16 characters (or leave it out: Gatehouse then generates one into <dataDir>/admin.token)')
      .optional()
      .meta({ description: 'Admin token (Authorization: Bearer, or the login form). Use ${env:NAME}. Default: a random token generated into <dataDir>/admin.token (mode 0600) and reused.' }),
    users: z
      .array(
        z.union([
          AdminUsername,
          z
            .strictObject({
              user: AdminUsername,
              role: z.enum(['owner', 'admin', 'viewer']).default('owner').meta({ description: 'owner: everything; admin: everything but API tokens; viewer: reads only.' }),
              tenant: TenantId.optional().meta({ description: 'The one tenant this user sees and changes (its servers, APIs, agents, credentials, audit records); absent: the whole platform.' }),
            })
            .meta({ title: 'An admin user with a role, optionally of one tenant' }),
        ]),
      )
      .default([])
      .meta({ description: 'Users of the embedded authorization server (`gatehouse users create`) who may sign in to the admin listener with their password: a plain username is a platform owner; `{ user, role, tenant }` gives a role, and with `tenant` confines the user to that tenant.' }),
    allowedHosts: z.array(z.string()).optional().meta({ description: 'Host header values the admin listener accepts (host or host:port). Default for a loopback admin.host: localhost, 127.0.0.1, [::1].' }),
    allowedOrigins: z.array(z.string()).optional().meta({ description: 'Origin header values the admin listener accepts. Default for a loopback admin.host: loopback origins on any port.' }),
    maxConnections: z
      .number()
      .int()
      .min(1)
      .default(ADMIN_DEFAULT_MAX_CONNECTIONS)
      .meta({ description: 'Most connections open at once on the admin listener (idle ones are closed first at the cap, then new ones refused). Its timeouts are timeouts.clientHeaders, clientRequest and clientIdle.' }),
    tls: TlsSchema.optional(),
  })
  .default({ enabled: true, host: '127.0.0.1', users: [], maxConnections: ADMIN_DEFAULT_MAX_CONNECTIONS })
  .meta({ description: 'The admin listener: /metrics, /-/health and the dashboard, behind an admin token or an admin user\'s sign-in. Agents\' keys and tokens are never accepted there. Changes take effect on restart (except admin.tls: its files and their paths apply at once).' });

export type AdminConfig = z.output<typeof AdminSchema>;

export interface AdminUserGrant {
  readonly role: 'owner' | 'admin' | 'viewer';
  readonly tenant: string | undefined;
}

/** admin.users by username: a plain name is a platform owner. */
export function adminUserGrants(users: AdminConfig['users']): Map<string, AdminUserGrant> {
  return new Map(users.map((u) => (typeof u === 'string' ? [u, { role: 'owner', tenant: undefined }] : [u.user, { role: u.role, tenant: u.tenant }])));
}
