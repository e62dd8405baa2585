// A uPlot time chart that follows its container's width. uPlot draws on a canvas, so the
// numbers are also given as a text summary for screen readers (the caller's `summary`).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Bars (counts) or a line (rates, latencies). */
  kind: 'bars' | 'line';
  /** Values per x; null leaves a gap. */
  values: Array<number | null>;
}

interface Props {
  /** Seconds since the epoch, one per point. */
  x: number[];
  series: SeriesSpec[];
  /** Formats a y value for the axis and the legend. */
  format: (value: number) => string;
  summary: string;
  height?: number;
  /** Width of one x step, seconds: bars fill it. */
  step: number;
  /** Whole-number axis (counts): no 0.5 ticks. */
  integer?: boolean;
}

const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1e6, 1e7];

const AXIS = { stroke: '#5b6675', grid: { stroke: '#e7ebf0', width: 1 }, ticks: { stroke: '#e7ebf0', width: 1 }, font: '11px system-ui, sans-serif' };

export function TimeChart({ x, series, format, summary, height = 180, step, integer }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const bars = uPlot.paths.bars!({ size: [0.8, 24], align: 1 });
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { live: true },
      scales: { x: { time: true, range: (_u, min, max) => [min, max + step] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { ...AXIS, space: 70 },
        { ...AXIS, size: 64, values: (_u, values) => values.map((v) => format(v)), ...(integer ? { incrs: INTEGER_STEPS } : {}) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.kind === 'line' ? 2 : 0,
          fill: s.kind === 'bars' ? s.color : undefined,
          paths: s.kind === 'bars' ? bars : undefined,
          // Lines join the buckets that had traffic; dots mark them, so a lone bucket still shows.
          points: { show: s.kind === 'line', size: 5 },
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : format(v)),
        })),
      ],
    };
    const data = [x, ...series.map((s) => s.values)] as uPlot.AlignedData;
    const chart = new uPlot(options, data, el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = undefined;
    };
    // The chart is rebuilt when the data changes: a handful of points, cheaper than diffing.
  }, [x, series, format, height, step, integer]);

  return (
    <figure class="chart">
      <div ref={box} class="chart-canvas" aria-hidden="true" />
      <figcaption class="visually-hidden">{summary}</figcaption>
    </figure>
  );
}
