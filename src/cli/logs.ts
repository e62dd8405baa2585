// gatehouse logs: reads the audit log of a config (its SQLite file or Postgres table) from the
// terminal. A table by default (oldest first, so the newest line is last, as a tail), JSON lines
// with --json; --follow polls for new records. The file is opened read-only: a running gateway
// keeps writing beside it.
// Exit codes: 0 done, 1 no audit log to read, 2 a config that does not load or a bad option.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfigFile } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import type { ConfigData } from '../config/schema.ts';
import { parseDuration } from '../config/units.ts';
import { dataPaths } from '../data-paths.ts';
import { auditSinkSpec } from '../audit/paths.ts';
import type { SinkSpec } from '../audit/sink.ts';
import type { AuditEvent } from '../audit/event.ts';
import type { AuditFilter, AuditReader } from '../audit/reader.ts';
import type { AuditTail } from '../audit/sql-reader.ts';

interface LogsOptions {
  config: string;
  /** An audit SQLite file to read instead of the config's sink. */
  file?: string;
  follow?: boolean;
  agent?: string;
  user?: string;
  tool?: string;
  method?: string;
  api?: string;
  server?: string;
  status?: 'ok' | 'error' | 'tool_error';
  decision?: 'allowed' | 'denied' | 'error';
  since?: number;
  limit: number;
  json?: boolean;
  interval: number;
}

class LogsError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

// Variables the audit sink does not need may be unset in an operator's shell.
const UNSET = 'http://unset-environment-variable.invalid/placeholder';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** "1h", "30m", "2d" ago, or a date ("2026-05-01", "2026-05-01T10:00:00Z"). */
export function since(value: string): number {
  const ago = parseDuration(value);
  if (ago !== undefined) return Date.now() - ago;
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new InvalidArgumentError('expected a duration such as 15m, 1h, 7d, or a date such as 2026-05-01T10:00:00Z');
  return at;
}

async function loadConfig(file: string): Promise<ConfigData> {
  const env = new Proxy(process.env, { get: (target, name: string) => target[name] ?? UNSET });
  try {
    const config = await loadConfigFile(file, env);
    if (JSON.stringify([config.audit.sink, config.dataDir ?? '']).includes(UNSET)) {
      throw new LogsError(`${file}: audit.sink or dataDir use an environment variable that is not set`, 2);
    }
    return config;
  } catch (error) {
    if (error instanceof ConfigError) throw new LogsError(error.message, 2);
    throw error;
  }
}

async function openReader(options: LogsOptions): Promise<{ reader: AuditReader & AuditTail; close(): unknown }> {
  let spec: SinkSpec;
  if (options.file !== undefined) spec = { type: 'sqlite', file: path.resolve(options.file) };
  else {
    const config = await loadConfig(options.config);
    spec = auditSinkSpec(config, options.config, dataPaths(config, options.config, process.env).dataDir);
  }
  switch (spec.type) {
    case 'sqlite': {
      if (!existsSync(spec.file)) throw new LogsError(`no audit log yet: ${spec.file} does not exist (it is created when Gatehouse starts with audit enabled)`, 1);
      const { openSqliteReader } = await import('../audit/sqlite-sink.ts');
      return openSqliteReader(spec.file);
    }
    case 'postgres': {
      const { openPostgresReader } = await import('../audit/postgres-sink.ts');
      return openPostgresReader(spec.url, spec.schema);
    }
    case 'jsonl':
      throw new LogsError(`audit.sink is jsonl: the records are JSON lines in ${spec.path === '-' ? "Gatehouse's standard output" : spec.path}; \`gatehouse logs\` reads the sqlite and postgres sinks`, 1);
  }
}

function filterOf(options: LogsOptions): AuditFilter {
  return {
    api: options.api,
    agent: options.agent,
    user: options.user,
    target: options.tool,
    server: options.server,
    // --tool names a tool: calls of it, unless --method says otherwise.
    method: options.method ?? (options.tool !== undefined ? 'tools/call' : undefined),
    status: options.status,
    decision: options.decision,
    since: options.since,
  };
}

