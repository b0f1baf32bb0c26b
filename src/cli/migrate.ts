import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import type { CommandContext } from './run-command.ts';

export async function migrateCommand({ config, log }: CommandContext): Promise<number> {
  const database = await openDatabase(config, log, { attachToRunning: true });
  try {
    const result = await migrate(database.pool, log);
    process.stdout.write(
      result.applied.length === 0 ? `database is up to date (${result.alreadyApplied} migrations applied)\n` : `applied ${result.applied.join(', ')}\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
