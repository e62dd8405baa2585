// The configuration file's schema: the one source for validation, the published JSON Schema
// (schema/gatehouse.schema.json) and the reference docs. Defaults live here.
import { z } from 'zod';
import { Duration, Size } from './units.ts';
import { AclPolicySchema } from '../policy/acl/schema.ts';
import { RateLimitPolicySchema } from '../policy/rate-limit/schema.ts';
import { AgentSchema, Auth, Url, AuthorizationServerSchema, StoreSchema, UpstreamCredentialSchema } from './auth-schema.ts';
import { ApiAuditSchema, AuditSchema, AUDIT_DEFAULT } from '../audit/schema.ts';
import { MetricsSchema, TracingSchema } from '../metrics/schema.ts';
import { AdminSchema } from '../admin/schema.ts';

export const Name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a name of letters, digits, "_", "." or "-" (max 64), starting with a letter or digit');

/** Fields of the connection itself or of the message's framing: the HTTP client sets them. */
const RESERVED_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'host', 'content-length']);

const HeaderName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name')
  .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), `expected a header other than ${[...RESERVED_HEADERS].join(', ')} (set by the HTTP client)`);

const HeaderMap = z
  .record(HeaderName, z.string())
  .meta({ description: 'HTTP headers to add to every upstream request (not the connection and framing fields the HTTP client sets: Connection, Keep-Alive, Transfer-Encoding, Host, Content-Length and the like). Values may use ${env:NAME}; they are never logged.' });

const HttpUrl = Url;

const UpstreamTimeouts = z
  .strictObject({
    connect: Duration.optional().meta({ description: 'Time to open the TCP/TLS connection (default: timeouts.connect).' }),
    response: Duration.optional().meta({ description: 'Time until the upstream starts answering a request (default: timeouts.response).' }),
  })
  .meta({ description: 'Per-server override of the global timeouts.' });

export const HttpServer = z
  .strictObject({
    url: HttpUrl.meta({ description: 'Streamable HTTP endpoint of the MCP server, e.g. http://127.0.0.1:3001/mcp' }),
    headers: HeaderMap.optional(),
    timeouts: UpstreamTimeouts.optional(),
    credential: UpstreamCredentialSchema.optional().meta({ description: 'The upstream\'s own credential, injected on every request; never shown to agents or logged.' }),
  })
  .meta({ title: 'Streamable HTTP server' });

export const StdioServer = z
  .strictObject({
    command: z.string().min(1).meta({ description: 'Program to start for each client session.' }),
    args: z.array(z.string()).default([]).meta({ description: 'Arguments passed to the command.' }),
    env: z.record(z.string(), z.string()).default({}).meta({ description: 'Environment for the child, added to a minimal safe set (PATH, HOME, …); Gatehouse\'s own environment is not passed on.' }),
    cwd: z.string().optional().meta({ description: 'Working directory of the child (default: Gatehouse\'s own).' }),
    maxChildren: z.number().int().positive().default(64).meta({ description: 'Most children of this server alive at once; a new session beyond it gets 503.' }),
    idleTimeout: Duration.optional().meta({ description: 'Stop a child whose session was idle this long (default: sessions.idleTimeout).' }),
  })
  .meta({ title: 'stdio server (one child process per client session)' });

export const SseServer = z
  .strictObject({
    sse: HttpUrl.meta({ description: 'SSE endpoint of a server speaking the older HTTP+SSE transport (2024-11-05), e.g. http://127.0.0.1:3001/sse' }),
    headers: HeaderMap.optional(),
    timeouts: UpstreamTimeouts.optional(),
    credential: UpstreamCredentialSchema.optional().meta({ description: 'The upstream\'s own credential, injected on every request; never shown to agents or logged.' }),
  })
  .meta({ title: 'HTTP+SSE server (2024-11-05), bridged to Streamable HTTP' });

export const Server = z.union([HttpServer, StdioServer, SseServer]);

// Policies plug into the chain by type, one key per entry (e.g. `- acl: {...}`).
export const Policy = z.union([AclPolicySchema, RateLimitPolicySchema]).meta({ description: 'A policy of the chain: `acl` or `rateLimit`.' });

export const Api = z
  .strictObject({
    name: Name.meta({ description: 'Unique name of the API, used in logs and session binding.' }),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_.~-]*$/, 'expected an absolute path such as /mcp (letters, digits, "/", "_", ".", "~", "-")')
      .refine((p) => !p.startsWith('/.well-known') && !p.startsWith('/-/'), 'paths under /.well-known and /-/ are reserved')
      .meta({ description: 'URL path clients connect to, e.g. /mcp (matched with or without a trailing slash; /.well-known and /-/ are reserved).' }),
    server: Name.meta({ description: 'Name of an entry under `servers`.' }),
    auth: Auth.default({ type: 'keyless' }).meta({ description: 'How callers authenticate.' }),
    policies: z.array(Policy).default([]).meta({ description: 'Policies run on every message, in list order.' }),
    allowedOrigins: z.array(z.string()).optional().meta({ description: 'Origins allowed to call this API (overrides security.allowedOrigins).' }),
    audit: ApiAuditSchema.optional(),
  })
  .meta({ title: 'An MCP entrypoint bound to one server' });

