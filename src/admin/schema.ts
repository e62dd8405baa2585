// Config of the admin listener (`admin:`): a second HTTP listener for /metrics, health and the
// dashboard, behind its own authentication. Read at start; changes take effect on restart.
import { z } from 'zod';
import { USERNAME_PATTERN } from '../authserver/passwords.ts';
import { TlsSchema } from '../http/tls-schema.ts';
import { ADMIN_ROLES } from '../store/control.ts';
import { TenantId } from '../config/tenant-schema.ts';

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

const USERNAME_MESSAGE = 'expected a username of the authorization server (letters, digits, "_", ".", "@" or "-")';
type AdminRoleName = (typeof ADMIN_ROLES)[number];

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
          z.string().regex(USERNAME_PATTERN, USERNAME_MESSAGE),
          z.strictObject({
            user: z.string().regex(USERNAME_PATTERN, USERNAME_MESSAGE).meta({ description: 'The username.' }),
            role: z.enum(ADMIN_ROLES as [AdminRoleName, ...AdminRoleName[]]).default('owner').meta({ description: 'owner (everything), admin (everything but API tokens) or viewer (reads only).' }),
            tenant: TenantId.optional().meta({ description: 'The one tenant this user sees and changes (its servers, APIs, agents, credentials, audit records); absent: the whole platform.' }),
          }),
        ]),
      )
      .default([])
      .meta({ description: 'Users of the embedded authorization server (`gatehouse users create`) who may sign in to the admin listener, with their password or through the authorization server ("Sign in with Gatehouse"). A plain name is a platform owner; `{ user, role }` gives a role, and `{ user, role, tenant }` confines the user to one tenant (docs/tenants.md). In managed mode owners also manage admin users through the API (/api/v1/admins, the console\'s Access screen); an entry here wins over one made there, and is read-only there.' }),
    publicUrl: z
      .string()
      .url()
      .optional()
      .meta({ description: 'Base URL browsers use to reach the admin listener (e.g. https://admin.example.com), for the callback of "Sign in with Gatehouse". Needed for that button when admin.host is not on loopback.' }),
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
