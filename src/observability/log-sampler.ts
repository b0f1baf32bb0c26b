/**
 * Caps how many lines one kind of repeated event writes: the first `perWindow` in each window
 * are logged in full, the rest only counted, and the count is logged (one line) when the next
 * window opens or the sampler is flushed. A flood of 401s from random tokens wrote ~100 MB of
 * identical lines; /metrics counts every one of them anyway (certfleet_http_requests_total).
 */
import type { Logger } from './logger.ts';

export interface LogSamplerOptions {
  log: Logger;
  /** What is sampled, in the summary line: "unauthenticated requests". */
  what: string;
  perWindow?: number;
  windowMs?: number;
  now?: () => number;
}

export class LogSampler {
  readonly #o: Required<LogSamplerOptions>;
  #windowStart = -Infinity;
  #logged = 0;
  #suppressed = 0;

  constructor(options: LogSamplerOptions) {
    this.#o = { perWindow: 20, windowMs: 10_000, now: () => performance.now(), ...options };
  }

  /** True when this occurrence should be logged in full. */
  admit(): boolean {
    const now = this.#o.now();
    if (now - this.#windowStart >= this.#o.windowMs) {
      this.flush();
      this.#windowStart = now;
      this.#logged = 0;
    }
    if (this.#logged < this.#o.perWindow) {
      this.#logged += 1;
      return true;
    }
    this.#suppressed += 1;
    return false;
  }

  /** Logs how many occurrences were counted but not logged, if any. */
  flush(): void {
    if (this.#suppressed === 0) return;
    this.#o.log.warn({ suppressed: this.#suppressed, window_ms: this.#o.windowMs }, `${this.#o.what}: more lines suppressed`);
    this.#suppressed = 0;
  }
}
