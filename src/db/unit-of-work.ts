/**
 * Units of work: `run(work)` executes `work` in one transaction (see transaction-scope.ts for
 * how repositories join it) and commits, or rolls back on any error. Nested units become
 * savepoints, so a repository that opens its own transaction composes into a caller's.
 * Callbacks registered with `afterCommit` run once the outermost unit committed, outside it;
 * their failures are logged, never thrown: the work has committed by then.
 */
import type { Logger } from '../observability/logger.ts';
import type { Pool } from './pool.ts';
import { savepoint, scopedClient, transactionScopes, type TransactionScope } from './transaction-scope.ts';
import { translateUnavailable } from './unavailable.ts';

export interface UnitOfWork {
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Whether the caller runs inside a unit of work. */
  readonly active: boolean;
  /** Runs `fn` after the current unit commits (once, however often it is passed); at once (awaited) when there is none. */
  afterCommit(fn: () => Promise<unknown>): Promise<void>;
}

/**
 * `afterEveryCommit`: awaited after each outermost commit, before the caller goes on, with the
 * change-feed buckets the transaction touched (migrations/0015_change_announcements.sql): the
 * change feed announces them, and a write is acknowledged only once this replica's caches know.
 */
export function createUnitOfWork(pool: Pool, log: Logger, options: { afterEveryCommit?: (changed: readonly string[]) => Promise<void> } = {}): UnitOfWork {
  const afterCommitted = async (callbacks: Array<() => Promise<unknown>>) => {
    for (const fn of callbacks) {
      try {
        await fn();
      } catch (err) {
        log.warn({ err }, 'after-commit step failed (the work itself committed)');
      }
    }
  };

  return {
    get active() {
      return scopedClient() !== undefined;
    },

    async afterCommit(fn) {
      const scope = transactionScopes.getStore();
      if (scope && !scope.ended) {
        if (!scope.afterCommit.includes(fn)) scope.afterCommit.push(fn);
      } else await afterCommitted([fn]);
    },

    async run<T>(work: () => Promise<T>): Promise<T> {
      const outer = transactionScopes.getStore();
      if (outer && !outer.ended) return savepoint(outer, work);
      const client = await pool.connect();
      const scope: TransactionScope = { client, ended: false, afterCommit: [], withCommit: [], savepoints: 0 };
      let broken: Error | undefined;
      let result: T;
      let changed: string[] = [];
      try {
        // Triggers collect the buckets this transaction changes instead of notifying inside it
        // (a NOTIFY serialises commits); the collection is read with the COMMIT, one round trip.
        await client.query("BEGIN; SET LOCAL certfleet.unit = 'on'");
        result = await transactionScopes.run(scope, work);
        scope.ended = true;
        // What must commit with the work (audit events), the buckets the triggers collected, and
        // the COMMIT itself: one round trip.
        const results = (await client.query(
          `${scope.withCommit.map((sql) => `${sql}; `).join('')}SELECT current_setting('certfleet.changed', true) AS changed; COMMIT`,
        )) as unknown as Array<{
          rows: Array<{ changed?: string | null }>;
        }>;
        const collected = results[results.length - 2]!.rows[0]?.changed;
        changed = collected ? collected.split(',') : [];
      } catch (err) {
        scope.ended = true;
        await client.query('ROLLBACK').catch((rollbackErr: Error) => {
          broken = rollbackErr;
        });
        throw translateUnavailable(err);
      } finally {
        client.release(broken);
      }
      const announce = options.afterEveryCommit;
      await afterCommitted(announce && changed.length > 0 ? [() => announce(changed), ...scope.afterCommit] : scope.afterCommit);
      return result;
    },
  };
}
