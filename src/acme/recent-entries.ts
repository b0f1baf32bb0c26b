/**
 * What this replica just wrote and will be asked for next, by id: the chain a finalize issued
 * (for the download that follows) and the order a new-order created ready (for the finalize that
 * follows). Only values that cannot go stale in a way that matters are kept (see each use); the
 * map only bounds how many, dropping the oldest first. A miss reads the database.
 */
export class RecentEntries<V> {
  readonly #entries = new Map<string, V>();
  constructor(readonly maxEntries: number) {}

  /** Only once what `value` describes has committed. */
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
