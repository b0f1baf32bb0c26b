/**
 * Audit events that commit with the writes they describe.
 *
 * - `atomically(work)` runs `work` in one unit of work; the events `record` stages while it runs
 *   are inserted into the outbox in the same transaction. A write and its event commit together
 *   or not at all, and one request's bad event can only fail that request.
 * - `record` outside a unit of work stages the event on its own (events with no write to pair
 *   with: an export taken, a run requested).
 * - After the commit, the chainer moves outbox events into the hash chain, in batches, one pass
 *   at a time per process (the head row lock serialises replicas). The pass starts at once, or
 *   50 ms after the previous one under a stream of writes (one pass per commit was a quarter of
 *   an ACME flow's round trips), and the caller does not wait for it (two round trips and a WAL
 *   flush; waiting, when a pass took six, made a group of creates answer after 20 ms instead of 9,
 *   api_create 1,190 vs 1,670/s); readers catch up instead (`caughtUp`, AuditLog), so a client
 *   that reads the audit log after a write still sees its event, on any replica. A pass that fails (the database went away after the commit) is
 *   logged, not thrown: the events are durable in the outbox, and the next pass (on every replica, every few seconds:
 *   src/scheduler/audit-chain.ts) chains them.
 */
import type { AuditRepository, StagedAuditEvent } from '../../db/audit.ts';
import { detached } from '../../async-context.ts';
import type { RunOptions, UnitOfWork } from '../../db/unit-of-work.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Principal } from '../auth/permissions.ts';
import { newId } from '../../domain/ids.ts';
import type { AuditCategory, AuditEventInput } from '../../domain/audit.ts';
import { auditRowHash } from './chain.ts';

export interface AuditWriterOptions {
  repo: AuditRepository;
  uow: UnitOfWork;
  log: Logger;
  /** Largest batch chained in one transaction; default 500 events. */
  maxBatch?: number;
  /**
   * Passes started by commits start at most this often (default 50 ms): under a stream of writes a
   * pass chains what arrived meanwhile instead of one pass per commit. Readers (`caughtUp`) and
   * `flush` never wait for it.
   */
  minPassIntervalMs?: number;
  now?: () => Date;
}

export interface RecordedEvent {
  action: string;
  resourceType: string;
  resourceId: string;
  category: AuditCategory;
  details?: Record<string, unknown>;
}

export class AuditWriter {
  readonly #o: Required<Omit<AuditWriterOptions, 'now'>> & { now: () => Date };
  /** The pass running now, and the one queued behind it (it may have read before our commit). */
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  /** Passes committed and events chained, for /metrics and benchmarks. */
  batches = 0;
  events = 0;

  /** When the last pass started, and the commit-triggered pass waiting for its turn. */
  #lastStart = Number.NEGATIVE_INFINITY;
  #soon: NodeJS.Timeout | undefined;

  /** After a commit: start the pass that chains the new events, without waiting for it. */
  readonly #chainSoon = async () => {
    if (this.#soon) return; // that pass starts after this commit
    const wait = this.#lastStart + this.#o.minPassIntervalMs - performance.now();
    if (wait <= 0) void this.chain();
    else this.#soon = setTimeout(() => void this.chain(), wait);
  };

  constructor(options: AuditWriterOptions) {
    this.#o = { maxBatch: 500, minPassIntervalMs: 50, now: () => new Date(), ...options };
    // Chain passes start from request contexts; they must never join a request's transaction.
    this.chain = detached(this.chain.bind(this));
  }

  /** Runs `work` and commits it together with the events recorded while it runs, or neither. */
  atomically<T>(work: () => Promise<T>, options?: RunOptions): Promise<T> {
    return this.#o.uow.run(work, options);
  }

  /**
   * `atomically` with group commit (UnitOfWork.runGrouped): for small independent writes that
   * arrive together, e.g. certificate creates. `work` may run twice (its group failed because of
   * another work): it must do nothing outside the database.
   */
  atomicallyGrouped<T>(work: () => Promise<T>): Promise<T> {
    return this.#o.uow.runGrouped(work);
  }

  /**
   * Group commit for a write that runs as a set (UnitOfWork.batched): `many` handles every input
   * queued meanwhile in one unit, with the events it records; `one` each alone if that fails.
   */
  atomicallyBatched<I, R>(many: (inputs: I[]) => Promise<R[]>, one: (input: I) => Promise<R>, options?: RunOptions): (input: I) => Promise<R> {
    return this.#o.uow.batched(many, one, options);
  }

