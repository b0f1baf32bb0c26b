/**
 * The database of a one-shot command (keys, audit): the server's, never a new one by accident.
 * It says which one it uses on stderr, and refuses an empty CERTFLEET_DATA_DIR unless told to
 * create a database there (`--init`).
 */
import type { Config } from '../config/schema.ts';
import { DatabaseMissingError, describeDatabase, openDatabase, type Database } from '../db/database.ts';
import type { Logger } from '../observability/logger.ts';
import { UsageError } from './run-command.ts';

export async function openOneShotDatabase(config: Config, log: Logger, init: boolean): Promise<Database> {
  process.stderr.write(`certfleet: using ${describeDatabase(config)}\n`);
  try {
    return await openDatabase(config, log, { attachToRunning: true, mustExist: !init });
  } catch (err) {
    if (err instanceof DatabaseMissingError) throw new UsageError(err.message);
    throw err;
  }
}
