/**
 * The pg connection pool. src/db is the only folder that imports `pg`; everything else gets
 * repositories built on this pool.
 */
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

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
  return pool;
}

/** True when the error is PostgreSQL's unique_violation (23505), optionally on one constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}
