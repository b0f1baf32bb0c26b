/**
 * Shape of a benchmark file: `bench/<area>/<scenario>.bench.ts` default-exports a `BenchFile`.
 * Cases in one file run side by side in one suite, so their ratios are comparable.
 */
export interface BenchCase {
  name: string;
  /** Synchronous body; for async work, `defer: true` and call `done()`. */
  fn: (done: () => void) => void;
  defer?: boolean;
}

export interface BenchFile {
  /** What is measured and why it matters (printed above the results). */
  title: string;
  /** Optional setup before the suite (start a server, build inputs). */
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  cases: () => BenchCase[];
}
