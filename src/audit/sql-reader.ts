// AuditReader over SQL, shared by the SQLite and Postgres sinks: they differ only in how a
// statement runs and how parameters are written. Time ranges use the id index (ids begin with
// their time), overviews are GROUP BY queries whose result size does not grow with the records.
import type { AuditEvent } from './event.ts';
import type { AuditFilter, AuditReader, Overview, Totals } from './reader.ts';
import { COLUMNS, TABLE, binValue, eventOf, type Row } from './rows.ts';
import { timePrefix } from './ids.ts';

export interface SqlExecutor {
  /** `?` marks parameters; the executor rewrites them for its database. */
  all(sql: string, params: readonly unknown[]): Promise<Row[]>;
}

/** Reading beyond what a screen shows: newer records since a sequence number (`logs --follow`). */
export interface AuditTail {
  latestSeq(): Promise<number>;
  after(filter: AuditFilter, seq: number, limit: number): Promise<{ events: AuditEvent[]; seq: number }>;
}

const ERROR = '(status >= 400 OR error_code IS NOT NULL)';
const TOOL_ERROR = '(tool_error = 1)';
const DENIED = "(decision = 'denied')";
/**
 * Records with a latency: request/response exchanges (a JSON-RPC request and its answer). Not GET
 * streams (open as long as the client keeps them), DELETEs (as long as a server takes to stop),
 * notifications, or a client's answers to server requests.
 */
const EXCHANGE = "(rpc_id IS NOT NULL AND method <> '(response)')";
const TOP = 20;
/** At most this many buckets in a series, whatever bucket size is asked for. */
const MAX_BUCKETS = 2000;

export function whereOf(filter: AuditFilter, params: unknown[]): string {
  const parts: string[] = [];
  const eq = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    parts.push(`${column} = ?`);
    params.push(value);
  };
  eq('api', filter.api);
  eq('tenant', filter.tenant);
  eq('agent', filter.agent);
  eq('user_id', filter.user);
  eq('method', filter.method);
  eq('target', filter.target);
  eq('server', filter.server);
  eq('decision', filter.decision);
  if (filter.status === 'error') parts.push(ERROR);
  if (filter.status === 'tool_error') parts.push(TOOL_ERROR);
  if (filter.status === 'ok') parts.push(`NOT ${ERROR} AND NOT ${TOOL_ERROR}`);
  if (filter.since !== undefined) {
    parts.push('id >= ?');
    params.push(timePrefix(filter.since));
  }
  if (filter.until !== undefined) {
    parts.push('id < ?');
    params.push(timePrefix(filter.until));
  }
  return parts.length === 0 ? 'TRUE' : parts.join(' AND ');
}

export interface SqlReaderOptions {
  /** Columns the table does not have yet (a file written by an earlier version, opened read-only): read as their defaults. */
  readonly missing?: readonly string[];
}

export class SqlAuditReader implements AuditReader, AuditTail {
  private readonly select: string;
  /** Filters and sums name tool_error too: on a table without it, there are no tool errors. */
  private readonly noToolErrors: boolean;
  /** A table without the server columns (written before them): read through a view that adds them as NULL. */
  private readonly from: string | undefined;

  constructor(
    private readonly db: SqlExecutor,
    options: SqlReaderOptions = {},
  ) {
    const missing = new Set(options.missing ?? []);
    this.select = COLUMNS.map((c) => (missing.has(c) ? `${c === 'tool_error' ? '0' : 'NULL'} AS ${c}` : c)).join(', ');
    this.noToolErrors = missing.has('tool_error');
    const nulls = ['server', 'original_target'].filter((c) => missing.has(c));
    this.from = nulls.length === 0 ? undefined : `FROM (SELECT *, ${nulls.map((c) => `NULL AS ${c}`).join(', ')} FROM ${TABLE}) AS ${TABLE}`;
  }

