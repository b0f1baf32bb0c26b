/**
 * Challenge validations run in the background, never on a request (RFC 8555 7.5.1: the POST
 * answers at once with the challenge "processing"). At most `concurrency` run at a time on this
 * replica, at most `maxQueued` wait; beyond that a challenge POST is a 503 with Retry-After, so
 * a burst cannot grow memory without bound. Each validation has a deadline; close() aborts the
 * ones in flight (their challenges are failed by the ACME GC if the process goes away).
 */
import { detached } from '../async-context.ts';

export type ValidationJob = (signal: AbortSignal) => Promise<void>;

export class ValidationQueue {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #timeoutMs: number;
  readonly #waiting: ValidationJob[] = [];
  readonly #running = new Set<AbortController>();
  #closed = false;
  /** Validations finished (any outcome), for tests and metrics. */
  completed = 0;

  constructor(options: { concurrency: number; maxQueued: number; timeoutMs: number }) {
    this.#concurrency = options.concurrency;
    this.#maxQueued = options.maxQueued;
    this.#timeoutMs = options.timeoutMs;
  }

  get depth(): number {
    return this.#waiting.length + this.#running.size;
  }

  /** False when the queue is full or closed (the caller answers 503). */
  submit(job: ValidationJob): boolean {
    if (this.#closed || this.#waiting.length >= this.#maxQueued) return false;
    this.#waiting.push(job);
    this.#next();
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#waiting.length = 0;
    for (const controller of this.#running) controller.abort(new Error('server shutting down'));
  }

  readonly #next = detached((): void => {
    while (this.#running.size < this.#concurrency && this.#waiting.length > 0) {
      const job = this.#waiting.shift()!;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error('validation timed out')), this.#timeoutMs);
      this.#running.add(controller);
      void job(controller.signal)
        .catch(() => undefined) // jobs record their own outcome
        .finally(() => {
          clearTimeout(timer);
          this.#running.delete(controller);
          this.completed++;
          this.#next();
        });
    }
  });
}
