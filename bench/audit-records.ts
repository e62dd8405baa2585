// What the audit log of a gatehouse+audit target holds after its run: records by kind, and the
// rate they were written at. Read after the target stopped (SIGTERM flushes the queue), with a
// read-only connection, the way an operator would.
import Database from 'better-sqlite3';

export interface AuditRecords {
  /** Every record. */
  total: number;
  /** tools/call and tools/list records answered 200 without an error code: one per successful bench request. */
  answered: number;
  /** Records per second over the span of the run (first to last record). */
  meanPerSecond: number;
  /** The most records of any one second. */
  peakPerSecond: number;
}

export function readAuditRecords(file: string): AuditRecords {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const one = <T>(sql: string) => db.prepare(sql).get() as T;
    const { total, first, last } = one<{ total: number; first: number | null; last: number | null }>('SELECT count(*) AS total, min(time) AS first, max(time) AS last FROM audit_events');
    const { answered } = one<{ answered: number }>(
      "SELECT count(*) AS answered FROM audit_events WHERE method IN ('tools/call', 'tools/list') AND status = 200 AND error_code IS NULL",
    );
    const { peak } = one<{ peak: number | null }>('SELECT max(n) AS peak FROM (SELECT count(*) AS n FROM audit_events GROUP BY time / 1000)');
    const spanS = first !== null && last !== null ? Math.max(1, last - first) / 1000 : 1;
    return { total, answered, meanPerSecond: total / spanS, peakPerSecond: peak ?? 0 };
  } finally {
    db.close();
  }
}
