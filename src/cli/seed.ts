import { createUnitOfWork } from '../db/unit-of-work.ts';
import { createAuditRepository } from '../db/audit.ts';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { AuditWriter } from '../services/audit/writer.ts';
import { seedDemo } from '../services/demo.ts';
import { UsageError, type CommandContext } from './run-command.ts';

/** `certfleet seed --demo`: adds the demo inventory (idempotent). */
export async function seedCommand({ config, log, args }: CommandContext): Promise<number> {
  if (args[0] !== '--demo' || args.length !== 1) throw new UsageError('usage: certfleet seed --demo');
  const database = await openDatabase(config, log, { attachToRunning: true });
  try {
    await migrate(database.pool, log);
    const added = await seedDemo(
      database.pool,
      new AuditWriter({ repo: createAuditRepository(database.pool), uow: createUnitOfWork(database.pool, log), log }),
    );
    process.stdout.write(added > 0 ? `demo inventory added (${added} certificates)\n` : 'demo inventory already present\n');
    return 0;
  } finally {
    await database.close();
  }
}
