// Prometheus metrics for what is recorded on every request (request counts, latencies).
// prom-client re-validates and hashes the labels on every update, even through a labelled child
// (a few µs each, three times a request); here a series is looked up once by its caller and an
// update is an add (or a bucket search and two adds). prom-client's registry renders them like
// its own metrics: it reads `get()` at scrape time.
import type { Metric, Registry } from 'prom-client';

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface MetricData {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: Sample[];
}

/** A metric with label values, one series object per combination (in labelNames order). */
abstract class LabelledMetric<S extends { readonly labels: Readonly<Record<string, string>> }> {
  abstract readonly type: string;
  readonly aggregator = 'sum';
  protected readonly series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    // The registry only calls name, help, type, aggregator, get() and reset() on a metric; its
    // typings list prom-client's own classes.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values (in labelNames order), made on first use. */
  of(...values: string[]): S {
    const key = values.join('\n');
    let found = this.series.get(key);
    if (!found) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      found = this.make(labels);
      this.series.set(key, found);
    }
    return found;
  }

  reset(): void {
    this.series.clear();
  }

  get(): MetricData {
    const values: Sample[] = [];
    for (const series of this.series.values()) this.samples(series, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  protected abstract make(labels: Readonly<Record<string, string>>): S;
  protected abstract samples(series: S, into: Sample[]): void;
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Readonly<Record<string, string>>) {}
  inc(): void {
    this.value++;
  }
}

export class LightCounter extends LabelledMetric<CounterSeries> {
  readonly type = 'counter';

  protected make(labels: Readonly<Record<string, string>>): CounterSeries {
    return new CounterSeries(labels);
  }

  protected samples(series: CounterSeries, into: Sample[]): void {
    into.push({ labels: series.labels, value: series.value });
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot is above every bound (+Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class LightHistogram extends LabelledMetric<HistogramSeries> {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], private readonly bounds: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
  }

  protected make(labels: Readonly<Record<string, string>>): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  protected samples(series: HistogramSeries, into: Sample[]): void {
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += series.counts[i]!;
      into.push({ labels: { ...series.labels, le: bound }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    into.push({ labels: { ...series.labels, le: '+Inf' }, value: series.count, metricName: `${this.name}_bucket` });
    into.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
    into.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
  }
}
