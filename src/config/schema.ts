// The configuration file's schema: the one source for validation, the published JSON Schema
// (schema/gatehouse.schema.json) and the reference docs. Defaults live here.
import { z } from 'zod';
import { Duration, Size } from './units.ts';

const Name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a name of letters, digits, "_", "." or "-" (max 64), starting with a letter or digit');

const HeaderMap = z
  .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name'), z.string())
  .meta({ description: 'HTTP headers to add to every upstream request. Values may use ${env:NAME}; they are never logged.' });

const HttpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'expected an absolute http:// or https:// URL');

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
  })
  .meta({ title: 'Streamable HTTP server' });

export const StdioServer = z
  .strictObject({
    command: z.string().min(1).meta({ description: 'Program to start for each client session.' }),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}).meta({ description: 'Environment for the child, added to a minimal safe set (PATH, HOME, …); Gatehouse\'s own environment is not passed on.' }),
    cwd: z.string().optional(),
    maxChildren: z.number().int().positive().default(64).meta({ description: 'Most children of this server alive at once; a new session beyond it gets 503.' }),
    idleTimeout: Duration.optional().meta({ description: 'Stop a child whose session was idle this long (default: sessions.idleTimeout).' }),
  })
  .meta({ title: 'stdio server (one child process per client session)' });

export const SseServer = z
  .strictObject({
    sse: HttpUrl.meta({ description: 'SSE endpoint of a server speaking the older HTTP+SSE transport (2024-11-05), e.g. http://127.0.0.1:3001/sse' }),
    headers: HeaderMap.optional(),
    timeouts: UpstreamTimeouts.optional(),
  })
  .meta({ title: 'HTTP+SSE server (2024-11-05), bridged to Streamable HTTP' });

export const Server = z.union([HttpServer, StdioServer, SseServer]);

export const KeylessAuth = z.strictObject({ type: z.literal('keyless') }).meta({ description: 'No credential: every caller is the anonymous principal.' });
export const Auth = z.discriminatedUnion('type', [KeylessAuth]);

// Policies plug into the chain by type; none ships in this version, so any entry is refused
// rather than silently ignored.
export const Policy = z.never({ error: 'no policy types are available in this version; remove the entry' });

export const Api = z
  .strictObject({
    name: Name,
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_.~-]*$/, 'expected an absolute path such as /mcp (letters, digits, "/", "_", ".", "~", "-")')
      .refine((p) => !p.startsWith('/.well-known') && !p.startsWith('/-/'), 'paths under /.well-known and /-/ are reserved'),
    server: Name.meta({ description: 'Name of an entry under `servers`.' }),
    auth: Auth.default({ type: 'keyless' }),
    policies: z.array(Policy).default([]),
    allowedOrigins: z.array(z.string()).optional().meta({ description: 'Origins allowed to call this API (overrides security.allowedOrigins).' }),
  })
  .meta({ title: 'An MCP entrypoint bound to one server' });

export const Config = z
  .strictObject({
    $schema: z.string().optional(),
    listen: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
      })
      .default({ host: '127.0.0.1', port: 8080 }),
    servers: z.record(Name, Server).meta({ description: 'Named upstream MCP servers.' }),
    apis: z.array(Api).min(1, 'expected at least one API'),
    limits: z
      .strictObject({
        maxRequestBytes: Size.default(4 * 1024 * 1024),
        maxResponseBytes: Size.default(16 * 1024 * 1024).meta({ description: 'Largest message Gatehouse buffers or decodes from an upstream.' }),
        maxHeaderBytes: Size.default(16 * 1024),
      })
      .default({ maxRequestBytes: 4 * 1024 * 1024, maxResponseBytes: 16 * 1024 * 1024, maxHeaderBytes: 16 * 1024 }),
    timeouts: z
      .strictObject({
        connect: Duration.default(10_000),
        response: Duration.default(300_000).meta({ description: 'Longest wait for an upstream to start answering.' }),
        drain: Duration.default(10_000).meta({ description: 'On SIGTERM, how long in-flight requests may finish.' }),
      })
      .default({ connect: 10_000, response: 300_000, drain: 10_000 }),
    sessions: z
      .strictObject({
        idleTimeout: Duration.default(30 * 60_000).meta({ description: 'Sessions idle this long are ended (stdio children stopped, HTTP upstream sessions deleted).' }),
      })
      .default({ idleTimeout: 30 * 60_000 }),
    security: z
      .strictObject({
        allowedHosts: z.array(z.string()).optional().meta({ description: 'Host header values accepted (host or host:port). Default for loopback listeners: localhost, 127.0.0.1, [::1].' }),
        allowedOrigins: z.array(z.string()).optional().meta({ description: 'Origin header values accepted. Default for loopback listeners: http(s)://localhost|127.0.0.1|[::1] on any port.' }),
        dnsRebindingProtection: z.boolean().optional().meta({ description: 'Check Host and Origin. Default: on for loopback listeners, or whenever an allow-list is given.' }),
      })
      .default({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .default({ level: 'info' }),
  })
  .meta({ title: 'Gatehouse configuration' });

export type ConfigInput = z.input<typeof Config>;
export type ConfigData = z.output<typeof Config>;
export type ServerData = z.output<typeof Server>;
export type ApiData = z.output<typeof Api>;
