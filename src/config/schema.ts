// The configuration file's schema: the one source for validation, the published JSON Schema
// (schema/gatehouse.schema.json) and the reference docs. Defaults live here.
import { z } from 'zod';
import { Duration, Size } from './units.ts';
import { AclPolicySchema } from '../policy/acl/schema.ts';
import { RateLimitPolicySchema } from '../policy/rate-limit/schema.ts';
import { PinningPolicySchema } from '../policy/pinning/schema.ts';
import { TaintPolicySchema } from '../policy/taint/schema.ts';
import { ApprovalPolicySchema } from '../policy/approval/schema.ts';
import { GuardrailsPolicySchema } from '../policy/guardrails/schema.ts';
import { ToolAnnotationsSchema } from '../policy/annotations/schema.ts';
import { AgentSchema, Auth, Url, AuthorizationServerSchema, StoreSchema, UpstreamCredentialSchema, UpstreamAuthSchema } from './auth-schema.ts';
import { ApiAuditSchema, AuditSchema, AUDIT_DEFAULT } from '../audit/schema.ts';
import { MetricsSchema, TracingSchema } from '../metrics/schema.ts';
import { AdminSchema } from '../admin/schema.ts';
import { TlsSchema } from '../http/tls-schema.ts';
import { ClusterSchema } from '../cluster/schema.ts';
import { NamespaceSchema, OnUpstreamFailureSchema, VirtualPromptSchema, VirtualResourceSchema, VirtualToolSchema } from './federation-schema.ts';
import { TenantField, TenantSchema } from './tenant-schema.ts';

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
    response: Duration.optional().meta({ description: 'Time until the upstream starts answering a request (default: timeouts.response); for an HTTP+SSE server, until the answer to each request, progress starting the wait again.' }),
  })
  .meta({ description: 'Per-server override of the global timeouts.' });

const ListCacheSchema = z
  .strictObject({
    enabled: z.boolean().default(false).meta({ description: 'Serve list results the server marks shareable from Gatehouse\'s cache.' }),
    maxTtl: Duration.default(300_000).meta({ description: 'Longest time a result is kept, whatever `ttlMs` the server gives.' }),
    maxEntries: z.number().int().min(1).max(100_000).default(256).meta({ description: 'Most lists kept (each method, cursor and revision is one); the oldest goes first.' }),
  })
  .meta({
    description:
      'A cache of the list results (tools, prompts, resources, resource templates) that a 2026-07-28 server marks `cacheScope: "public"` with a `ttlMs`: one upstream request serves every agent of every API on this server for the time the server allows (at most maxTtl). Each agent still gets the list through its own policies (an ACL filters it and marks the copy private). Only sessionless (2026-07-28) requests are served from it, and not under auth passthrough. Off by default.',
  });

export const HttpServer = z
  .strictObject({
    url: HttpUrl.meta({ description: 'Streamable HTTP endpoint of the MCP server, e.g. http://127.0.0.1:3001/mcp' }),
    headers: HeaderMap.optional(),
    timeouts: UpstreamTimeouts.optional(),
    credential: UpstreamCredentialSchema.optional().meta({ description: 'The upstream\'s own credential, injected on every request; never shown to agents or logged.' }),
    auth: UpstreamAuthSchema.optional().meta({ description: 'The caller\'s own identity upstream instead of one `credential` for everyone: per-user OAuth (`oauth-user`) or RFC 8693 token exchange (`token-exchange`).' }),
    listCache: ListCacheSchema.optional(),
    tenant: TenantField,
  })
  .meta({ title: 'Streamable HTTP server' });

const STDERR_DEFAULT = { maxLines: 100, maxBytes: 64 * 1024, interval: 10_000, maxLineBytes: 4096 };

