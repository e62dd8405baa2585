// The admin JSON API the dashboard calls. Mounted by the admin listener behind admin
// authentication (never an agent's key); this module only answers GETs under /api/.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AuditReader } from '../../audit/reader.ts';
import type { AuditSinkStatus } from '../../audit/audit.ts';
import type { VerifyOptions, VerifyReport } from '../../audit/chain/verify.ts';
import type { ConfigData } from '../../config/schema.ts';
import type { Logger } from '../../log.ts';
import { sendJson } from '../../http/reply.ts';
import { ApiError, timeOf } from './query.ts';
import { overview } from './overview.ts';
import { getLog, listLogs, liveLogs } from './logs.ts';
import { HealthProbes } from './health.ts';
import { upstreams } from './upstreams.ts';
import { identityOf, type AdminIdentity } from '../auth.ts';
import { tenantOf } from '../../config/tenant-schema.ts';

export interface AdminApiDeps {
  /** The config in force (read per request: hot reloads show at once). */
  config(): ConfigData;
  /** Live sessions per server: tracked HTTP sessions, stdio children. */
  sessionCounts(): Record<string, number>;
  /** The audit log, when it is on and its sink can be read (sqlite, postgres). */
  reader(): AuditReader | undefined;
  /** Whether the audit sink is open (a Postgres sink may be unreachable and retried). */
  auditSink?(): AuditSinkStatus | undefined;
  /** The hash chains' check, when records are chained. */
  verifyAudit?(): AuditVerify | undefined;
  readonly log: Logger;
}

export type AuditVerify = (options: Pick<VerifyOptions, 'since' | 'node'>) => Promise<VerifyReport>;

export type ApiHandler = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;

const VERSION = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
const NO_READER =
  'The audit log cannot be read: it is off (audit.enabled: false) or its sink is jsonl. Use the sqlite (default) or postgres sink to see traffic here.';

/** Answers every path under /api/; unknown ones get a JSON 404. */
export function adminApi(deps: AdminApiDeps): ApiHandler {
  const probes = new HealthProbes();
  const readable = (): AuditReader => {
    const sink = deps.auditSink?.();
    if (sink && !sink.up) throw new ApiError(503, `The audit sink (${sink.type}) is unreachable${sink.error ? ` (${sink.error})` : ''}: Gatehouse holds new records until it is back, and nothing can be read until then.`);
    const reader = deps.reader();
    if (!reader) throw new ApiError(503, NO_READER);
    return reader;
  };
  return async (req, res, path) => {
    const headers = { 'cache-control': 'no-store' };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendJson(res, 405, { error: `${req.method} is not allowed here: the admin API is read-only` }, { ...headers, allow: 'GET, HEAD' });
      }
      const params = new URL(req.url ?? '/', 'http://admin.invalid').searchParams;
      // A tenant's admin reads its tenant's records only, whatever the query asks.
      const who = identityOf(req);
      const tenant = who?.tenant;
      if (tenant !== undefined) params.set('tenant', tenant);
      const body = await route(path, params, who);
      sendJson(res, 200, body, headers);
    } catch (error) {
      if (error instanceof ApiError) return sendJson(res, error.status, { error: error.message }, headers);
      deps.log.error({ err: error, path }, 'admin API failed');
      sendJson(res, 500, { error: 'internal error; see the Gatehouse log' }, headers);
    }
  };

  function route(path: string, params: URLSearchParams, who: AdminIdentity | undefined): Promise<unknown> | unknown {
    const tenant = who?.tenant;
    const config = tenant === undefined ? deps.config() : tenantConfig(deps.config(), tenant);
    switch (path) {
      case '/api/meta':
        return meta(deps, config, who);
      case '/api/overview':
        return overview(readable(), params);
      case '/api/logs':
        return listLogs(readable(), params);
      case '/api/live':
        return liveLogs(readable(), params);
      case '/api/audit/verify':
        return verifyAudit(deps, params, tenant);
      case '/api/upstreams':
        return upstreams(config, deps.sessionCounts(), probes, deps.reader()).then((servers) => ({ servers }));
    }
    if (path.startsWith('/api/logs/')) return getLog(readable(), decoded(path.slice('/api/logs/'.length)), tenant);
    throw new ApiError(404, `no admin API at ${path}`);
  }
}

/**
 * GET /api/audit/verify?since=&sinceSeq=&node=: `gatehouse audit verify` on the running gateway's
 * log (in its writer thread). Not for a tenant's admin: chains run across tenants.
 */
async function verifyAudit(deps: AdminApiDeps, params: URLSearchParams, tenant: string | undefined): Promise<VerifyReport> {
  if (tenant !== undefined) throw new ApiError(403, "the audit log's chains run across tenants: only an admin of the whole gateway verifies them");
  const sink = deps.auditSink?.();
  if (sink && !sink.up) throw new ApiError(503, `The audit sink (${sink.type}) is unreachable${sink.error ? ` (${sink.error})` : ''}.`);
  const verify = deps.verifyAudit?.();
  if (!verify) throw new ApiError(503, 'The audit log is not hash-chained: it is off, its sink is jsonl, or audit.chain.enabled is false.');
  const sinceSeq = params.get('sinceSeq');
  const since = params.get('since');
  if (sinceSeq !== null && !/^\d{1,15}$/.test(sinceSeq)) throw new ApiError(400, `sinceSeq must be a chain seq (a whole number); got "${sinceSeq}"`);
  const node = params.get('node') ?? undefined;
  return verify({
    since: sinceSeq !== null ? { seq: Number(sinceSeq) } : since !== null && since !== '' ? { time: timeOf('since', since, Date.now()) } : undefined,
    node: node === '' ? undefined : node,
  });
}

/** The config as a tenant's admin sees it: its servers and APIs only. */
function tenantConfig(config: ConfigData, tenant: string): ConfigData {
  return {
    ...config,
    tenants: config.tenants.filter((t) => t.id === tenant),
    servers: Object.fromEntries(Object.entries(config.servers).filter(([, s]) => tenantOf(s) === tenant)),
    apis: config.apis.filter((a) => tenantOf(a) === tenant),
  };
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, 'expected a record id');
  }
}

/**
 * What the screens need before anything else: APIs for the pickers, whether records can be read
 * and written, and who is signed in (a viewer's screens hide the actions it may not take).
 */
function meta(deps: AdminApiDeps, config: ConfigData, who: AdminIdentity | undefined): unknown {
  return {
    version: VERSION,
    apis: config.apis.map((a) => ({ name: a.name, path: a.path, server: a.server })),
    servers: Object.keys(config.servers),
    tenants: config.tenants.map((t) => t.id),
    audit: { readable: deps.reader() !== undefined, sink: deps.auditSink?.() },
    you: who ? { name: who.name, role: who.role, tenant: who.tenant ?? null } : null,
  };
}
