/**
 * Group commit for heartbeats. A heartbeat is acknowledged only after the batch holding it has
 * committed, so an acknowledged heartbeat is never lost. Heartbeats gather for at most
 * `flushMs` (or until `batchMax` agents are waiting), are merged per agent (count + newest
 * metadata), and are written by one set-based statement, so the number of transactions tracks
 * batches, not requests (one UPDATE per heartbeat tops out near 5k rows/s here, unnest batches
 * at 60-100k: DESIGN.md).
 *
 * Lanes: agents are split into `lanes` groups by a hash of their id, each with its own batch in
 * flight. A heartbeat then never waits for another lane's commit (its fsync), and batches in
 * flight at once never share an agent row, so they cannot block or deadlock each other. One lane
 * caps throughput at (in-flight requests / commit latency): measured in docs/operator/scale.md.
 */
import type { AgentRepository, HeartbeatOutcome } from '../../db/agents.ts';
import type { AgentMetadata } from '../../domain/agents.ts';
import { isDeadlock } from '../../db/pool.ts';
import { detached } from '../../async-context.ts';
import type { AuditWriter } from '../audit/writer.ts';

interface Waiting {
  count: number;
  metadata: AgentMetadata | undefined;
  waiters: Array<{ resolve: (live: boolean) => void; reject: (err: unknown) => void }>;
}

interface Lane {
  pending: Map<string, Waiting>;
  timer: NodeJS.Timeout | undefined;
  inFlight: Promise<void> | undefined;
}

export interface HeartbeatBatcherOptions {
  repo: Pick<AgentRepository, 'writeHeartbeats'>;
  flushMs: number;
  batchMax: number;
  /** Batches that may be in flight at once (agents are partitioned among them); default 1. */
  lanes?: number;
  /**
   * Transitions (Online again, metadata changed) are audited by the batch statement itself, in
   * the same commit; the batcher then has them chained.
   */
  audit?: Pick<AuditWriter, 'chain'>;
}

/** FNV-1a over the id's UTF-16 code units: cheap, and spreads sequential ids evenly. */
function laneOf(agentId: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < agentId.length; i++) h = Math.imul(h ^ agentId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
}

/** Retries of a batch that lost a deadlock (possible only against another replica's batch). */
const deadlockRetries = 3;

export class HeartbeatBatcher {
  readonly #o: HeartbeatBatcherOptions;
  readonly #lanes: Lane[];
  batches = 0;
  heartbeats = 0;
  /** Agents of batches whose liveness row another replica's batch held (migrations/0022). */
  deferred = 0;

  constructor(options: HeartbeatBatcherOptions) {
    this.#o = options;
    this.#lanes = Array.from({ length: Math.max(1, options.lanes ?? 1) }, () => ({ pending: new Map(), timer: undefined, inFlight: undefined }));
    // Batches start from request contexts: never inside a caller's unit of work.
    this.#flushSoon = detached(this.#flushSoon.bind(this));
  }

  /** Resolves true once recorded, false when the agent is retired or unknown. */
  beat(agentId: string, metadata: AgentMetadata | undefined): Promise<boolean> {
    const lane = this.#lanes.length === 1 ? this.#lanes[0]! : this.#lanes[laneOf(agentId, this.#lanes.length)]!;
    return new Promise((resolve, reject) => {
      let entry = lane.pending.get(agentId);
      if (!entry) {
        entry = { count: 0, metadata: undefined, waiters: [] };
        lane.pending.set(agentId, entry);
      }
      entry.count += 1;
      if (metadata) entry.metadata = metadata;
      entry.waiters.push({ resolve, reject });
      this.#flushSoon(lane, lane.pending.size >= this.#o.batchMax ? 0 : this.#o.flushMs);
    });
  }

  #flushSoon = (lane: Lane, delayMs: number): void => {
    if (lane.inFlight) return; // the running batch flushes again when it is done
    if (delayMs === 0) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.inFlight = this.#drain(lane);
      return;
    }
    lane.timer ??= setTimeout(() => {
      lane.timer = undefined;
      lane.inFlight = this.#drain(lane);
    }, delayMs);
  };

  async #drain(lane: Lane): Promise<void> {
    while (lane.pending.size > 0) {
      const batch = lane.pending;
      lane.pending = new Map();
      const entries = [...batch].map(([agentId, w]) => ({ agentId, count: w.count, metadata: w.metadata }));
      try {
        const outcome = await this.#write(entries);
        this.batches += 1;
        this.deferred += outcome.deferred;
        for (const [agentId, w] of batch) {
          const live = outcome.recorded.has(agentId);
          if (live) this.heartbeats += w.count;
          for (const waiter of w.waiters) waiter.resolve(live);
        }
        if (outcome.cameOnline.length > 0 || outcome.metadataChanged.length > 0) void this.#o.audit?.chain();
      } catch (err) {
        for (const w of batch.values()) for (const waiter of w.waiters) waiter.reject(err);
      }
    }
    lane.inFlight = undefined;
  }

  async #write(entries: Parameters<HeartbeatBatcherOptions['repo']['writeHeartbeats']>[0]): Promise<HeartbeatOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#o.repo.writeHeartbeats(entries);
      } catch (err) {
        // The statement is atomic: a deadlock victim wrote nothing, so writing it again is safe.
        if (!isDeadlock(err) || attempt >= deadlockRetries) throw err;
      }
    }
  }

  /** Writes whatever is waiting (shutdown). */
  async flush(): Promise<void> {
    await Promise.all(
      this.#lanes.map(async (lane) => {
        clearTimeout(lane.timer);
        lane.timer = undefined;
        if (!lane.inFlight && lane.pending.size > 0) lane.inFlight = this.#drain(lane);
        while (lane.inFlight) await lane.inFlight;
      }),
    );
  }
}
