/**
 * Summaries of a run: exact percentiles (every latency is kept; 2 million doubles are 16 MB),
 * a per-second series, and k6-style thresholds evaluated against them.
 */
import type { EngineResult } from './engine.ts';

export interface LatencySummary {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface SecondPoint {
  /** Seconds since the start. */
  t: number;
  completed: number;
  p50: number;
  p99: number;
}

export interface Summary {
  /** Open loop: scheduled requests never sent because every connection was busy (the server fell behind). */
  dropped: number;
  requests: number;
  completed: number;
  achieved_rate: number;
  failed: number;
  failed_rate: number;
  latency_ms: LatencySummary;
  status: Record<string, number>;
  failures: Record<string, number>;
  per_second: SecondPoint[];
  /** The driver's own event-loop delay during the run. */
  generator_lag_ms: { p99: number; max: number };
  histogram: Array<{ le_ms: number; count: number }>;
  /** With several replicas (--replicas N): what each one answered. */
  per_replica?: Array<{ replica: number; completed: number; achieved_rate: number; p50_ms: number; p99_ms: number }>;
}

/** The q-quantile (nearest rank) of sorted values; 0 for none. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function latencySummary(values: Float64Array): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: round(quantile(sorted, 0.5)),
    p90: round(quantile(sorted, 0.9)),
    p95: round(quantile(sorted, 0.95)),
    p99: round(quantile(sorted, 0.99)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : 0),
    mean: round(sorted.length ? sum / sorted.length : 0),
  };
}

/** Log-spaced buckets from 0.1 ms to 10 s (upper bounds), for the report's histogram. */
function histogram(values: Float64Array): Array<{ le_ms: number; count: number }> {
  const bounds: number[] = [];
  for (let b = 0.1; b <= 10_000; b *= 10) for (const m of [1, 2, 5]) bounds.push(round(b * m));
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const v of values) {
    let i = 0;
    while (i < bounds.length && v > bounds[i]!) i++;
    counts[i]!++;
  }
  return [...bounds.map((le, i) => ({ le_ms: le, count: counts[i]! })), { le_ms: Number.POSITIVE_INFINITY, count: counts[bounds.length]! }];
}

export function summarize(result: EngineResult): Summary {
  const failed = result.unexpected + [...result.failures.values()].reduce((a, b) => a + b, 0);
  const seconds = Math.max(1, Math.ceil(result.elapsedMs / 1000));
  const bySecond: number[][] = Array.from({ length: seconds }, () => []);
  for (let i = 0; i < result.completed; i++) bySecond[Math.min(seconds - 1, Math.floor(result.completedAt[i]! / 1000))]!.push(result.latencies[i]!);
  return {
    dropped: result.dropped,
    requests: result.scheduled,
    completed: result.completed,
    achieved_rate: Math.round((result.completed / Math.max(result.elapsedMs, 1)) * 1000),
    failed,
    failed_rate: result.scheduled ? failed / result.scheduled : 0,
    latency_ms: latencySummary(result.latencies),
    status: Object.fromEntries([...result.statuses].map(([k, v]) => [String(k), v])),
    failures: Object.fromEntries(result.failures),
    per_second: bySecond.map((values, t) => {
      const sorted = Float64Array.from(values).sort();
      return { t: t + 1, completed: values.length, p50: round(quantile(sorted, 0.5)), p99: round(quantile(sorted, 0.99)) };
    }),
    generator_lag_ms: result.generatorLagMs,
    histogram: histogram(result.latencies),
    ...perReplica(result),
  };
}

function perReplica(result: EngineResult): Pick<Summary, 'per_replica'> {
  let replicas = 0;
  for (const t of result.targetOf) if (t + 1 > replicas) replicas = t + 1;
  if (replicas < 2) return {};
  const latencies = Array.from({ length: replicas }, () => [] as number[]);
  for (let i = 0; i < result.completed; i++) latencies[result.targetOf[i]!]!.push(result.latencies[i]!);
  return {
    per_replica: latencies.map((values, replica) => {
      const sorted = Float64Array.from(values).sort();
      return {
        replica: replica + 1,
        completed: values.length,
        achieved_rate: Math.round((values.length / Math.max(result.elapsedMs, 1)) * 1000),
        p50_ms: round(quantile(sorted, 0.5)),
        p99_ms: round(quantile(sorted, 0.99)),
      };
    }),
  };
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  actual: number;
  ok: boolean;
}

/**
 * Evaluates k6 threshold expressions: http_req_duration (flow_duration for flow scenarios)
 * `p(N)<X`, `avg<X`, `max<X`, `med<X` (milliseconds) and http_req_failed `rate<X` / `rate==X`.
 */
export function evaluateThresholds(thresholds: Record<string, string[]>, summary: Summary): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const [metric, expressions] of Object.entries(thresholds)) {
    for (const expression of expressions) {
      const m = /^\s*(p\((\d+(?:\.\d+)?)\)|avg|med|max|rate)\s*(<=|<|==|>=|>)\s*(\d+(?:\.\d+)?)\s*$/.exec(expression);
      if (!m) throw new Error(`threshold ${metric}: cannot evaluate ${JSON.stringify(expression)}`);
      const [, stat, p, op, limitText] = m;
      const limit = Number(limitText);
      let actual: number;
      if (metric === 'http_req_failed' && stat === 'rate') actual = summary.failed_rate;
      else if (metric === 'http_req_duration' || metric === 'flow_duration') {
        const l = summary.latency_ms;
        actual =
          stat === 'avg'
            ? l.mean
            : stat === 'med'
              ? l.p50
              : stat === 'max'
                ? l.max
                : p === '50'
                  ? l.p50
                  : p === '90'
                    ? l.p90
                    : p === '95'
                      ? l.p95
                      : p === '99'
                        ? l.p99
                        : Number.NaN;
        if (Number.isNaN(actual)) throw new Error(`threshold ${metric}: percentile p(${p}) is not recorded (50, 90, 95, 99)`);
      } else throw new Error(`threshold ${metric}: unsupported metric or statistic`);
      const ok = op === '<' ? actual < limit : op === '<=' ? actual <= limit : op === '==' ? actual === limit : op === '>=' ? actual >= limit : actual > limit;
      out.push({ metric, expression, actual, ok });
    }
  }
  return out;
}
