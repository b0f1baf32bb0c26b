import { createApiKeyRepository } from '../db/api-keys.ts';
import { createAuditRepository } from '../db/audit.ts';
import { createUnitOfWork } from '../db/unit-of-work.ts';
import { AuditWriter } from '../services/audit/writer.ts';
import { openOneShotDatabase } from './one-shot-database.ts';
import { migrate } from '../db/migrate.ts';
import { isAppError } from '../errors.ts';
import { ApiKeyService } from '../services/auth/api-keys.ts';
import { roles, type Role } from '../domain/roles.ts';
import { parseArgs } from 'node:util';
import { UsageError, type CommandContext } from './run-command.ts';

/** `certfleet keys create --name N --role R [--expires-at T] [--init]`: prints the new key once, on stdout. */
export async function keysCommand({ config, log, args }: CommandContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { name: { type: 'string' }, role: { type: 'string' }, 'expires-at': { type: 'string' }, init: { type: 'boolean' } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals[0] !== 'create' || positionals.length !== 1) throw new UsageError('usage: certfleet keys create --name N --role R');
  const name = values.name;
  const role = values.role;
  if (typeof name !== 'string' || name.trim() === '') throw new UsageError('--name is required');
  if (!roles.includes(role as Role)) throw new UsageError(`--role must be one of ${roles.join(', ')}`);
  const expiresRaw = values['expires-at'];
  const expiresAt = typeof expiresRaw === 'string' ? new Date(expiresRaw) : undefined;
  if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new UsageError('--expires-at must be an RFC 3339 timestamp');

  const database = await openOneShotDatabase(config, log, values.init === true);
  const audit = new AuditWriter({ repo: createAuditRepository(database.pool), uow: createUnitOfWork(database.pool, log), log });
  const apiKeys = new ApiKeyService({ repo: createApiKeyRepository(database.pool), log, audit });
  try {
    await migrate(database.pool, log);
    const { key, secret } = await apiKeys.create({ name: name.trim(), role: role as Role, expiresAt });
    process.stderr.write(`created API key ${key.id} (${key.name}, role ${key.role}); it is shown only once:\n`);
    process.stdout.write(`${secret}\n`);
    return 0;
  } catch (err) {
    if (isAppError(err)) throw new UsageError(err.message);
    throw err;
  } finally {
    await apiKeys.close();
    await database.close();
  }
}
