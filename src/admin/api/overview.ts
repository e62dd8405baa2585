// GET /api/overview?range=1h&api=NAME: traffic analytics for one API or all, over a time range,
// in buckets sized for about fifty points per chart. The audit reader does the aggregation.
import type { AuditReader, Overview } from '../../audit/reader.ts';
import { filterOf, rangeOf, RANGES, type RangeName } from './query.ts';

export interface OverviewView extends Overview {
  range: RangeName;
  /** ms since the epoch: the first bucket's start, and the (exclusive) end. */
  since: number;
  until: number;
  bucketMs: number;
}

export async function overview(reader: AuditReader, params: URLSearchParams, now = Date.now()): Promise<OverviewView> {
  const range = rangeOf(params);
  const { span, bucket } = RANGES[range];
  const filter = filterOf(params, now);
  // Whole buckets: the last one holds now, so the chart ends at the present.
  const until = (Math.floor(now / bucket) + 1) * bucket;
  const since = until - span;
  const data = await reader.overview({ ...filter, since, until }, bucket);
  return { ...data, range, since, until, bucketMs: bucket };
}
