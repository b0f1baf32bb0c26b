/**
 * The job processor: server-side work (Signing jobs: CSRs an external CA signs) with at most
 * `concurrency` jobs in flight on this replica (CERTFLEET_RENEWAL_CONCURRENCY, default 25, as
 * certctl: a CA's rate limits, not our CPU, are the bound). Runs on every replica, not only the
 * leader: claims use SKIP LOCKED, so replicas share the queue and never take the same job.
 *
 * Each tick renews the leases of the jobs in flight, then claims only as many jobs as there are
 * free slots: a job is never claimed and left waiting (certctl claimed 1,000 per tick and
 * stranded the ones its semaphore had not reached when the tick's deadline passed). Jobs run
 * beyond the tick (an order may take minutes); stop() aborts them and hands them back to the
 * queue at once. Failures retry with backoff until max_attempts (src/db/signing-jobs.ts).
 */
import type { SigningJob, SigningJobRepository } from '../db/signing-jobs.ts';
import type { Logger } from '../observability/logger.ts';
import { Loop } from './loop.ts';

export interface JobProcessorOptions {
  jobs: Pick<SigningJobRepository, 'claim' | 'renew' | 'fail' | 'release'>;
  run: (job: SigningJob, signal: AbortSignal) => Promise<void>;
  concurrency: number;
  intervalMs: number;
  /** Base of the retry backoff, seconds (x2 per attempt, at most 1 h); default 30. */
  backoffSeconds?: number;
  log: Logger;
}

export class JobProcessor {
  readonly #o: JobProcessorOptions;
  readonly #inflight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  readonly loop: Loop;
  #stopping = false;
  /** Most jobs in flight at once since start (tests and /metrics read it). */
  peakInFlight = 0;
  completed = 0;
  failed = 0;

  constructor(options: JobProcessorOptions) {
    if (!(options.concurrency >= 1)) throw new Error('job processor: concurrency must be at least 1');
    this.#o = options;
    this.loop = new Loop({ name: 'job-processor', intervalMs: options.intervalMs, log: options.log, run: () => this.tick() });
  }

  get inFlight(): number {
    return this.#inflight.size;
  }

  start(): void {
    this.loop.start();
  }

  /** Renew leases, then fill the free slots. */
  async tick(): Promise<void> {
    await this.#o.jobs.renew([...this.#inflight.keys()]);
    const free = this.#o.concurrency - this.#inflight.size;
    if (free <= 0) return;
    for (const job of await this.#o.jobs.claim(free)) this.#launch(job);
  }

  #launch(job: SigningJob): void {
    const controller = new AbortController();
    const done = this.#o
      .run(job, controller.signal)
      .then(
        () => {
          this.completed++;
        },
        async (err: unknown) => {
          if (controller.signal.aborted) return; // stop(): released, not failed
          this.failed++;
          const message = err instanceof Error ? err.message : String(err);
          const outcome = await this.#o.jobs.fail(job.id, message, this.#o.backoffSeconds ?? 30);
          this.#o.log.warn({ jobId: job.id, certificateId: job.certificate_id, attempt: job.attempts, outcome, err: message }, 'signing job failed');
        },
      )
      .catch((err: unknown) => this.#o.log.error({ err, jobId: job.id }, 'could not record a signing job failure'))
      .finally(() => {
        this.#inflight.delete(job.id);
        // A slot is free: fill it now rather than at the next tick.
        if (!this.#stopping) this.loop.trigger();
      });
    this.#inflight.set(job.id, { controller, done });
    this.peakInFlight = Math.max(this.peakInFlight, this.#inflight.size);
  }

  /** Stops claiming, aborts the jobs in flight and hands them back to the queue. */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    await this.loop.stop(timeoutMs);
    const running = [...this.#inflight.entries()];
    for (const [, job] of running) job.controller.abort(new Error('the server is shutting down'));
    await this.#o.jobs.release(running.map(([id]) => id));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(running.map(([, job]) => job.done)), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}
