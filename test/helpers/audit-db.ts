// Test helpers for the audit log: waiting until a gateway has written what it observed, and
// reading an audit SQLite file the way an operator would (read-only, from outside the gateway).
import Database from 'better-sqlite3';
import type { Gateway } from '../../src/gateway.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import type { AuditFilter } from '../../src/audit/reader.ts';
import { eventOf, type Row } from '../../src/audit/rows.ts';

/**
 * The gateway's records matching `filter` once `ready` holds for them. An exchange is recorded
 * when its response has closed on the server side, which can be a moment after the client has
 * read it: flush and look again, a bounded number of times.
 */
export async function recordsWhen(gateway: Gateway, filter: AuditFilter, ready: (events: AuditEvent[]) => boolean, attempts = 100): Promise<AuditEvent[]> {
  const audit = gateway.audit;
  if (!audit?.reader) throw new Error('this gateway has no readable audit log');
  let events: AuditEvent[] = [];
  for (let i = 0; i < attempts; i++) {
    await audit.flush();
    events = await audit.reader.list(filter, { limit: 1000 });
    if (ready(events)) return events;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return events;
}

/** Every record in an audit SQLite file, oldest first, read with a read-only connection. */
export function readAuditFile(file: string): AuditEvent[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Row[]).map(eventOf);
  } finally {
    db.close();
  }
}

/** One record matching `where`, or a failure that shows what was there. */
export function only(events: AuditEvent[], where: (e: AuditEvent) => boolean, what: string): AuditEvent {
  const found = events.filter(where);
  if (found.length !== 1) throw new Error(`expected one record of ${what}, found ${found.length}: ${JSON.stringify(events.map((e) => [e.method, e.target, e.decision, e.status]))}`);
  return found[0]!;
}
