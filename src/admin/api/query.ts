// Query strings of the admin API → audit filters. Bad values are refused (400) with the parameter
// named, rather than silently ignored: a filter that is dropped would show the wrong records.
import type { AuditFilter } from '../../audit/reader.ts';
import { parseDuration } from '../../config/units.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Time ranges of the overview and the bucket width of each (about 50–60 points per chart). */
export const RANGES = {
  '15m': { span: 15 * 60_000, bucket: 15_000 },
  '1h': { span: 3_600_000, bucket: 60_000 },
  '24h': { span: 86_400_000, bucket: 30 * 60_000 },
  '7d': { span: 7 * 86_400_000, bucket: 3 * 3_600_000 },
} as const;
export type RangeName = keyof typeof RANGES;

const STATUSES = ['ok', 'error', 'tool_error'] as const;
const DECISIONS = ['allowed', 'denied', 'error'] as const;
const MAX_TEXT = 512;

export function rangeOf(params: URLSearchParams): RangeName {
  const value = params.get('range') ?? '1h';
  if (!(value in RANGES)) throw new ApiError(400, `range must be one of ${Object.keys(RANGES).join(', ')}; got "${value}"`);
  return value as RangeName;
}

/** The filter parameters shared by /api/logs, /api/live and /api/overview. */
export function filterOf(params: URLSearchParams, now = Date.now()): AuditFilter {
  const filter: AuditFilter = {};
  const text = (name: string): string | undefined => {
    const value = params.get(name);
    if (value === null || value === '') return undefined;
    if (value.length > MAX_TEXT) throw new ApiError(400, `${name} is longer than ${MAX_TEXT} characters`);
    return value;
  };
  const api = text('api');
  if (api !== undefined) filter.api = api;
  const tenant = text('tenant');
  if (tenant !== undefined) filter.tenant = tenant;
  const agent = text('agent');
  if (agent !== undefined) filter.agent = agent;
  const user = text('user');
  if (user !== undefined) filter.user = user;
  const method = text('method');
  if (method !== undefined) filter.method = method;
  // "tool" is what the screen calls it; it matches any target (tool, prompt or resource URI).
  const target = text('tool') ?? text('target');
  if (target !== undefined) filter.target = target;
  const server = text('server');
  if (server !== undefined) filter.server = server;
  const status = text('status');
  if (status !== undefined) filter.status = oneOf('status', status, STATUSES);
  const decision = text('decision');
  if (decision !== undefined) filter.decision = oneOf('decision', decision, DECISIONS);
  const since = text('since');
  if (since !== undefined) filter.since = timeOf('since', since, now);
  const until = text('until');
  if (until !== undefined) filter.until = timeOf('until', until, now);
  return filter;
}

export function limitOf(params: URLSearchParams, fallback: number, max: number): number {
  const value = params.get('limit');
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ApiError(400, `limit must be a whole number from 1 to ${max}; got "${value}"`);
  return n;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new ApiError(400, `${name} must be one of ${allowed.join(', ')}; got "${value}"`);
  return value as T;
}

/** ms since the epoch, an ISO 8601 time, or a duration back from now ("15m", "24h", "7d"). */
export function timeOf(name: string, value: string, now: number): number {
  if (/^\d{10,}$/.test(value)) return Number(value);
  const ago = parseDuration(value);
  if (ago !== undefined) return now - ago;
  const parsed = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && Number.isFinite(parsed)) return parsed;
  throw new ApiError(400, `${name} must be a time (ms since the epoch or ISO 8601, e.g. 2026-05-01T12:00:00Z) or a duration back from now (e.g. 15m, 24h, 7d); got "${value}"`);
}
