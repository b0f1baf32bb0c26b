/**
 * Units of work: `run(work)` executes `work` in one transaction (see transaction-scope.ts for
 * how repositories join it) and commits, or rolls back on any error. Nested units become
 * savepoints, so a repository that opens its own transaction composes into a caller's.
 * Callbacks registered with `afterCommit` run once the outermost unit committed, outside it;
 * their failures are logged, never thrown: the work has committed by then.
 */
import type { Logger } from '../observability/logger.ts';
import { announceThrough } from './change-feed.ts';
import type { Pool } from './pool.ts';
import { savepoint, scopedClient, transactionScopes, type TransactionScope } from './transaction-scope.ts';
import { translateUnavailable } from './unavailable.ts';

export interface RunOptions {
  /**
   * Nested units (and withTransaction) join this one instead of opening savepoints. Only for a
   * unit where any nested failure fails the whole unit: nothing inside may catch a failed
   * statement and go on (the transaction is aborted by then). Saves two round trips per nested
   * unit and lets its audit events ride with the COMMIT.
   */
  joinNested?: boolean;
}

export interface UnitOfWork {
  run<T>(work: () => Promise<T>, options?: RunOptions): Promise<T>;
  /**
   * `run` with group commit, for small independent writes that arrive together: works queued
   * while a group commits run one after another in the next group's transaction and commit
   * together (one COMMIT and WAL flush, one backend inserting instead of many contending for
   * the same index pages and parent rows). If any work of a group fails, the group rolls back and
   * each of its works runs again in its own unit, so every caller gets the outcome `run` would
   * have given it. A work may therefore run twice: it must do nothing outside the database.
   */
  runGrouped<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Group commit for one kind of write that runs as a set: inputs queued while this kind's group
   * commits go to `many` together, in one unit (one statement for the set instead of one per
   * write). `many` returns one result per input, in order. If it fails, each input runs alone
   * through `one`, in its own unit, so every caller gets the outcome a lone write would have had;
   * `many` must therefore do nothing outside the database. Inside a caller's unit, `one` runs in
   * a savepoint of it.
   */
  batched<I, R>(many: (inputs: I[]) => Promise<R[]>, one: (input: I) => Promise<R>, options?: RunOptions): (input: I) => Promise<R>;
  /** Whether the caller runs inside a unit of work. */
  readonly active: boolean;
  /** Runs `fn` after the current unit commits (once, however often it is passed); at once (awaited) when there is none. */
  afterCommit(fn: () => Promise<unknown>): Promise<void>;
}

/** The buckets a transaction changed and, if any, its announcement number; read just before COMMIT. */
const collectChanges = `SELECT c AS changed, CASE WHEN c <> '' THEN nextval('certfleet_change_seq') END AS announcement
   FROM current_setting('certfleet.changed', true) AS c`;

/**
 * `afterEveryCommit`: awaited after each outermost commit, before the caller goes on, with the
 * change-feed buckets the transaction touched (migrations/0015_change_announcements.sql): the
 * change feed announces them, and a write is acknowledged only once this replica's caches know.
 * Default: announced through `pool` (a process no change feed runs in, e.g. a one-shot command,
 * so that running replicas still hear what it changed).
 */
