/**
 * Each worker thread says once that its task module has finished loading, so the pool knows when
 * terminating it is safe (see WorkerPool.close). Kept apart from pool.ts so the worker's import
 * graph does not pull in piscina's main-thread side.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';

/** The workerData key that asks a thread to announce itself, and the message it posts. */
export const WORKER_LOADED = 'certfleetWorkerLoaded';

/** The announcing thread's id, or undefined when the message is something else. */
export function loadedThreadId(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null || !(WORKER_LOADED in message)) return undefined;
  const value = (message as Record<string, unknown>)[WORKER_LOADED];
  return typeof value === 'number' ? value : undefined;
}

/**
 * Posts the announcement; a no-op outside a pool thread that asked for it. Synchronous on
 * purpose: an idle piscina thread blocks in Atomics.wait, so a deferred post would wait for the
 * first task. Called at the end of the task module's evaluation, which comes after require()'s
 * graph check, the step that cannot survive termination.
 */
export function announceWorkerLoaded(): void {
  const wanted = typeof workerData === 'object' && workerData !== null && WORKER_LOADED in workerData;
  if (parentPort && wanted) parentPort.postMessage({ [WORKER_LOADED]: threadId });
}