  /** Stages one event: in the caller's unit of work if there is one, else on its own. */
  append(input: AuditEventInput): Promise<void> {
    const now = this.#o.now();
    return this.#stage([{ ...input, id: newId('audit', now.getTime()), timestamp: now }]);
  }

  /** Stages several events in one statement (a set of writes, e.g. grouped ACME finalizes). */
  appendAll(inputs: readonly AuditEventInput[]): Promise<void> {
    if (inputs.length === 0) return Promise.resolve();
    const now = this.#o.now();
    return this.#stage(inputs.map((input) => ({ ...input, id: newId('audit', now.getTime()), timestamp: now })));
  }

  /** Records what `principal` did. The common shape of API-driven events. */
  record(principal: Principal | undefined, event: RecordedEvent): Promise<void> {
    return this.append(this.#input(principal, event));
  }

  /** Records events of several actors in one statement (a set of writes, e.g. grouped creates). */
  recordAll(entries: ReadonlyArray<{ principal: Principal | undefined; event: RecordedEvent }>): Promise<void> {
    return this.appendAll(entries.map(({ principal, event }) => this.#input(principal, event)));
  }

  /** Records several events of one actor in one statement (a set-based change, e.g. agents gone offline). */
  recordEach(principal: Principal | undefined, events: readonly RecordedEvent[]): Promise<void> {
    return this.recordAll(events.map((event) => ({ principal, event })));
  }

  #input(principal: Principal | undefined, event: RecordedEvent): AuditEventInput {
    return {
      actor: principal?.keyId ?? 'system',
      actorType: principal ? (principal.actorType ?? (principal.role === 'agent' ? 'Agent' : 'APIKey')) : 'System',
      action: event.action,
      resourceType: event.resourceType,
      resourceId: event.resourceId,
      category: event.category,
      details: principal ? { actor_name: principal.name, ...event.details } : { ...event.details },
    };
  }

  async #stage(events: StagedAuditEvent[]): Promise<void> {
    await this.#o.repo.stage(events);
    // In a unit of work: chain once it commits (the unit awaits it). Alone: chain now.
    await this.#o.uow.afterCommit(this.#chainSoon);
  }

  /**
   * Chains every event committed before this call. Resolves when done; a failure is logged and
   * swallowed (the events wait in the outbox for the next pass). `skipIfEmpty`: a cheap read
   * first spares taking the head lock when nothing waits.
   */
  chain(skipIfEmpty = false): Promise<void> {
    // The pass started or queued here covers every commit the waiting one was for.
    clearTimeout(this.#soon);
    this.#soon = undefined;
    if (this.#queued) return this.#queued;
    if (this.#running) {
      // The running pass may have read the outbox before the caller's commit: queue one more.
      this.#queued = this.#running.then(() => {
        this.#queued = undefined;
        return this.#start(skipIfEmpty);
      });
      return this.#queued;
    }
    return this.#start(skipIfEmpty);
  }

  /**
   * Resolves once every event committed before this call is in the chain (whichever replica
   * staged it): readers of the audit log call it first, so they see every acknowledged write.
   */
  caughtUp(): Promise<void> {
    return this.chain(true);
  }

  /** A pass for the periodic sweep: takes the head lock only when something waits. */
  sweep(): Promise<void> {
    return this.#running ?? this.#queued ?? this.#start(true);
  }

  /** Resolves when every event staged so far by this process has been chained (or failed to). */
  async flush(): Promise<void> {
    if (this.#soon) void this.chain();
    while (this.#running || this.#queued) await (this.#queued ?? this.#running);
  }

  #start(skipIfEmpty: boolean): Promise<void> {
    this.#lastStart = performance.now();
    const pass = (async () => {
      try {
        for (;;) {
          const chained = await this.#o.repo.chainPending(this.#o.maxBatch, auditRowHash, skipIfEmpty);
          if (chained > 0) {
            this.batches += 1;
            this.events += chained;
          }
          if (chained < this.#o.maxBatch) break;
        }
      } catch (err) {
        this.#o.log.warn({ err }, 'chaining audit events failed; they stay in the outbox for the next pass');
      }
    })();
    this.#running = pass.finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }
}