const StderrSchema = z
  .strictObject({
    maxLines: z.number().int().min(1).default(STDERR_DEFAULT.maxLines).meta({ description: 'Lines of one child logged per interval; the rest are dropped (counted).' }),
    maxBytes: Size.default(STDERR_DEFAULT.maxBytes).meta({ description: 'Bytes of one child logged per interval; the rest are dropped (counted).' }),
    interval: Duration.default(STDERR_DEFAULT.interval).meta({ description: 'The interval of maxLines and maxBytes.' }),
    maxLineBytes: Size.default(STDERR_DEFAULT.maxLineBytes).meta({ description: 'A longer line is cut to this length (the log line says how much was cut).' }),
  })
  .default(STDERR_DEFAULT)
  .meta({
    description:
      'How much of each child\'s stderr is copied to Gatehouse\'s log (at info, under the server\'s name). A child that writes more is not slowed down: the excess is dropped, counted in gatehouse_stdio_stderr_dropped_lines_total and _bytes_total, and said in one warning per interval.',
  });

export const StdioServer = z
  .strictObject({
    command: z.string().min(1).meta({ description: 'Program to start for each client session.' }),
    args: z.array(z.string()).default([]).meta({ description: 'Arguments passed to the command.' }),
    env: z.record(z.string(), z.string()).default({}).meta({ description: 'Environment for the child, added to a minimal safe set (PATH, HOME, …); Gatehouse\'s own environment is not passed on.' }),
    cwd: z.string().optional().meta({ description: 'Working directory of the child (default: Gatehouse\'s own).' }),
    maxChildren: z.number().int().positive().default(64).meta({ description: 'Most children of this server alive at once, counting those of federated APIs and bridged 2026-07-28 sessions; a new session beyond it gets 503 (`GH_TOO_MANY_SESSIONS`).' }),
    idleTimeout: Duration.optional().meta({ description: 'Stop a child whose session was idle this long (default: sessions.idleTimeout).' }),
    timeouts: z
      .strictObject({
        response: Duration.optional().meta({ description: 'Longest wait for the answer to a request (default: timeouts.response); each progress notification for it starts the wait again.' }),
      })
      .optional()
      .meta({ description: 'Per-server override of the global timeouts.' }),
    stderr: StderrSchema,
    tenant: TenantField,
  })
  .meta({ title: 'stdio server (one child process per client session)' });

export const SseServer = z
  .strictObject({
    sse: HttpUrl.meta({ description: 'SSE endpoint of a server speaking the older HTTP+SSE transport (2024-11-05), e.g. http://127.0.0.1:3001/sse' }),
    headers: HeaderMap.optional(),
    timeouts: UpstreamTimeouts.optional(),
    credential: UpstreamCredentialSchema.optional().meta({ description: 'The upstream\'s own credential, injected on every request; never shown to agents or logged.' }),
    tenant: TenantField,
  })
  .meta({ title: 'HTTP+SSE server (2024-11-05), bridged to Streamable HTTP' });

export const Server = z.union([HttpServer, StdioServer, SseServer]);

// Policies plug into the chain by type, one key per entry (e.g. `- acl: {...}`).
export const Policy = z.union([AclPolicySchema, RateLimitPolicySchema, PinningPolicySchema, TaintPolicySchema, ApprovalPolicySchema, GuardrailsPolicySchema]).meta({ description: 'A policy of the chain: `acl`, `rateLimit`, `pinning`, `taint`, `approval` or `guardrails`.' });

