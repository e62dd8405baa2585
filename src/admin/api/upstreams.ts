// GET /api/upstreams: each configured server with its transport, the APIs bound to it, a fresh
// probe (HTTP and SSE servers), live sessions or stdio children, and the last upstream failure
// the audit log recorded for it.
import type { AuditReader } from '../../audit/reader.ts';
import type { AuditEvent } from '../../audit/event.ts';
import type { ConfigData, ServerData } from '../../config/schema.ts';
import { ERRORS } from '../../errors.ts';
import type { HealthProbes, Probe } from './health.ts';
import { egressRuleOf } from '../../upstream/egress.ts';

export interface UpstreamView {
  name: string;
  transport: 'streamable-http' | 'sse' | 'stdio';
  /** URL without credentials or query values, or the command line of a stdio server. */
  target: string;
  apis: string[];
  /** up / down / error from the probe; for stdio: running (children alive) or idle. */
  status: 'up' | 'down' | 'error' | 'running' | 'idle';
  probe: Probe | undefined;
  /** Live sessions (HTTP) or children (stdio). */
  sessions: number;
  maxChildren: number | undefined;
  lastError: { time: number; api: string; id: string; message: string } | undefined;
}

/** JSON-RPC codes of the catalogue's upstream failures (unavailable, too large, bad response, exited, timeout, …). */
const UPSTREAM_CODES: ReadonlySet<number> = new Set(
  Object.entries(ERRORS)
    .filter(([code]) => code.startsWith('GH_UPSTREAM_') || code === 'GH_TOO_MANY_SESSIONS')
    .map(([, spec]) => spec.rpc),
);
const SCAN = 100;

export async function upstreams(config: ConfigData, sessions: Record<string, number>, probes: HealthProbes, reader: AuditReader | undefined): Promise<UpstreamView[]> {
  probes.retain(Object.keys(config.servers));
  return Promise.all(
    Object.entries(config.servers).map(async ([name, server]) => {
      const apis = config.apis.filter((a) => a.server === name).map((a) => a.name);
      const [probe, lastError] = await Promise.all([probes.probe(name, server, Date.now(), egressRuleOf(config.tenants, server.tenant)), reader ? lastFailure(reader, apis) : undefined]);
      const count = sessions[name] ?? 0;
      const transport = 'url' in server ? 'streamable-http' : 'sse' in server ? 'sse' : 'stdio';
      return {
        name,
        transport,
        target: targetOf(server),
        apis,
        status: probe ? probe.status : count > 0 ? 'running' : 'idle',
        probe,
        sessions: count,
        maxChildren: 'command' in server ? server.maxChildren : undefined,
        lastError,
      } satisfies UpstreamView;
    }),
  );
}

/** The newest record of these APIs where the upstream failed (or answered 5xx). */
async function lastFailure(reader: AuditReader, apis: string[]): Promise<UpstreamView['lastError']> {
  let newest: AuditEvent | undefined;
  for (const api of apis) {
    const errors = await reader.list({ api, status: 'error' }, { limit: SCAN });
    const failed = errors.find((e) => (e.errorCode !== undefined && UPSTREAM_CODES.has(e.errorCode)) || (e.upstreamStatus ?? 0) >= 500);
    if (failed && (!newest || failed.time > newest.time)) newest = failed;
  }
  if (!newest) return undefined;
  const message = newest.reason ?? (newest.upstreamStatus ? `the server answered HTTP ${newest.upstreamStatus}` : `JSON-RPC error ${newest.errorCode}`);
  return { time: newest.time, api: newest.api, id: newest.id, message };
}

/** What to show for a server: never a credential (userinfo, query values) and never its env. */
function targetOf(server: ServerData): string {
  if ('command' in server) return commandLine(server.command, server.args);
  const url = new URL('url' in server ? server.url : server.sse);
  url.username = '';
  url.password = '';
  for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, '…');
  return url.toString();
}

const SECRET_WORD = /(token|secret|passw|api[-_]?key|auth|credential)/i;

/** A command line with values that may be secrets masked: `--token X`, `--api-key=X`, `TOKEN=X`. */
function commandLine(command: string, args: readonly string[]): string {
  const shown: string[] = [command];
  let maskNext = false;
  for (const arg of args) {
    if (maskNext) {
      shown.push('…');
      maskNext = false;
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0 && SECRET_WORD.test(arg.slice(0, eq))) shown.push(`${arg.slice(0, eq)}=…`);
    else {
      maskNext = arg.startsWith('-') && SECRET_WORD.test(arg);
      shown.push(/\s/.test(arg) ? JSON.stringify(arg) : arg);
    }
  }
  return shown.join(' ');
}