const COLUMNS: Array<{ title: string; width: number; right?: boolean; value(e: AuditEvent): string }> = [
  { title: 'TIME', width: 23, value: (e) => localTime(e.time) },
  { title: 'API', width: 14, value: (e) => e.api },
  { title: 'AGENT', width: 18, value: (e) => e.agent },
  { title: 'METHOD', width: 24, value: (e) => e.method },
  { title: 'SERVER', width: 14, value: (e) => e.server ?? '' },
  // A federated API's name, with the server's own name when it differs (a prefix, a virtual server's rename).
  { title: 'TARGET', width: 36, value: (e) => (e.originalTarget !== undefined && e.target !== undefined && e.originalTarget !== e.target ? `${e.target} (${e.originalTarget})` : (e.target ?? '')) },
  { title: 'DECISION', width: 24, value: (e) => (e.decision === 'allowed' || !e.rule ? e.decision : `${e.decision} ${e.rule}`) },
  { title: 'STATUS', width: 12, value: (e) => (e.errorCode !== undefined ? `${e.status} ${e.errorCode}` : e.toolError ? `${e.status} tool-err` : String(e.status)) },
  { title: 'DURATION', width: 10, right: true, value: (e) => `${e.durationMs < 10 ? e.durationMs.toFixed(1) : Math.round(e.durationMs)}ms` },
];

function localTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function cell(text: string, width: number, right = false): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  const cut = clean.length > width ? clean.slice(0, width - 1) + '…' : clean;
  return right ? cut.padStart(width) : cut.padEnd(width);
}

function line(e: AuditEvent, json: boolean): string {
  if (json) return JSON.stringify(e);
  return COLUMNS.map((c) => cell(c.value(e), c.width, c.right)).join(' ').trimEnd();
}

function header(): string {
  return COLUMNS.map((c) => cell(c.title, c.width, c.right)).join(' ').trimEnd();
}

async function runLogs(options: LogsOptions): Promise<void> {
  const { reader, close } = await openReader(options);
  const out = (text: string) => process.stdout.write(text + '\n');
  try {
    const filter = filterOf(options);
    const startSeq = options.follow ? await reader.latestSeq() : 0;
    const recent = (await reader.list(filter, { limit: options.limit })).reverse();
    if (!options.json) out(header());
    for (const e of recent) out(line(e, options.json === true));
    if (!options.follow) return;
    // Records written between the two reads above appear in both: print them once.
    const shown = new Set(recent.map((e) => e.id));
    let seq = startSeq;
    let stop = false;
    const stopNow = () => (stop = true);
    process.once('SIGINT', stopNow);
    process.once('SIGTERM', stopNow);
    while (!stop) {
      const next = await reader.after(filter, seq, 1000);
      seq = next.seq;
      for (const e of next.events) if (!shown.delete(e.id)) out(line(e, options.json === true));
      if (next.events.length < 1000) await new Promise((resolve) => setTimeout(resolve, options.interval));
    }
  } finally {
    await close();
  }
}

export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description('show the audit log: one line per MCP exchange (time, api, agent, method, server, target, decision, status, duration)')
    .option('-c, --config <file>', 'YAML or JSON configuration file', 'gatehouse.yaml')
    .option('--file <audit.db>', 'read this audit SQLite file instead of the config\'s (e.g. .gatehouse/audit.db of `gatehouse demo`)')
    .option('-f, --follow', 'keep printing new records as they are written')
    .option('--agent <id>', 'only this agent')
    .option('--user <id>', 'only this user')
    .option('--tool <name>', 'only calls of this tool (tools/call, unless --method is given)')
    .option('--method <method>', 'only this JSON-RPC method (or GET/DELETE for streams and session ends)')
    .option('--api <name>', 'only this API')
    .option('--server <name>', 'only exchanges served by this server (a federated API\'s member)')
    .addOption(new Option('--status <status>', 'only successful exchanges, failed ones, or tool results marked isError').choices(['ok', 'error', 'tool_error']))
    .addOption(new Option('--decision <decision>', 'only this decision').choices(['allowed', 'denied', 'error']))
    .option('--since <when>', 'only records since a duration ago (15m, 1h, 7d) or a date', since)
    .option('-n, --limit <n>', 'how many of the newest records to show first', positiveInt, 50)
    .option('--json', 'JSON lines (one record per line, every field) instead of a table')
    .addOption(new Option('--interval <ms>', 'how often --follow polls, in ms').argParser(positiveInt).default(1000).hideHelp())
    .action(async (options: LogsOptions) => {
      try {
        await runLogs(options);
      } catch (error) {
        if (!(error instanceof LogsError)) throw error;
        process.stderr.write(`gatehouse: ${error.message}\n`);
        process.exitCode = error.exitCode;
      }
    });
}
