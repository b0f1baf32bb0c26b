/**
 * Polling an external CA that issues asynchronously (order placed, certificate ready later).
 *
 * `check` runs at once, then after waits that start at `initialWaitMs`, grow 3x per attempt up
 * to `maxBackoffMs`, each scaled by a jitter drawn from [1 - jitter, 1 + jitter) (default ±20%:
 * a fleet of pending orders does not poll a CA in lockstep) and clipped to the time left before
 * `maxWaitMs`. Defaults: 5 s, 5 min, 10 min: 5 s -> 15 s -> 45 s -> 2 min 15 s -> 5 min.
 * Result: `done` with the value, `failed` with the CA's reason, or `timeout` (with the last
 * pending detail). An aborted signal stops it between attempts.
 *
 * Max wait precedence: the issuer's `async_poll_max_wait_seconds`, then the process-wide
 * CERTFLEET_ASYNC_POLL_MAX_WAIT_SECONDS, then 10 minutes
 * (certctl documented this order but its connectors always used the constant, and documented
 * ±20% jitter but defaulted to none).
 */

export type PollCheck<T> = { state: 'pending'; detail?: string } | { state: 'done'; value: T } | { state: 'failed'; reason: string };

export type PollOutcome<T> =
  | { state: 'done'; value: T; attempts: number }
  | { state: 'failed'; reason: string; attempts: number }
  | { state: 'timeout'; detail: string | undefined; attempts: number };

export interface PollOptions {
  maxWaitMs?: number;
  initialWaitMs?: number;
  maxBackoffMs?: number;
  /** Relative jitter in [0, 0.5]; default 0.2. */
  jitter?: number;
  signal?: AbortSignal;
  /** Uniform [0, 1); injected for tests. */
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const defaultPollMaxWaitMs = 10 * 60_000;

/** The max wait for an issuer: its config, then the global setting, then 10 minutes. */
export function pollMaxWaitMs(issuerConfig: { async_poll_max_wait_seconds?: number } | undefined, globalSeconds: number | undefined): number {
  const seconds = issuerConfig?.async_poll_max_wait_seconds ?? globalSeconds;
  return seconds !== undefined ? seconds * 1000 : defaultPollMaxWaitMs;
}

const sleepFor = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

export async function pollUntilIssued<T>(check: (signal?: AbortSignal) => Promise<PollCheck<T>>, options: PollOptions = {}): Promise<PollOutcome<T>> {
  const maxWaitMs = options.maxWaitMs ?? defaultPollMaxWaitMs;
  const maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
  const jitter = options.jitter ?? 0.2;
  if (!(jitter >= 0 && jitter <= 0.5)) throw new Error('jitter must be in [0, 0.5]');
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const deadline = now() + maxWaitMs;
  let wait = options.initialWaitMs ?? 5_000;
  let detail: string | undefined;
  for (let attempts = 1; ; attempts++) {
    const result = await check(options.signal);
    if (result.state === 'done') return { state: 'done', value: result.value, attempts };
    if (result.state === 'failed') return { state: 'failed', reason: result.reason, attempts };
    detail = result.detail ?? detail;
    const left = deadline - now();
    if (left <= 0 || options.signal?.aborted) return { state: 'timeout', detail, attempts };
    await sleep(Math.min(left, wait * (1 + jitter * (2 * random() - 1))), options.signal);
    if (options.signal?.aborted) return { state: 'timeout', detail, attempts };
    wait = Math.min(maxBackoffMs, wait * 3);
  }
}
