/**
 * Work polls that wait. An agent's poll may ask to wait for work (`?wait=N`); when it finds none,
 * it registers here and sleeps until its agent's work is announced on the change feed
 * (`agent_work/<agent id>`, migrations/0025, from any replica), its wait runs out, its client goes
 * away, or the server shuts down. An idle agent then holds one request open instead of polling,
 * and work reaches it within a round trip of the commit that created it, not a poll interval later.
 *
 * Waiting needs the feed: while it is down nobody would be woken, so `canWait` is false and polls
 * answer at once (the agent falls back to its poll interval). When the feed reconnects, sleeping
 * polls are not woken: what was announced meanwhile is unknown, and waking every idle agent of a
 * replica at once would send them all to the database together; each finds it at its next poll,
 * within its wait, as it would have without waiting.
 *
 * Woken polls look again a few at a time (`admitted`): a bulk renewal wakes every agent it names
 * at once, and thousands of polls querying together wait past the pool's connection timeout
 * (measured: 2,215 of 5,000 answered 503 before this).
 */
import type { ChangeSubscriber } from '../../db/change-feed.ts';

export type WakeReason = 'work' | 'timeout' | 'aborted' | 'closing';

/** One registered wait; `until` sleeps on it, `cancel` drops it unslept. */
export interface WorkWatch {
  until(timeoutMs: number, signal?: AbortSignal): Promise<WakeReason>;
  cancel(): void;
}

/** A registered poll; `reason` is set once, when it is woken (and it is unregistered then). */
interface Sleeper {
  reason: WakeReason | undefined;
  wake: (reason: WakeReason) => void;
}

export class AgentWorkWakeups implements ChangeSubscriber {
  /** Agent id -> its sleeping (or about to sleep) polls; usually one. */
  readonly #sleepers = new Map<string, Set<Sleeper>>();
  readonly #feedUp: () => boolean;
  #closing = false;
  #waiting = 0;
  /** Polls woken by an announcement of their agent's work, for /metrics. */
  woken = 0;
  /** Polls whose wait ran out with nothing announced. */
  timedOut = 0;

  readonly #maxLooking: number;
  #looking = 0;
  readonly #queue: Array<() => void> = [];

  constructor(options: { feedUp: () => boolean; /** Woken polls querying at once; default 8. */ maxLooking?: number }) {
    this.#feedUp = options.feedUp;
    this.#maxLooking = options.maxLooking ?? 8;
  }

  /** Woken polls waiting for their turn to look again. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Runs a woken poll's second look when at most `maxLooking - 1` others are running theirs (first come, first served). */
  async admitted<T>(look: () => Promise<T>): Promise<T> {
    if (this.#looking < this.#maxLooking) this.#looking += 1;
    else await new Promise<void>((resolve) => this.#queue.push(resolve)); // the slot is handed over
    try {
      return await look();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#looking -= 1;
    }
  }

  /** Polls registered now (sleeping, or between their query and their sleep). */
  get waiting(): number {
    return this.#waiting;
  }

  /** Whether a poll may wait now: the feed is listening and the server is not shutting down. */
  get canWait(): boolean {
    return !this.#closing && this.#feedUp();
  }

  /**
   * Registers a wait for `agentId` before the poll's query runs, so an announcement that lands
   * between the query and the sleep is not lost: `until` then returns 'work' at once.
   */
  watch(agentId: string): WorkWatch {
    let settle: ((r: WakeReason) => void) | undefined;
    const sleeper: Sleeper = {
      reason: undefined,
      wake: (r) => {
        if (sleeper.reason) return;
        sleeper.reason = r;
        this.#remove(agentId, sleeper);
        settle?.(r);
      },
    };
    let set = this.#sleepers.get(agentId);
    if (!set) this.#sleepers.set(agentId, (set = new Set()));
    set.add(sleeper);
    this.#waiting += 1;
    return {
      until: (timeoutMs, signal) => {
        if (!sleeper.reason && this.#closing) sleeper.wake('closing');
        if (!sleeper.reason && signal?.aborted) sleeper.wake('aborted');
        if (sleeper.reason) return Promise.resolve(sleeper.reason);
        return new Promise<WakeReason>((done) => {
          const timer = setTimeout(() => {
            this.timedOut += 1;
            sleeper.wake('timeout');
          }, timeoutMs);
          const onAbort = () => sleeper.wake('aborted');
          signal?.addEventListener('abort', onAbort, { once: true });
          settle = (r) => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            done(r);
          };
        });
      },
      cancel: () => sleeper.wake('aborted'),
    };
  }

  #remove(agentId: string, sleeper: Sleeper): void {
    const set = this.#sleepers.get(agentId);
    if (!set?.delete(sleeper)) return;
    this.#waiting -= 1;
    if (set.size === 0) this.#sleepers.delete(agentId);
  }

  /** The feed announced `agent_work/<agentId>`: that agent's polls look again. */
  changed(agentId: string): void {
    const set = this.#sleepers.get(agentId);
    if (!set) return;
    for (const sleeper of [...set]) {
      this.woken += 1;
      sleeper.wake('work');
    }
  }

  /** The feed reconnected: sleeping polls keep sleeping (see the header). */
  reset(): void {}

  /** Shutdown: every poll answers now with what it has, and no poll waits from here on. */
  close(): void {
    this.#closing = true;
    for (const set of [...this.#sleepers.values()]) for (const sleeper of [...set]) sleeper.wake('closing');
  }
}
