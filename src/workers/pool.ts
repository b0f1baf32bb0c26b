/**
 * The worker pool (piscina) for CPU-heavy work. The facade exposes run() and read-only stats.
 * The queue is bounded: when every worker is busy and `maxQueue` tasks wait, run() fails with a
 * 503 (Retry-After: 1) instead of letting memory and latency grow without bound.
 */
import { Piscina } from 'piscina';
import { Errors } from '../errors.ts';
import type { BuildCrlTask } from './build-crl.task.ts';
import type { IssueCertificateResult, IssueCertificateTask } from './issue-certificate.task.ts';
import type { ReadCertificatesResult } from './read-certificates.task.ts';
import type { VerifyCsrResult, VerifyCsrTask } from './verify-csr.task.ts';
import type { VerifyJwsResult, VerifyJwsTask } from './verify-jws.task.ts';

/** Every task: its name (the worker's export) with its input and result types. */
export interface Tasks {
  issueCertificate: { input: IssueCertificateTask; result: IssueCertificateResult };
  buildCrl: { input: BuildCrlTask; result: Uint8Array };
  readCertificates: { input: string[]; result: ReadCertificatesResult };
  verifyCsr: { input: VerifyCsrTask; result: VerifyCsrResult };
  verifyJws: { input: VerifyJwsTask; result: VerifyJwsResult };
}

export interface WorkerPoolOptions {
  threads: number;
  maxQueue: number;
}

/**
 * The module each worker thread loads: from sources, a plain-JS entry that registers tsx in the
 * worker (loader hooks registered on the main thread do not reach workers); from the release
 * build (dist/), the compiled tasks themselves.
 */
const workerEntry = import.meta.url.endsWith('.ts') ? new URL('./worker-entry.mjs', import.meta.url) : new URL('./worker.js', import.meta.url);

export class WorkerPool {
  readonly #piscina: Piscina;
  readonly #maxQueue: number;
  /** Completed tasks and their summed run time, for metrics. */
  completed = 0;
  totalTaskMs = 0;

  constructor(options: WorkerPoolOptions) {
    this.#maxQueue = options.maxQueue;
    this.#piscina = new Piscina({
      filename: workerEntry.href,
      minThreads: options.threads,
      maxThreads: options.threads,
      // The limit is enforced in run(), before the task is handed over, as a 503 kind: piscina's
      // own rejection carries no code to tell it from a task's failure.
    });
  }

  async run<K extends keyof Tasks>(name: K, input: Tasks[K]['input']): Promise<Tasks[K]['result']> {
    if (this.#piscina.queueSize >= this.#maxQueue) {
      throw Errors.unavailable('the worker queue is full; retry shortly', 1);
    }
    const started = performance.now();
    try {
      return (await this.#piscina.run(input, { name })) as Tasks[K]['result'];
    } finally {
      this.completed += 1;
      this.totalTaskMs += performance.now() - started;
    }
  }

  get queueSize(): number {
    return this.#piscina.queueSize;
  }

  get utilization(): number {
    return this.#piscina.utilization;
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  close(): Promise<void> {
    return this.#piscina.destroy();
  }
}
