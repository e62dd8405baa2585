// Small statistics and formatting helpers for the benchmark.

/** The q-quantile (0..1) of an ascending-sorted array, nearest-rank. NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** Median of any array (sorts a copy). NaN when empty. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/** Sorts a Float64Array of latencies in place and returns p50 and p99. */
export function latencySummary(latenciesMs: Float64Array): { p50: number; p99: number } {
  latenciesMs.sort();
  const sorted = Array.from(latenciesMs);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

/** Formats a number with a fixed count of decimals; "-" for NaN. */
export function fmt(value: number, decimals = 0): string {
  return Number.isFinite(value) ? value.toFixed(decimals) : '-';
}

/** a/b formatted as a ratio like "1.23x"; "-" if either side is missing. */
export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}x` : '-';
}

/** Renders rows as a plain-text table with right-aligned columns (first column left-aligned). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