  private all(sql: string, params: readonly unknown[]): Promise<Row[]> {
    let text = this.noToolErrors ? sql.replaceAll(TOOL_ERROR, '(0 = 1)') : sql;
    if (this.from !== undefined) text = text.replaceAll(`FROM ${TABLE}`, this.from);
    return this.db.all(text, params);
  }

  async list(filter: AuditFilter, options: { limit: number; before?: string }): Promise<AuditEvent[]> {
    const params: unknown[] = [];
    let where = whereOf(filter, params);
    if (options.before !== undefined) {
      where += ' AND id < ?';
      params.push(options.before);
    }
    params.push(Math.max(1, Math.min(options.limit, 10_000)));
    const rows = await this.all(`SELECT ${this.select} FROM ${TABLE} WHERE ${where} ORDER BY id DESC LIMIT ?`, params);
    return rows.map(eventOf);
  }

  async get(id: string): Promise<AuditEvent | undefined> {
    const rows = await this.all(`SELECT ${this.select} FROM ${TABLE} WHERE id = ?`, [id]);
    return rows[0] ? eventOf(rows[0]) : undefined;
  }

  async latestSeq(): Promise<number> {
    const rows = await this.all(`SELECT MAX(seq) AS seq FROM ${TABLE}`, []);
    return Number(rows[0]?.seq ?? 0);
  }

  async after(filter: AuditFilter, seq: number, limit: number): Promise<{ events: AuditEvent[]; seq: number }> {
    // Every new row moves the cursor, matching or not, so the next poll starts past it.
    const newest = await this.latestSeq();
    const params: unknown[] = [seq, newest];
    const where = whereOf(filter, params);
    params.push(limit);
    const rows = await this.all(`SELECT seq, ${this.select} FROM ${TABLE} WHERE seq > ? AND seq <= ? AND ${where} ORDER BY seq LIMIT ?`, params);
    const last = rows.length === limit ? Number(rows[rows.length - 1]!.seq) : Math.max(seq, newest);
    return { events: rows.map(eventOf), seq: last };
  }

