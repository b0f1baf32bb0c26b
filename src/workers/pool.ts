/**
 * The worker pool (piscina) for CPU-heavy work. The facade exposes run() and read-only stats.
 * The queue is bounded: when every worker is busy and `maxQueue` tasks wait, run() fails with a
 * 503 (Retry-After: 1) instead of letting memory and latency grow without bound.
 */
import { Piscina } from 'piscina';
import { Errors } from '../errors.ts';
import { WORKER_LOADED, loadedThreadId } from './worker-loaded.ts';
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

/** How long close() waits for threads still loading or running tasks before terminating them. */
const closeWaitMs = 10_000;

/**
 * The module each worker thread loads: from sources, a plain-JS entry that registers tsx in the
 * worker (loader hooks registered on the main thread do not reach workers); from the release
 * build (dist/), the compiled tasks themselves.
 */
const workerEntry = import.meta.url.endsWith('.ts') ? new URL('./worker-entry.mjs', import.meta.url) : new URL('./worker.js', import.meta.url);

export class WorkerPool {
  readonly #piscina: Piscina;
  readonly #maxQueue: number;
  /** Thread ids whose task module has finished loading, and tasks handed over. */
  readonly #loaded = new Set<number>();
  #inFlight = 0;
  #closing = false;
  /** Resolved by #checkSettled() once nothing is loading or running (close() waits on it). */
  #onSettled: (() => void) | undefined;
  /** Completed tasks and their summed run time, for metrics. */
  completed = 0;
  totalTaskMs = 0;

  constructor(options: WorkerPoolOptions) {
    this.#maxQueue = options.maxQueue;
    this.#piscina = new Piscina({
      filename: workerEntry.href,
      minThreads: options.threads,
      maxThreads: options.threads,
      workerData: { [WORKER_LOADED]: true },
      // The limit is enforced in run(), before the task is handed over, as a 503 kind: piscina's
      // own rejection carries no code to tell it from a task's failure.
    });
    this.#piscina.on('message', (message: unknown) => {
      const threadId = loadedThreadId(message);
      if (threadId !== undefined) {
        this.#loaded.add(threadId);
        this.#checkSettled();
      }
    });
  }

  async run<K extends keyof Tasks>(name: K, input: Tasks[K]['input']): Promise<Tasks[K]['result']> {
    if (this.#closing) throw Errors.unavailable('the server is shutting down', 1);
    if (this.#piscina.queueSize >= this.#maxQueue) {
      throw Errors.unavailable('the worker queue is full; retry shortly', 1);
    }
    const started = performance.now();
    this.#inFlight += 1;
    try {
      return (await this.#piscina.run(input, { name })) as Tasks[K]['result'];
    } finally {
      this.#inFlight -= 1;
      this.completed += 1;
      this.totalTaskMs += performance.now() - started;
      this.#checkSettled();
    }
  }

  get queueSize(): number {
    return this.#piscina.queueSize;
  }

  get utilization(): number {
    return this.#piscina.utilization;
  }

  /** Threads whose task module has finished loading. */
  get loadedThreads(): number {
    return this.#loaded.size;
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  /**
   * Refuses new tasks, waits (bounded) until every thread has loaded its task module and no task
   * runs, then terminates the threads. Terminating a thread while it loads modules aborts the
   * whole process on Node 20-24 (a V8 fatal error in require(esm)'s IsGraphAsync), and a thread
   * meeting a task name for the first time loads the module again, so "idle" is the only safe
   * moment.
   */
  async close(): Promise<void> {
    this.#closing = true;
    if (!this.#settled()) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#onSettled = resolve;
        timer = setTimeout(resolve, closeWaitMs);
      });
      clearTimeout(timer);
    }
    await this.#piscina.destroy();
  }

  #settled(): boolean {
    return this.#inFlight === 0 && this.#piscina.threads.every((thread) => this.#loaded.has(thread.threadId));
  }

  #checkSettled(): void {
    if (this.#onSettled && this.#settled()) {
      this.#onSettled();
      this.#onSettled = undefined;
    }
  }
}