export const Api = z
  .strictObject({
    name: Name.meta({ description: 'Unique name of the API, used in logs and session binding.' }),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_.~-]*$/, 'expected an absolute path such as /mcp (letters, digits, "/", "_", ".", "~", "-")')
      .refine((p) => !p.startsWith('/.well-known') && !p.startsWith('/-/'), 'paths under /.well-known and /-/ are reserved')
      .meta({ description: 'URL path clients connect to, e.g. /mcp (matched with or without a trailing slash; /.well-known and /-/ are reserved).' }),
    server: Name.optional().meta({ description: 'Name of an entry under `servers`: the one server behind this API. Give exactly one of `server`, `servers` or a virtual server\'s `tools` / `prompts` / `resources`.' }),
    servers: z
      .array(Name)
      .min(1)
      .optional()
      .meta({ description: 'A federated API: one endpoint for several servers (names under `servers`). Agents see the union of their tools, prompts, resources and resource templates, named per `namespace`.' }),
    namespace: NamespaceSchema.optional(),
    onUpstreamFailure: OnUpstreamFailureSchema.optional(),
    tools: z.array(VirtualToolSchema).optional().meta({ description: 'A virtual server: exactly these tools, from any servers, renamed and re-described as given.' }),
    prompts: z.array(VirtualPromptSchema).optional().meta({ description: 'A virtual server: exactly these prompts.' }),
    resources: z.array(VirtualResourceSchema).optional().meta({ description: 'A virtual server: the resources and resource templates these URI globs select.' }),
    auth: Auth.default({ type: 'keyless' }).meta({ description: 'How callers authenticate.' }),
    policies: z.array(Policy).default([]).meta({ description: 'Policies run on every message, in list order.' }),
    allowedOrigins: z.array(z.string()).optional().meta({ description: 'Origins allowed to call this API (overrides security.allowedOrigins).' }),
    audit: ApiAuditSchema.optional(),
    tenant: TenantField,
  })
  .meta({ title: 'An MCP entrypoint: one server, a federation of servers, or a virtual server' });

