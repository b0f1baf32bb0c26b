/**
 * Issuance through the piscina pool: 1 thread vs 2 threads, each op a batch of 64 concurrent
 * issuances (ops/s x 64 = issuances/s), plus one issuance at a time to expose the per-task
 * round trip (compare with the main-thread figure in issue-certificate.bench.ts).
 */
import { WorkerPool } from '../../src/workers/pool.ts';
import type { BenchFile } from '../harness.ts';
import { issueInput } from './fixtures.ts';

let one: WorkerPool;
let two: WorkerPool;
const batch = 64;

const runBatch = (pool: WorkerPool, done: () => void) =>
  void Promise.all(Array.from({ length: batch }, () => pool.run('issueCertificate', issueInput()))).then(done);

export default {
  title: `issuance through the worker pool (batches of ${batch} concurrent tasks)`,
  setup: async () => {
    one = new WorkerPool({ threads: 1, maxQueue: 10_000 });
    two = new WorkerPool({ threads: 2, maxQueue: 10_000 });
    // Warm up: workers start and JIT-compile the task.
    for (const pool of [one, two]) await Promise.all(Array.from({ length: 256 }, () => pool.run('issueCertificate', issueInput())));
  },
  teardown: async () => {
    await one.close();
    await two.close();
  },
  cases: () => [
    { name: `1 thread, batch of ${batch}`, defer: true, fn: (done) => runBatch(one, done) },
    { name: `2 threads, batch of ${batch}`, defer: true, fn: (done) => runBatch(two, done) },
    { name: '1 thread, one task at a time (round trip)', defer: true, fn: (done) => void one.run('issueCertificate', issueInput()).then(done) },
  ],
} satisfies BenchFile;
