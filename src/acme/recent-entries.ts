/**
 * A map bounded to `maxEntries`, dropping the oldest entry first: for values a caller can always
 * get again (a miss reads the database or parses again), such as parsed account keys, the chain a
 * finalize issued (for the download that follows) and the order a new-order created ready (for
 * the finalize that follows). Only values that cannot go stale in a way that matters are kept
 * (see each use).
 */
export class RecentEntries<V> {
  readonly #entries = new Map<string, V>();
  constructor(readonly maxEntries: number) {}

  set(id: string, value: V): void {
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(id, value);
  }

  get(id: string): V | undefined {
    return this.#entries.get(id);
  }

  /** get, and forget it. */
  take(id: string): V | undefined {
    const value = this.#entries.get(id);
    if (value !== undefined) this.#entries.delete(id);
    return value;
  }

  get size(): number {
    return this.#entries.size;
  }
}
