/**
 * Group commit for heartbeats. A heartbeat is acknowledged only after the batch holding it has
 * committed, so an acknowledged heartbeat is never lost. Heartbeats gather for at most
 * `flushMs` (or until `batchMax` agents are waiting), are merged per agent (count + newest
 * metadata), and are written by two set-based statements. One batch is in flight at a time per
 * process; heartbeats arriving meanwhile form the next batch, so under load the number of
 * transactions tracks batches, not requests (one UPDATE per heartbeat tops out near 5k rows/s
 * here, unnest batches at 60-100k: DESIGN.md).
 */
import type { AgentMetadata, AgentRepository, HeartbeatOutcome } from '../../db/agents.ts';

interface Waiting {
  count: number;
  metadata: AgentMetadata | undefined;
  waiters: Array<{ resolve: (live: boolean) => void; reject: (err: unknown) => void }>;
}

export interface HeartbeatBatcherOptions {
  repo: Pick<AgentRepository, 'writeHeartbeats'>;
  flushMs: number;
  batchMax: number;
  /** Called after each committed batch (audit of transitions, metrics). */
  onBatch?: (outcome: HeartbeatOutcome, size: number) => void;
}

export class HeartbeatBatcher {
  readonly #o: HeartbeatBatcherOptions;
  #pending = new Map<string, Waiting>();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  batches = 0;
  heartbeats = 0;

  constructor(options: HeartbeatBatcherOptions) {
    this.#o = options;
  }

  /** Resolves true once recorded, false when the agent is retired or unknown. */
  beat(agentId: string, metadata: AgentMetadata | undefined): Promise<boolean> {
    return new Promise((resolve, reject) => {
      let entry = this.#pending.get(agentId);
      if (!entry) {
        entry = { count: 0, metadata: undefined, waiters: [] };
        this.#pending.set(agentId, entry);
      }
      entry.count += 1;
      if (metadata) entry.metadata = metadata;
      entry.waiters.push({ resolve, reject });
      if (this.#pending.size >= this.#o.batchMax) this.#flushSoon(0);
      else this.#flushSoon(this.#o.flushMs);
    });
  }

  #flushSoon(delayMs: number): void {
    if (this.#inFlight) return; // the running batch flushes again when it is done
    if (delayMs === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#inFlight = this.#drain();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#inFlight = this.#drain();
    }, delayMs);
  }

  async #drain(): Promise<void> {
    while (this.#pending.size > 0) {
      const batch = this.#pending;
      this.#pending = new Map();
      const entries = [...batch].map(([agentId, w]) => ({ agentId, count: w.count, metadata: w.metadata }));
      try {
        const outcome = await this.#o.repo.writeHeartbeats(entries);
        this.batches += 1;
        for (const [agentId, w] of batch) {
          const live = outcome.recorded.has(agentId);
          if (live) this.heartbeats += w.count;
          for (const waiter of w.waiters) waiter.resolve(live);
        }
        this.#o.onBatch?.(outcome, entries.length);
      } catch (err) {
        for (const w of batch.values()) for (const waiter of w.waiters) waiter.reject(err);
      }
    }
    this.#inFlight = undefined;
  }

  /** Writes whatever is waiting (shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#inFlight && this.#pending.size > 0) this.#inFlight = this.#drain();
    while (this.#inFlight) await this.#inFlight;
  }
}
