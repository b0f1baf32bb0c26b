/**
 * The processes the driver starts (certfleet replicas, Pebble, pebble-challtestsrv): waiting
 * until one serves, and stopping it.
 */
import type { ChildProcess } from 'node:child_process';

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/**
 * Resolves once `probe` says `child` serves (asked every 100 ms, each ask at most 1 s). Rejects
 * when the child exits first, or kills it and rejects after `timeoutMs`; both errors end with
 * `detail()` when given (its log tail, a hint).
 */
export async function untilServing(
  child: ChildProcess,
  o: { what: string; probe: () => Promise<boolean>; timeoutMs: number; detail?: () => string },
): Promise<void> {
  const suffix = () => (o.detail ? `: ${o.detail()}` : '');
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    if (exited(child)) throw new Error(`${o.what} exited with ${child.exitCode ?? child.signalCode}${suffix()}`);
    if (await o.probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${o.what} did not serve within ${o.timeoutMs / 1000} s${suffix()}`);
}

/** An HTTP(S) GET that answers 2xx within 1 s. */
export function answers(url: string): () => Promise<boolean> {
  return async () => (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
}

/** SIGTERM, then waits for the exit (at once when it has already exited). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await gone;
}
