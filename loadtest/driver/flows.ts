/**
 * The flow executor: scenarios whose iteration is several dependent requests (a later request
 * uses an earlier response, e.g. a job id). Flow k starts at t0 + k / rate (open loop) with at
 * most `concurrency` flows in flight; a flow's latency runs from its scheduled start to its last
 * response, so waiting for a free slot counts. Requests go through node:http(s) with keep-alive
 * agents, not fetch: fetch cost the driver 3.8 ms of CPU per ACME flow (four requests), a fifth
 * of two cores that the server it measures did not get (the report's cpu_share_driver).
 *
 * The result has the engine's shape (one "request" = one flow), plus every step's status.
 */
import http from 'node:http';
import https from 'node:https';
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

  const { send, close } = keepAliveClient(options.concurrency);

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
        const res = await send(`${baseUrl}${req.path}`, req.method, req.headers ?? {}, req.body ?? undefined);
        requests++;
        status = res.status;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (req.then) {
          headers = res.headers;
          const text = res.body.toString('utf8');
          body = status >= 200 && status < 300 && headers['content-type']?.includes('json') ? JSON.parse(text) : text;
        }
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
  close();
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

/** A response read whole: status, lower-case headers (repeated ones joined), body. */
interface Response {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Requests over keep-alive connections, up to `maxSockets` per origin, http or https (https
 * trusts what NODE_EXTRA_CA_CERTS adds, as fetch did).
 */
function keepAliveClient(maxSockets: number): {
  send: (url: string, method: string, headers: Record<string, string>, body: string | undefined) => Promise<Response>;
  close: () => void;
} {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets }),
  };
  const close = () => Object.values(agents).forEach((agent) => agent.destroy());
  const send = (url: string, method: string, headers: Record<string, string>, body: string | undefined) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const req = (secure ? https : http).request(target, { method, headers, agent: secure ? agents['https:'] : agents['http:'] }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  return { send, close };
}