export function createUnitOfWork(
  pool: Pool,
  log: Logger,
  options: {
    afterEveryCommit?: (changed: readonly string[], announcement: number | undefined) => Promise<void>;
    /** Works per group at most; default 256. */ maxGroup?: number;
  } = {},
): UnitOfWork {
  const maxGroup = options.maxGroup ?? 256;
  const announce = options.afterEveryCommit ?? announceThrough(pool);
  const afterCommitted = async (callbacks: Array<() => Promise<unknown>>) => {
    for (const fn of callbacks) {
      try {
        await fn();
      } catch (err) {
        log.warn({ err }, 'after-commit step failed (the work itself committed)');
      }
    }
  };

  const unit: UnitOfWork = {
    get active() {
      return scopedClient() !== undefined;
    },

    async afterCommit(fn) {
      const scope = transactionScopes.getStore();
      if (scope && !scope.ended) {
        if (!scope.afterCommit.includes(fn)) scope.afterCommit.push(fn);
      } else await afterCommitted([fn]);
    },

    run<T>(work: () => Promise<T>, options?: RunOptions): Promise<T> {
      const outer = transactionScopes.getStore();
      if (outer && !outer.ended) return savepoint(outer, work);
      return transaction([work], options?.joinNested === true).then(async ({ results, committed }) => {
        await committed;
        return results[0] as T;
      });
    },

    runGrouped<T>(work: () => Promise<T>): Promise<T> {
      return grouped(work) as Promise<T>;
    },

    batched<I, R>(many: (inputs: I[]) => Promise<R[]>, one: (input: I) => Promise<R>, options?: RunOptions): (input: I) => Promise<R> {
      const joinNested = options?.joinNested === true;
      // Works waiting for the next group. One group is in flight at a time: 2 and 4 measured no
      // faster (698 and 657 vs 693 creates/s), their groups only got smaller. Again at 3,400
      // creates/s (2026-12-03): 2 in flight 0.91x, twice the WAL flushes per create.
      let queued: Array<{ input: I; resolve: (value: R) => void; reject: (err: unknown) => void }> = [];
      let grouping = false;

      const drain = async (): Promise<void> => {
        grouping = true;
        while (queued.length > 0) {
          const group = queued.slice(0, maxGroup);
          queued = queued.slice(group.length);
          const inputs = group.map((g) => g.input);
          try {
            const { results, committed } = await transaction([() => (inputs.length === 1 ? one(inputs[0]!).then((r) => [r]) : many(inputs))], joinNested);
            const values = results[0] as R[];
            // The next group starts now; these callers go on once the announcements are heard.
            void committed.then(() => group.forEach((g, i) => g.resolve(values[i]!)));
          } catch (err) {
            if (group.length === 1) group[0]!.reject(err);
            // One input failed the group: each alone now, for its own outcome.
            else await Promise.all(group.map((g) => unit.run(() => one(g.input), options).then(g.resolve, g.reject)));
          }
        }
        grouping = false;
      };

      return (input: I) => {
        const outer = transactionScopes.getStore();
        if (outer && !outer.ended) return savepoint(outer, () => one(input));
        return new Promise<R>((resolve, reject) => {
          queued.push({ input, resolve, reject });
          if (!grouping) void drain();
        });
      };
    },
  };

  /** runGrouped: opaque works, run one after another in the group's transaction. */
  const grouped = unit.batched<() => Promise<unknown>, unknown>(
    async (works) => {
      const results: unknown[] = [];
      for (const work of works) results.push(await work());
      return results;
    },
    (work) => work(),
  );

  /**
   * Runs `works` one after another in one transaction and commits them together, or none.
   * `committed` settles once the after-commit steps (announcements, audit chaining) are done:
   * callers are answered then; a group only needs the COMMIT to let the next one start.
   */
  async function transaction(works: ReadonlyArray<() => Promise<unknown>>, joinNested = false): Promise<{ results: unknown[]; committed: Promise<void> }> {
    const client = await pool.connect();
    const scope: TransactionScope = { client, ended: false, afterCommit: [], withCommit: [], savepoints: 0, joinNested };
    let broken: Error | undefined;
    const results: unknown[] = [];
    let changed: string[] = [];
    let announcement: number | undefined;
    try {
      // Triggers collect the buckets this transaction changes instead of notifying inside it
      // (a NOTIFY serialises commits); the collection is read with the COMMIT, one round trip.
      await client.query("BEGIN; SET LOCAL certfleet.unit = 'on'");
      for (const work of works) results.push(await transactionScopes.run(scope, work));
      scope.ended = true;
      // What must commit with the work (audit events), the buckets the triggers collected with
      // the announcement's number (migrations/0029: how a lost announcement is noticed), and the
      // COMMIT itself: one round trip.
      const replies = (await client.query(`${scope.withCommit.map((sql) => `${sql}; `).join('')}${collectChanges}; COMMIT`)) as unknown as Array<{
        rows: Array<{ changed?: string | null; announcement?: string | null }>;
      }>;
      const collected = replies[replies.length - 2]!.rows[0];
      changed = collected?.changed ? collected.changed.split(',') : [];
      announcement = collected?.announcement ? Number(collected.announcement) : undefined;
    } catch (err) {
      scope.ended = true;
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr;
      });
      throw translateUnavailable(err);
    } finally {
      client.release(broken);
    }
    const committed = afterCommitted(changed.length > 0 ? [() => announce(changed, announcement), ...scope.afterCommit] : scope.afterCommit);
    return { results, committed };
  }

  return unit;
}
