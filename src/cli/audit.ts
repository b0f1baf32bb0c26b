import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createAuditRepository } from '../db/audit.ts';
import { openOneShotDatabase } from './one-shot-database.ts';
import { loadInstanceSecret } from '../db/instance-secrets.ts';
import { migrate } from '../db/migrate.ts';
import { AuditLog, type AuditCheckpoint } from '../services/audit/audit-log.ts';
import { AuditWriter } from '../services/audit/writer.ts';
import { createUnitOfWork } from '../db/unit-of-work.ts';
import { CursorCodec } from '../services/cursor.ts';
import { UsageError, type CommandContext } from './run-command.ts';

const usage = 'usage: certfleet audit verify [--checkpoint FILE] [--export-checkpoint FILE]';

/**
 * `certfleet audit verify`: chains what waits in the outbox, then walks the whole hash chain;
 * exit 0 intact, 1 broken (naming the event). `--checkpoint FILE` also checks every checkpoint in FILE (JSON lines), which detects a
 * deleted tail the chain alone cannot; `--export-checkpoint FILE` appends the verified head to
 * FILE, for the operator to keep outside the database.
 */
export async function auditCommand({ config, log, args }: CommandContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { checkpoint: { type: 'string' }, 'export-checkpoint': { type: 'string' } } });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${usage}`);
  }
  if (parsed.positionals[0] !== 'verify' || parsed.positionals.length !== 1) throw new UsageError(usage);
  const checkpoints = parsed.values.checkpoint ? await readCheckpoints(parsed.values.checkpoint) : [];
  const database = await openOneShotDatabase(config, log, false);
  try {
    await migrate(database.pool, log);
    const repo = createAuditRepository(database.pool);
    // Events committed but not chained yet (writers do not wait for the chain) are chained first,
    // by the chainer every replica runs: the verified head covers every acknowledged write.
    const writer = new AuditWriter({ repo, uow: createUnitOfWork(database.pool, log), log });
    const auditLog = new AuditLog(repo, new CursorCodec(await loadInstanceSecret(database.pool, 'cursor-hmac')), undefined, () => writer.caughtUp());
    const started = performance.now();
    const result = await auditLog.verify(checkpoints);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const pending = result.pending ? `; ${result.pending} committed events are waiting to be chained` : '';
    if (!result.ok) {
      const b = result.broken!;
      process.stdout.write(`audit chain BROKEN at seq ${b.seq}${b.id ? ` (event ${b.id})` : ''}: ${b.reason}; ${result.checked} events read${pending}\n`);
      return 1;
    }
    const against = checkpoints.length ? `, ${checkpoints.length} checkpoints matched` : '';
    process.stdout.write(
      `audit chain intact: ${result.checked} events verified in ${seconds} s${against}; head seq ${result.head.seq} ${result.head.row_hash}${pending}\n`,
    );
    const exportTo = parsed.values['export-checkpoint'];
    if (exportTo) {
      await fs.appendFile(exportTo, `${JSON.stringify({ ...result.head, taken_at: new Date().toISOString() })}\n`);
      process.stdout.write(`checkpoint appended to ${exportTo}\n`);
    }
    return 0;
  } finally {
    await database.close();
  }
}

async function readCheckpoints(file: string): Promise<AuditCheckpoint[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--checkpoint: cannot read ${file}: ${(err as Error).message}`);
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new UsageError(`--checkpoint: line ${i + 1} of ${file} is not JSON`);
      }
      const c = value as Partial<AuditCheckpoint>;
      if (!Number.isSafeInteger(c.seq) || typeof c.row_hash !== 'string' || !/^[0-9a-f]{64}$/.test(c.row_hash)) {
        throw new UsageError(`--checkpoint: line ${i + 1} of ${file} is not {"seq": N, "row_hash": "<64 hex>"}`);
      }
      return { seq: c.seq!, row_hash: c.row_hash };
    });
}
