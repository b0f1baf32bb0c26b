/**
 * Opens the database certfleet runs on: the server at DATABASE_URL, or an embedded PostgreSQL
 * in CERTFLEET_DATA_DIR when DATABASE_URL is unset.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import { EmbeddedPostgres } from './embedded-postgres.ts';
import { createPool, type Pool } from './pool.ts';

export interface Database {
  pool: Pool;
  /**
   * A small pool for long reads streamed to clients (audit exports): a reader that stops
   * reading holds one of these, never a connection requests need.
   */
  streamPool: Pool;
  /** 'external' (DATABASE_URL) or 'embedded'. */
  kind: 'external' | 'embedded';
  /** The connection string (for the few dedicated connections outside the pool: the leader lock). */
  url: string;
  /** Closes the pool, then stops the embedded server if there is one. */
  close(): Promise<void>;
}

/** A one-shot command found no database where it looked, and was not told to create one. */
export class DatabaseMissingError extends Error {
  override name = 'DatabaseMissingError';
}

/** Where a command's database is, for it to say (one-shot commands print it on stderr). */
export function describeDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  if (!config.databaseUrl) return `the embedded PostgreSQL in ${path.resolve(config.dataDir)}`;
  const url = new URL(config.databaseUrl);
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'embeddedPgPort' | 'databaseMaxConns'> & Partial<Pick<Config, 'exportConcurrency'>>,
  log: Logger,
  options: { attachToRunning?: boolean; mustExist?: boolean } = {},
): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let connectionString = config.databaseUrl;
  if (!connectionString) {
    // A one-shot command run from the wrong directory would otherwise make a new, empty
    // database there (and a key created in it would answer 401 on the real server).
    if (options.mustExist && !existsSync(path.join(config.dataDir, 'postgres', 'PG_VERSION'))) {
      throw new DatabaseMissingError(
        `no certfleet database in CERTFLEET_DATA_DIR=${path.resolve(config.dataDir)} (and DATABASE_URL is unset): ` +
          'run this where the server keeps its data, set CERTFLEET_DATA_DIR or DATABASE_URL, or pass --init to create a new one',
      );
    }
    embedded = new EmbeddedPostgres({
      rootDir: config.dataDir,
      port: config.embeddedPgPort,
      log,
      attach: options.attachToRunning === true,
    });
    connectionString = await embedded.start();
  }
  const pool = createPool({ connectionString, max: config.databaseMaxConns, log });
  const streamPool = createPool({ connectionString, max: config.exportConcurrency ?? 2, log, applicationName: 'certfleet-stream' });
  return {
    pool,
    streamPool,
    kind: embedded ? 'embedded' : 'external',
    url: connectionString,
    async close() {
      await Promise.all([pool.end(), streamPool.end()]).catch((err: Error) => log.warn({ err: err.message }, 'closing the pool failed'));
      await embedded?.stop();
    },
  };
}