  async overview(filter: AuditFilter, bucketMs: number): Promise<Overview> {
    const range = filter.since !== undefined ? (filter.until ?? Date.now()) - filter.since : 0;
    const bucket = Math.max(1000, Math.ceil(bucketMs), Math.ceil(range / MAX_BUCKETS));
    const base: unknown[] = [];
    const where = whereOf(filter, base);
    const run = (sql: string, extra: unknown[] = [], before: unknown[] = []) => this.all(sql, [...before, ...base, ...extra]);
    const counts = `COUNT(*) AS n, SUM(CASE WHEN ${ERROR} THEN 1 ELSE 0 END) AS errors, SUM(CASE WHEN ${TOOL_ERROR} THEN 1 ELSE 0 END) AS tool_errors, SUM(CASE WHEN ${DENIED} THEN 1 ELSE 0 END) AS denied`;
    const top = (method: string) =>
      // By name and server: one name may stand for tools of two servers (two APIs, or a name placed again after a list changed).
      run(`SELECT target AS name, server, ${counts} FROM ${TABLE} WHERE ${where} AND method = ? AND target IS NOT NULL GROUP BY target, server ORDER BY n DESC, target, server LIMIT ${TOP}`, [method]).then((rows) =>
        rows.map((r) => ({ name: String(r.name), server: r.server == null ? null : String(r.server), count: Number(r.n), errors: Number(r.errors), toolErrors: Number(r.tool_errors), denied: Number(r.denied) })),
      );
    const rangeParams: unknown[] = [];
    const rangeWhere = whereOf({ since: filter.since, until: filter.until }, rangeParams);
    const distinct = (column: string) =>
      this.all(`SELECT DISTINCT ${column} AS v FROM ${TABLE} WHERE ${rangeWhere} ORDER BY v LIMIT 1000`, rangeParams).then((rows) => rows.map((r) => String(r.v)));

    const [histogram, methods, topTools, topResources, topPrompts, denied, matrix, agents, apis, servers] = await Promise.all([
      // Records without a latency fall in the NULL bin: counted, but not in the percentiles.
      run(`SELECT CAST(time / ? AS BIGINT) * ? AS t, CASE WHEN ${EXCHANGE} THEN lat_bin END AS bin, ${counts} FROM ${TABLE} WHERE ${where} GROUP BY t, bin ORDER BY t`, [], [bucket, bucket]),
      run(`SELECT method, COUNT(*) AS n FROM ${TABLE} WHERE ${where} GROUP BY method ORDER BY n DESC, method LIMIT 50`),
      top('tools/call'),
      top('resources/read'),
      top('prompts/get'),
      run(`SELECT agent, method, target, rule, COUNT(*) AS n FROM ${TABLE} WHERE ${where} AND ${DENIED} GROUP BY agent, method, target, rule ORDER BY n DESC LIMIT 50`),
      run(`SELECT agent, target AS tool, server, COUNT(*) AS n, SUM(CASE WHEN ${DENIED} THEN 1 ELSE 0 END) AS denied FROM ${TABLE} WHERE ${where} AND method = 'tools/call' AND target IS NOT NULL GROUP BY agent, target, server ORDER BY n DESC LIMIT 1000`),
      distinct('agent'),
      distinct('api'),
      this.all(`SELECT DISTINCT server AS v FROM ${TABLE} WHERE ${rangeWhere} AND server IS NOT NULL ORDER BY v LIMIT 1000`, rangeParams).then((rows) => rows.map((r) => String(r.v))),
    ]);

    const all = new Histogram();
    const series = new Map<number, Histogram>();
    for (const row of histogram) {
      const t = Number(row.t);
      let h = series.get(t);
      if (!h) series.set(t, (h = new Histogram()));
      const bin = row.bin === null || row.bin === undefined ? undefined : Number(row.bin);
      for (const target of [h, all]) target.add(bin, Number(row.n), Number(row.errors), Number(row.tool_errors), Number(row.denied));
    }
    return {
      totals: all.totals(),
      series: [...series.entries()].sort((a, b) => a[0] - b[0]).map(([t, h]) => ({ t, ...h.totals() })),
      methods: methods.map((r) => ({ method: String(r.method), count: Number(r.n) })),
      topTools,
      topResources,
      topPrompts,
      denied: denied.map((r) => ({ agent: String(r.agent), method: String(r.method), target: r.target == null ? null : String(r.target), rule: r.rule == null ? null : String(r.rule), count: Number(r.n) })),
      matrix: matrix.map((r) => ({ agent: String(r.agent), tool: String(r.tool), server: r.server == null ? null : String(r.server), calls: Number(r.n), denied: Number(r.denied) })),
      agents,
      apis,
      servers,
    };
  }
}

/** Counts per latency bin, and the percentiles they give. */
class Histogram {
  private readonly bins = new Map<number, number>();
  private requests = 0;
  private exchanges = 0;
  private errors = 0;
  private toolErrors = 0;
  private denied = 0;

  /** `bin` undefined: records without a latency (streams, DELETEs, notifications). */
  add(bin: number | undefined, n: number, errors: number, toolErrors: number, denied: number): void {
    if (bin !== undefined) {
      this.bins.set(bin, (this.bins.get(bin) ?? 0) + n);
      this.exchanges += n;
    }
    this.requests += n;
    this.errors += errors;
    this.toolErrors += toolErrors;
    this.denied += denied;
  }

  totals(): Totals {
    const sorted = [...this.bins.entries()].sort((a, b) => a[0] - b[0]);
    const at = (q: number): number => {
      if (this.exchanges === 0) return 0;
      const rank = q * this.exchanges;
      let seen = 0;
      for (const [bin, n] of sorted) {
        seen += n;
        if (seen >= rank) return Math.round(binValue(bin) * 100) / 100;
      }
      return Math.round(binValue(sorted[sorted.length - 1]![0]) * 100) / 100;
    };
    return { requests: this.requests, exchanges: this.exchanges, errors: this.errors, toolErrors: this.toolErrors, denied: this.denied, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
  }
}
