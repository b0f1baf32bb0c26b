/**
 * The pg connection pool. src/db is the only folder that imports `pg`; everything else gets
 * repositories built on this pool.
 */
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import { scopedClient } from './transaction-scope.ts';
import { translateUnavailable } from './unavailable.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  connectionString: string;
  max: number;
  log: Logger;
  applicationName?: string;
}

export function createPool(options: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    // Idle connections are cheap to keep for a while and costly (~5 ms TLS/scram) to reopen.
    idleTimeoutMillis: 30_000,
    // A request waiting longer than this for a connection fails fast instead of piling up.
    connectionTimeoutMillis: 5_000,
    application_name: options.applicationName ?? 'certfleet',
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener the
  // process would crash. The pool already discards that client; log and carry on.
  pool.on('error', (err) => options.log.warn({ err: err.message }, 'idle database connection lost'));
  // A checked-out client has no pool listener: when PostgreSQL terminates its session (fast
  // shutdown, 57P01) between two statements of a transaction, or while a cursor waits for its
  // reader, the client emits 'error' with nobody listening, and Node ends the process. The
  // statement in flight (if any) still rejects, and pg-pool discards the unqueryable client on
  // release. test/faults/postgres-restart.test.ts
  pool.on('connect', (client) => {
    client.on('error', (err) => options.log.warn({ err: err.message }, 'database connection lost'));
  });
  keepConnectionsOnStatementErrors(pool);
  translateConnectFailures(pool);
  return pool;
}

/** pool.connect() failing (server down, pool wait timed out) is a 503 for whoever asked. */
function translateConnectFailures(pool: pg.Pool): void {
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  pool.connect = (async (callback?: unknown) => {
    if (typeof callback === 'function') return (connect as (cb: unknown) => void)(callback);
    try {
      return await connect();
    } catch (err) {
      throw translateUnavailable(err);
    }
  }) as typeof pool.connect;
}

/**
 * pg-pool's query() destroys its connection after *any* error, including a unique violation the
 * server reported on a perfectly healthy connection; the next query then pays for a new
 * connection (TCP, scram, a backend fork): 32 failing statements/s instead of 2,796/s here, so a
 * client retrying a 409 could starve the server. Statement errors (DatabaseError: the server
 * answered with severity ERROR) keep the connection; anything else still discards it.
 * Regression test: test/regressions/pool-keeps-connection-on-statement-error.test.ts
 */
function keepConnectionsOnStatementErrors(pool: pg.Pool): void {
  const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const promiseQuery = async (text: unknown, values?: unknown) => {
    // Inside a unit of work (src/db/unit-of-work.ts) the statement joins its transaction.
    const scoped = scopedClient();
    if (scoped) {
      try {
        return await scoped.query(text as string, values as unknown[]);
      } catch (err) {
        throw translateUnavailable(err);
      }
    }
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      return await client.query(text as string, values as unknown[]);
    } catch (err) {
      // severity ERROR: the statement failed, the session is fine. FATAL/PANIC (e.g. 57P01,
      // terminated by an administrator) and non-server errors mean the connection is gone.
      if (!(err instanceof pg.DatabaseError && err.severity === 'ERROR')) broken = err as Error;
      throw translateUnavailable(err);
    } finally {
      client.release(broken);
    }
  };
  pool.query = ((...args: unknown[]) => {
    const [config, values, callback] = args;
    const submittable = typeof (config as { submit?: unknown } | null)?.submit === 'function';
    // Callback style and submittables (cursors) keep pg's own behaviour.
    if (submittable || typeof values === 'function' || typeof callback === 'function') return original(...args);
    return promiseQuery(config, values);
  }) as typeof pool.query;
}

/** True when the error is PostgreSQL's unique_violation (23505), optionally on one constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/** True when PostgreSQL chose this statement as a deadlock victim (40P01): it was rolled back. */
export function isDeadlock(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '40P01';
}
