/**
 * The transaction a unit of work runs in, carried by AsyncLocalStorage: while `work` runs,
 * every `pool.query` it makes (directly or through any repository) goes to the unit's
 * connection, so repositories compose into one transaction without taking a client parameter.
 *
 * Code that starts its own background work (timers, batchers, loops) must not inherit a scope:
 * such work runs `detached` (src/async-context.ts), and a scope that has ended is never used
 * again, whoever still holds it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PoolClient } from './pool.ts';

export interface TransactionScope {
  client: PoolClient;
  /** Set once COMMIT or ROLLBACK was sent: later queries from this context use the pool. */
  ended: boolean;
  /** Run after COMMIT, outside the scope (never after a rollback). */
  afterCommit: Array<() => Promise<unknown>>;
  /**
   * Statements (no parameters: literals already escaped) sent with the COMMIT, in the same round
   * trip: what must commit with the work but need not be sent before it (audit events).
   */
  withCommit: string[];
  savepoints: number;
  /**
   * Nested units join this transaction instead of opening savepoints: for a unit that never
   * recovers from a nested failure (any error fails it whole), where a savepoint only costs two
   * round trips and keeps the nested audit events out of the COMMIT's round trip.
   */
  joinNested: boolean;
}

export const transactionScopes = new AsyncLocalStorage<TransactionScope>();

/** The connection of the unit of work the caller runs in, if any. */
export function scopedClient(): PoolClient | undefined {
  const scope = transactionScopes.getStore();
  return scope && !scope.ended ? scope.client : undefined;
}

/**
 * Sends `sql` with the COMMIT of the caller's unit of work (one round trip fewer) and returns
 * true; false when the caller runs in none (it must run the statement itself). `sql` must be
 * self-contained: no parameters, every value an escaped literal.
 */
export function runWithCommit(sql: string): boolean {
  const scope = transactionScopes.getStore();
  if (!scope || scope.ended || scope.savepoints > 0) return false;
  scope.withCommit.push(sql);
  return true;
}

/**
 * Runs `work` in a savepoint of `scope`'s transaction: a failure undoes only `work`. In a unit
 * that joins nested work (`joinNested`), `work` runs in the transaction itself.
 */
export async function savepoint<T>(scope: TransactionScope, work: (client: PoolClient) => Promise<T>): Promise<T> {
  if (scope.joinNested) return work(scope.client);
  const name = `cf_sp_${++scope.savepoints}`;
  await scope.client.query(`SAVEPOINT ${name}`);
  try {
    const result = await work(scope.client);
    await scope.client.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (err) {
    await scope.client.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
    throw err;
  }
}
