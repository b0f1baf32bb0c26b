/**
 * Prometheus metrics (prom-client) on a registry of our own, so several servers in one process
 * (tests) never collide. Hot-path children (route x method) are resolved once at route
 * registration; a request then costs one observe() and one counter inc.
 */
import client from 'prom-client';

export const latencyBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** What /metrics reads from a scheduler loop (src/scheduler/loop.ts satisfies it). */
export interface LoopStats {
  readonly name: string;
  readonly runs: number;
  readonly failures: number;
  readonly skips: number;
  readonly lastDurationMs: number;
  readonly running: boolean;
}

/**
 * prom-client's event-loop series sample a timer of this period (ms); nodejs_eventloop_lag_p99,
 * _max and friends include the period itself (an idle process reads about 10 ms), so the delay
 * is the reading less this.
 */
export const eventLoopSamplingMs = 10;

export class Metrics {
  readonly registry = new client.Registry();
  readonly httpRequests: client.Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: client.Histogram<'route' | 'method'>;
  readonly #poolSources: Array<() => PoolStats> = [];

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: eventLoopSamplingMs });
    // prom-client names three gauges `_total`, which `promtool check metrics` rejects (only
    // counters end in _total); its nodejs_active_handles, _requests and _resources (by type)
    // carry the same numbers.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
    this.httpRequests = new client.Counter({
      name: 'certfleet_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    });
    this.httpDuration = new client.Histogram({
      name: 'certfleet_http_request_duration_seconds',
      help: 'Time from request arrival to the response being written',
      labelNames: ['route', 'method'],
      buckets: latencyBucketsSeconds,
      registers: [this.registry],
    });
    const sources = this.#poolSources;
    new client.Gauge({
      name: 'certfleet_db_pool_connections',
      help: 'Database pool connections by state (in_use, idle, waiting = queued requests)',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        let total = 0;
        let idle = 0;
        let waiting = 0;
        for (const source of sources) {
          const s = source();
          total += s.totalCount;
          idle += s.idleCount;
          waiting += s.waitingCount;
        }
        this.set({ state: 'in_use' }, total - idle);
        this.set({ state: 'idle' }, idle);
        this.set({ state: 'waiting' }, waiting);
      },
    });
  }

  watchPool(source: () => PoolStats): void {
    this.#poolSources.push(source);
  }

  /**
   * Per-loop metrics, read at scrape time: runs, failures, skips (triggers that arrived while a
   * tick ran: scheduled ticks never overlap, the next is timed from the end of the last), last
   * tick duration, running.
   */
  watchLoops(loops: () => readonly LoopStats[]): void {
    const perLoop = (name: string, help: string, read: (l: LoopStats) => number) =>
      this.labelledGauge(name, help, ['loop'], () => loops().map((loop) => ({ labels: { loop: loop.name }, value: read(loop) })));
    const perLoopCount = (name: string, help: string, read: (l: LoopStats) => number) =>
      new client.Counter({
        name,
        help,
        labelNames: ['loop'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const loop of loops()) this.inc({ loop: loop.name }, read(loop));
        },
      });
    perLoopCount('certfleet_loop_runs_total', 'Scheduler loop ticks that finished', (l) => l.runs);
    perLoopCount('certfleet_loop_failures_total', 'Scheduler loop ticks that failed', (l) => l.failures);
    perLoopCount('certfleet_loop_skips_total', 'Run-now triggers dropped because a tick was running', (l) => l.skips);
    perLoop('certfleet_loop_last_duration_seconds', 'Duration of the last finished tick', (l) => l.lastDurationMs / 1000);
    perLoop('certfleet_loop_running', 'Whether a tick is running now (singleton loops: leader only)', (l) => (l.running ? 1 : 0));
  }

  /** A gauge whose value is read at scrape time. Gauges never end in `_total`. */
  gauge(name: string, help: string, read: () => number): void {
    if (name.endsWith('_total')) throw new Error(`gauge ${name}: only counters end in _total`);
    new client.Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** A labelled gauge whose samples are read at scrape time (all of them replaced each time). */
  labelledGauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Array<{ labels: Record<L, string>; value: number }>): void {
    if (name.endsWith('_total')) throw new Error(`gauge ${name}: only counters end in _total`);
    new client.Gauge<L>({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const sample of read()) this.set(sample.labels as Partial<Record<L, string | number>>, sample.value);
      },
    });
  }

  /**
   * A counter read at scrape time from a count the process keeps (it only grows while the
   * process lives; Prometheus handles the reset at a restart). Its name ends in `_total`.
   */
  counter(name: string, help: string, read: () => number): void {
    if (!name.endsWith('_total')) throw new Error(`counter ${name}: counters end in _total`);
    new client.Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  /** An `_info` gauge fixed at 1 carrying labels (build version, HTTP engine). */
  info(name: string, help: string, labels: Record<string, string>): void {
    const gauge = new client.Gauge({ name, help, labelNames: Object.keys(labels), registers: [this.registry] });
    gauge.set(labels, 1);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
