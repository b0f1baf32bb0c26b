import { createAuditRepository } from '../db/audit.ts';
import { openDatabase } from '../db/database.ts';
import { loadInstanceSecret } from '../db/instance-secrets.ts';
import { migrate } from '../db/migrate.ts';
import { AuditLog } from '../services/audit/audit-log.ts';
import { CursorCodec } from '../services/cursor.ts';
import { UsageError, type CommandContext } from './main.ts';

/** `certfleet audit verify`: walks the whole hash chain; exit 0 intact, 1 broken (naming the event). */
export async function auditCommand({ config, log, args }: CommandContext): Promise<number> {
  if (args[0] !== 'verify' || args.length !== 1) throw new UsageError('usage: certfleet audit verify');
  const database = await openDatabase(config, log, { attachToRunning: true });
  try {
    await migrate(database.pool, log);
    const auditLog = new AuditLog(
      createAuditRepository(database.pool),
      new CursorCodec(await loadInstanceSecret(database.pool, 'cursor-hmac')),
    );
    const started = performance.now();
    const result = await auditLog.verify();
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    if (result.ok) {
      process.stdout.write(`audit chain intact: ${result.checked} events verified in ${seconds} s\n`);
      return 0;
    }
    const b = result.broken!;
    process.stdout.write(
      `audit chain BROKEN at seq ${b.seq}${b.id ? ` (event ${b.id})` : ''}: ${b.reason}; ${result.checked} events read\n`,
    );
    return 1;
  } finally {
    await database.close();
  }
}
