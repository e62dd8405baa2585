// GET /api/logs (newest first, cursor paging), GET /api/logs/:id (one record in full) and
// GET /api/live?after=<id> (what arrived since the newest record the screen shows: the live tail
// polls it; every poll is one indexed query, and an idle screen polls nothing).
import type { AuditReader } from '../../audit/reader.ts';
import { ApiError, filterOf, limitOf } from './query.ts';
import { detailOf, rowOf, type RecordDetail, type RecordRow } from './records.ts';

const PAGE = 50;
const MAX_PAGE = 500;
const MAX_ID = 200;

export interface Page {
  records: RecordRow[];
  /** Cursor for the next (older) page: pass it as `before`. Null on the last page. */
  next: string | null;
}

export async function listLogs(reader: AuditReader, params: URLSearchParams): Promise<Page> {
  const filter = filterOf(params);
  const limit = limitOf(params, PAGE, MAX_PAGE);
  const before = cursor(params, 'before');
  const events = await reader.list(filter, { limit: limit + 1, ...(before === undefined ? {} : { before }) });
  const page = events.slice(0, limit);
  return { records: page.map(rowOf), next: events.length > limit ? page.at(-1)!.id : null };
}

export async function getLog(reader: AuditReader, id: string, tenant?: string): Promise<RecordDetail> {
  if (id === '' || id.length > MAX_ID) throw new ApiError(400, 'expected a record id');
  const event = await reader.get(id);
  // Another tenant's record is a missing one.
  if (!event || (tenant !== undefined && event.tenant !== tenant)) throw new ApiError(404, `no audit record with id "${id}" (it may have been removed by retention)`);
  return detailOf(event);
}

export interface Live {
  /** Records newer than `after`, newest first. */
  records: RecordRow[];
  /** The newest id the client now has: pass it as `after` next time. */
  last: string | null;
}

export async function liveLogs(reader: AuditReader, params: URLSearchParams): Promise<Live> {
  const filter = filterOf(params);
  const limit = limitOf(params, 200, MAX_PAGE);
  const after = cursor(params, 'after');
  const known = after === undefined ? undefined : await reader.get(after);
  if (!known) {
    // First poll, or the record left by retention: start from the newest.
    const events = await reader.list(filter, { limit });
    return { records: events.map(rowOf), last: events[0]?.id ?? after ?? null };
  }
  const since = Math.max(filter.since ?? 0, known.time);
  const events = await reader.list({ ...filter, since }, { limit });
  // Records of the same millisecond as `after` may be older than it: keep only those listed before it.
  const cut = events.findIndex((e) => e.id === after);
  const fresh = cut === -1 ? events.filter((e) => e.time > known.time) : events.slice(0, cut);
  return { records: fresh.map(rowOf), last: fresh[0]?.id ?? after! };
}

function cursor(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  if (value === null || value === '') return undefined;
  if (value.length > MAX_ID) throw new ApiError(400, `${name} must be a record id`);
  return value;
}
