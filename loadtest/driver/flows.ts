/**
 * The flow executor: scenarios whose iteration is several dependent requests (a later request
 * uses an earlier response, e.g. a job id). Flow k starts at t0 + k / rate (open loop) with at
 * most `concurrency` flows in flight; a flow's latency runs from its scheduled start to its last
 * response, so waiting for a free slot counts. Requests go through fetch (undici, keep-alive):
 * flows run at hundreds per second, where its cost does not matter.
 *
 * The result has the engine's shape (one "request" = one flow), plus every step's status.
 */
import { lagMonitor, type EngineResult } from './engine.ts';
import type { ScenarioContext, ScenarioFlow } from './scenario.ts';

export interface FlowOptions {
  /** One per replica: flow k runs against baseUrls[k % n] from its first step to its last. */
  baseUrls: readonly string[];
  flow: ScenarioFlow;
  ctx: ScenarioContext;
  rate: number;
  concurrency: number;
  durationMs: number;
  /** First flow number (a measured run continues the warm-up's numbers). */
  offset: number;
  graceMs?: number;
  onTick?: (p: { elapsedMs: number; scheduled: number; completed: number; errors: number }) => void;
}

export async function runFlows(options: FlowOptions): Promise<EngineResult & { requests: number }> {
  const total = Math.floor((options.rate * options.durationMs) / 1000);
  const latencies = new Float64Array(total);
  const completedAt = new Float64Array(total);
  const targetOf = new Uint8Array(total);
  const statuses = new Map<number, number>();
  const failures = new Map<string, number>();
  let completed = 0;
  let failed = 0;
  let unexpected = 0;
  let requests = 0;
  let scheduled = 0;
  let inFlight = 0;
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const interval = 1000 / options.rate;

  async function one(k: number, due: number): Promise<void> {
    const state = options.flow.begin(k + options.offset, options.ctx);
    const target = k % options.baseUrls.length;
    const baseUrl = options.baseUrls[target]!;
    const pollMs = options.flow.pollMs ?? 10;
    const maxPolls = options.flow.maxPolls ?? 100;
    const steps = options.flow.steps;
    for (let i = 0, polls = 0; i < steps.length;) {
      const req = steps[i]!(state, options.ctx);
      if (req === null) {
        i++;
        continue;
      }
      let status: number;
      let body: unknown;
      let headers: Record<string, string> = {};
      try {
        const res = await fetch(`${baseUrl}${req.path}`, { method: req.method, headers: req.headers ?? {}, ...(req.body ? { body: req.body } : {}) });
        requests++;
        status = res.status;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (req.then) {
          headers = Object.fromEntries(res.headers);
          body = res.ok && headers['content-type']?.includes('json') ? await res.json() : await res.text();
        } else body = await res.arrayBuffer();
      } catch (err) {
        failed++;
        const kind = `step ${i + 1}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
        failures.set(kind, (failures.get(kind) ?? 0) + 1);
        return;
      }
      if (status !== (req.expect ?? 200)) {
        unexpected++;
        return;
      }
      let next: void | 'again';
      try {
        next = req.then?.(state, body, headers);
        if (next === 'again' && ++polls > maxPolls) throw new Error(`still polling after ${maxPolls} polls`);
      } catch (err) {
        failed++;
        const kind = `step ${i + 1}: ${(err as Error).message}`;
        failures.set(kind, (failures.get(kind) ?? 0) + 1);
        return;
      }
      if (next === 'again') {
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        continue;
      }
      i++;
      polls = 0;
    }
    latencies[completed] = now() - due;
    completedAt[completed] = now();
    targetOf[completed] = target;
    completed++;
  }

  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const dispatch = () => {
    const t = now();
    while (inFlight < options.concurrency && scheduled < total && scheduled * interval <= t) {
      const due = scheduled * interval;
      inFlight++;
      void one(scheduled++, due).finally(() => {
        inFlight--;
        dispatch();
        if (scheduled === total && inFlight === 0) finish();
      });
    }
  };
  const lag = lagMonitor();
  const pacer = setInterval(dispatch, 1);
  const ticker = setInterval(() => options.onTick?.({ elapsedMs: now(), scheduled, completed, errors: failed + unexpected }), 1000);
  const startedAt = Date.now();
  await Promise.race([finished, new Promise((r) => setTimeout(r, options.durationMs + (options.graceMs ?? 10_000)))]);
  clearInterval(pacer);
  clearInterval(ticker);
  if (inFlight > 0) failures.set('timeout', (failures.get('timeout') ?? 0) + inFlight);
  return {
    startedAt,
    dropped: total - scheduled,
    elapsedMs: now(),
    scheduled,
    latencies: latencies.subarray(0, completed),
    completedAt: completedAt.subarray(0, completed),
    targetOf: targetOf.subarray(0, completed),
    completed,
    statuses,
    unexpected,
    failures,
    generatorLagMs: lag(),
    requests,
  };
}
