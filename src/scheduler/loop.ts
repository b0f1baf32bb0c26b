/**
 * A periodic loop: jittered interval, never overlapping itself (the next tick is scheduled when
 * the previous one ends, and a trigger() while one runs is skipped), a per-tick time budget
 * through an AbortSignal, errors logged and the loop kept alive, and a stop() that waits for the
 * running tick up to a bound.
 * Time and randomness are injected so tests can pin them.
 */
import { detached } from '../async-context.ts';
import type { Logger } from '../observability/logger.ts';

export interface LoopOptions {
  name: string;
  /** Mean interval between the end of one tick and the start of the next; > 0. */
  intervalMs: number;
  /** Relative jitter in [0, 0.5]: each wait is intervalMs * (1 ± jitter). Default 0.1. */
  jitter?: number;
  /** Abort a tick after this long (its signal fires); default the interval. */
  budgetMs?: number;
  /** One tick. A number it resolves to replaces the next wait (ms, not jittered): a tick that knows when it should run next. */
  run: (signal: AbortSignal) => Promise<void | number>;
  log: Logger;
  /** Uniform [0, 1); default Math.random. */
  random?: () => number;
  /** First tick after a random delay in [0, intervalMs) instead of one interval: a fleet started together spreads out. */
  randomStart?: boolean;
  /** With randomStart: draw the first delay from [0, randomStartMs) instead (e.g. a 6 h loop that should first run soon). */
  randomStartMs?: number;
  /** After consecutive failures wait interval * 2^failures (jittered), at most this long; default: no backoff. */
  maxBackoffMs?: number;
}

export class Loop {
  readonly #o: Required<Omit<LoopOptions, 'random' | 'randomStart' | 'randomStartMs' | 'maxBackoffMs'>> & {
    random: () => number;
    randomStart: boolean;
    randomStartMs: number;
    maxBackoffMs: number;
  };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #firstTick = true;
  /** The wait the last tick asked for, used once. */
  #askedDelay: number | undefined;
  /** Failures in a row (reset by a success); drives the backoff. */
  #streak = 0;
  runs = 0;
  failures = 0;
  /** Triggers dropped because a tick was running. */
  skips = 0;
  /** Duration of the last finished tick, ms (for /metrics). */
  lastDurationMs = 0;

  constructor(options: LoopOptions) {
    if (!(options.intervalMs > 0)) throw new Error(`loop ${options.name}: intervalMs must be > 0`);
    const jitter = options.jitter ?? 0.1;
    if (!(jitter >= 0 && jitter <= 0.5)) throw new Error(`loop ${options.name}: jitter must be in [0, 0.5]`);
    this.#o = { jitter, budgetMs: options.intervalMs, random: Math.random, randomStart: false, randomStartMs: options.intervalMs, maxBackoffMs: 0, ...options };
    // A trigger() from a request inside a unit of work must not run the tick in its transaction.
    this.#runNow = detached(this.#runNow.bind(this));
  }

  /**
   * The next wait: intervalMs (times 2^failures-in-a-row, capped by maxBackoffMs, when backing
   * off) scaled by a factor drawn uniformly from [1 - jitter, 1 + jitter).
   */
  nextDelay(): number {
    let base = this.#o.intervalMs;
    if (this.#streak > 0 && this.#o.maxBackoffMs > 0) base = Math.min(this.#o.maxBackoffMs, base * 2 ** this.#streak);
    return base * (1 + this.#o.jitter * (2 * this.#o.random() - 1));
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const first = this.#firstTick;
    this.#firstTick = false;
    const asked = this.#askedDelay;
    this.#askedDelay = undefined;
    const delay = first && this.#o.randomStart ? this.#o.random() * this.#o.randomStartMs : (asked ?? this.nextDelay());
    this.#timer = setTimeout(() => this.#runNow(), delay);
    this.#timer.unref();
  }

  #runNow = (): void => {
    this.#running = this.#tick().finally(() => {
      this.#running = undefined;
      this.#schedule();
    });
  };

  /**
   * Runs a tick now (an operator's "run now", a revocation wanting a fresh CRL) and restarts the
   * interval after it. Skip-if-running: while a tick runs, the request is counted in `skips` and
   * dropped, never queued. False when stopped or skipped.
   */
  trigger(): boolean {
    if (this.#stopped) return false;
    if (this.#running) {
      this.skips += 1;
      return false;
    }
    clearTimeout(this.#timer);
    this.#firstTick = false;
    this.#runNow();
    return true;
  }

  get name(): string {
    return this.#o.name;
  }

  /** A tick is running now. */
  get running(): boolean {
    return this.#running !== undefined;
  }

  async #tick(): Promise<void> {
    const started = performance.now();
    const controller = new AbortController();
    const budget = setTimeout(() => controller.abort(new Error(`loop ${this.#o.name} exceeded its ${this.#o.budgetMs} ms budget`)), this.#o.budgetMs);
    try {
      const next = await this.#o.run(controller.signal);
      if (typeof next === 'number' && next >= 0) this.#askedDelay = next;
      this.runs += 1;
      this.#streak = 0;
    } catch (err) {
      this.failures += 1;
      this.#streak += 1;
      this.#o.log.error({ err, loop: this.#o.name }, 'loop tick failed');
    } finally {
      clearTimeout(budget);
      this.lastDurationMs = performance.now() - started;
    }
  }

  /** Stops scheduling and waits for a running tick, at most `timeoutMs`. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#running, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
  }
}
