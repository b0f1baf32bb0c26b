/**
 * Caps how many of one kind of long-running request (an audit export holding a database cursor)
 * run at once, in total and per caller, so one key cannot take every slot. Over the cap is a 429
 * with Retry-After: the caller retries later instead of queueing behind slow readers.
 */
import { Errors } from '../errors.ts';

export interface ConcurrencyGateOptions {
  /** What is limited, for the 429 message: "audit exports". */
  what: string;
  total: number;
  perKey: number;
  retryAfterSeconds: number;
}

export class ConcurrencyGate {
  readonly #o: ConcurrencyGateOptions;
  readonly #byKey = new Map<string, number>();
  #running = 0;

  constructor(options: ConcurrencyGateOptions) {
    this.#o = options;
  }

  get running(): number {
    return this.#running;
  }

  /** Takes a slot for `key`; the returned function gives it back (call it exactly once). */
  enter(key: string): () => void {
    const mine = this.#byKey.get(key) ?? 0;
    if (mine >= this.#o.perKey) {
      throw Errors.rateLimited(`at most ${this.#o.perKey} ${this.#o.what} may run at once per API key; retry when one ends`, this.#o.retryAfterSeconds);
    }
    if (this.#running >= this.#o.total) {
      throw Errors.rateLimited(`at most ${this.#o.total} ${this.#o.what} may run at once on this server; retry shortly`, this.#o.retryAfterSeconds);
    }
    this.#running += 1;
    this.#byKey.set(key, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running -= 1;
      const left = (this.#byKey.get(key) ?? 1) - 1;
      if (left === 0) this.#byKey.delete(key);
      else this.#byKey.set(key, left);
    };
  }
}