export const Config = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'JSON Schema of this file, for editors; ignored by Gatehouse.' }),
    listen: z
      .strictObject({
        host: z.string().default('127.0.0.1').meta({ description: 'Address to listen on. Use 0.0.0.0 or :: to accept connections from other machines (then set security.allowedHosts).' }),
        port: z.number().int().min(0).max(65535).default(8080).meta({ description: 'TCP port; 0 picks a free one.' }),
        tls: TlsSchema.optional(),
      })
      .default({ host: '127.0.0.1', port: 8080 })
      .meta({ description: 'Where Gatehouse accepts client connections. Changes of host and port take effect on restart; new TLS files apply at once.' }),
    dataDir: z.string().optional().meta({ description: 'Folder for the session key, key files and the SQLite store (default: .gatehouse beside the config file; GATEHOUSE_DATA_DIR overrides). One running Gatehouse per folder: a second is refused (gatehouse.lock).' }),
    publicUrl: z.string().url().optional().meta({ description: 'Base URL clients use to reach Gatehouse (e.g. https://mcp.example.com); used for OAuth resource identifiers. Default: from the Host header, which must then be checked (a loopback listener, or security.allowedHosts).' }),
    trustProxy: z.boolean().default(false).meta({ description: 'Honour X-Forwarded-Proto/Host from a reverse proxy when publicUrl is not set; the forwarded host is then the one checked against security.allowedHosts.' }),
    store: StoreSchema.default({ type: 'sqlite' }),
    cluster: ClusterSchema,
    audit: AuditSchema.default(AUDIT_DEFAULT),
    tenants: z.array(TenantSchema).default([]).meta({ description: 'Tenants: each owns the servers, APIs and agents that name it (`tenant:`); what names none belongs to the built-in `default` tenant. See docs/tenants.md.' }),
    agents: z.array(AgentSchema).default([]).meta({ description: 'Agents declared in the file (more can be created with `gatehouse agents create`).' }),
    authorizationServer: AuthorizationServerSchema.optional(),
    servers: z.record(Name, Server).meta({ description: 'Named upstream MCP servers.' }),
    toolAnnotations: ToolAnnotationsSchema,
    apis: z.array(Api).min(1, 'expected at least one API').meta({ description: 'MCP entrypoints published to clients, each bound to one server, several (`servers`), or a curated selection (a virtual server).' }),
    limits: z
      .strictObject({
        maxRequestBytes: Size.default(4 * 1024 * 1024).meta({ description: 'Largest request body accepted from a client (413 beyond).' }),
        maxResponseBytes: Size.default(16 * 1024 * 1024).meta({ description: 'Largest message Gatehouse buffers or decodes from an upstream.' }),
        maxHeaderBytes: Size.default(16 * 1024).meta({ description: 'Largest total size of a client request\'s HTTP headers (431 beyond). Takes effect on restart.' }),
        maxConnections: z
          .number()
          .int()
          .min(1)
          .optional()
          .meta({
            description:
              'Most client connections open at once on the MCP listener. At the cap, idle keep-alive connections are closed first; a connection beyond it while every connection is busy is refused (closed before a byte is read). Default: half the process\'s open-file limit (at least 64), leaving the other half for upstream connections, stdio pipes, the store and the audit log. Takes effect on restart.',
          }),
        maxJsonDepth: z
          .number()
          .int()
          .min(16)
          .max(1000)
          .default(128)
          .meta({ description: 'Deepest nesting of objects and arrays accepted in a JSON-RPC message. A client request nested deeper is refused (400, -32600, GH_JSON_TOO_DEEP) before it is decoded; an upstream message Gatehouse decodes (for a response policy, and every message of a stdio or HTTP+SSE server) nested deeper replaces the answer to its request with GH_UPSTREAM_BAD_RESPONSE, or is dropped.' }),
      })
      .default({ maxRequestBytes: 4 * 1024 * 1024, maxResponseBytes: 16 * 1024 * 1024, maxHeaderBytes: 16 * 1024, maxJsonDepth: 128 })
      .meta({ description: 'Size limits.' }),
    timeouts: z
      .strictObject({
        connect: Duration.default(10_000).meta({ description: 'Longest wait to open a connection to an upstream.' }),
        response: Duration.default(300_000).meta({ description: 'Longest wait for an upstream to start answering: for Streamable HTTP servers, the head of the answer; for stdio and HTTP+SSE servers, the answer to each request, each progress notification for it starting the wait again. The client then gets GH_UPSTREAM_TIMEOUT, and a stdio or HTTP+SSE server is sent notifications/cancelled for the request.' }),
        drain: Duration.default(10_000).meta({ description: 'On SIGTERM, how long in-flight requests may finish.' }),
        clientHeaders: Duration.default(20_000).meta({ description: 'Longest a client may take to send a request\'s headers, counted from their first byte (or from connecting); then 408 and the connection is closed. Applies to the admin listener too. Takes effect on restart.' }),
        clientRequest: Duration.default(60_000).meta({ description: 'Longest a client may take to send a whole request, headers and body; then 408 and the connection is closed. Answers are not limited by it: an SSE stream stays open as long as it is answered. At least clientHeaders. Takes effect on restart.' }),
        clientIdle: Duration.default(65_000).meta({ description: 'Longest a keep-alive connection stays open between requests (a connection carrying an answer or a stream is not idle). Longer than the 60 s idle timeout of common load balancers, so that they close first. Takes effect on restart.' }),
      })
      .default({ connect: 10_000, response: 300_000, drain: 10_000, clientHeaders: 20_000, clientRequest: 60_000, clientIdle: 65_000 })
      .refine((t) => t.clientHeaders <= t.clientRequest, { message: 'expected timeouts.clientHeaders to be at most timeouts.clientRequest (the whole request includes its headers)', path: ['clientHeaders'] })
      .meta({ description: 'Timeouts for upstreams, clients and shutdown.' }),
    sessions: z
      .strictObject({
        idleTimeout: Duration.default(30 * 60_000).meta({ description: 'Sessions idle this long are ended (stdio children stopped, HTTP upstream sessions deleted).' }),
      })
      .default({ idleTimeout: 30 * 60_000 })
      .meta({ description: 'Client sessions.' }),
    security: z
      .strictObject({
        allowedHosts: z.array(z.string()).optional().meta({ description: 'Host header values accepted (host or host:port), on the MCP endpoints and every other route. Default for loopback listeners: localhost, 127.0.0.1, [::1] and the host of publicUrl.' }),
        allowedOrigins: z.array(z.string()).optional().meta({ description: 'Origin header values accepted (besides the same origin and that of publicUrl). Default for loopback listeners: http(s)://localhost|127.0.0.1|[::1] on any port.' }),
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