export const Config = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'JSON Schema of this file, for editors; ignored by Gatehouse.' }),
    listen: z
      .strictObject({
        host: z.string().default('127.0.0.1').meta({ description: 'Address to listen on. Use 0.0.0.0 or :: to accept connections from other machines (then set security.allowedHosts).' }),
        port: z.number().int().min(0).max(65535).default(8080).meta({ description: 'TCP port; 0 picks a free one.' }),
      })
      .default({ host: '127.0.0.1', port: 8080 })
      .meta({ description: 'Where Gatehouse accepts client connections. Changes take effect on restart.' }),
    dataDir: z.string().optional().meta({ description: 'Folder for the session key, key files and the SQLite store (default: .gatehouse beside the config file; GATEHOUSE_DATA_DIR overrides). One running Gatehouse per folder: a second is refused (gatehouse.lock).' }),
    publicUrl: z.string().url().optional().meta({ description: 'Base URL clients use to reach Gatehouse (e.g. https://mcp.example.com); used for OAuth resource identifiers. Default: from the Host header.' }),
    trustProxy: z.boolean().default(false).meta({ description: 'Honour X-Forwarded-Proto/Host from a reverse proxy when publicUrl is not set.' }),
    store: StoreSchema.default({ type: 'sqlite' }),
    audit: AuditSchema.default(AUDIT_DEFAULT),
    agents: z.array(AgentSchema).default([]).meta({ description: 'Agents declared in the file (more can be created with `gatehouse agents create`).' }),
    authorizationServer: AuthorizationServerSchema.optional(),
    servers: z.record(Name, Server).meta({ description: 'Named upstream MCP servers.' }),
    apis: z.array(Api).min(1, 'expected at least one API').meta({ description: 'MCP entrypoints published to clients, each bound to one server.' }),
    limits: z
      .strictObject({
        maxRequestBytes: Size.default(4 * 1024 * 1024).meta({ description: 'Largest request body accepted from a client (413 beyond).' }),
        maxResponseBytes: Size.default(16 * 1024 * 1024).meta({ description: 'Largest message Gatehouse buffers or decodes from an upstream.' }),
        maxHeaderBytes: Size.default(16 * 1024).meta({ description: 'Largest total size of a client request\'s HTTP headers. Takes effect on restart.' }),
      })
      .default({ maxRequestBytes: 4 * 1024 * 1024, maxResponseBytes: 16 * 1024 * 1024, maxHeaderBytes: 16 * 1024 })
      .meta({ description: 'Size limits.' }),
    timeouts: z
      .strictObject({
        connect: Duration.default(10_000).meta({ description: 'Longest wait to open a connection to an upstream.' }),
        response: Duration.default(300_000).meta({ description: 'Longest wait for an upstream to start answering.' }),
        drain: Duration.default(10_000).meta({ description: 'On SIGTERM, how long in-flight requests may finish.' }),
      })
      .default({ connect: 10_000, response: 300_000, drain: 10_000 })
      .meta({ description: 'Timeouts for upstreams and shutdown.' }),
    sessions: z
      .strictObject({
        idleTimeout: Duration.default(30 * 60_000).meta({ description: 'Sessions idle this long are ended (stdio children stopped, HTTP upstream sessions deleted).' }),
      })
      .default({ idleTimeout: 30 * 60_000 })
      .meta({ description: 'Client sessions.' }),
    security: z
      .strictObject({
        allowedHosts: z.array(z.string()).optional().meta({ description: 'Host header values accepted (host or host:port). Default for loopback listeners: localhost, 127.0.0.1, [::1].' }),
        allowedOrigins: z.array(z.string()).optional().meta({ description: 'Origin header values accepted. Default for loopback listeners: http(s)://localhost|127.0.0.1|[::1] on any port.' }),
        dnsRebindingProtection: z.boolean().optional().meta({ description: 'Check Host and Origin. Default: on for loopback listeners, or whenever an allow-list is given.' }),
        allowAnonymousOnPublicListener: z
          .boolean()
          .optional()
          .meta({ description: 'Allow `keyless` APIs (anyone may call) when listen.host accepts connections from other machines. Default: false, and such a config is refused: set it only when something in front (a reverse proxy, a private network) decides who gets through.' }),
      })
      .default({})
      .meta({ description: 'Host and Origin checks against DNS rebinding, and whether anonymous APIs may face other machines.' }),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').meta({ description: 'Least severe level written to the log (JSON lines on stdout).' }),
      })
      .default({ level: 'info' })
      .meta({ description: 'Logging.' }),
    admin: AdminSchema,
    metrics: MetricsSchema,
    tracing: TracingSchema,
  })
  .meta({ title: 'Gatehouse configuration' });

export type ConfigInput = z.input<typeof Config>;
export type ConfigData = z.output<typeof Config>;
export type ServerData = z.output<typeof Server>;
export type ApiData = z.output<typeof Api>;
