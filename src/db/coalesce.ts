/**
 * Coalesced statements: calls that arrive while the previous statement for them is in flight go
 * together into the next one. One statement (one round trip, one autocommit and WAL flush)
 * serves many concurrent callers; a lone caller waits for nothing (its call runs at once), so
 * there is no timer and no latency added at low load. For small independent writes that need no
 * transaction of their own (spending ACME nonces): the set is one atomic statement.
 *
 * `many` returns one result per input, in order; if it throws, every caller of that batch gets
 * the error (each would have met the same database). Batches run detached: a caller inside a
 * unit of work never lends its transaction to other callers' inputs.
 */
import { detached } from '../async-context.ts';

export function coalesce<I, R>(many: (inputs: I[]) => Promise<R[]>, maxBatch = 512): (input: I) => Promise<R> {
  let queued: Array<{ input: I; resolve: (value: R) => void; reject: (err: unknown) => void }> = [];
  let running = false;

  const drain = detached(async (): Promise<void> => {
    running = true;
    while (queued.length > 0) {
      const batch = queued.slice(0, maxBatch);
      queued = queued.slice(batch.length);
      try {
        const results = await many(batch.map((b) => b.input));
        batch.forEach((b, i) => b.resolve(results[i]!));
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    running = false;
  });

  return (input) =>
    new Promise<R>((resolve, reject) => {
      queued.push({ input, resolve, reject });
      if (!running) void drain();
    });
}
