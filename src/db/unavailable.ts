/**
 * Which failures mean "the database is not there" rather than "this statement is wrong": the
 * server answers those 503 with Retry-After (the client retries; recovery is automatic once
 * PostgreSQL is back) instead of 500. Classified by SQLSTATE class and by Node's socket error
 * codes, never by message text, except for the two errors node-postgres raises without a code.
 */
import pg from 'pg';
import { AppError, Errors } from '../errors.ts';

/** SQLSTATE classes and codes that mean the session or the server went away. */
const unavailableSqlStates = new Set([
  '57P01', // admin_shutdown: terminating connection due to administrator command
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the database system is starting up / shutting down
  '57P05', // idle_session_timeout
  '53300', // too_many_connections
  '3D000', // invalid_catalog_name: the database was dropped under us
]);
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Errors node-postgres creates itself, without a code (pg 8: client.js, pg-pool index.js). */
const clientSideMessages = [
  'Connection terminated',
  'Connection terminated unexpectedly',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof AppError) return false;
  const e = err as { code?: unknown; message?: unknown; syscall?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string') {
    if (err instanceof pg.DatabaseError) return e.code.startsWith('08') || unavailableSqlStates.has(e.code);
    if (socketCodes.has(e.code)) return true;
    // Over a Unix socket, a stopped PostgreSQL has removed its socket file.
    if (e.code === 'ENOENT' && e.syscall === 'connect') return true;
  }
  return typeof e.message === 'string' && clientSideMessages.includes(e.message);
}

/** Rethrows a connection-level failure as the 503 error kind; anything else unchanged. */
export function translateUnavailable(err: unknown): unknown {
  return isDatabaseUnavailable(err) ? Errors.databaseUnavailable(err) : err;
}
